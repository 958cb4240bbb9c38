// Errors in the action's words: what a failure of the run or of a task
// says in the log and the report.

import { formatProblem, type ConfigProblem } from './task.js'
import { hostForms } from './host.js'

/** Bad inputs or configs: everything wrong, found before any write. */
export class ValidationError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'))
    this.name = 'ValidationError'
  }
}

/** The `shape` of errors thrown by the SDK and axios, read without trusting it. */
interface ErrorFields {
  name?: unknown
  message?: unknown
  status?: unknown
  code?: unknown
  response?: { code?: unknown; status?: unknown }
}

/**
 * The SDK's 104 and 108 errors keep neither the HTTP status nor the API's
 * code, and replace the API's message with boilerplate about "the README
 * file" (a file the user does not have): put back what the API said.
 */
const BARE_AUTH_ERRORS: Record<string, { code: number; message: string }> = {
  USER_NOT_AUTHENTICATED_EXCEPTION: {
    code: 104,
    message: 'The user is not authenticated'
  },
  OAUTH_TOKEN_EXCEPTION: { code: 108, message: 'The token is unknown' }
}

const SDK_BOILERPLATE = /not authenticated yet|check the README file/i

/** What an API error says: HTTP status, the API's error code and name, its message. */
export interface ApiErrorFacts {
  status?: number
  apiCode?: number
  apiName?: string
  message: string
}

/** Reads an SDK or axios error by duck typing: classes differ across versions. */
export function apiErrorFacts(error: unknown): ApiErrorFacts {
  const fields = (error ?? {}) as ErrorFields
  const name = typeof fields.name === 'string' ? fields.name : undefined
  // The SDK names its errors by the API's error name (`OAUTH_KEY_EXCEPTION`).
  const apiName = name && /^[A-Z0-9_]+$/.test(name) ? name : undefined
  const bare = apiName ? BARE_AUTH_ERRORS[apiName] : undefined
  // Octokit gives a request that got no answer (a refused connection) 500.
  const unanswered = name === 'HttpError' && fields.response === undefined
  const status = unanswered
    ? undefined
    : typeof fields.status === 'number'
      ? fields.status
      : typeof fields.response?.status === 'number'
        ? fields.response.status
        : bare && 401
  const apiCode =
    typeof fields.response?.code === 'number'
      ? fields.response.code
      : bare?.code
  const text = error instanceof Error ? firstLine(error.message) : ''
  const message = SDK_BOILERPLATE.test(text) ? (bare?.message ?? '') : text
  return { status, apiCode, apiName, message }
}

/**
 * One line about an error, safe to print: the HTTP status, the API's error
 * code and name, and its message. SDK errors carry the whole request (body
 * with environment values, the Authorization header), so never the object;
 * and never the error's class name, which means nothing to a user.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const { status, apiCode, apiName, message } = apiErrorFacts(error)
  const api =
    apiCode !== undefined
      ? `API error ${apiCode}${apiName ? ` ${apiName}` : ''}`
      : apiName
  const label = [status && `HTTP ${status}`, api].filter(Boolean).join(', ')
  if (!label) return message || 'unknown error'
  return message ? `${label}: ${message}` : label
}

/** For a `::debug::` line only: the class name too, to find the code path. */
export function debugDescription(error: unknown): string {
  const name = error instanceof Error ? error.constructor.name : typeof error
  return `${name}: ${describeError(error)}`
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0]?.trim() ?? ''
}

/**
 * The host may be a secret (and an output holding it would be dropped by the
 * runner): network errors name it (`getaddrinfo ENOTFOUND api.<host>`), so
 * messages replace it, in every form the SDK may have used, with `<host>`.
 */
export function scrubHost(text: string, host: string): string {
  return hostForms(host)
    .filter(form => form.length > 0)
    .reduce((out, form) => out.split(form).join('<host>'), text)
}
