// The build stage of `command: sync`: a config's problems stop the run;
// then the credentials and the first half of the reviewed-plan check
// (both started here, awaited before any build), then `build-command`
// runs, then the entry-point warnings.

import { buildTasks } from './build.js'
import {
  connectEarly,
  type Connecting,
  type RemoteStart
} from './plan/listing.js'
import {
  cancelledBeforeSync,
  invalidRun,
  notStarted,
  type Step,
  type StopContext
} from './sync-stops.js'
import { entryPointWarnings } from './verify/entry-point.js'
import type { ReviewedPlanOutcome } from './reviewed-plan/check.js'
import { refusalReason, reviewedPlanStart } from './reviewed-plan/gate.js'

/** Stage 3b: valid configs, checked credentials, built code folders. */
export async function buildStage(
  run: StopContext
): Promise<Step<StopContext & RemoteStart>> {
  const { settings, io, loaded } = run
  if (loaded.problems.length) return { stop: invalidRun(run, loaded.problems) }
  const remote = connectEarly(settings, io)
  const review = reviewedPlanStart(settings, io.reviewedPlan)
  const built = await buildAfterConnect(run, remote.connecting, review)
  if ('stop' in built) remote.stopReads.abort()
  return 'stop' in built ? built : { next: { ...run, ...remote } }
}

/**
 * `build-command` once the credentials hold and the reviewed-plan check
 * has refused nothing it could know without a plan, then the entry-point
 * warnings.
 */
async function buildAfterConnect(
  run: StopContext,
  connecting: Connecting | undefined,
  review: Promise<ReviewedPlanOutcome | undefined>
): Promise<Step<undefined>> {
  const { settings, io, loaded } = run
  const context = { ...run, warnings: loaded.warnings }
  const connected = settings.buildCommand ? await connecting : undefined
  if (connected && 'error' in connected) {
    const { failed, error } = connected
    return { stop: notStarted(context, loaded.tasks, failed, error) }
  }
  const refused = await review
  if (refused) {
    const stop = notStarted(context, loaded.tasks, refusalReason(refused))
    return { stop: { ...stop, reviewedPlan: refused } }
  }
  if (settings.buildCommand) {
    const failed = await run.clock.time(
      'build',
      buildTasks(
        loaded.tasks,
        settings.buildCommand,
        settings.workspace,
        io.runCommand,
        io.signal
      )
    )
    if (io.signal.aborted) return { stop: cancelledBeforeSync(run) }
    if (failed.length) return { stop: invalidRun(run, failed) }
  }
  // After the build, which may create the code folders.
  loaded.warnings.push(
    ...(await entryPointWarnings(loaded.tasks, settings.workspace))
  )
  return { next: undefined }
}
