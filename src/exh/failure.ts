// The one error classifier for Extra Horizon calls: what an SDK or axios
// error says (status, API code, answered or not), read by duck typing since
// the SDK's classes differ across versions.

import { apiErrorFacts } from '../errors.js'
import { isTransient, type FailedAttempt } from '../retry.js'

/** A failure after the retry policy gave up, safe to print. */
export class ExhApiError extends Error {
  constructor(
    readonly call: string,
    /** What went wrong, without the call or the retry verdict. */
    readonly detail: string,
    readonly failure: FailedAttempt,
    /** The retry policy's verdict (`gave up after 4 attempts`). */
    readonly reason?: string
  ) {
    super(`${call} failed: ${detail}${reason ? ` (${reason})` : ''}`)
    this.name = 'ExhApiError'
  }
}

/** A call that got no answer in time (for the SDK call that takes no options). */
export class DeadlineError extends Error {
  constructor() {
    super('no answer in time')
    this.name = 'DeadlineError'
  }
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

/** What one failed attempt says, for the retry policy. */
export function readFailure(
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
