import { formatProblem, type ConfigProblem } from './task.js'

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
}

/**
 * One line about an error, safe to print. SDK errors carry the whole request
 * (body with environment values, the Authorization header), so only the
 * class, the HTTP status and the API's message are kept: never the object.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const fields = error as ErrorFields
  const name = typeof fields.name === 'string' ? fields.name : 'Error'
  const status = typeof fields.status === 'number' ? fields.status : undefined
  const code = typeof fields.code === 'string' ? fields.code : undefined
  const message = firstLine(error.message)
  const label = [name, status && `HTTP ${status}`, code]
    .filter(Boolean)
    .join(', ')
  return message ? `${label}: ${message}` : label
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
  const name = host.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '')
  const bare = name.replace(/^ap[ix]\./, '')
  return [`api.${bare}`, `apx.${bare}`, name, bare]
    .filter(form => form.length > 0)
    .reduce((out, form) => out.split(form).join('<host>'), text)
}
