// A config's problems, located in its file (or named by the single-task
// input that set the value), and in the order they are reported.

import type { JsonPath } from './json-locations.js'
import { placeholderName } from './substitute.js'
import { isFunctionName, type ConfigProblem } from '../task.js'
import type { ParsedConfig } from './read.js'
import type { SchemaIssue } from './schema-wording.js'

/** The single-task input that sets each config field, for problems with inputs. */
const INPUT_NAMES: Record<string, string> = {
  name: 'name',
  path: 'code',
  entryPoint: 'entry-point',
  runtime: 'runtime',
  description: 'description',
  timeLimit: 'time-limit',
  memoryLimit: 'memory-limit',
  environment: 'env',
  executionPermission: 'execution-permission',
  defaultPriority: 'default-priority'
}

/**
 * The task's name for problems: not a placeholder whose variable is unset,
 * and the reference when a substituted value is no valid name (it may be
 * any variable's value, a secret too).
 */
export function knownName(config: ParsedConfig): string | undefined {
  if (config.nameRef && !isFunctionName(config.name ?? '')) {
    return config.nameRef
  }
  return placeholderName(config.name) === undefined ? config.name : undefined
}

/** `file:line` of a place in a config (the file alone when the line is unknown). */
export function fileLine(config: ParsedConfig, at: JsonPath): string {
  const { line } = config.document.locate(at)
  return line ? `${config.file}:${line}` : config.file
}

export function fileProblem(
  config: ParsedConfig,
  at: JsonPath,
  key = false
): Omit<ConfigProblem, 'rule'> {
  return {
    file: config.file,
    ...config.document.locate(at, key),
    field: dotted(at),
    task: knownName(config)
  }
}

export function issueProblem(
  config: ParsedConfig,
  issue: SchemaIssue
): ConfigProblem {
  return {
    file: config.file,
    ...config.document.locate(issue.locateAt, issue.key),
    field: dotted(issue.path),
    rule: issue.rule,
    task: knownName(config)
  }
}

/** A problem with an input's value: named by the input, the rest of the path in the rule. */
export function inputProblem(
  issue: SchemaIssue,
  task: string | undefined
): ConfigProblem {
  const [top = '', ...rest] = issue.path
  return {
    field: inputName(top),
    rule: rest.length ? `${rest.join('.')} ${issue.rule}` : issue.rule,
    task
  }
}

/** The single-task input that sets a config field (`timeLimit` → `time-limit`). */
export function inputName(field: string): string {
  return INPUT_NAMES[field] ?? field
}

export function dotted(at: JsonPath): string | undefined {
  return at.length ? at.join('.') : undefined
}

export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) =>
      compare(a.file ?? '', b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0)
  )
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
