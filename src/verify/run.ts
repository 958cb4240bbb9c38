// `verify` for one task: execute it once, judge the answer, and on a
// failure read the function's log for the task's log group.

import { shortCommit } from '../helpers.js'
import { describeError } from '../errors.js'
import { ExhApiError } from '../exh/failure.js'
import type { Execution, ExhVerifyApi } from '../exh/types.js'
import type { VerifyMode } from '../inputs.js'
import type { TaskAction } from '../report/result.js'
import type { VerifySpec } from '../task.js'
import { DEFAULT_TIME_LIMIT } from '../config/verify-file.js'
import { executionFailure } from './match.js'
import { plural } from '../words.js'

/** How many of the function's last log lines a failure shows. */
export const LOG_LINES = 20

export interface VerifyOutcome {
  verified: boolean
  verifyMs: number
  /** `verify: …`, when not verified. */
  error?: string
  /** For the task's log group: what happened, and the function's log lines. */
  log: string[]
}

/**
 * Whether this task is executed: it has a task-verify.json, and the mode
 * asks for it; a function whose last verify failed is executed again
 * whatever its action, until one passes.
 */
export function shouldVerify(
  mode: VerifyMode,
  action: TaskAction | undefined,
  spec: VerifySpec | undefined,
  flagged = false
): spec is VerifySpec {
  if (!spec || mode === 'false') return false
  return flagged || mode === 'all' || action === 'create' || action === 'update'
}

/**
 * The timeLimit an execution's deadline counts on: the config's, else the
 * one the function keeps (a config without timeLimit leaves it alone), else
 * the API's default.
 */
export function executionTimeLimit(
  configured: number | undefined,
  kept: number | undefined
): number {
  return configured ?? kept ?? DEFAULT_TIME_LIMIT
}

export interface VerifyTarget {
  name: string
  timeLimit: number
  spec: VerifySpec
  /** Whether this run wrote the function (the message then says what to redeploy). */
  written: boolean
  /** The commit the replaced marker recorded, when it had one. */
  previousCommit?: string
}

export async function verifyTask(
  api: ExhVerifyApi,
  target: VerifyTarget
): Promise<VerifyOutcome> {
  const started = performance.now()
  const elapsed = (): number => Math.round(performance.now() - started)
  let execution: Execution
  let reason: string | undefined
  try {
    execution = await api.execute(
      target.name,
      target.spec.data,
      target.timeLimit
    )
    reason = executionFailure(execution, target.spec.expectResult)
  } catch (error) {
    // Whatever the answer did (an adapter or the judgement throwing on
    // it), it fails this task's verify and nothing else.
    return failed(target, executeError(error), elapsed(), [])
  }
  const verifyMs = elapsed()
  if (reason === undefined) {
    return {
      verified: true,
      verifyMs,
      log: [`verify: ${target.spec.file}: passed (${verifyMs} ms)`]
    }
  }
  const log = execution.taskId
    ? await logLines(api, execution.taskId)
    : ['(no log lines: the API named no task)']
  return failed(target, reason, verifyMs, log)
}

function failed(
  target: VerifyTarget,
  reason: string,
  verifyMs: number,
  log: string[]
): VerifyOutcome {
  const error = verifyError(reason, target)
  return { verified: false, verifyMs, error, log: [`error: ${error}`, ...log] }
}

/**
 * `verify: <why>`, and when this run replaced the function, that it stays
 * deployed (the API keeps no earlier code) and which commit to redeploy.
 */
export function verifyError(
  reason: string,
  context: { written: boolean; previousCommit?: string }
): string {
  if (!context.written) return `verify: ${reason}`
  const rollback = context.previousCommit
    ? `; to roll back, redeploy commit ${shortCommit(context.previousCommit)}`
    : ''
  return `verify: ${reason} (the function stays deployed${rollback})`
}

function executeError(error: unknown): string {
  if (error instanceof ExhApiError && error.failure.cancelled) {
    return 'outcome unknown (cancelled)'
  }
  return describeError(error)
}

/** The last lines of the function's log, or why there are none. */
async function logLines(api: ExhVerifyApi, taskId: string): Promise<string[]> {
  let messages: string[]
  try {
    messages = await api.taskLog(taskId)
  } catch (error) {
    return [`(no log lines: ${logError(error)})`]
  }
  const lines = messages.flatMap(message =>
    message.replace(/\n$/, '').split('\n')
  )
  if (!lines.length) return [`(the function's log for task ${taskId} is empty)`]
  const last = lines.slice(-LOG_LINES)
  return [
    `function log, task ${taskId} (last ${last.length} of ${plural(lines.length, 'line')}):`,
    ...last.map(line => `  | ${line}`)
  ]
}

function logError(error: unknown): string {
  const failure = error instanceof ExhApiError ? error.failure : undefined
  if (failure?.apiCode === 1408) {
    return 'the API has no log for this task (1408)'
  }
  if (failure?.status === 403 || failure?.apiCode === 10) {
    return `reading the log needs the VIEW_TASK_LOGS permission (${describeError(error)})`
  }
  return `the log could not be read (${describeError(error)})`
}
