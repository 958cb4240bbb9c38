// The one request function: every SDK call goes through `call`, which owns
// the deadline (request-timeout), the run's cancel signal and the retry
// policy (the SDK's own retries are switched off per call).

import {
  createOAuth1Client,
  type OAuth1Client,
  type OptionsBase
} from '@extrahorizon/javascript-sdk'
import {
  DEFAULT_RETRY,
  decideRetry,
  parseRetryAfter,
  type FailedAttempt
} from '../retry.js'
import { describeError, scrubHost } from '../errors.js'
import { DeadlineError, ExhApiError, readFailure } from './failure.js'
import type { ExhClientOptions } from './types.js'

export type CallOptions = OptionsBase & { timeout: number; signal: AbortSignal }

/**
 * One API call under the retry policy. `beforeRetry` looks before trying
 * again (a create whose answer was lost may have happened): a value it
 * returns ends the call.
 */
export type Call = <T>(
  label: string,
  run: (callOptions: CallOptions) => Promise<T>,
  beforeRetry?: () => Promise<T | undefined>,
  policy?: CallPolicy
) => Promise<T>

/** What one call does differently from the others. */
export interface CallPolicy {
  /** Its own deadline per attempt (an execution runs the function first). */
  timeoutMs?: number
  /**
   * Which failures may be tried again, narrowing the retry policy: a call
   * that must not run twice retries only what certainly never started.
   */
  retryable?: (failure: FailedAttempt) => boolean
}

/** What the debug line says about one HTTP exchange: never a body, header or query. */
interface Exchange {
  method: string
  path: string
  status?: number
}

/** What the SDK's responseLogger saw of the request made under one signal. */
interface Seen {
  retryAfter: WeakMap<AbortSignal, number>
  exchanges: WeakMap<AbortSignal, Exchange>
}

export interface Requester {
  sdk: OAuth1Client
  call: Call
}

/** The SDK client of this run, and `call` around it. */
export function createRequester(options: ExhClientOptions): Requester {
  const seen: Seen = { retryAfter: new WeakMap(), exchanges: new WeakMap() }
  const { credentials } = options
  const sdk = sdkClient({
    host: options.host,
    consumerKey: credentials.consumerKey,
    consumerSecret: credentials.consumerSecret,
    ...(credentials.kind === 'token'
      ? { token: credentials.token, tokenSecret: credentials.tokenSecret }
      : {}),
    // SDK errors keep no headers: Retry-After is only visible here.
    responseLogger: response => {
      observe(response, seen, options.debug !== undefined)
    }
  })
  return { sdk, call: retrying(options, seen) }
}

/**
 * Every SDK client of a run is made here, so none follows a redirect: a
 * redirected login, registration or write would send a password or
 * environment values to wherever the answer points. The SDK has no option
 * for it; its request hook sees each request's config before it goes, on
 * both of its axios instances.
 */
export function sdkClient(
  config: Parameters<typeof createOAuth1Client>[0]
): OAuth1Client {
  return createOAuth1Client({
    ...config,
    // Stored as the user gave it (`$API_HOST`, as the CLI stores it); the
    // requests go to the host without its trailing `/`.
    host: config.host.replace(/\/+$/, ''),
    requestLogger: refuseRedirects
  })
}

function refuseRedirects(config: unknown): void {
  // The hook also sees a failed request's error; leave that alone.
  if (config instanceof Error || typeof config !== 'object' || !config) return
  ;(config as { maxRedirects?: number }).maxRedirects = 0
}

function observe(response: unknown, seen: Seen, debugging: boolean): void {
  const raw = response as {
    headers?: Record<string, unknown>
    status?: unknown
    config?: { signal?: AbortSignal; method?: unknown; url?: unknown }
    response?: { headers?: Record<string, unknown>; status?: unknown }
  }
  const signal = raw.config?.signal
  if (!signal) return
  const headers = raw.response?.headers ?? raw.headers
  const wait = parseRetryAfter(headers?.['retry-after'])
  if (wait !== undefined) seen.retryAfter.set(signal, wait)
  const exchange = debugging && readExchange(raw)
  if (exchange) seen.exchanges.set(signal, exchange)
}

/** Method, path without its query, and status of an axios response or error. */
function readExchange(raw: {
  status?: unknown
  config?: { method?: unknown; url?: unknown }
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

type Attempt<T> =
  | { ok: true; value: T }
  | { ok: false; failure: FailedAttempt; message: string }

function retrying(options: ExhClientOptions, seen: Seen): Call {
  const retry = options.retry ?? DEFAULT_RETRY
  return async (label, run, beforeRetry, policy = {}) => {
    for (let attempt = 1; ; attempt++) {
      // A retry whose wait was cut short by the cancel must not go out.
      if (options.signal.aborted) {
        throw new ExhApiError(label, 'cancelled', {
          noResponse: attempt > 1,
          cancelled: true
        })
      }
      const outcome = await once(label, attempt, run, options, seen, policy)
      if (outcome.ok) return outcome.value
      const message = scrubHost(outcome.message, options.host)
      const verdict =
        policy.retryable && !policy.retryable(outcome.failure)
          ? { retry: false as const }
          : decideRetry(outcome.failure, attempt, retry)
      if (!verdict.retry) {
        throw new ExhApiError(label, message, outcome.failure, verdict.reason)
      }
      options.log(
        `${label}: ${message}; retrying in ${(verdict.delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1} of ${retry.attempts})`
      )
      await abortableSleep(verdict.delayMs, options.signal)
      const done = await beforeRetry?.()
      if (done !== undefined) return done
    }
  }
}

/** One attempt with its own deadline, aborted by the run's cancel too. */
async function once<T>(
  label: string,
  attempt: number,
  run: (callOptions: CallOptions) => Promise<T>,
  options: ExhClientOptions,
  seen: Seen,
  policy: CallPolicy
): Promise<Attempt<T>> {
  const timeoutMs = policy.timeoutMs ?? options.requestTimeoutMs
  const controller = new AbortController()
  const cancel = (): void => {
    controller.abort()
  }
  options.signal.addEventListener('abort', cancel, { once: true })
  const deadline = { passed: false }
  const timer = setTimeout(() => {
    deadline.passed = true
    controller.abort()
  }, timeoutMs)
  const started = performance.now()
  let outcome: Attempt<T>
  try {
    const value = await run({
      shouldRetry: false,
      timeout: timeoutMs,
      signal: controller.signal
    })
    outcome = { ok: true, value }
  } catch (error) {
    outcome = failedAttempt(error, deadline.passed, options, seen, controller)
    if (deadline.passed && policy.timeoutMs !== undefined) {
      outcome.message = `timed out after ${timeoutMs / 1000} s`
    }
  } finally {
    clearTimeout(timer)
    options.signal.removeEventListener('abort', cancel)
  }
  options.debug?.(
    debugLine(label, attempt, performance.now() - started, outcome.ok, {
      exchange: seen.exchanges.get(controller.signal)
    })
  )
  return outcome
}

function failedAttempt(
  error: unknown,
  timedOut: boolean,
  options: ExhClientOptions,
  seen: Seen,
  controller: AbortController
): { ok: false; failure: FailedAttempt; message: string } {
  const failure = readFailure(error, {
    timedOut,
    cancelled: options.signal.aborted,
    retryAfterMs: seen.retryAfter.get(controller.signal)
  })
  const message = timedOut
    ? `timed out after ${options.requestTimeoutMs / 1000} s (request-timeout)`
    : failure.cancelled
      ? 'cancelled'
      : describeError(error)
  return { ok: false, failure, message }
}

/** `api: GET /tasks/v1/functions → 200 (reading function a, attempt 1, 42 ms)` */
function debugLine(
  label: string,
  attempt: number,
  ms: number,
  ok: boolean,
  seen: { exchange?: Exchange }
): string {
  const { exchange } = seen
  const request = exchange
    ? `${exchange.method} ${exchange.path} → ${exchange.status ?? 'no response'}`
    : ok
      ? 'ok'
      : 'failed'
  return `api: ${request} (${label}, attempt ${attempt}, ${Math.round(ms)} ms)`
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
export function withDeadline<T>(
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
