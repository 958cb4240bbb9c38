// task-verify.json: found beside a task's config, parsed, checked against
// its shipped schema (in the words the config's problems use), and checked
// against the task's timeLimit. Read only when `verify` is not `false`.

import { readFile } from 'node:fs/promises'
import * as path from 'node:path'
import schema from '../../schema/task-verify.schema.json' with { type: 'json' }
import { parseJson, type JsonDocument } from '../config/json-locations.js'
import { schemaIssues, schemaValidator } from '../config/schema-wording.js'
import { isObject } from '../config/substitute.js'
import type { ConfigProblem, TaskDefinition, VerifySpec } from '../task.js'

export const VERIFY_FILE = 'task-verify.json'

/** The API executes a function directly only up to this timeLimit (else 1404). */
export const MAX_VERIFY_TIME_LIMIT = 30
/** The API's timeLimit when a config sets none. */
export const DEFAULT_TIME_LIMIT = 30

const validateVerify = schemaValidator(schema)

export interface LoadedVerify {
  /** The same tasks, each with its `verify` when it has a task-verify.json. */
  tasks: TaskDefinition[]
  problems: ConfigProblem[]
}

/** Every selected task's task-verify.json, when it has one. */
export async function loadVerifySpecs(
  tasks: TaskDefinition[],
  workspace: string
): Promise<LoadedVerify> {
  const loaded = await Promise.all(tasks.map(task => loadOne(task, workspace)))
  return {
    tasks: loaded.map(({ task }) => task),
    problems: loaded.flatMap(({ problems }) => problems)
  }
}

async function loadOne(
  task: TaskDefinition,
  workspace: string
): Promise<{ task: TaskDefinition; problems: ConfigProblem[] }> {
  // A task given by inputs alone has no folder to hold one.
  if (!task.configFile) return { task, problems: [] }
  const file = path.posix.join(path.posix.dirname(task.configFile), VERIFY_FILE)
  const at = { file, task: task.name, config: task.configFile }
  let text: string
  try {
    text = await readFile(path.join(workspace, file), 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error)
    if (code === 'ENOENT') return { task, problems: [] }
    return {
      task,
      problems: [{ ...at, field: 'JSON', rule: `cannot be read (${code})` }]
    }
  }
  const parsed = parseJson(text)
  if (!parsed.ok) {
    const rule = `invalid JSON: ${parsed.message}`
    return {
      task,
      problems: [{ ...at, ...parsed.position, field: 'JSON', rule }]
    }
  }
  const problems = [
    ...schemaProblems(parsed.document, at),
    ...timeLimitProblems(task)
  ]
  if (problems.length) return { task, problems }
  return {
    task: { ...task, verify: specOf(file, parsed.document.value) },
    problems
  }
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

function specOf(file: string, value: unknown): VerifySpec {
  const spec = isObject(value) ? value : {}
  const expect = isObject(spec.expect) ? spec.expect : {}
  return {
    file,
    data: spec.data === undefined ? {} : spec.data,
    ...('result' in expect ? { expectResult: { value: expect.result } } : {})
  }
}
