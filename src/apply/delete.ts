import type { ExhClient } from '../exh/types.js'
import { ExhApiError } from '../exh/failure.js'
import { describeError } from '../errors.js'
import type { TaskResult } from '../report/result.js'
import { mapPool } from '../pool.js'

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
      const result: TaskResult = { name, action: 'delete', status: 'planned' }
      if (!options.dryRun) {
        try {
          await client.deleteFunction(name)
          result.status = 'done'
        } catch (error) {
          if (isGone(error)) {
            result.status = 'done'
          } else {
            result.status = 'failed'
            result.error = describeError(error)
          }
        }
      }
      result.durationMs = Math.round(performance.now() - started)
      return result
    },
    {
      canStart: () => !options.signal.aborted,
      skip: name => ({
        name,
        action: 'delete',
        status: 'skipped',
        error: 'not started: cancelled'
      })
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
