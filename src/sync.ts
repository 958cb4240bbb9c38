// `command: sync`, stage by stage: sync() is the run's table of contents, and
// each stage gives its result or stops the run with its outcome. Every check
// that can fail a task runs before the first write: if one fails, none is made.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { applyPlans, planOnly, printResult } from './apply/apply.js'
import { pruneFunctions } from './apply/delete.js'
import { buildStage } from './build-stage.js'
import { loadTasks, type LoadedTasks } from './config/load.js'
import { closeFileWorkers } from './fingerprint/file-workers.js'
import { scanTasks, type ScannedTask } from './fingerprint/scan.js'
import type { Settings } from './inputs.js'
import { packageUploads, type ReadyTask } from './package/stage.js'
import {
  certainUpload,
  planListed,
  startListing,
  type Listing,
  type Planned,
  type RemoteStart
} from './plan/listing.js'
import { planOffline } from './plan/offline.js'
import { planText, type PlannedTask } from './plan/remote.js'
import { taskResult, type TaskResult } from './report/result.js'
import { StageClock, type RunIo, type SyncOutcome } from './run-io.js'
import {
  invalidRun,
  notStarted,
  type Step,
  type StopContext
} from './sync-stops.js'
import type { TaskDefinition } from './task.js'
import { flaggedTasks, lastFailedWarnings } from './verify/last-failed.js'
import {
  matchedLine,
  refusalReason,
  reviewedPlanGate
} from './reviewed-plan/gate.js'

/** The run once its tasks are loaded and built: what stages 4–8 share. */
interface SyncRun extends StopContext {
  /** Where the zips wait for their upload. */
  spoolDir: string
  /** Stops the remote reads of a run that ends before planning. */
  stopReads: AbortController
  /** Login and listing, started before fingerprinting; undefined offline. */
  listing: Listing | undefined
  /** The load's warnings, then each code folder's. */
  warnings: string[]
  /** The tasks fingerprinted: what a stop after stage 4 reports on. */
  scanned: TaskDefinition[]
}

/**
 * `command: sync`: load → build → fingerprint → plan → package → apply →
 * prune. Each stage returns its result or the run's outcome.
 */
export async function sync(
  settings: Settings,
  io: RunIo
): Promise<SyncOutcome> {
  const clock = new StageClock()
  const loaded = await load(settings, io, clock)
  if ('stop' in loaded) return loaded.stop
  const built = await buildStage({ settings, io, clock, loaded: loaded.next })
  if ('stop' in built) return built.stop
  const run = await openRun(built.next)
  try {
    const scanned = await fingerprint(run)
    if ('stop' in scanned) return scanned.stop
    if (!run.listing) return await syncOffline(run, scanned.next)
    const planned = await plan(run, run.listing, scanned.next)
    if ('stop' in planned) return planned.stop
    const packaged = await packageStage(run, planned.next.tasks)
    if ('stop' in packaged) return packaged.stop
    const reviewed = await reviewGate(run, packaged.next, planned.next.prune)
    if ('stop' in reviewed) return reviewed.stop
    const results = await apply(run, planned.next, packaged.next)
    const { dryRun, concurrency, forceDelete } = settings
    const deletions = await pruneFunctions(planned.next, results, {
      dryRun,
      concurrency,
      forceDelete,
      signal: io.signal
    })
    run.warnings.push(...deletions.warnings)
    return {
      ...finished(run, [...results, ...deletions.results], false),
      ...reviewed.next
    }
  } finally {
    await closeRun(run)
  }
}

/** Stage 3: find, read, validate and select the configs. */
async function load(
  settings: Settings,
  io: RunIo,
  clock: StageClock
): Promise<Step<LoadedTasks>> {
  try {
    const loaded = await clock.time(
      'load',
      loadTasks(settings, io.env, io.mask, io.signal)
    )
    io.referNames?.(loaded.nameRefs)
    io.debug?.(
      `load: ${loaded.found.length} configs found, ${loaded.tasks.length} selected, ${loaded.problems.length} problems`
    )
    return { next: loaded }
  } catch (error) {
    if (!io.signal.aborted) throw error
    // Cancelled while finding or reading configs: no task is known yet,
    // and main reports the cancel.
    const none = { results: [], problems: [], warnings: [] }
    return { stop: { ...none, offline: false, stages: clock.stages } }
  }
}

/**
 * The spool folder, and the listing started once the credentials are
 * checked, so it overlaps the fingerprints; after a full run there is
 * nothing left to stop.
 */
async function openRun(run: StopContext & RemoteStart): Promise<SyncRun> {
  const { settings, io, loaded, connecting, stopReads } = run
  const spoolDir = await mkdtemp(
    path.join(io.env.RUNNER_TEMP || tmpdir(), 'exh-tasks-')
  )
  const listing = connecting && startListing(connecting, settings, loaded.tasks)
  return {
    ...run,
    spoolDir,
    stopReads,
    listing,
    warnings: loaded.warnings,
    scanned: []
  }
}

async function closeRun(run: SyncRun): Promise<void> {
  run.stopReads.abort()
  await rm(run.spoolDir, { recursive: true, force: true })
  await closeFileWorkers()
}

/** Stage 4: every code folder walked and fingerprinted (and zipped when certainly uploaded). */
async function fingerprint(run: SyncRun): Promise<Step<ScannedTask[]>> {
  const { settings, io, loaded } = run
  io.debug?.(
    run.listing
      ? 'plan: comparing with the remote functions'
      : 'plan: offline (no credentials), nothing is read'
  )
  let scan: Awaited<ReturnType<typeof scanTasks>>
  try {
    scan = await run.clock.time(
      'fingerprint',
      scanTasks(loaded.tasks, {
        concurrency: settings.concurrency,
        signal: io.signal,
        spoolDir: run.spoolDir,
        certainUpload: certainUpload(settings, run.listing)
      })
    )
  } catch (error) {
    if (!io.signal.aborted) throw error
    const stop = notStarted({ ...run, warnings: [] }, loaded.tasks, 'cancelled')
    return { stop }
  }
  if (scan.problems.length) return { stop: invalidRun(run, scan.problems) }
  for (const { task, folder } of scan.scanned) {
    io.debug?.(`fingerprint: ${task.name}: ${folder.fingerprint}`)
  }
  run.scanned = scan.scanned.map(({ task }) => task)
  run.warnings = [
    ...loaded.warnings,
    ...scan.scanned.flatMap(({ task, folder }) =>
      folder.warnings.map(warning => `${task.name}: ${warning}`)
    )
  ]
  return { next: scan.scanned }
}

/** No credentials (a dry run from a fork): validate and package, read nothing. */
async function syncOffline(
  run: SyncRun,
  scanned: ScannedTask[]
): Promise<SyncOutcome> {
  if (run.settings.prune) {
    run.warnings.push(
      'prune: the remote functions were not read, so nothing is pruned offline'
    )
  }
  const packaged = await packageStage(run, planOffline(scanned, run.settings))
  if ('stop' in packaged) return packaged.stop
  const results = packaged.next.map((item): TaskResult => ({
    ...taskResult(item),
    action: 'validate',
    status: 'planned'
  }))
  packaged.next.forEach((item, i) => {
    printResult(run.io.printTaskLog, item, results[i] as TaskResult)
  })
  return finished(run, results, true)
}

/** Stage 5: each listed task's function read and compared; what prune would delete. */
async function plan(
  run: SyncRun,
  listing: Listing,
  scanned: ScannedTask[]
): Promise<Step<Planned>> {
  const { settings, io } = run
  const tasks = run.scanned
  const listed = await listing
  if ('error' in listed) {
    return { stop: notStarted(run, tasks, listed.failed, listed.error) }
  }
  let planned: Planned
  try {
    planned = await run.clock.time(
      'plan',
      planListed(settings, scanned, listed, {
        configNames: run.loaded.names,
        warnings: run.warnings,
        debug: io.debug
      })
    )
  } catch (error) {
    // The listing failed, or the run was cancelled: nothing was written,
    // and every task says so.
    return { stop: notStarted(run, tasks, 'listing failed', error) }
  }
  if (io.signal.aborted) return { stop: notStarted(run, tasks, 'cancelled') }
  for (const item of planned.tasks) {
    io.debug?.(`plan: ${item.task.name}: ${planText(item)}`)
    if (item.outcome === 'refused') continue
    run.warnings.push(
      ...(item.credentials?.warnings ?? []).map(w => `${item.task.name}: ${w}`)
    )
  }
  run.warnings.push(
    ...lastFailedWarnings(flaggedTasks(planned.tasks), settings.verify)
  )
  return { next: planned }
}

/**
 * Stage 6: the zips and the request-size checks; a cancel stops the run
 * (nothing was written). Every file is read by now: online, the workers'
 * memory is not held through the uploads, which need their own.
 */
async function packageStage(
  run: SyncRun,
  planned: PlannedTask[]
): Promise<Step<ReadyTask[]>> {
  const { settings, io } = run
  let packaged: Awaited<ReturnType<typeof packageUploads>> | undefined
  try {
    packaged = await run.clock.time(
      'package',
      packageUploads(planned, {
        concurrency: settings.concurrency,
        spoolDir: run.spoolDir,
        signal: io.signal
      })
    )
  } catch (error) {
    if (!io.signal.aborted) throw error
  }
  if (run.listing) await closeFileWorkers()
  if (!packaged) return { stop: notStarted(run, run.scanned, 'cancelled') }
  if (packaged.problems.length) {
    return { stop: invalidRun(run, packaged.problems) }
  }
  return { next: packaged.ready }
}

/**
 * Between package and apply: the plan just made (a pull request's record),
 * and with `reviewed-plan: required` the check before the first write; a
 * plan that does not match writes nothing (SPEC section 10).
 */
async function reviewGate(
  run: SyncRun,
  ready: ReadyTask[],
  deletes: string[]
): Promise<Step<Pick<SyncOutcome, 'plan' | 'reviewedPlan'>>> {
  const { settings, io } = run
  const gate = await reviewedPlanGate(settings, io.reviewedPlan, ready, deletes)
  const { outcome } = gate
  if (outcome?.matched) io.info(matchedLine(outcome))
  if (!outcome || outcome.matched) {
    return { next: { plan: gate.plan, reviewedPlan: outcome } }
  }
  const stop = notStarted(run, run.scanned, refusalReason(outcome))
  return { stop: { ...stop, plan: gate.plan, reviewedPlan: outcome } }
}

/** Stage 7: the writes (a dry run prints its plan instead). */
async function apply(
  run: SyncRun,
  planned: Planned,
  ready: ReadyTask[]
): Promise<TaskResult[]> {
  const { settings, io } = run
  if (settings.dryRun) return planOnly(ready, io)
  return await run.clock.time(
    'apply',
    applyPlans(planned.client, ready, {
      concurrency: settings.concurrency,
      failFast: settings.failFast,
      signal: io.signal,
      mask: io.mask,
      printTaskLog: io.printTaskLog,
      verify: settings.verify
    })
  )
}

/** A run that reached its end: every task's result, the warnings gathered. */
function finished(
  run: SyncRun,
  results: TaskResult[],
  offline: boolean
): SyncOutcome {
  return {
    results,
    problems: [],
    warnings: run.warnings,
    offline,
    stages: run.clock.stages,
    nameRefs: run.loaded.nameRefs
  }
}
