// What the pipeline sees of Extra Horizon: plain data in and out, no SDK
// types, so every stage is testable without the SDK.

import type { Marker } from '../marker.js'
import type { RetryOptions } from '../retry.js'
import type { RetryPolicy } from '../task.js'

export interface OAuthConsumer {
  consumerKey: string
  consumerSecret: string
}

export type Credentials =
  | ({ kind: 'token'; token: string; tokenSecret: string } & OAuthConsumer)
  | ({ kind: 'password'; email: string; password: string } & OAuthConsumer)

export interface ExhClientOptions {
  host: string
  credentials: Credentials
  requestTimeoutMs: number
  /** The run's cancel signal: aborts every request in flight. */
  signal: AbortSignal
  /** Called with every secret the client learns (environment values read back). */
  mask: (secret: string) => void
  /** Where retries are reported (one line each, no secrets). */
  log: (message: string) => void
  /** Step debugging: one line per API call (method, path, status, attempt, ms). */
  debug?: (message: string) => void
  /**
   * The retry policy: DEFAULT_RETRY (retry.ts) unless a test in-process
   * shortens its back-off; the runner never sets it.
   */
  retry?: RetryOptions
}

/** The Extra Horizon calls the pipeline needs. */
export interface ExhClient extends ExhFunctionsApi {
  /** The executionCredentials calls (global roles and users). */
  readonly users: ExhUsersApi
  /** `verify`: direct executions and task logs. */
  readonly verify: ExhVerifyApi
  /** What still runs a function (read before a delete). */
  readonly references: ExhReferencesApi
}

export interface ExhFunctionsApi {
  listFunctions(): Promise<RemoteFunctionSummary[]>
  /**
   * undefined when the function does not exist. Environment values read
   * back are masked, except those in `committed` (the task config's own).
   */
  getFunction(
    name: string,
    committed?: ReadonlySet<string>
  ): Promise<RemoteFunction | undefined>
  /** The marker and `enabled` (for `list`), masking nothing; undefined without a function. */
  stateOf(name: string): Promise<FunctionState | undefined>
  /** A create whose answer was lost, or that turns out to exist, becomes an update. */
  createFunction(body: FunctionBody, code: ZipUpload): Promise<void>
  /** Writes `body`'s fields, and the code when `code` is given. */
  updateFunction(
    name: string,
    body: FunctionBody,
    code?: ZipUpload
  ): Promise<void>
  deleteFunction(name: string): Promise<void>
}

/** What `list` shows of a function beyond the listing. */
export interface FunctionState {
  marker?: string
  enabled?: boolean
}

/** One item of the function listing. */
export interface RemoteFunctionSummary {
  name: string
  description?: string
  updateTimestamp?: string
}

/** A global role, permissions by name. */
export interface RemoteRole {
  id: string
  name: string
  permissions: string[]
}

export interface RemoteUser {
  id: string
  email: string
  roleNames: string[]
}

export interface OAuthTokens {
  token: string
  tokenSecret: string
}

/** Stored credentials of a task user, as a function's environment holds them. */
export interface StoredCredentials extends OAuthTokens {
  host: string
  consumerKey: string
  consumerSecret: string
}

export interface ExhUsersApi {
  findRole(name: string): Promise<RemoteRole | undefined>
  createRole(name: string, description: string): Promise<RemoteRole>
  addPermissions(roleName: string, permissions: string[]): Promise<void>
  removePermissions(roleName: string, permissions: string[]): Promise<void>
  findUser(email: string): Promise<RemoteUser | undefined>
  /** Registers with manual activation; a lost answer then "email taken" is success. */
  register(user: {
    email: string
    password: string
    firstName: string
    lastName: string
  }): Promise<RemoteUser>
  addRoleToUser(userId: string, roleId: string): Promise<void>
  /** Logs in as that user with the action's consumer: its OAuth1 tokens. */
  login(email: string, password: string): Promise<OAuthTokens>
  /** `users.me()` with stored credentials: whose are they? */
  whoseCredentials(stored: StoredCredentials): Promise<RemoteUser>
}

/** A function as read back from Extra Horizon, environment flattened. */
export interface RemoteFunction {
  name: string
  description?: string
  entryPoint?: string
  runtime?: string
  timeLimit?: number
  memoryLimit?: number
  environment: Record<string, string>
  executionOptions?: ExecutionOptions
  retryPolicy?: { enabled?: boolean; errorsToRetry?: string[] }
  /** When the API last changed it (ISO 8601), for the drift check. */
  updateTimestamp?: string
  /** `false` for a disabled function: shown, never changed by the action. */
  enabled?: boolean
  /**
   * Its marker, parsed once when the function is read (`withMarker`):
   * undefined when there is none or it cannot be read.
   */
  marker: Marker | undefined
}

export interface ExecutionOptions {
  permissionMode?: string
  defaultPriority?: number
}

/** A zip the package stage wrote, read when its write is sent. */
export interface ZipUpload {
  file: string
  bytes: number
}

/** A create or update request as the Task Service takes it, without `code`. */
export interface FunctionBody {
  name?: string
  description?: string
  entryPoint?: string
  runtime?: string
  timeLimit?: number
  memoryLimit?: number
  environmentVariables?: Record<string, { value: string }>
  executionOptions?: ExecutionOptions
  retryPolicy?: RetryPolicy
}

export interface ExhVerifyApi {
  /** One direct execution; a 1406 answer is an execution, not an error. */
  execute(
    name: string,
    data: unknown,
    timeLimitSeconds: number
  ): Promise<Execution>
  /** The messages of a task's log, oldest first. */
  taskLog(taskId: string): Promise<string[]>
}

/** What an execution gave, as the adapter reads it. */
export interface Execution {
  taskId?: string
  status?: string
  result?: unknown
  /** A handler that threw, a module that did not load, a time-out (1406). */
  runtimeError?: { name?: string; message?: string }
}

/** One thing that starts a function, named as the message names it. */
export type FunctionUser =
  | { kind: 'schedule'; id: string }
  | { kind: 'dispatcher'; name: string }
  /** `transition` undefined: the creation transition, which has no name. */
  | { kind: 'schema'; schema: string; transition?: string }

/** A `task` action found somewhere: which function, started by what. */
export interface FunctionUse {
  functionName: string
  by: FunctionUser
}

/** A list the token could not read: why, and the permission it lacks. */
export interface UnreadableList {
  list: 'schedules' | 'dispatchers' | 'schemas'
  /** The permission named when the API answered NO_PERMISSION_EXCEPTION. */
  permission?: string
  /** What went wrong, in the action's words. */
  error: string
}

/** Every use found, and the lists that could not be read. */
export interface FunctionUses {
  uses: FunctionUse[]
  unreadable: UnreadableList[]
}

export interface ExhReferencesApi {
  /**
   * Reads the three lists (at once) the first time it is called; later
   * calls get the same answer, so a run reads each list at most once.
   */
  readUses(): Promise<FunctionUses>
}
