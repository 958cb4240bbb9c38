// `verify` as a gate that holds (SPEC section 9): a written task executed
// once, and the outcome recorded in its marker, so a re-run of a commit
// whose verify failed cannot turn green, and a function flagged that way
// is executed again on the next run until a verify passes.

import type { ExhClient } from '../exh/types.js'
import { describeError } from '../errors.js'
import type { TaskResult } from '../report/result.js'
import type { ReadyTask } from '../package/stage.js'
import type { VerifyMode } from '../inputs.js'
import {
  clearedMarker,
  encodeMarker,
  flaggedMarker,
  markerTime,
  readMarker,
  rollbackCommit,
  type Marker
} from '../marker.js'
import { MARKER_VARIABLE } from '../task.js'
import { toVariables } from '../plan/decide.js'
import { executionTimeLimit, shouldVerify, verifyTask } from '../verify/run.js'

export interface VerifyGateOptions {
  verify: VerifyMode
  signal: AbortSignal
}

/** What a write left on the function, for recording the verify outcome. */
export interface Written {
  result: TaskResult
  /** The environment the write stored (marker included), when it wrote one. */
  environment?: Record<string, string>
}

/** Whether the function's marker says its last verify failed (or never ended). */
function isFlagged(item: ReadyTask): boolean {
  return item.outcome === 'planned' && item.remote?.marker?.verify !== undefined
}

/**
 * Whether this task's write is followed by a verify: its marker is then
 * written `pending` (a cancel or a killed runner must not leave a write
 * that no verify passed looking clean), and the verify's outcome decides.
 */
export function verifiesAfterWrite(item: ReadyTask, mode: VerifyMode): boolean {
  if (item.outcome !== 'planned' || item.plan.action === 'unchanged') {
    return false
  }
  return shouldVerify(mode, item.plan.action, item.task.verify, isFlagged(item))
}

/** The marker a write followed by a verify stores: `pending`, naming the commit to redeploy. */
export function pendingMarker(item: ReadyTask, marker: Marker): Marker {
  return flaggedMarker(marker, previousCommit(item), new Date(), 'pending')
}

/**
 * `verify`: a done task with a task-verify.json executed once, when the
 * mode asks for it or its last verify failed; the outcome recorded.
 */
export async function verifyApplied(
  client: ExhClient,
  item: ReadyTask,
  written: Written,
  options: VerifyGateOptions
): Promise<TaskResult> {
  const { result } = written
  const spec = item.task.verify
  const flagged = isFlagged(item)
  if (result.status !== 'done' || options.signal.aborted) return result
  if (!shouldVerify(options.verify, result.action, spec, flagged)) {
    return result
  }
  const started = performance.now()
  // A flagged function runs the code that failed before: a re-run that
  // fails again names the same commit to redeploy.
  const wrote = written.environment !== undefined || flagged
  const outcome = await verifyTask(client.verify, {
    name: item.task.name,
    timeLimit: executionTimeLimit(
      item.task.config.timeLimit,
      item.outcome === 'planned' ? item.remote?.timeLimit : undefined
    ),
    spec,
    written: wrote,
    // The deploy this write replaced: what to redeploy to roll back.
    previousCommit: wrote ? previousCommit(item) : undefined
  })
  const verified: TaskResult = {
    ...result,
    status: outcome.verified ? 'done' : 'failed',
    verified: outcome.verified,
    verifyMs: outcome.verifyMs,
    error: outcome.error,
    verifyLog: outcome.log
  }
  const recorded = await recordOutcome(
    client,
    item,
    written,
    verified,
    options.signal
  )
  return {
    ...recorded,
    durationMs:
      (result.durationMs ?? 0) + Math.round(performance.now() - started)
  }
}

/** The commit of the deploy a write replaced (kept while flagged). */
function previousCommit(item: ReadyTask): string | undefined {
  if (item.outcome !== 'planned') return undefined
  return rollbackCommit(item.remote?.marker)
}

/**
 * The verify outcome in the marker: a failure flags it `failed` (unless it
 * already is and this run wrote nothing); a pass clears the `pending` this
 * run wrote, or the flag of a function that failed before.
 */
async function recordOutcome(
  client: ExhClient,
  item: ReadyTask,
  written: Written,
  result: TaskResult,
  signal: AbortSignal
): Promise<TaskResult> {
  // A cancelled execution's outcome is unknown: nothing to record.
  if (item.outcome !== 'planned' || signal.aborted) return result
  const flagged = isFlagged(item)
  // The marker as this run stored it (the zip's digest included), else as read.
  const sent = written.environment && readMarker(written.environment)
  const stored = sent ? written.environment : item.remote?.environment
  if (result.verified === true) {
    if (!flagged && !sent) return result
    // This run's write said `pending`, or the function was flagged before:
    // a fresh marker without the flag either way.
    const fresh = sent
      ? clearedMarker(sent, new Date())
      : { ...item.marker, at: markerTime(new Date()) }
    const cleared = await writeMarker(client, item, stored, fresh)
    if (cleared) {
      return {
        ...result,
        status: 'failed',
        error: `verified, but the record could not be written (${cleared}): the next run executes it again`
      }
    }
    if (!flagged) return result
    return sent
      ? { ...result, verifiedAgain: true }
      : { ...result, action: 'update', changes: [], verifiedAgain: true }
  }
  const current = sent ?? item.remote?.marker
  if (!current || (!sent && current.verify === 'failed')) return result
  const rollback = sent ? previousCommit(item) : current.rollback
  const failure = await writeMarker(
    client,
    item,
    stored,
    flaggedMarker(current, rollback, new Date())
  )
  return failure
    ? {
        ...result,
        error: `${result.error ?? 'verify failed'}; the failed verify could not be recorded on the function (${failure}), so a re-run may not execute it again`
      }
    : result
}

/**
 * An environment-only update: the stored variables with `marker` in place
 * of the action's. Returns why it failed, or undefined.
 */
async function writeMarker(
  client: ExhClient,
  item: ReadyTask,
  environment: Record<string, string> | undefined,
  marker: Marker
): Promise<string | undefined> {
  if (!environment) return 'the function was not read'
  const variables = { ...environment, [MARKER_VARIABLE]: encodeMarker(marker) }
  try {
    await client.updateFunction(item.task.name, {
      environmentVariables: toVariables(variables)
    })
    return undefined
  } catch (error) {
    return describeError(error)
  }
}
