// task-verify.json: found beside a task's config, read within the config's
// bounds (SPEC section 8), checked against its shipped schema (in the words
// the config's problems use), and checked against the task's timeLimit.
// Read only when `verify` is not `false`.

import { realpath } from 'node:fs/promises'
import * as path from 'node:path'
import { inGitFolder, rootResolver } from './code-folder-rules.js'
import type { JsonDocument } from './json-locations.js'
import { readConfigFile, type ConfigRead } from './read.js'
import { isInside } from '../paths.js'
import { schemaIssues, schemaValidator } from './schema-wording.js'
import { validateTaskVerify } from './compiled-schemas.js'
import { isObject } from '../helpers.js'
import type { ConfigProblem, TaskDefinition, VerifySpec } from '../task.js'

const VERIFY_FILE = 'task-verify.json'

/** The API executes a function directly only up to this timeLimit (else 1404). */
const MAX_VERIFY_TIME_LIMIT = 30
/** The API's timeLimit when a config sets none. */
export const DEFAULT_TIME_LIMIT = 30

const validateVerify = schemaValidator(validateTaskVerify)

export interface LoadedVerify {
  /** The same tasks, each with its `verify` when it has a task-verify.json. */
  tasks: TaskDefinition[]
  problems: ConfigProblem[]
}

/** Every selected task's task-verify.json, when it has one. */
export async function loadVerifySpecs(
  tasks: TaskDefinition[],
  workspace: string,
  signal?: AbortSignal
): Promise<LoadedVerify> {
  const roots = rootResolver(workspace)
  const loaded = await Promise.all(
    tasks.map(task => loadOne(task, workspace, roots, signal))
  )
  return {
    tasks: loaded.map(({ task }) => task),
    problems: loaded.flatMap(({ problems }) => problems)
  }
}

async function loadOne(
  task: TaskDefinition,
  workspace: string,
  roots: (root: string) => Promise<string[]>,
  signal?: AbortSignal
): Promise<{ task: TaskDefinition; problems: ConfigProblem[] }> {
  // A task given by inputs alone has no folder to hold one.
  if (!task.configFile) return { task, problems: [] }
  const file = path.posix.join(path.posix.dirname(task.configFile), VERIFY_FILE)
  const at = { file, task: task.name, config: task.configFile }
  const allowed = await roots(task.searchRoot ?? workspace)
  const read = await readVerifyFile(path.join(workspace, file), allowed, signal)
  if (read === undefined) return { task, problems: [] }
  if (!read.ok) {
    const { rule, line, column } = read
    return { task, problems: [{ ...at, line, column, field: 'JSON', rule }] }
  }
  const problems = [
    ...schemaProblems(read.document, at),
    ...timeLimitProblems(task)
  ]
  if (problems.length) return { task, problems }
  return {
    task: { ...task, verify: specOf(file, read.document.value) },
    problems
  }
}

/**
 * The file read as a config is (a regular file after links, at most 1 MB,
 * 64 levels deep, a cancel honoured), only when its real path stays inside
 * the workspace or the searched folder, as a config's must; undefined when
 * there is none (a dangling link included, as discovery ignores one).
 */
async function readVerifyFile(
  file: string,
  allowed: string[],
  signal?: AbortSignal
): Promise<ConfigRead | undefined> {
  let real: string
  try {
    real = await realpath(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error)
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    return { ok: false, rule: `cannot be read (${code})` }
  }
  const root = allowed.find(candidate => isInside(candidate, real))
  if (root === undefined) {
    return {
      ok: false,
      rule: `is a symlink to a target outside the workspace (its real path is ${real}), so it is not read`
    }
  }
  // `.git` holds the checkout's credentials: never read, as for code folders.
  if (inGitFolder(root, real)) {
    return {
      ok: false,
      rule: `is a symlink into a .git folder (its real path is ${path.relative(root, real)}), so it is not read`
    }
  }
  return readConfigFile(file, signal)
}

function schemaProblems(
  document: JsonDocument,
  at: Pick<ConfigProblem, 'file' | 'task' | 'config'>
): ConfigProblem[] {
  const problems = schemaIssues(document.value, validateVerify).map(issue => ({
    ...at,
    ...document.locate(issue.locateAt, issue.key),
    field: issue.path.length ? issue.path.join('.') : undefined,
    rule: issue.rule
  }))
  // In the file's order, as the config's problems are.
  return problems.sort((a, b) => a.line - b.line || a.column - b.column)
}

/** Direct execution needs a timeLimit of at most 30 s: said before any write. */
function timeLimitProblems(task: TaskDefinition): ConfigProblem[] {
  const limit = task.config.timeLimit ?? DEFAULT_TIME_LIMIT
  if (limit <= MAX_VERIFY_TIME_LIMIT) return []
  return [
    {
      file: task.configFile,
      ...task.locations?.timeLimit,
      field: 'timeLimit',
      rule: `must be at most ${MAX_VERIFY_TIME_LIMIT} for a task with ${VERIFY_FILE}, not ${limit}: the API executes a function directly only up to ${MAX_VERIFY_TIME_LIMIT} s (remove ${VERIFY_FILE}, or lower timeLimit)`,
      task: task.name
    }
  ]
}

/**
 * The same rule at plan time, for a config that sets no timeLimit: the
 * function keeps the one it has (set by hand or by the CLI), known only once
 * it is read. Refused before any write, as validation refuses the config's.
 */
export function keptTimeLimitRefusal(
  task: TaskDefinition,
  remoteTimeLimit: number | undefined
): string | undefined {
  if (!task.verify || task.config.timeLimit !== undefined) return undefined
  if (remoteTimeLimit === undefined) return undefined
  if (remoteTimeLimit <= MAX_VERIFY_TIME_LIMIT) return undefined
  return `function ${task.name} has a timeLimit of ${remoteTimeLimit} s, which it keeps as the config sets none, and direct execution (${VERIFY_FILE}) allows at most ${MAX_VERIFY_TIME_LIMIT} s: set timeLimit to ${MAX_VERIFY_TIME_LIMIT} or less in the config (or remove ${VERIFY_FILE})`
}

function specOf(file: string, value: unknown): VerifySpec {
  const spec = isObject(value) ? value : {}
  const expect = isObject(spec.expect) ? spec.expect : {}
  return {
    file,
    data: spec.data === undefined ? {} : spec.data,
    ...('result' in expect ? { expectResult: { value: expect.result } } : {})
  }
}
