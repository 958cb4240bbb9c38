// The only module that talks to the Extra Horizon SDK. Every call goes
// through one retry policy, with a deadline and the run's cancel signal.
import {
  createOAuth1Client,
  rqlBuilder,
  type OAuth1Client,
  type OptionsBase,
  type FunctionDetails
} from '@extrahorizon/javascript-sdk'
import type { Credentials } from './inputs.js'
import type { FunctionBody, RemoteFunction } from './plan.js'
import {
  DEFAULT_RETRY,
  credentialHint,
  decideRetry,
  isTransient,
  parseRetryAfter,
  type FailedAttempt
} from './retry.js'
import { apiErrorFacts, describeError, scrubHost } from './errors.js'
import { maskReadBack } from './secrets.js'
import { MARKER_VARIABLE } from './task.js'

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
}

/** What the debug line says about one HTTP exchange: never a body, header or query. */
interface Exchange {
  method: string
  path: string
  status?: number
}

/** Method, path without its query, and status of an axios response or error. */
function readExchange(raw: {
  status?: unknown
  config?: { method?: unknown; url?: unknown; baseURL?: unknown }
  response?: { status?: unknown }
}): Exchange | undefined {
  const url = raw.config?.url
  if (typeof url !== 'string') return undefined
  const status = raw.response?.status ?? raw.status
  return {
    method:
      typeof raw.config?.method === 'string'
        ? raw.config.method.toUpperCase()
        : '?',
    // The query may hold an email (RQL): only the path is kept.
    path: new URL(url, 'http://host.invalid').pathname,
    status: typeof status === 'number' ? status : undefined
  }
}

/** The Extra Horizon calls the pipeline needs, as plain data in and out. */
export interface ExhClient {
  listFunctions(): Promise<RemoteFunctionSummary[]>
  /**
   * undefined when the function does not exist. Environment values read
   * back are masked, except those in `committed` (the task config's own).
   */
  getFunction(
    name: string,
    committed?: ReadonlySet<string>
  ): Promise<RemoteFunction | undefined>
  /** A create whose answer was lost, or that turns out to exist, becomes an update. */
  createFunction(body: FunctionBody & { code: string }): Promise<void>
  updateFunction(
    name: string,
    body: FunctionBody & { code?: string }
  ): Promise<void>
  deleteFunction(name: string): Promise<void>
  /** The executionCredentials calls (global roles and users). */
  readonly users: ExhUsersApi
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

/** One item of the function listing. */
export interface RemoteFunctionSummary {
  name: string
  description?: string
  updateTimestamp?: string
}

function toIso(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString()
  return typeof value === 'string' ? value : undefined
}

/** `api: GET /tasks/v1/functions → 200 (reading function a, attempt 1, 42 ms)` */
function debugLine(
  label: string,
  attempt: number,
  ms: number,
  outcome: string,
  seen: { exchange?: Exchange }
): string {
  const { exchange } = seen
  const request = exchange
    ? `${exchange.method} ${exchange.path} → ${exchange.status ?? 'no response'}`
    : outcome
  return `api: ${request} (${label}, attempt ${attempt}, ${Math.round(ms)} ms)`
}

/** A failure after the retry policy gave up, safe to print. */
export class ExhApiError extends Error {
  constructor(
    readonly call: string,
    /** What went wrong, without the call or the retry verdict. */
    readonly detail: string,
    readonly failure: FailedAttempt,
    reason?: string
  ) {
    super(`${call} failed: ${detail}${reason ? ` (${reason})` : ''}`)
    this.name = 'ExhApiError'
  }
}

/** What a refused login means, and what to do about it. */
const LOGIN_ADVICE: Record<number, string> = {
  129: 'this account requires multi-factor authentication: use the token and token-secret inputs instead of email and password',
  212: 'logins for this user are frozen for a while after repeated failures: check the email and password inputs, then retry later',
  213: 'this user is locked after too many failed logins: unlock it, or use the token and token-secret inputs'
}

/** A 401-class answer: the credentials themselves were refused. */
export function isRefusal(error: unknown): boolean {
  if (!(error instanceof ExhApiError) || isTransient(error.failure)) {
    return false
  }
  const { status, noResponse, cancelled } = error.failure
  // The SDK's 104/108 errors carry no status at all.
  return !noResponse && !cancelled && (status === undefined || status === 401)
}

type CallOptions = OptionsBase & { timeout: number; signal: AbortSignal }

/**
 * Builds the SDK client and checks the credentials: with a token, one
 * `users.me()` (authenticate() takes no options, so no deadline there); with
 * an email and password, one login.
 */
export async function connectExh(
  options: ExhClientOptions
): Promise<ExhClient> {
  const retryAfter = new WeakMap<AbortSignal, number>()
  const exchanges = new WeakMap<AbortSignal, Exchange>()
  const { credentials } = options
  const sdk: OAuth1Client = createOAuth1Client({
    host: options.host,
    consumerKey: credentials.consumerKey,
    consumerSecret: credentials.consumerSecret,
    ...(credentials.kind === 'token'
      ? { token: credentials.token, tokenSecret: credentials.tokenSecret }
      : {}),
    // SDK errors keep no headers: Retry-After is only visible here.
    responseLogger: response => {
      const raw = response as {
        headers?: Record<string, unknown>
        status?: unknown
        config?: { signal?: AbortSignal; method?: unknown; url?: unknown }
        response?: { headers?: Record<string, unknown>; status?: unknown }
      }
      const headers = raw.response?.headers ?? raw.headers
      const wait = parseRetryAfter(headers?.['retry-after'])
      const signal = raw.config?.signal
      if (wait !== undefined && signal) retryAfter.set(signal, wait)
      const exchange = options.debug && readExchange(raw)
      if (exchange && signal) exchanges.set(signal, exchange)
    }
  })
  const retry = DEFAULT_RETRY

  async function call<T>(
    label: string,
    run: (callOptions: CallOptions) => Promise<T>,
    beforeRetry?: () => Promise<T | undefined>
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      // A retry whose wait was cut short by the cancel must not go out.
      if (options.signal.aborted) {
        throw new ExhApiError(label, 'cancelled', {
          noResponse: attempt > 1,
          cancelled: true
        })
      }
      const controller = new AbortController()
      const cancel = (): void => {
        controller.abort()
      }
      options.signal.addEventListener('abort', cancel, { once: true })
      const deadline = { passed: false }
      const timer = setTimeout(() => {
        deadline.passed = true
        controller.abort()
      }, options.requestTimeoutMs)
      const started = performance.now()
      let outcome = 'ok'
      try {
        return await run({
          shouldRetry: false,
          timeout: options.requestTimeoutMs,
          signal: controller.signal
        })
      } catch (error) {
        outcome = 'failed'
        const timedOut = deadline.passed
        const failure = readFailure(error, {
          timedOut,
          cancelled: options.signal.aborted,
          retryAfterMs: retryAfter.get(controller.signal)
        })
        const message = timedOut
          ? `timed out after ${options.requestTimeoutMs / 1000} s (request-timeout)`
          : failure.cancelled
            ? 'cancelled'
            : describeError(error)
        const verdict = decideRetry(failure, attempt, retry)
        if (!verdict.retry) {
          throw new ExhApiError(
            label,
            scrubHost(message, options.host),
            failure,
            verdict.reason
          )
        }
        options.log(
          `${label}: ${scrubHost(message, options.host)}; retrying in ${(verdict.delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${retry.attempts})`
        )
        await abortableSleep(verdict.delayMs, options.signal)
      } finally {
        clearTimeout(timer)
        options.signal.removeEventListener('abort', cancel)
        options.debug?.(
          debugLine(label, attempt, performance.now() - started, outcome, {
            exchange: exchanges.get(controller.signal)
          })
        )
      }
      // A create whose answer was lost may have happened: look before trying
      // again, so a retry never makes a duplicate.
      const done = await beforeRetry?.()
      if (done !== undefined) return done
    }
  }

  try {
    if (credentials.kind === 'token') {
      await call('checking the token (users.me)', o => sdk.users.me(o))
    } else {
      await call('logging in', () =>
        withDeadline(
          sdk.auth.authenticate({
            email: credentials.email,
            password: credentials.password
          }),
          options.requestTimeoutMs,
          options.signal
        )
      )
    }
  } catch (error) {
    if (!(error instanceof ExhApiError)) throw error
    const hint =
      LOGIN_ADVICE[error.failure.apiCode ?? 0] ??
      credentialHint(credentials.kind, error.failure)
    if (!hint) throw error
    throw new ExhApiError(error.call, `${error.detail}; ${hint}`, error.failure)
  }

  async function getFunction(
    name: string,
    committed: ReadonlySet<string> = new Set()
  ): Promise<RemoteFunction | undefined> {
    try {
      const details = await call(`reading function ${name}`, o =>
        sdk.tasks.functions.getByName(name, o)
      )
      return toRemote(details, options.mask, committed)
    } catch (error) {
      if (error instanceof ExhApiError && error.failure.status === 404) {
        return undefined
      }
      throw error
    }
  }

  async function updateFunction(
    name: string,
    body: FunctionBody & { code?: string }
  ): Promise<void> {
    const label = `updating function ${name}`
    const result = await call(label, o =>
      sdk.tasks.functions.update(name, body as never, o)
    )
    if (!result.affectedRecords) {
      throw new ExhApiError(label, 'the API reported no record updated', {
        noResponse: false
      })
    }
  }

  async function createFunction(
    body: FunctionBody & { code: string }
  ): Promise<void> {
    const { name = '', ...rest } = body
    const updateInstead = async (): Promise<true | undefined> => {
      if (!(await getFunction(name))) return undefined
      await updateFunction(name, rest)
      return true
    }
    try {
      await call(
        `creating function ${name}`,
        async o => {
          await sdk.tasks.functions.create({ ...rest, name } as never, o)
          return true as const
        },
        updateInstead
      )
    } catch (error) {
      // "Already exists" after a timed-out attempt: the first one finished
      // late. Update it rather than fail.
      const exists =
        error instanceof ExhApiError && error.failure.apiCode === 17
      if (!exists || !(await updateInstead())) throw error
    }
  }

  const users = usersApi(sdk, call, options)

  return {
    users,
    async listFunctions() {
      const page = await call('listing functions', o =>
        sdk.tasks.functions.find(o)
      )
      // The API returns every function in one page; a short page would plan
      // existing functions as new.
      if (page.page.total > page.data.length) {
        throw new ExhApiError(
          'listing functions',
          `the API listed ${page.data.length} of ${page.page.total} functions`,
          { noResponse: false }
        )
      }
      return page.data.map(fn => ({
        name: fn.name,
        description: fn.description,
        updateTimestamp: toIso(fn.updateTimestamp)
      }))
    },
    getFunction,
    createFunction,
    updateFunction,
    async deleteFunction(name) {
      await call(`deleting function ${name}`, o =>
        sdk.tasks.functions.remove(name, o)
      )
    }
  }
}

type Call = <T>(
  label: string,
  run: (callOptions: CallOptions) => Promise<T>,
  beforeRetry?: () => Promise<T | undefined>
) => Promise<T>

/** Users-service bodies are snake_cased by the SDK; RQL values double-encoded by rqlBuilder. */
function usersApi(
  sdk: OAuth1Client,
  call: Call,
  options: ExhClientOptions
): ExhUsersApi {
  const roles = sdk.users.globalRoles
  const byName = (name: string) => rqlBuilder().eq('name', name).build()
  const toRole = (role: {
    id: string
    name: string
    permissions?: { name: string }[]
  }): RemoteRole => ({
    id: role.id,
    name: role.name,
    permissions: (role.permissions ?? []).map(p => p.name)
  })
  const toUser = (user: {
    id: string
    email: string
    roles?: { name: string }[]
  }): RemoteUser => ({
    id: user.id,
    email: user.email,
    roleNames: (user.roles ?? []).map(r => r.name)
  })
  const findRole = async (name: string): Promise<RemoteRole | undefined> => {
    const role = await call(`finding role ${name}`, o =>
      roles.findByName(name, o)
    )
    return role ? toRole(role) : undefined
  }
  const findUser = async (email: string): Promise<RemoteUser | undefined> => {
    const user = await call(`finding user ${email}`, o =>
      sdk.users.findFirst({
        ...o,
        rql: rqlBuilder().eq('email', email).build()
      })
    )
    return user ? toUser(user) : undefined
  }
  return {
    findRole,
    async createRole(name, description) {
      const role = await call(
        `creating role ${name}`,
        async o => toRole(await roles.create({ name, description }, o)),
        // A lost answer may hide a role that now exists.
        () => findRole(name)
      )
      return role
    },
    async addPermissions(roleName, permissions) {
      await call(`adding permissions to role ${roleName}`, o =>
        roles.addPermissions(byName(roleName), { permissions }, o)
      )
    },
    async removePermissions(roleName, permissions) {
      await call(`removing permissions from role ${roleName}`, o =>
        roles.removePermissions(byName(roleName), { permissions }, o)
      )
    },
    findUser,
    async register(user) {
      const label = `registering user ${user.email}`
      let attempts = 0
      try {
        return await call(
          label,
          async o => {
            attempts++
            const created = await sdk.users.createAccount(
              {
                ...user,
                activationMode: 'manual',
                phoneNumber: '0000000000',
                language: 'EN'
              },
              o
            )
            return toUser(created)
          },
          // A lost answer may hide a registration that happened.
          () => findUser(user.email)
        )
      } catch (error) {
        // "Email taken" on a retry: the first try worked after all, with the
        // password just sent, so the caller can log in with it.
        const emailUsed =
          error instanceof ExhApiError && error.failure.apiCode === 203
        const found = emailUsed && attempts > 1 && (await findUser(user.email))
        if (found) return found
        throw error
      }
    },
    async addRoleToUser(userId, roleId) {
      await call(`adding role to user ${userId}`, o =>
        roles.addToUsers(
          rqlBuilder().eq('id', userId).build(),
          { roles: [roleId] },
          o
        )
      )
    },
    async login(email, password) {
      const client = createOAuth1Client({
        host: options.host,
        consumerKey: options.credentials.consumerKey,
        consumerSecret: options.credentials.consumerSecret
      })
      const tokens = await call(`logging in as ${email}`, () =>
        withDeadline(
          client.auth.authenticate({ email, password }),
          options.requestTimeoutMs,
          options.signal
        )
      )
      options.mask(tokens.key)
      options.mask(tokens.secret)
      return { token: tokens.key, tokenSecret: tokens.secret }
    },
    async whoseCredentials(stored) {
      const client = createOAuth1Client({
        host: stored.host,
        consumerKey: stored.consumerKey,
        consumerSecret: stored.consumerSecret,
        token: stored.token,
        tokenSecret: stored.tokenSecret
      })
      return toUser(
        await call('checking the stored task credentials (users.me)', o =>
          client.users.me(o)
        )
      )
    }
  }
}

/** Node and axios codes of a request that got no answer. */
const NO_RESPONSE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_CANCELED',
  'ERR_SOCKET_CONNECTION_TIMEOUT'
])

/** The SDK's error, read by duck typing: classes differ across versions. */
function readFailure(
  error: unknown,
  context: { timedOut: boolean; cancelled: boolean; retryAfterMs?: number }
): FailedAttempt {
  const fields = (error ?? {}) as {
    status?: unknown
    response?: { code?: unknown; status?: unknown }
    code?: unknown
    message?: unknown
  }
  const status =
    typeof fields.status === 'number'
      ? fields.status
      : typeof fields.response?.status === 'number'
        ? fields.response.status
        : undefined
  // The SDK drops the code of its 104/108 errors; the error's name keeps it.
  const { apiCode } = apiErrorFacts(error)
  // The SDK's 104/108 errors carry no status either, so "no status" alone
  // does not mean the request went unanswered.
  const networkError =
    status === undefined &&
    ((typeof fields.code === 'string' && NO_RESPONSE_CODES.has(fields.code)) ||
      fields.message === 'socket hang up' ||
      error instanceof DeadlineError)
  return {
    status,
    apiCode,
    noResponse: context.timedOut || networkError,
    retryAfterMs: context.retryAfterMs,
    cancelled: context.cancelled
  }
}

/** Environment values read back may be secrets set elsewhere: mask them. */
function toRemote(
  details: FunctionDetails,
  mask: (secret: string) => void,
  committed: ReadonlySet<string>
): RemoteFunction {
  const environment: Record<string, string> = {}
  for (const [key, variable] of Object.entries(
    details.environmentVariables ?? {}
  )) {
    environment[key] = variable.value
    // The marker is this action's own bookkeeping, not a secret.
    if (key !== MARKER_VARIABLE && maskReadBack(variable.value, committed)) {
      mask(variable.value)
    }
  }
  return {
    name: details.name,
    description: details.description,
    entryPoint: details.entryPoint,
    runtime: details.runtime,
    timeLimit: details.timeLimit,
    memoryLimit: details.memoryLimit,
    environment,
    executionOptions: details.executionOptions,
    retryPolicy: details.retryPolicy
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const done = (): void => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
  })
}

/** For the one SDK call that takes no options (login). */
function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  signal: AbortSignal
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (): void => {
      reject(new DeadlineError())
    }
    const timer = setTimeout(fail, ms)
    signal.addEventListener('abort', fail, { once: true })
    promise.then(resolve, reject).finally(() => {
      clearTimeout(timer)
      signal.removeEventListener('abort', fail)
    })
  })
}

class DeadlineError extends Error {
  constructor() {
    super('no answer in time')
    this.name = 'DeadlineError'
  }
}
