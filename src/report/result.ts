import type { ChangeDetail } from '../plan/decide.js'

/** What happened to one task: one entry of the `result` output. */
export type TaskAction =
  'create' | 'update' | 'unchanged' | 'delete' | 'validate'
export type TaskStatus = 'done' | 'planned' | 'failed' | 'skipped'

export interface TaskResult {
  name?: string
  config?: string
  action?: TaskAction
  status: TaskStatus
  changes?: string[]
  credentials?: {
    user: 'create' | 'reuse'
    permissionsAdded: string[]
    permissionsRemoved: string[]
  }
  bytes?: number
  files?: number
  fingerprint?: string
  durationMs?: number
  error?: string
  /**
   * Before → after of each change, for the log, summary and comment only:
   * `orderResult` leaves it out of the `result` output (keys only there).
   */
  details?: ChangeDetail[]
}

/** The key order of a result entry, for readable JSON. */
export function orderResult(result: TaskResult): TaskResult {
  const ordered = {} as TaskResult
  const keys: (keyof TaskResult)[] = [
    'name',
    'config',
    'action',
    'status',
    'changes',
    'credentials',
    'bytes',
    'files',
    'fingerprint',
    'durationMs',
    'error'
  ]
  for (const key of keys) {
    if (result[key] !== undefined)
      Object.assign(ordered, { [key]: result[key] })
  }
  return ordered
}

/** A task that never started, and why: `not started: <why>`. */
export function notStartedResult(
  task: { name: string; configFile?: string },
  why: string
): TaskResult {
  return {
    name: task.name,
    config: task.configFile,
    status: 'skipped',
    error: `not started: ${why}`
  }
}

/** One function to delete (prune or `command: delete`). */
export function deleteResult(
  name: string,
  status: TaskStatus,
  error?: string
): TaskResult {
  return { name, action: 'delete', status, error }
}
