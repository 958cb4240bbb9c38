// What a plan says of a function whose last verify failed or never ended
// (its marker says `verify: "failed"` or `"pending"`) when this run will not
// execute it again.

import { shortCommit } from '../helpers.js'
import type { VerifyMode } from '../inputs.js'
import type { Marker } from '../marker.js'
import type { PlannedTask } from '../plan/remote.js'

export interface FlaggedTask {
  name: string
  marker: Marker | undefined
  /** The task has a task-verify.json (read only when `verify` is on). */
  hasVerify: boolean
}

/**
 * One warning per flagged function that stays unverified: with `verify:
 * false`, `last verify failed (<sha7>)`; without a task-verify.json,
 * nothing to verify it with (the flag stays until its next write).
 */
export function lastFailedWarnings(
  tasks: readonly FlaggedTask[],
  mode: VerifyMode
): string[] {
  const warnings: string[] = []
  for (const { name, marker, hasVerify } of tasks) {
    if (!marker?.verify) continue
    if (mode === 'false') {
      const at = marker.commit ? ` (${shortCommit(marker.commit)})` : ''
      // A verify that never ended (a cancel, a killed runner) is no pass.
      const what = marker.verify === 'failed' ? 'failed' : 'did not finish'
      warnings.push(`${name}: last verify ${what}${at}`)
    } else if (!hasVerify) {
      warnings.push(`${name}: last verify failed; nothing to verify it with`)
    }
  }
  return warnings
}

/** The planned tasks as `lastFailedWarnings` reads them. */
export function flaggedTasks(tasks: readonly PlannedTask[]): FlaggedTask[] {
  return tasks.flatMap(item =>
    item.outcome === 'planned'
      ? [
          {
            name: item.task.name,
            marker: item.remote?.marker,
            hasVerify: item.task.verify !== undefined
          }
        ]
      : []
  )
}
