import { setMaxListeners } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import type { Settings } from './inputs.js'
import type { ConfigProblem, TaskDefinition } from './task.js'
import { PENDING_TOKEN, credentialVariables } from './plan/credentials.js'
import {
  deleteResult,
  invalidConfigResult,
  notStartedResult,
  plannedResult,
  taskResult,
  type TaskResult
} from './report/result.js'
import { loadTasks, type LoadedTasks } from './config/load.js'
import { scanTasks, type ScannedTask } from './fingerprint/scan.js'
import { connectExh } from './exh/client.js'
import type { ExhClient } from './exh/types.js'
import {
  planAgainstRemote,
  readRemoteFunctions,
  type PlannedTask,
  type RemoteReads
} from './plan/remote.js'
import { planTask } from './plan/decide.js'
import { packageUploads } from './package/stage.js'
import { closeFileWorkers } from './fingerprint/file-workers.js'
import { applyPlans, printResult } from './apply/apply.js'
import { relative } from './discover.js'
import { describeError } from './errors.js'
import { isRefusal } from './exh/failure.js'
import { buildTasks, type RunCommand } from './build.js'
import { findPrunable } from './plan/prune.js'
import { deleteFunctions } from './apply/delete.js'
import { createTaskFilter } from './config/task-filter.js'
import { markerFor, type Marker, type Repository } from './plan/marker.js'
import { plural } from './words.js'
import { entryPointWarnings } from './verify/entry-point.js'
import { lastFailedWarnings, type FlaggedTask } from './verify/last-failed.js'

/** The side effects the pipeline needs, passed in so it runs without @actions/*. */
export interface RunIo {
  env: Record<string, string | undefined>
  mask: (secret: string) => void
  signal: AbortSignal
  info: (message: string) => void
  warning: (message: string) => void
  /** Step debugging only (undefined otherwise): API calls, stage decisions. */
  debug?: (message: string) => void
  printTaskLog: (title: string, lines: string[]) => void
  /** Runs `build-command` (a shell command) in a folder. */
  runCommand: RunCommand
  /** Names substituted from `$VAR` (value → `$VAR`): the log shows the reference. */
  referNames?: (refs: Readonly<Record<string, string>>) => void
}

export interface SyncOutcome {
  results: TaskResult[]
  problems: ConfigProblem[]
  warnings: string[]
  offline: boolean
  /** A failure of the whole run (login, listing, cancellation). */
  error?: string
  /** Wall time per stage, in ms (for the log and the benchmark). */
  stages: Partial<Record<Stage, number>>
  /** Names substituted from `$VAR`: value → `$VAR`, for the report's edge. */
  nameRefs?: Record<string, string>
}

export type Stage =
  'load' | 'build' | 'fingerprint' | 'plan' | 'package' | 'apply'

/** Wall time per stage, for the log line and the benchmark. */
class StageClock {
  readonly stages: SyncOutcome['stages'] = {}

  async time<T>(stage: Stage, work: Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      return await work
    } finally {
      this.stages[stage] = Math.round(performance.now() - started)
    }
  }
}

/** What every stage after the fingerprint needs. */
interface SyncContext {
  settings: Settings
  io: RunIo
  loaded: LoadedTasks
  scanned: ScannedTask[]
  warnings: string[]
  clock: StageClock
  /** Where the zips wait for their upload. */
  spoolDir: string
  /** A run that failed validation: nothing written. */
  invalid: (problems: ConfigProblem[]) => SyncOutcome
  /** Login and listing, started before fingerprinting; undefined offline. */
  listing: Listing | undefined
}

/**
 * `command: sync`, stage by stage. Every check that can fail a task runs
 * before the first write; if any fails, nothing is written.
 */
export async function sync(
  settings: Settings,
  io: RunIo
): Promise<SyncOutcome> {
  const clock = new StageClock()
  let loaded: LoadedTasks
  try {
    loaded = await clock.time(
      'load',
      loadTasks(settings, io.env, io.mask, io.signal)
    )
  } catch (error) {
    if (!io.signal.aborted) throw error
    // Cancelled while finding or reading configs: no task is known yet,
    // and main reports the cancel.
    const none = { results: [], problems: [], warnings: [] }
    return { ...none, offline: false, stages: clock.stages }
  }
  io.referNames?.(loaded.nameRefs)
  const outcome = await syncLoaded(settings, io, loaded, clock)
  return { ...outcome, nameRefs: loaded.nameRefs }
}

async function syncLoaded(
  settings: Settings,
  io: RunIo,
  loaded: LoadedTasks,
  clock: StageClock
): Promise<SyncOutcome> {
  const invalid = (problems: ConfigProblem[]): SyncOutcome => {
    const outcome = invalidRun(settings, loaded, problems)
    printUnplanned(io, outcome.results)
    return { ...outcome, warnings: loaded.warnings, stages: clock.stages }
  }
  io.debug?.(
    `load: ${loaded.found.length} configs found, ${loaded.tasks.length} selected, ${loaded.problems.length} problems`
  )
  if (loaded.problems.length) return invalid(loaded.problems)
  // A run that stops before planning (a failed build, a folder that cannot
  // be packaged, a cancel) stops the reads it started rather than leave
  // them running past its report; after a full run there is nothing left.
  const stopReads = new AbortController()
  const signal = AbortSignal.any([io.signal, stopReads.signal])
  setMaxListeners(0, signal)
  // Started before any build: a rejected token fails in seconds, not after
  // minutes of `npm ci` (SPEC section 13).
  const connecting =
    settings.host && settings.credentials
      ? startConnect(settings, { ...io, signal })
      : undefined
  const stop = (): void => {
    stopReads.abort()
  }
  try {
    return await buildThenSync(
      { settings, io, loaded, clock, invalid },
      { connecting, stopReads: stop }
    )
  } finally {
    stop()
  }
}

/** `build-command` once the credentials are known good, then stage 4 onwards. */
async function buildThenSync(
  start: Omit<SyncContext, 'scanned' | 'warnings' | 'listing' | 'spoolDir'>,
  remote: { connecting: Connecting | undefined; stopReads: () => void }
): Promise<SyncOutcome> {
  const { settings, io, loaded, clock, invalid } = start
  const { connecting } = remote
  if (settings.buildCommand) {
    const connected = await connecting
    if (connected && 'error' in connected) {
      const context = { ...start, warnings: loaded.warnings }
      return notStarted(
        context,
        connected.failed,
        connected.error,
        loaded.tasks
      )
    }
    const failed = await clock.time(
      'build',
      buildTasks(
        loaded.tasks,
        settings.buildCommand,
        settings.workspace,
        io.runCommand,
        io.signal
      )
    )
    if (io.signal.aborted) return cancelledBeforeSync(loaded, clock)
    if (failed.length) return invalid(failed)
  }
  // After the build, which may create the code folders.
  loaded.warnings.push(
    ...(await entryPointWarnings(loaded.tasks, settings.workspace))
  )

  const spoolDir = await mkdtemp(
    path.join(io.env.RUNNER_TEMP || tmpdir(), 'exh-tasks-')
  )
  try {
    // The listing starts first and overlaps the fingerprints.
    const listing =
      connecting && startListing(connecting, settings, loaded.tasks)
    return await scanThenSync({ ...start, spoolDir, listing })
  } finally {
    // Before the clean-up, which takes a while: no read outlives the run.
    remote.stopReads()
    await rm(spoolDir, { recursive: true, force: true })
    await closeFileWorkers()
  }
}

async function scanThenSync(
  start: Omit<SyncContext, 'scanned' | 'warnings'>
): Promise<SyncOutcome> {
  const { settings, io, loaded, clock, listing } = start
  io.debug?.(
    listing
      ? 'plan: comparing with the remote functions'
      : 'plan: offline (no credentials), nothing is read'
  )
  let scan: Awaited<ReturnType<typeof scanTasks>>
  try {
    scan = await clock.time(
      'fingerprint',
      scanTasks(loaded.tasks, {
        concurrency: settings.concurrency,
        signal: io.signal,
        spoolDir: start.spoolDir,
        certainUpload: certainUpload(settings, listing)
      })
    )
  } catch (error) {
    if (!io.signal.aborted) throw error
    const context = { ...start, scanned: [], warnings: [] }
    return notStarted(context, 'cancelled', undefined, loaded.tasks)
  }
  if (scan.problems.length) return start.invalid(scan.problems)
  for (const { task, folder } of scan.scanned) {
    io.debug?.(`fingerprint: ${task.name}: ${folder.fingerprint}`)
  }
  const context: SyncContext = {
    ...start,
    scanned: scan.scanned,
    warnings: [
      ...loaded.warnings,
      ...scan.scanned.flatMap(({ task, folder }) =>
        folder.warnings.map(warning => `${task.name}: ${warning}`)
      )
    ]
  }
  return listing ? await syncWithRemote(context) : await syncOffline(context)
}

/**
 * Login and the listing of remote functions, then each listed task's
 * function: all started before fingerprinting.
 */
type Listing = Promise<
  | { client: ExhClient; names: string[]; reads: RemoteReads }
  | {
      error: unknown
      failed: ConnectFailure | 'listing failed'
    }
>

/** The credentials checked (a token check or a login); never rejects. */
type Connecting = Promise<
  { client: ExhClient } | { error: unknown; failed: ConnectFailure }
>

function startConnect(settings: Settings, io: RunIo): Connecting {
  return connect(settings, io).then(
    client => ({ client }),
    (error: unknown) => ({ error, failed: connectFailure(settings, error) })
  )
}

function startListing(
  connecting: Connecting,
  settings: Settings,
  tasks: TaskDefinition[]
): Listing {
  return connecting.then((connected): Listing => {
    if ('error' in connected) return Promise.resolve(connected)
    const { client } = connected
    return client.listFunctions().then(
      functions => {
        // Sorted: what is reported (prune) never depends on creation order.
        const names = functions.map(fn => fn.name).sort()
        const reads = readRemoteFunctions(
          client,
          tasks,
          names,
          settings.concurrency
        )
        return { client, names, reads }
      },
      (error: unknown) => ({
        error,
        failed: 'listing failed' as const
      })
    )
  })
}

type ConnectFailure =
  'login failed' | 'credentials rejected' | 'the token could not be checked'

/**
 * SPEC section 3's reason: a password login failed; a token is checked, not
 * logged in with, and it is `rejected` only when the API refused it (an
 * unreachable host or a 5xx says nothing about the token).
 */
function connectFailure(settings: Settings, error: unknown): ConnectFailure {
  if (settings.credentials?.kind === 'password') return 'login failed'
  return isRefusal(error)
    ? 'credentials rejected'
    : 'the token could not be checked'
}

/**
 * A task is certainly uploaded when nothing is compared (offline, or
 * `skip-unchanged: false`) or it does not exist remotely. A failed listing
 * fails the run later; until then, fingerprint only.
 */
function certainUpload(
  settings: Settings,
  listing: Listing | undefined
): (task: TaskDefinition) => Promise<boolean> {
  return async task => {
    if (!listing || !settings.skipUnchanged) return true
    const listed = await listing
    return 'names' in listed && !listed.names.includes(task.name)
  }
}

/** No credentials (a dry run from a fork): validate and package, read nothing. */
async function syncOffline(context: SyncContext): Promise<SyncOutcome> {
  const { settings, warnings, clock } = context
  if (settings.prune) {
    warnings.push(
      'prune: the remote functions were not read, so nothing is pruned offline'
    )
  }
  const offline = await packageStage(
    context,
    planOffline(context.scanned, settings)
  )
  if (!offline) return notStarted(context, 'cancelled')
  if (offline.problems.length) return context.invalid(offline.problems)
  const results = offline.ready.map((item): TaskResult => ({
    ...taskResult(item),
    action: 'validate',
    status: 'planned'
  }))
  offline.ready.forEach((item, i) => {
    printResult(context.io.printTaskLog, item, results[i] as TaskResult)
  })
  return {
    results,
    problems: [],
    warnings,
    offline: true,
    stages: clock.stages
  }
}

async function syncWithRemote(context: SyncContext): Promise<SyncOutcome> {
  const { settings, io, warnings, clock } = context
  const listed = await (context.listing as Listing)
  if ('error' in listed) return notStarted(context, listed.failed, listed.error)
  let planned: { client: ExhClient; tasks: PlannedTask[]; prune: string[] }
  try {
    planned = await clock.time('plan', planRemote(context, listed))
  } catch (error) {
    // The listing failed, or the run was cancelled: nothing was written,
    // and every task says so.
    return notStarted(context, 'listing failed', error)
  }
  if (io.signal.aborted) return notStarted(context, 'cancelled')
  warnings.push(...planWarnings(planned.tasks, settings, io))

  const packaged = await packageStage(context, planned.tasks)
  // Every file is read by now: the workers' memory is not held through
  // the uploads, which need their own.
  await closeFileWorkers()
  if (!packaged) return notStarted(context, 'cancelled')
  if (packaged.problems.length) return context.invalid(packaged.problems)

  if (settings.dryRun && planned.tasks.some(item => item.task.deployerKeys)) {
    io.info(
      'Environment values from $API_* follow the deploying credentials: this plan counts them as unchanged where the function already holds the key (a plan may run with other credentials than the deploy)'
    )
  }
  const results = settings.dryRun
    ? packaged.ready.map(item => {
        const result = plannedResult(item)
        printResult(io.printTaskLog, item, result)
        return result
      })
    : await clock.time(
        'apply',
        applyPlans(planned.client, packaged.ready, {
          concurrency: settings.concurrency,
          failFast: settings.failFast,
          signal: io.signal,
          mask: io.mask,
          printTaskLog: io.printTaskLog,
          verify: settings.verify
        })
      )
  const deletions = await prune(context, planned, results)
  return {
    results: [...results, ...deletions],
    problems: [],
    warnings,
    offline: false,
    stages: clock.stages
  }
}

/** Each task's plan in a debug line; the plan's warnings. */
function planWarnings(
  tasks: PlannedTask[],
  settings: Settings,
  io: RunIo
): string[] {
  const warnings: string[] = []
  for (const item of tasks) {
    io.debug?.(`plan: ${item.task.name}: ${planText(item)}`)
    if (item.outcome === 'refused') continue
    warnings.push(
      ...(item.credentials?.warnings ?? []).map(w => `${item.task.name}: ${w}`)
    )
  }
  warnings.push(...lastFailedWarnings(flaggedTasks(tasks), settings.verify))
  return warnings
}

/** The planned tasks as `lastFailedWarnings` reads them. */
function flaggedTasks(tasks: PlannedTask[]): FlaggedTask[] {
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

/** Stage 6; undefined when a cancel stopped it (nothing was written). */
async function packageStage(
  context: SyncContext,
  planned: PlannedTask[]
): Promise<Awaited<ReturnType<typeof packageUploads>> | undefined> {
  try {
    return await context.clock.time(
      'package',
      packageUploads(planned, {
        concurrency: context.settings.concurrency,
        spoolDir: context.spoolDir,
        signal: context.io.signal
      })
    )
  } catch (error) {
    if (!context.io.signal.aborted) throw error
    return undefined
  }
}

/** Read and plan every listed task; find what `prune` would delete. */
async function planRemote(
  context: SyncContext,
  listed: { client: ExhClient; names: string[]; reads: RemoteReads }
): Promise<{ client: ExhClient; tasks: PlannedTask[]; prune: string[] }> {
  const { settings, io, loaded } = context
  const { client } = listed
  const { tasks, remoteNames } = await planAgainstRemote(
    client,
    context.scanned,
    listed.names,
    {
      concurrency: settings.concurrency,
      skipUnchanged: settings.skipUnchanged,
      repository: repositoryOf(settings),
      record: settings.record,
      adopt: settings.adopt,
      scope: settings.pruneScope,
      dryRun: settings.dryRun,
      connection: {
        host: settings.host ?? '',
        consumerKey: settings.credentials?.consumerKey ?? '',
        consumerSecret: settings.credentials?.consumerSecret ?? ''
      }
    },
    listed.reads
  )
  if (!settings.prune) {
    io.debug?.('prune: off')
    return { client, tasks, prune: [] }
  }
  // A config whose name is an unset $NAME hides which function it
  // describes: pruning could delete it.
  const unknownNames = loaded.names.filter(name => name.startsWith('$'))
  if (unknownNames.length) {
    context.warnings.push(
      `prune: nothing is pruned, because the names ${unknownNames.join(', ')} are not set in the environment`
    )
    return { client, tasks, prune: [] }
  }
  const prunable = await findPrunable(client, remoteNames, {
    repository: repositoryOf(settings),
    scope: settings.pruneScope,
    configNames: loaded.names,
    matches: createTaskFilter(settings.tasks).matches,
    concurrency: settings.concurrency
  })
  io.debug?.(
    `prune: ${remoteNames.length} remote functions, ${prunable.length} to delete${prunable.length ? `: ${prunable.join(', ')}` : ''}`
  )
  return { client, tasks, prune: prunable }
}

/**
 * Deletions come last, and only after every task synced: a half-failed run
 * leaves the rest as it is.
 */
function prune(
  context: SyncContext,
  planned: { client: ExhClient; prune: string[] },
  results: TaskResult[]
): Promise<TaskResult[]> {
  if (results.some(result => result.status === 'failed')) {
    return Promise.resolve(
      planned.prune.map(name =>
        deleteResult(name, 'skipped', 'not pruned: a task failed')
      )
    )
  }
  return deleteFunctions(planned.client, planned.prune, {
    dryRun: context.settings.dryRun,
    concurrency: context.settings.concurrency,
    signal: context.io.signal
  })
}

/** Cancelled during the builds: no task started. A cancel is reported once, by main. */
function cancelledBeforeSync(
  loaded: LoadedTasks,
  clock: StageClock
): SyncOutcome {
  return {
    results: loaded.tasks.map(task => notStartedResult(task, 'cancelled')),
    problems: [],
    warnings: loaded.warnings,
    offline: false,
    stages: clock.stages
  }
}

/**
 * Nothing was written: every task says why it did not start (`login
 * failed`, `cancelled`); the run's error says what happened.
 */
function notStarted(
  context: Pick<SyncContext, 'io' | 'warnings' | 'clock'> &
    Partial<Pick<SyncContext, 'scanned'>>,
  why: string,
  error?: unknown,
  tasks: TaskDefinition[] = (context.scanned ?? []).map(({ task }) => task)
): SyncOutcome {
  const cancelled = context.io.signal.aborted
  const reason = cancelled ? 'cancelled' : why
  const results = tasks.map(task => notStartedResult(task, reason))
  printUnplanned(context.io, results)
  return {
    results,
    problems: [],
    warnings: context.warnings,
    offline: false,
    stages: context.clock.stages,
    // A cancel is reported once, by main.
    error: cancelled || error === undefined ? undefined : describeError(error)
  }
}

/** A group per task that was never planned: why it failed or did not start. */
function printUnplanned(io: RunIo, results: TaskResult[]): void {
  for (const result of results) {
    io.printTaskLog(
      `${result.name ?? result.config ?? '?'}: ${result.status}`,
      [
        ...(result.config ? [`config: ${result.config}`] : []),
        // Each problem is printed once, in the run's closing error list.
        result.problems
          ? `error: ${plural(result.problems, 'problem')}, listed under Errors below`
          : `error: ${result.error ?? ''}`
      ]
    )
  }
}

/** The client for this run; the commands that need credentials check them first. */
export function connect(settings: Settings, io: RunIo): Promise<ExhClient> {
  const { credentials, host } = settings
  if (!credentials || !host) {
    return Promise.reject(
      new Error(`missing ${settings.missingCredentials.join(', ')}`)
    )
  }
  return connectExh({
    host,
    credentials,
    requestTimeoutMs: settings.requestTimeoutMs,
    signal: io.signal,
    mask: io.mask,
    log: io.info,
    debug: io.debug
  })
}

/** Offline, every task is planned as if new: that is what gets zipped and checked. */
function planOffline(
  scanned: ScannedTask[],
  settings: Settings
): PlannedTask[] {
  return scanned.map(item => {
    const marker = markerFor(
      repositoryOf(settings),
      item.folder.fingerprint,
      settings.pruneScope,
      settings.record,
      new Date(),
      item.task.substituted
    )
    return planOfflineTask(item, marker, settings)
  })
}

function planOfflineTask(
  item: ScannedTask,
  marker: Marker,
  settings: Settings
): PlannedTask {
  return {
    ...item,
    outcome: 'planned' as const,
    marker,
    plan: planTask({
      config: item.task.config,
      marker,
      skipUnchanged: settings.skipUnchanged,
      // Offline the tokens are unknown: stand-ins of the same size keep the
      // environment size check honest.
      injected: item.task.config.executionCredentials
        ? credentialVariables({
            host: settings.host ?? '',
            consumerKey: PENDING_TOKEN,
            consumerSecret: PENDING_TOKEN
          })
        : undefined
    }),
    planMs: 0
  }
}

/** `update (timeLimit, code)`, `unchanged`, or why the task was refused. */
function planText(item: PlannedTask): string {
  if (item.outcome === 'refused') return `failed: ${item.error}`
  const { action, changes } = item.plan
  return changes.length ? `${action} (${changes.join(', ')})` : action
}

/**
 * A run that failed validation: each config with a problem is `failed`,
 * every other one `skipped`, and nothing was written.
 */
function invalidRun(
  settings: Settings,
  loaded: LoadedTasks,
  problems: ConfigProblem[]
): Omit<SyncOutcome, 'stages'> {
  const names = new Map(
    loaded.tasks.map(task => [task.configFile ?? '', task.name])
  )
  const buildFailed = problems.some(p => p.field === 'build-command')
  const results: TaskResult[] = loaded.found.map(found => {
    const config = relative(settings.workspace, found.file)
    const own = problems.filter(
      problem =>
        (problem.file ?? problem.config) === config || problem.config === config
    )
    const name = names.get(config) ?? own.find(p => p.task)?.task
    return own.length
      ? invalidConfigResult({ name, config }, own)
      : notStartedResult(
          { name, configFile: config },
          buildFailed
            ? "another task's build failed"
            : 'another config is invalid'
        )
  })
  if (!loaded.found.length && settings.overrides?.name) {
    results.push({
      name: settings.overrides.name,
      status: 'failed',
      error: problems.map(p => `${p.field ?? ''}: ${p.rule}`).join('; ')
    })
  }
  return { results, problems, warnings: loaded.warnings, offline: false }
}

/** This run's repository, as markers name it. */
export function repositoryOf(settings: Settings): Repository {
  return { id: settings.repositoryId, name: settings.repository }
}
