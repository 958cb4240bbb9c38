/**
 * The action's one retry policy for Extra Horizon calls (the SDK's own GET
 * retries are switched off per call): connection errors, timeouts, 5xx and
 * 429 are retried with capped exponential back-off and jitter; everything
 * else (validation errors, 401s, failed logins) fails at once.
 */
export interface RetryOptions {
  attempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** A longer Retry-After fails the call instead of waiting. */
  maxRetryAfterMs: number
}

export const DEFAULT_RETRY: RetryOptions = {
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000
}

/** What is known of one failed attempt, read from the error without trusting it. */
export interface FailedAttempt {
  /** HTTP status, when a response came back. */
  status?: number
  /** The API's numeric error code (from the body), when known. */
  apiCode?: number
  /** True for a connection error or a timeout: the outcome is unknown. */
  noResponse: boolean
  /** Retry-After in milliseconds, when the response had one. */
  retryAfterMs?: number
  /** Cancelled by the run itself: never retried. */
  cancelled?: boolean
}

export type RetryVerdict =
  | { retry: true; delayMs: number }
  | { retry: false; reason?: string }

/** Login throttled (one login per second per user): wait at least 1 s. */
const LOGIN_TOO_FAST = 211

export function decideRetry(
  failure: FailedAttempt,
  attempt: number,
  options: RetryOptions = DEFAULT_RETRY,
  random: () => number = Math.random
): RetryVerdict {
  if (!isTransient(failure)) return { retry: false }
  if (attempt >= options.attempts) {
    return { retry: false, reason: `gave up after ${attempt} attempts` }
  }
  if (
    failure.retryAfterMs !== undefined &&
    failure.retryAfterMs > options.maxRetryAfterMs
  ) {
    const seconds = Math.ceil(failure.retryAfterMs / 1000)
    return {
      retry: false,
      reason: `the API asked to wait ${seconds} s (Retry-After), more than the ${options.maxRetryAfterMs / 1000} s this action waits`
    }
  }
  const exponential = Math.min(
    options.maxDelayMs,
    options.baseDelayMs * 2 ** (attempt - 1)
  )
  // Full jitter spreads retries of concurrent tasks apart.
  let delayMs = Math.round(exponential / 2 + random() * (exponential / 2))
  if (failure.retryAfterMs !== undefined) {
    delayMs = Math.max(delayMs, failure.retryAfterMs)
  }
  if (failure.apiCode === LOGIN_TOO_FAST) delayMs = Math.max(delayMs, 1_000)
  return { retry: true, delayMs }
}

/** A failure that a later attempt may not have. */
export function isTransient(failure: FailedAttempt): boolean {
  if (failure.cancelled) return false
  return (
    failure.noResponse ||
    failure.status === 429 ||
    (failure.status !== undefined && failure.status >= 500) ||
    failure.apiCode === LOGIN_TOO_FAST
  )
}

/** Retry-After as seconds or an HTTP date, in milliseconds. */
export function parseRetryAfter(
  value: unknown,
  now: number = Date.now()
): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined
  if (/^\d+(\.\d+)?$/.test(value.trim())) {
    return Math.round(Number(value) * 1000)
  }
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/**
 * For a refused credential check: what to check, by the API's error code,
 * in the inputs' names (never their values). The SDK's 104/108 errors carry
 * no status, hence `undefined`.
 */
export function credentialHint(
  kind: 'token' | 'password',
  failure: FailedAttempt
): string | undefined {
  if (failure.cancelled || failure.noResponse || isTransient(failure)) {
    return undefined
  }
  if (failure.status !== undefined && failure.status !== 401) return undefined
  const user =
    kind === 'token' ? ['token', 'token-secret'] : ['email', 'password']
  switch (failure.apiCode) {
    case 101:
    case 107:
      return 'check that consumer-key and consumer-secret belong to this host (an OAuth1 application registered there)'
    case 104:
    case 108:
      return kind === 'token'
        ? 'check that token and token-secret belong to this host and to the consumer of consumer-key and consumer-secret'
        : 'check that email and password are a user of this host'
    case 106:
      return 'check that email and password are a user of this host (the API knows no such combination)'
    case 109:
      return `check that consumer-secret${kind === 'token' ? ' and token-secret' : ''} belong to this host and match consumer-key${kind === 'token' ? ' and token' : ''} (the request's signature did not match)`
    default:
      return `check that consumer-key, consumer-secret, ${user.join(' and ')} belong to this host and to one another`
  }
}
