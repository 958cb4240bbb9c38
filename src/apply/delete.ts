// Deletes for prune and `command: delete`: one result per function, one
// failing does not stop the others.

import type { ExhClient } from '../exh/types.js'
import { ExhApiError } from '../exh/failure.js'
import { describeError } from '../errors.js'
import { deleteResult, type TaskResult } from '../report/result.js'
import { mapPool } from '../pool.js'
import {
  deleteDetail,
  deleteWarning,
  judgeDelete,
  type DeleteVerdict
} from '../plan/still-used.js'

export interface DeleteOptions {
  dryRun: boolean
  concurrency: number
  signal: AbortSignal
  /** Delete a function that something still runs (SPEC section 12). */
  forceDelete: boolean
}

/**
 * Prune's deletions come last, and only after every task synced: a
 * half-failed run leaves the rest as it is.
 */
export function pruneFunctions(
  { client, prune: names }: { client: ExhClient; prune: readonly string[] },
  results: readonly TaskResult[],
  options: DeleteOptions
): Promise<{ results: TaskResult[]; warnings: string[] }> {
  if (results.some(result => result.status === 'failed')) {
    return Promise.resolve({
      results: names.map(name =>
        deleteResult(name, 'skipped', 'not pruned: a task failed')
      ),
      warnings: []
    })
  }
  return deleteFunctions(client, names, options)
}

/**
 * Deletes functions (for `command: delete` and `prune`), each a result of
 * its own; one failing does not stop the others. Users and roles stay.
 * What still runs them is read first, once, and only when there is
 * something to delete; a dry run reads it too, to show a blocked delete.
 */
export async function deleteFunctions(
  client: ExhClient,
  names: readonly string[],
  options: DeleteOptions
): Promise<{ results: TaskResult[]; warnings: string[] }> {
  const found =
    names.length && !options.signal.aborted
      ? await client.references.readUses()
      : { uses: [], unreadable: [] }
  const verdicts = names.map(name =>
    judgeDelete(name, found, options.forceDelete)
  )
  const results = await mapPool(
    names.map((name, i) => ({ name, verdict: verdicts[i] as DeleteVerdict })),
    options.concurrency,
    async ({ name, verdict }) => {
      const started = performance.now()
      const result = await deleteChecked(client, name, verdict, options.dryRun)
      return {
        ...result,
        durationMs: Math.round(performance.now() - started)
      }
    },
    {
      canStart: () => !options.signal.aborted,
      skip: ({ name }) =>
        deleteResult(name, 'skipped', 'not started: cancelled')
    }
  )
  // Only for a delete that went ahead (or is planned), in the names' order.
  const warnings = names.flatMap((name, i) => {
    const went = ['done', 'planned'].includes(results[i]?.status ?? '')
    const warning =
      went && deleteWarning(name, verdicts[i] as DeleteVerdict, options.dryRun)
    return warning ? [warning] : []
  })
  return { results, warnings }
}

/** A dry run plans (a blocked delete noted); a run deletes what may go. */
async function deleteChecked(
  client: ExhClient,
  name: string,
  verdict: DeleteVerdict,
  dryRun: boolean
): Promise<TaskResult> {
  if (dryRun) {
    const detail = deleteDetail(verdict)
    const planned = deleteResult(name, 'planned')
    return detail ? { ...planned, details: [detail] } : planned
  }
  if (verdict.verdict === 'blocked') {
    return deleteResult(name, 'failed', verdict.why)
  }
  const result = await deleteOne(client, name)
  const detail = deleteDetail(verdict)
  return detail && result.status === 'done'
    ? { ...result, details: [detail] }
    : result
}

/**
 * A 404: the function was listed before this delete, so it is gone, most
 * likely by an earlier attempt whose answer was lost. Deleting is
 * idempotent: the outcome the user asked for holds.
 */
function isGone(error: unknown): boolean {
  return error instanceof ExhApiError && error.failure.status === 404
}

/** A delete whose retry finds the function gone is done: it was the goal. */
async function deleteOne(client: ExhClient, name: string): Promise<TaskResult> {
  try {
    await client.deleteFunction(name)
    return deleteResult(name, 'done')
  } catch (error) {
    return isGone(error)
      ? deleteResult(name, 'done')
      : deleteResult(name, 'failed', describeError(error))
  }
}
