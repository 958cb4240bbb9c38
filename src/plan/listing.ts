// Login and the listing of remote functions, started before fingerprinting
// so they overlap it; then each listed task's function read (plan/remote).

import { setMaxListeners } from 'node:events'
import { connectExh } from '../exh/client.js'
import { isRefusal } from '../exh/failure.js'
import type { ExhClient } from '../exh/types.js'
import type { Settings } from '../inputs.js'
import type { RetryOptions } from '../retry.js'
import type { TaskDefinition } from '../task.js'
import type { ScannedTask } from '../fingerprint/scan.js'
import { repositoryOf } from '../inputs.js'
import { pruneList } from './prune.js'
import {
  planAgainstRemote,
  readRemoteFunctions,
  type PlannedTask,
  type RemoteReads
} from './remote.js'

/** What connecting needs of the run's side effects (a RunIo has them). */
interface ConnectIo {
  signal: AbortSignal
  mask: (secret: string) => void
  info: (message: string) => void
  debug?: (message: string) => void
  retry?: RetryOptions
}

/** The listing as it came: the client, the sorted names, the reads started. */
interface Listed {
  client: ExhClient
  names: string[]
  reads: RemoteReads
}

/** What the plan stage gives: the client, each task's plan, what prune deletes. */
export interface Planned {
  client: ExhClient
  tasks: PlannedTask[]
  prune: string[]
}

/**
 * Login and the listing of remote functions, then each listed task's
 * function: all started before fingerprinting.
 */
export type Listing = Promise<
  Listed | { error: unknown; failed: ConnectFailure | 'listing failed' }
>

export type ConnectFailure =
  | 'login failed'
  | 'credentials rejected'
  | 'the token could not be checked'

/** The credentials checked (a token check or a login); never rejects. */
export type Connecting = Promise<
  { client: ExhClient } | { error: unknown; failed: ConnectFailure }
>

/**
 * Started before `build-command`, which waits for it: a rejected token
 * fails the run in seconds, not after minutes of `npm ci` (SPEC section 13).
 */
function startConnect(settings: Settings, io: ConnectIo): Connecting {
  return connect(settings, io).then(
    client => ({ client }),
    (error: unknown) => ({ error, failed: connectFailure(settings, error) })
  )
}

/** The credentials check, started before the build; the reads it leads to. */
export interface RemoteStart {
  /** Stops the remote reads of a run that ends before planning. */
  stopReads: AbortController
  /** The token check or login; undefined offline. */
  connecting: Connecting | undefined
}

/**
 * The credentials checked as soon as the configs are valid: a rejected
 * token fails in seconds, before any build (SPEC section 13). A run that
 * stops before planning (a folder that cannot be packaged, a cancel) stops
 * the reads it started rather than leave them running past its report.
 */
export function connectEarly(settings: Settings, io: ConnectIo): RemoteStart {
  const stopReads = new AbortController()
  const signal = AbortSignal.any([io.signal, stopReads.signal])
  setMaxListeners(0, signal)
  const connecting =
    settings.host && settings.credentials
      ? startConnect(settings, { ...io, signal })
      : undefined
  return { stopReads, connecting }
}

export function startListing(
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
export function certainUpload(
  settings: Settings,
  listing: Listing | undefined
): (task: TaskDefinition) => Promise<boolean> {
  return async task => {
    if (!listing || !settings.skipUnchanged) return true
    const listed = await listing
    return 'names' in listed && !listed.names.includes(task.name)
  }
}

/** The client for this run; the commands that need credentials check them first. */
export function connect(settings: Settings, io: ConnectIo): Promise<ExhClient> {
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
    debug: io.debug,
    retry: io.retry
  })
}

/** Stage 5 once listed: each task's plan, and what prune would delete. */
export async function planListed(
  settings: Settings,
  scanned: ScannedTask[],
  listed: Listed,
  run: {
    /** Every task name the configs describe (selected or not). */
    configNames: readonly string[]
    warnings: string[]
    debug?: (message: string) => void
  }
): Promise<Planned> {
  const { client } = listed
  const { tasks, remoteNames } = await planAgainstRemote(
    client,
    scanned,
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
  const prune = await pruneList(client, remoteNames, { settings, ...run })
  return { client, tasks, prune }
}
