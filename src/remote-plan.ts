import type { ExhClient } from './exh-client.js'
import type { Marker } from './marker.js'
import { planTask, type RemoteFunction, type TaskPlan } from './plan.js'
import { mapPool } from './pool.js'
import { describeError } from './errors.js'
import type { ScannedTask } from './scan.js'
import {
  injectedVariables,
  planCredentials,
  type ActionConnection,
  type CredentialPlan
} from './credentials.js'

export interface PlannedTask extends ScannedTask {
  /** Absent when reading the remote state failed (see `error`). */
  plan?: TaskPlan
  remote?: RemoteFunction
  /** The role and user to sync, for a task with executionCredentials. */
  credentials?: CredentialPlan
  error?: string
  /** Time spent planning this task (its reads), in ms. */
  planMs: number
}

export interface PlanSettings {
  concurrency: number
  skipUnchanged: boolean
  repository: string
  scope: string
  /** Injected with executionCredentials. */
  connection: ActionConnection
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

/**
 * Stage 5: given the listing of the remote functions (made while
 * fingerprinting), `getByName` for each
 * task that exists (the listing holds only names and descriptions), the
 * executionCredentials reads, then the pure plan per task. Reads only.
 */
export async function planAgainstRemote(
  client: ExhClient,
  scanned: ScannedTask[],
  remoteNames: string[],
  settings: PlanSettings
): Promise<{ tasks: PlannedTask[]; remoteNames: string[] }> {
  const existing = new Set(remoteNames)
  const readers = Math.max(settings.concurrency, READ_CONCURRENCY)
  const tasks = await mapPool(scanned, readers, async item => {
    const started = performance.now()
    const { task, folder } = item
    try {
      const remote = existing.has(task.name)
        ? await client.getFunction(task.name)
        : undefined
      const credentials = task.config.executionCredentials
        ? await planCredentials(client.users, task, remote, settings.connection)
        : undefined
      const marker: Marker = {
        fingerprint: folder.fingerprint,
        repository: settings.repository,
        scope: settings.scope
      }
      const permissionsChanged =
        credentials &&
        (credentials.permissionsAdded.length > 0 ||
          credentials.permissionsRemoved.length > 0)
      const plan = planTask({
        config: task.config,
        remote,
        marker,
        skipUnchanged: settings.skipUnchanged,
        injected:
          credentials && injectedVariables(credentials, settings.connection),
        extraChanges: permissionsChanged
          ? ['executionCredentials.permissions']
          : []
      })
      return {
        ...item,
        plan,
        remote,
        credentials,
        planMs: performance.now() - started
      }
    } catch (error) {
      // One task whose remote state cannot be read fails alone.
      return {
        ...item,
        error: describeError(error),
        planMs: performance.now() - started
      }
    }
  })
  return { tasks, remoteNames }
}
