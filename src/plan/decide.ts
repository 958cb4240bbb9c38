// Stage 5's pure decision: create, update (the exact changes, before →
// after) or unchanged, from a config, the remote function and the marker.

import type { RetryPolicy, TaskConfig } from '../task.js'
import type {
  ExecutionOptions,
  FunctionBody,
  RemoteFunction
} from '../exh/types.js'
import type { Marker } from '../marker.js'
import { CREDENTIAL_VARIABLES, MARKER_VARIABLE } from '../task.js'
import { encodeMarker, markerUpToDate } from '../marker.js'

export type TaskPlan =
  | { action: 'create'; body: FunctionBody; uploadCode: true; changes: [] }
  | {
      action: 'update'
      body: FunctionBody
      uploadCode: boolean
      changes: string[]
    }
  | { action: 'unchanged'; changes: [] }

/**
 * Whether carrying out the plan writes the function: a permissions-only
 * update touches the role, not the function (its code and marker stay).
 */
export function writesFunction(plan: TaskPlan): boolean {
  if (plan.action === 'unchanged') return false
  if (plan.action === 'create') return true
  return Object.keys(plan.body).length > 0 || plan.uploadCode
}

export interface PlanInput {
  config: TaskConfig
  /** The function as it is now; undefined when it does not exist. */
  remote?: RemoteFunction
  /** The marker to store: the local code's fingerprint, repository, scope. */
  marker: Marker
  skipUnchanged: boolean
  /** Variables the action injects (executionCredentials). */
  injected?: Record<string, string>
  /** Changes found outside the function itself (role permissions). */
  extraChanges?: string[]
}

/**
 * The config as a plan compares it: each key holding the deploying
 * credentials (`$API_*`) takes the function's own value where it has the
 * key. A plan may run with other credentials than the deploy (a read-only
 * plan account, or a login whose token is new each run), so their values
 * say nothing about what the deploy will write (SPEC section 8).
 */
export function followingDeployer(
  config: TaskConfig,
  keys: readonly string[] | undefined,
  remote: RemoteFunction | undefined
): TaskConfig {
  if (!keys?.length || !remote || !config.environment) return config
  const environment = { ...config.environment }
  for (const key of keys) {
    const held = remote.environment[key]
    if (held !== undefined) environment[key] = held
  }
  return { ...config, environment }
}

/** The CLI sends this when a config has no description, on create only. */
const DEFAULT_DESCRIPTION = 'none'

/**
 * Decides what to do with one task, and the exact request for it. Only fields
 * the config sets are compared (the CLI leaves the others alone); `code` is
 * compared through the fingerprint in the remote marker.
 */
export function planTask(input: PlanInput): TaskPlan {
  const { config, remote } = input
  if (!remote) {
    return {
      action: 'create',
      body: {
        name: config.name,
        ...configuredFields(config),
        description: config.description ?? DEFAULT_DESCRIPTION,
        executionOptions: configuredExecutionOptions(config),
        environmentVariables: toVariables(desiredEnvironment(input))
      },
      uploadCode: true,
      changes: []
    }
  }

  const changes = [
    ...fieldChanges(config, remote),
    ...environmentChanges(config, remote, input.injected)
  ]
  const codeChanged = remote.marker?.fingerprint !== input.marker.fingerprint
  if (codeChanged) changes.unshift('code')
  changes.push(...(input.extraChanges ?? []))

  const environment = desiredEnvironment(input)
  const environmentStale = !sameStoredEnvironment(
    environment,
    remote,
    input.marker
  )

  if (!input.skipUnchanged) {
    return {
      action: 'update',
      body: {
        ...configuredFields(config),
        executionOptions: mergedExecutionOptions(config, remote),
        environmentVariables: toVariables(environment)
      },
      uploadCode: true,
      changes
    }
  }
  if (!codeChanged && !environmentStale && !changes.length) {
    return { action: 'unchanged', changes: [] }
  }
  const body = changedFields(config, remote, changes)
  // Every write carries a fresh marker (the code's fingerprint, and the
  // deployment record: a description alone changes what was deployed
  // when), so the environment goes with any field; the whole set, because
  // PUT replaces it. A permissions-only change writes no function.
  if (environmentStale || codeChanged || Object.keys(body).length) {
    body.environmentVariables = toVariables(environment)
  }
  return { action: 'update', body, uploadCode: codeChanged, changes }
}

/** The request body of an update: only what changed. */
function changedFields(
  config: TaskConfig,
  remote: RemoteFunction,
  changes: readonly string[]
): FunctionBody {
  const configured = configuredFields(config)
  const body: FunctionBody = {}
  for (const field of FIELDS) {
    if (changes.includes(field)) Object.assign(body, pick(configured, field))
  }
  if (
    changes.includes('executionPermission') ||
    changes.includes('defaultPriority')
  ) {
    body.executionOptions = mergedExecutionOptions(config, remote)
  }
  return body
}

/** Plain fields compared and sent as they are, named as in task-config.json. */
const FIELDS = [
  'description',
  'entryPoint',
  'runtime',
  'timeLimit',
  'memoryLimit',
  'retryPolicy'
] as const
type PlainField = (typeof FIELDS)[number]

function configuredFields(config: TaskConfig): FunctionBody {
  const body: FunctionBody = {}
  for (const field of FIELDS) Object.assign(body, pick(config, field))
  return body
}

function pick(
  source: Partial<Record<PlainField, unknown>>,
  field: PlainField
): Partial<FunctionBody> {
  return source[field] === undefined ? {} : { [field]: source[field] }
}

function fieldChanges(config: TaskConfig, remote: RemoteFunction): string[] {
  const changes: string[] = []
  for (const field of FIELDS) {
    const wanted = config[field]
    if (wanted === undefined) continue
    const same =
      field === 'retryPolicy'
        ? sameRetryPolicy(config.retryPolicy, remote.retryPolicy)
        : wanted === remote[field]
    if (!same) changes.push(field)
  }
  const options = remote.executionOptions ?? {}
  if (
    config.executionPermission !== undefined &&
    config.executionPermission !== options.permissionMode
  ) {
    changes.push('executionPermission')
  }
  if (
    config.defaultPriority !== undefined &&
    config.defaultPriority !== options.defaultPriority
  ) {
    changes.push('defaultPriority')
  }
  return changes
}

/** An absent list and an empty one both mean "retry every error". */
function sameRetryPolicy(
  wanted: RetryPolicy | undefined,
  remote: RemoteFunction['retryPolicy']
): boolean {
  if (!wanted) return true
  const list = (errors?: string[]): string =>
    JSON.stringify([...(errors ?? [])].sort())
  return (
    wanted.enabled === Boolean(remote?.enabled) &&
    list(wanted.errorsToRetry) === list(remote?.errorsToRetry)
  )
}

function configuredExecutionOptions(
  config: TaskConfig
): ExecutionOptions | undefined {
  const options: ExecutionOptions = {}
  if (config.executionPermission !== undefined) {
    options.permissionMode = config.executionPermission
  }
  if (config.defaultPriority !== undefined) {
    options.defaultPriority = config.defaultPriority
  }
  return Object.keys(options).length ? options : undefined
}

/** Both options live in one object that the API replaces whole: merge over the remote one. */
function mergedExecutionOptions(
  config: TaskConfig,
  remote: RemoteFunction
): ExecutionOptions | undefined {
  const configured = configuredExecutionOptions(config)
  if (!configured) return undefined
  return { ...remote.executionOptions, ...configured }
}

function withoutMarker(
  environment: Record<string, string>
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).filter(([key]) => key !== MARKER_VARIABLE)
  )
}

/** The variables the config manages: its own, without the action's. */
function userVariables(
  environment: Record<string, string>,
  injected: Record<string, string> | undefined
): Record<string, string> {
  const result: Record<string, string> = {}
  for (const [key, value] of Object.entries(environment)) {
    if (key === MARKER_VARIABLE) continue
    if (injected && (CREDENTIAL_VARIABLES as readonly string[]).includes(key))
      continue
    result[key] = value
  }
  return result
}

/**
 * Variables that differ, by key. With an `environment` the config manages the
 * whole set; without one only the injected credentials are compared.
 */
function environmentChanges(
  config: TaskConfig,
  remote: RemoteFunction,
  injected: Record<string, string> | undefined
): string[] {
  if (!config.environment && !injected) return []
  const managed = { ...config.environment, ...injected }
  const current = withoutMarker(remote.environment)
  const keys = new Set(Object.keys(managed))
  if (config.environment) {
    for (const key of Object.keys(current)) keys.add(key)
  }
  return [...keys]
    .filter(key => managed[key] !== current[key])
    .sort()
    .map(key => `environment.${key}`)
}

/**
 * The whole environment to store. With an `environment` in the config it is
 * the whole set; without one the function's existing variables are kept
 * (unlike the CLI, which would wipe them).
 */
function desiredEnvironment(input: PlanInput): Record<string, string> {
  const base =
    input.config.environment ??
    userVariables(input.remote?.environment ?? {}, input.injected)
  return {
    ...base,
    ...input.injected,
    [MARKER_VARIABLE]: encodeMarker(input.marker)
  }
}

/** An environment as a write's body holds it (`{KEY: {value}}`). */
export function toVariables(
  environment: Record<string, string>
): Record<string, { value: string }> {
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [key, { value }])
  )
}

/** A write's `environmentVariables` as plain values. */
export function fromVariables(
  variables: Readonly<Record<string, { value: string }>>
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([key, { value }]) => [key, value])
  )
}

function sameRecord(
  a: Record<string, string>,
  b: Record<string, string>
): boolean {
  const keys = Object.keys(a)
  return (
    keys.length === Object.keys(b).length &&
    keys.every(key => Object.hasOwn(b, key) && a[key] === b[key])
  )
}

/**
 * The environment as stored matches the wanted one; a marker that only
 * lacks the repository id (an earlier version's) does not force a write.
 */
function sameStoredEnvironment(
  wanted: Record<string, string>,
  stored: Pick<RemoteFunction, 'environment' | 'marker'>,
  marker: Marker
): boolean {
  if (!sameRecord(withoutMarker(wanted), withoutMarker(stored.environment))) {
    return false
  }
  return stored.marker !== undefined && markerUpToDate(stored.marker, marker)
}

/**
 * What a create sets, named as in task-config.json: its fields, then each
 * environment variable by name (never a value); the marker is left out.
 */
export function createdFields(
  body: FunctionBody,
  withCredentials = false
): string[] {
  const { environmentVariables, executionOptions, ...fields } = body
  const named = Object.keys(fields).filter(
    field =>
      field !== 'name' && fields[field as keyof typeof fields] !== undefined
  )
  if (executionOptions?.permissionMode !== undefined) {
    named.push('executionPermission')
  }
  if (executionOptions?.defaultPriority !== undefined) {
    named.push('defaultPriority')
  }
  const variables = Object.keys(environmentVariables ?? {})
    .filter(key => key !== MARKER_VARIABLE)
    .map(key => `environment.${key}`)
  const role = withCredentials ? ['executionCredentials.permissions'] : []
  return ['code', ...named, ...role, ...variables]
}

/** One changed field with what it was and what it becomes, for people. */
export interface ChangeDetail {
  /** Named as in `result.changes` (`timeLimit`, `environment.KEY`, `code`). */
  field: string
  before?: string
  after?: string
  /** Instead of values: `added`, `removed`, `changed` (environment keys). */
  note?: string
}

/** `timeLimit: 30 → 60`, `environment.KEY: added`: one change for the log. */
export function changeText(change: ChangeDetail): string {
  return change.note !== undefined
    ? `${change.field}: ${change.note}`
    : `${change.field}: ${change.before ?? ''} → ${change.after ?? ''}`
}

/** What `describeChanges` needs beyond the config and the remote function. */
export interface ChangeContext {
  /** The local code's fingerprint. */
  fingerprint: string
  /** The zip's size, when packaged. */
  bytes?: number
  permissionsAdded?: string[]
  permissionsRemoved?: string[]
  /** Environment keys holding the deploying credentials (`$API_*`). */
  deployerKeys?: readonly string[]
}

/**
 * Before → after for each of `changes` (the plan's keys). Plain fields show
 * their values; environment keys only whether they were added, removed or
 * changed (values may be secrets); code its fingerprint prefix and size.
 */
export function describeChanges(
  config: TaskConfig,
  remote: RemoteFunction | undefined,
  changes: readonly string[],
  context: ChangeContext
): ChangeDetail[] {
  return changes.map(field => {
    if (field === 'code') return codeChange(remote, context)
    if (field.startsWith('environment.')) {
      const change = environmentChange(config, remote, field)
      const key = field.slice('environment.'.length)
      const follows = context.deployerKeys?.includes(key)
      return follows
        ? { ...change, note: `${change.note} (the deploying credentials)` }
        : change
    }
    if (field === 'executionCredentials.permissions') {
      return {
        field,
        note: [
          ...(context.permissionsAdded ?? []).map(p => `+${p}`),
          ...(context.permissionsRemoved ?? []).map(p => `-${p}`)
        ].join(' ')
      }
    }
    // A value deployed from `$VAR` may be a secret no longer set (or
    // masked) in this run: its read-back value is never shown.
    const wasSubstituted = remote?.marker?.substituted?.includes(field)
    return {
      field,
      before: wasSubstituted
        ? SUBSTITUTED_VALUE
        : showValue(remoteValue(remote, field)),
      after: showValue(configValue(config, field))
    }
  })
}

/** What a plan shows instead of a value that was deployed from `$VAR`. */
const SUBSTITUTED_VALUE = '(a substituted value)'

function codeChange(
  remote: RemoteFunction | undefined,
  context: ChangeContext
): ChangeDetail {
  const previous = remote?.marker?.fingerprint
  const size =
    context.bytes === undefined
      ? ''
      : ` (${(context.bytes / 1024).toFixed(1)} KiB)`
  return {
    field: 'code',
    before: previous ? previous.slice(0, 8) : 'unknown (no marker)',
    after: `${context.fingerprint.slice(0, 8)}${size}`
  }
}

function environmentChange(
  config: TaskConfig,
  remote: RemoteFunction | undefined,
  field: string
): ChangeDetail {
  const key = field.slice('environment.'.length)
  const wanted =
    Object.hasOwn(config.environment ?? {}, key) ||
    (config.executionCredentials !== undefined &&
      (CREDENTIAL_VARIABLES as readonly string[]).includes(key))
  const present = remote ? Object.hasOwn(remote.environment, key) : false
  return {
    field,
    note: !present ? 'added' : wanted ? 'changed' : 'removed'
  }
}

function remoteValue(
  remote: RemoteFunction | undefined,
  field: string
): unknown {
  if (!remote) return undefined
  if (field === 'executionPermission') {
    return remote.executionOptions?.permissionMode
  }
  if (field === 'defaultPriority') {
    return remote.executionOptions?.defaultPriority
  }
  return (remote as unknown as Record<string, unknown>)[field]
}

function configValue(config: TaskConfig, field: string): unknown {
  return (config as unknown as Record<string, unknown>)[field]
}

/**
 * Whole, not cut: a value may be a secret, and only a whole one is
 * redacted. The summary cuts long values once they are redacted.
 */
function showValue(value: unknown): string {
  if (value === undefined) return '(unset)'
  return typeof value === 'string' ? value : JSON.stringify(value)
}
