// The build stage of `command: sync`: a config's problems stop the run;
// then the credentials are checked (started here, awaited before any
// build), then `build-command` runs, then the entry-point warnings.

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

/** Stage 3b: valid configs, checked credentials, built code folders. */
export async function buildStage(
  run: StopContext
): Promise<Step<StopContext & RemoteStart>> {
  const { settings, io, loaded } = run
  if (loaded.problems.length) return { stop: invalidRun(run, loaded.problems) }
  const remote = connectEarly(settings, io)
  const built = await buildAfterConnect(run, remote.connecting)
  if ('stop' in built) remote.stopReads.abort()
  return 'stop' in built ? built : { next: { ...run, ...remote } }
}

/** `build-command` once the credentials hold, then the entry-point warnings. */
async function buildAfterConnect(
  run: StopContext,
  connecting: Connecting | undefined
): Promise<Step<undefined>> {
  const { settings, io, loaded } = run
  if (settings.buildCommand) {
    const connected = await connecting
    if (connected && 'error' in connected) {
      const { failed, error } = connected
      const context = { ...run, warnings: loaded.warnings }
      return { stop: notStarted(context, loaded.tasks, failed, error) }
    }
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
