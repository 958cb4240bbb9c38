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
