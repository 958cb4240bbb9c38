// Stage 5: each task's remote function read, ownership checked, the plan and
// the credentials plan made per task.

import type { ExhClient } from '../exh/types.js'
import {
  foreignOwner,
  markerFor,
  type DeploymentRecord,
  type Marker,
  type Repository
} from '../marker.js'
import { createTaskFilter } from '../config/task-filter.js'
import { MARKER_VARIABLE } from '../task.js'
import { followingDeployer, planTask, type TaskPlan } from './decide.js'
import type { RemoteFunction } from '../exh/types.js'
import { limitConcurrency, mapPool } from '../pool.js'
import { describeError } from '../errors.js'
import type { ScannedTask } from '../fingerprint/scan.js'
import type { TaskDefinition } from '../task.js'
import { keptTimeLimitRefusal } from '../config/verify-file.js'
import {
  injectedVariables,
  planCredentials,
  type ActionConnection,
  type CredentialPlan
} from './credentials.js'

/** What planning read for a task, whatever it decided. */
interface PlanReads extends ScannedTask {
  /** Time spent planning this task (its reads), in ms. */
  planMs: number
}

/**
 * A task after stage 5: `planned` with its exact request, or `refused`
 * (its remote state could not be read, or another repository owns it).
 */
export type PlannedTask =
  | (PlanReads & {
      outcome: 'planned'
      plan: TaskPlan
      /** The marker this run writes (a verify's flag or pass restamps it). */
      marker: Marker
      /** The function as read, for before → after. */
      remote?: RemoteFunction
      /** The role and user to sync, for a task with executionCredentials. */
      credentials?: CredentialPlan
      /** `adopted from <owner/name>`: this run takes the function over with `adopt`. */
      adopted?: string
    })
  | (PlanReads & { outcome: 'refused'; error: string })

export interface PlanSettings {
  concurrency: number
  skipUnchanged: boolean
  repository: Repository
  /** The commit, ref and run this run deploys from, for the marker. */
  record?: DeploymentRecord
  /** The `adopt` input: names or `*` patterns this run may take over. */
  adopt: readonly string[]
  scope: string
  /** Injected with executionCredentials. */
  connection: ActionConnection
  /**
   * A plan, perhaps made with other credentials than the deploy's: `$API_*`
   * environment values count as unchanged where the function holds the key.
   */
  dryRun?: boolean
}

/**
 * Reads at once while planning, whatever `concurrency` (which bounds
 * writes). Reads are small idempotent GETs: at 50 ms of latency, 300 tasks
 * take ~4 s four at a time and ~1 s sixteen at a time, while sixteen sockets
 * stay well inside what one client is expected to open (browsers allow six
 * per host over HTTP/1.1; the SDK's agent pools them), and the plan does no
 * writes that the API could be racing against.
 */
const READ_CONCURRENCY = 16

/** How many reads run at once for a run with `concurrency`. */
export function readConcurrency(concurrency: number): number {
  return Math.max(concurrency, READ_CONCURRENCY)
}

/** Each listed task's function as read (`getByName`), by task name. */
export type RemoteReads = ReadonlyMap<
  string,
  Promise<RemoteFunction | undefined>
>

/**
 * Starts `getByName` for every task the listing holds, sixteen at a time:
 * the reads need no fingerprint, so they run while the folders are read
 * and planning finds them done. A failed read fails its task when planned.
 */
export function readRemoteFunctions(
  client: ExhClient,
  tasks: readonly TaskDefinition[],
  remoteNames: readonly string[],
  concurrency: number
): RemoteReads {
  const listed = new Set(remoteNames)
  const limit = limitConcurrency(readConcurrency(concurrency))
  const reads = new Map<string, Promise<RemoteFunction | undefined>>()
  for (const task of tasks.filter(t => listed.has(t.name))) {
    const committed = new Set(Object.values(task.config.environment ?? {}))
    const read = limit(() => client.getFunction(task.name, committed))
    // Awaited when planned; until then a failure is not unhandled.
    read.catch(() => undefined)
    reads.set(task.name, read)
  }
  return reads
}

/**
 * Stage 5: given the listing of the remote functions and each listed
 * task's function (both read while fingerprinting, `reads`), the
 * executionCredentials reads, then the pure plan per task. Reads only.
 */
export async function planAgainstRemote(
  client: ExhClient,
  scanned: ScannedTask[],
  remoteNames: string[],
  settings: PlanSettings,
  reads: RemoteReads = readRemoteFunctions(
    client,
    scanned.map(item => item.task),
    remoteNames,
    settings.concurrency
  )
): Promise<{ tasks: PlannedTask[]; remoteNames: string[] }> {
  const readers = readConcurrency(settings.concurrency)
  const tasks = await mapPool(scanned, readers, async item => {
    const started = performance.now()
    const { task } = item
    try {
      const remote = await reads.get(task.name)
      const refusal =
        ownershipRefusal(task.name, remote, settings) ??
        keptTimeLimitRefusal(task, remote?.timeLimit)
      if (refusal) {
        return refused(item, refusal, started)
      }
      const credentials = task.config.executionCredentials
        ? await planCredentials(client.users, task, remote, settings.connection)
        : undefined
      return {
        ...item,
        ...planOne(item, remote, credentials, settings),
        adopted: adoptedNote(task.name, remote, settings),
        planMs: performance.now() - started
      }
    } catch (error) {
      // One task whose remote state cannot be read fails alone.
      return refused(item, describeError(error), started)
    }
  })
  return { tasks, remoteNames }
}

/** The pure plan of a task whose remote state is read: the marker, the request. */
function planOne(
  { task, folder }: ScannedTask,
  remote: RemoteFunction | undefined,
  credentials: CredentialPlan | undefined,
  settings: PlanSettings
): Pick<
  PlannedTask & { outcome: 'planned' },
  'outcome' | 'plan' | 'marker' | 'remote' | 'credentials'
> {
  const marker = markerToWrite(
    folder.fingerprint,
    remote,
    settings,
    task.substituted
  )
  const permissionsChanged =
    credentials &&
    (credentials.permissionsAdded.length > 0 ||
      credentials.permissionsRemoved.length > 0)
  const plan = planTask({
    config: settings.dryRun
      ? followingDeployer(task.config, task.deployerKeys, remote)
      : task.config,
    remote,
    marker,
    skipUnchanged: settings.skipUnchanged,
    injected:
      credentials && injectedVariables(credentials, settings.connection),
    extraChanges: permissionsChanged ? ['executionCredentials.permissions'] : []
  })
  return { outcome: 'planned', plan, marker, remote, credentials }
}

function refused(
  item: ScannedTask,
  error: string,
  started: number
): PlannedTask {
  return {
    ...item,
    outcome: 'refused',
    error,
    planMs: performance.now() - started
  }
}

/**
 * Ownership, checked before any write: a function whose marker names
 * another repository is not updated unless `adopt` names it. A function
 * without a marker (made by hand or by the CLI) is taken over.
 */
export function ownershipRefusal(
  name: string,
  remote: RemoteFunction | undefined,
  settings: Pick<PlanSettings, 'repository' | 'adopt'>
): string | undefined {
  if (!remote || mayAdopt(name, settings.adopt)) return undefined
  if (hasUnreadableMarker(remote)) {
    return `function ${name} carries a marker this version of the action cannot read (written by a later version, or damaged), so its owner is unknown and it is not updated: to take it over, set "adopt: ${name}" in this workflow`
  }
  const owner = foreignOwner(remote.marker, settings.repository)
  if (!owner) return undefined
  // The marker is an API answer: anyone with write access to the function
  // could have put anything in it. Escaped and cut where printed, once
  // redacted: a cut here could split a secret and hide it from redaction.
  const repository = owner.repository
  const id = owner.repositoryId ? ` (id ${owner.repositoryId})` : ''
  return `function ${name} is managed by the repository ${repository}${id}, so it is not updated: to move it to this repository, set "adopt: ${name}" in this workflow (and remove its config from ${repository}); to leave it there, remove this config`
}

/**
 * Whose function `adopt` lets this run take over, said in the plan, the log
 * and the summary (SPEC section 13): the repository its marker names, or
 * none (no marker, an unreadable one, or one without a repository).
 */
export function adoptedNote(
  name: string,
  remote: RemoteFunction | undefined,
  settings: Pick<PlanSettings, 'repository' | 'adopt'>
): string | undefined {
  if (!remote || !mayAdopt(name, settings.adopt)) return undefined
  if (remote.marker && !foreignOwner(remote.marker, settings.repository)) {
    return undefined
  }
  const owner = remote.marker?.repository
  return owner ? `adopted from ${owner}` : 'adopted (no owner)'
}

/**
 * A marker is there but unreadable: a later version's (another repository's
 * for all this run can tell) or damaged. Taking it over as if made by hand
 * would let an older action overwrite a function it cannot prove is its own.
 */
function hasUnreadableMarker(remote: RemoteFunction): boolean {
  return (
    Boolean(remote.environment[MARKER_VARIABLE]) && remote.marker === undefined
  )
}

/** The `adopt` input selects nothing when empty (unlike `tasks`). */
function mayAdopt(name: string, adopt: readonly string[]): boolean {
  return adopt.length > 0 && createTaskFilter(adopt).matches(name)
}

/**
 * The marker this run writes: this repository's. A run that does not know
 * the repository id keeps the one already stored on its own function. The
 * stored zip digest is kept while the code is the same (a write that
 * uploads no code); an upload replaces it (package stage, `withZipDigest`).
 */
export function markerToWrite(
  fingerprint: string,
  remote: RemoteFunction | undefined,
  settings: Pick<PlanSettings, 'repository' | 'scope' | 'record'>,
  substituted: readonly string[] = []
): Marker {
  const { id, name } = settings.repository
  const stored = remote?.marker
  const storedId =
    !id && stored?.repository === name ? stored.repositoryId : undefined
  const zip = stored?.fingerprint === fingerprint ? stored.zip : undefined
  return markerFor(
    { id: id ?? storedId, name },
    fingerprint,
    settings.scope,
    { ...settings.record, zip },
    new Date(),
    substituted
  )
}

/** `update (timeLimit, code)`, `unchanged`, or why the task was refused. */
export function planText(item: PlannedTask): string {
  if (item.outcome === 'refused') return `failed: ${item.error}`
  const { action, changes } = item.plan
  return changes.length ? `${action} (${changes.join(', ')})` : action
}
