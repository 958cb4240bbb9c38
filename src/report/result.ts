// Every entry of the `result` output is built here, whatever stage it
// comes from.

import * as path from 'node:path'
import {
  createdFields,
  describeChanges,
  type ChangeDetail
} from '../plan/decide.js'
import { plural } from '../words.js'
import { summarizeCredentials } from '../plan/credentials.js'
import { driftNote } from '../plan/drift.js'
import type { ReadyTask } from '../package/stage.js'
import type { ConfigProblem } from '../task.js'

/** What happened to one task: one entry of the `result` output. */
export type TaskAction =
  | 'create'
  | 'update'
  | 'unchanged'
  | 'delete'
  | 'validate'
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
  /**
   * sha256 of the zip this run uploaded for the task (the API accepted the
   * write): for the report files only, not the `result` output.
   */
  zipSha256?: string
  /** `verify`: whether the execution passed; absent when not executed. */
  verified?: boolean
  /** How long the execution (and reading its log) took. */
  verifyMs?: number
  error?: string
  /**
   * Before → after of each change, for the log, summary and comment only:
   * `orderResult` leaves it out of the `result` output (keys only there).
   */
  details?: ChangeDetail[]
  /**
   * A dry run's `changed outside since <short sha>`, when the function
   * changed after its last deploy: for the log, summary and comment only.
   */
  driftNote?: string
  /**
   * `adopted from <owner/name>` or `adopted (no owner)`: whose function this
   * run took over with `adopt`, for the log, summary and comment only.
   */
  adoptedNote?: string
  /**
   * For a config that failed validation: how many problems. The summary and
   * the task's log group count them; the list is printed once, under Errors.
   */
  problems?: number
  /**
   * For a create: the fields and environment variable names it sets (never
   * values), for the log, summary and comment only.
   */
  sets?: string[]
  /** The verify lines of the task's log group (log only, never an output). */
  verifyLog?: string[]
  /**
   * The remote function is disabled (`enabled: false`): for the log,
   * summary and comment only. The action never enables or disables one.
   */
  disabled?: true
  /**
   * This run wrote the function, whatever failed after (a verify, a role):
   * it counts in `created`/`updated` (never an output key of its own).
   */
  written?: boolean
  /** A function whose last verify had failed passed this time. */
  verifiedAgain?: boolean
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
    'verified',
    'verifyMs',
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
  task: { name?: string; configFile?: string },
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

/** The keys every result of a planned task has, whatever happens next. */
export function taskResult(item: ReadyTask): TaskResult {
  const common: TaskResult = {
    name: item.task.name,
    config: item.task.configFile,
    status: 'planned',
    bytes: item.pkg?.bytes,
    files: item.pkg?.files,
    fingerprint: item.folder.fingerprint
  }
  if (item.outcome === 'refused') return common
  const { plan } = item
  const credentials = item.credentials && summarizeCredentials(item.credentials)
  return {
    ...common,
    ...(item.adopted ? { adoptedNote: item.adopted } : {}),
    ...(item.remote?.enabled === false ? { disabled: true as const } : {}),
    action: plan.action,
    changes: plan.action === 'update' ? plan.changes : undefined,
    sets:
      plan.action === 'create'
        ? createdFields(
            plan.body,
            item.task.config.executionCredentials !== undefined
          )
        : undefined,
    credentials,
    details:
      plan.action === 'update'
        ? describeChanges(item.task.config, item.remote, plan.changes, {
            fingerprint: item.folder.fingerprint,
            bytes: item.pkg?.bytes,
            permissionsAdded: credentials?.permissionsAdded,
            permissionsRemoved: credentials?.permissionsRemoved,
            deployerKeys: item.task.deployerKeys
          })
        : undefined
  }
}

/** A planned task in a dry run (or one refused while planning). */
export function plannedResult(item: ReadyTask): TaskResult {
  const durationMs = Math.round(item.planMs + item.packageMs)
  if (item.outcome !== 'planned') {
    return {
      ...taskResult(item),
      status: 'failed',
      error: item.error,
      durationMs
    }
  }
  const note =
    item.remote && driftNote(item.remote.marker, item.remote.updateTimestamp)
  return {
    ...taskResult(item),
    status: 'planned',
    durationMs,
    ...(note ? { driftNote: note } : {})
  }
}

/** A config that failed validation: its problems, in one line. */
export function invalidConfigResult(
  at: { name?: string; config: string },
  problems: ConfigProblem[]
): TaskResult {
  // A problem in another file of the task (task-verify.json) names it.
  const fileOf = (p: ConfigProblem) =>
    p.file && p.file !== at.config ? path.posix.basename(p.file) : undefined
  const text = problems
    .map(p => [fileOf(p), p.field, p.rule].filter(Boolean).join(': '))
    .join('; ')
  return {
    ...at,
    status: 'failed',
    error: `${plural(problems.length, 'problem')}: ${text}`,
    problems: problems.length
  }
}
