// Deletes for prune and `command: delete`: one result per function, one
// failing does not stop the others.

import type { ExhClient } from '../exh/types.js'
import { ExhApiError } from '../exh/failure.js'
import { describeError } from '../errors.js'
import { deleteResult, type TaskResult } from '../report/result.js'
import { mapPool } from '../pool.js'

/**
 * Prune's deletions come last, and only after every task synced: a
 * half-failed run leaves the rest as it is.
 */
export function pruneFunctions(
  { client, prune: names }: { client: ExhClient; prune: readonly string[] },
  results: readonly TaskResult[],
  options: { dryRun: boolean; concurrency: number; signal: AbortSignal }
): Promise<TaskResult[]> {
  if (results.some(result => result.status === 'failed')) {
    return Promise.resolve(
      names.map(name =>
        deleteResult(name, 'skipped', 'not pruned: a task failed')
      )
    )
  }
  return deleteFunctions(client, names, options)
}

/**
 * Deletes functions (for `command: delete` and `prune`), each a result of
 * its own; one failing does not stop the others. Users and roles stay.
 */
export function deleteFunctions(
  client: ExhClient,
  names: readonly string[],
  options: { dryRun: boolean; concurrency: number; signal: AbortSignal }
): Promise<TaskResult[]> {
  return mapPool(
    names,
    options.concurrency,
    async name => {
      const started = performance.now()
      const result = options.dryRun
        ? deleteResult(name, 'planned')
        : await deleteOne(client, name)
      return {
        ...result,
        durationMs: Math.round(performance.now() - started)
      }
    },
    {
      canStart: () => !options.signal.aborted,
      skip: name => deleteResult(name, 'skipped', 'not started: cancelled')
    }
  )
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
