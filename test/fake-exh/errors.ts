import { STATUS_CODES } from 'node:http'

/** The JSON error body every EXH service answers with. */
export interface ExhErrorBody {
  code: number
  name: string
  message: string
  [extra: string]: unknown
}

/** Known EXH errors: code → [HTTP status, name, message] (reference 5.3). */
export const knownErrors = {
  1: [500, 'SERVER_EXCEPTION', 'Something went wrong on the server'],
  10: [401, 'NO_PERMISSION_EXCEPTION', 'Permission denied'],
  13: [400, 'EMPTY_BODY_EXCEPTION', 'The body of the request is empty'],
  14: [400, 'MISSING_REQUIRED_FIELDS_EXCEPTION', 'Some fields are missing'],
  15: [400, 'FIELD_FORMAT_EXCEPTION', 'Some fields have the wrong format'],
  16: [404, 'RESOURCE_UNKNOWN_EXCEPTION', 'Requested resource is unknown'],
  17: [400, 'RESOURCE_ALREADY_EXISTS_EXCEPTION', 'Resource already exists'],
  19: [400, 'INVALID_RQL_EXCEPTION', 'The RQL query is invalid'],
  20: [400, 'EMPTY_RQL_EXCEPTION', 'RQL cannot be empty for this operation'],
  22: [400, 'BODY_FORMAT_EXCEPTION', 'The body is not valid JSON'],
  101: [
    401,
    'APPLICATION_NOT_AUTHENTICATED_EXCEPTION',
    'The application is not authenticated'
  ],
  104: [
    401,
    'USER_NOT_AUTHENTICATED_EXCEPTION',
    'The user is not authenticated'
  ],
  106: [
    401,
    'AUTHENTICATION_EXCEPTION',
    'This password email combination is unknown'
  ],
  107: [401, 'OAUTH_KEY_EXCEPTION', 'The consumer key is unknown'],
  108: [401, 'OAUTH_TOKEN_EXCEPTION', 'The token is unknown'],
  109: [401, 'OAUTH_SIGNATURE_EXCEPTION', 'The signature is invalid'],
  129: [403, 'MFA_REQUIRED_EXCEPTION', 'Multi-factor authentication required'],
  130: [400, 'INVALID_MFA_CODE_EXCEPTION', 'The MFA code is invalid'],
  131: [400, 'INVALID_MFA_TOKEN_EXCEPTION', 'The MFA token is invalid'],
  203: [400, 'EMAIL_USED_EXCEPTION', 'This email address is already in use'],
  208: [
    400,
    'PASSWORD_EXCEPTION',
    'The password does not meet the password policy'
  ],
  211: [401, 'LOGIN_TIMEOUT_EXCEPTION', 'Logging in again too quickly'],
  212: [401, 'LOGIN_FREEZE_EXCEPTION', 'Login is frozen for 60 seconds'],
  213: [
    401,
    'TOO_MANY_FAILED_ATTEMPTS_EXCEPTION',
    'Too many failed login attempts, the account is locked'
  ],
  1401: [
    400,
    'INVALID_FUNCTION_CODE_EXCEPTION',
    'There was an error while attempting to unzip the function code'
  ],
  1402: [
    400,
    'INVALID_FUNCTION_CONFIGURATION_EXCEPTION',
    'One function parameter provided was invalid.'
  ],
  1404: [
    400,
    'TIME_LIMIT_EXCEEDS_DIRECT_EXECUTION_MAXIMUM_EXCEPTION',
    'The time limit of the function exceeds the direct execution maximum'
  ],
  1406: [
    400,
    'LAMBDA_RUNTIME_EXCEPTION',
    'An error occurred during the execution of the function'
  ],
  1408: [400, 'NO_TASK_LOGS_FOUND_EXCEPTION', 'No logs were found for the task']
} as const satisfies Record<number, readonly [number, string, string]>

export type KnownErrorCode = keyof typeof knownErrors

/** An error a route throws; the server turns it into a JSON answer. */
export class ExhError extends Error {
  readonly status: number
  readonly body: ExhErrorBody

  constructor(status: number, body: ExhErrorBody) {
    super(body.message)
    this.status = status
    this.body = body
  }
}

/** Builds the EXH error body for a known code, with optional extra fields. */
export function exhErrorBody(
  code: KnownErrorCode,
  extra: Record<string, unknown> = {}
): ExhErrorBody {
  const [, name, message] = knownErrors[code]
  return { code, name, message, ...extra }
}

export function exhError(
  code: KnownErrorCode,
  extra: Record<string, unknown> = {}
): ExhError {
  return new ExhError(knownErrors[code][0], exhErrorBody(code, extra))
}

/**
 * A plausible body for a status when a fault rule gives none. 429 has no
 * `code` (there is no SDK class for it); 413 looks like the gateway's answer.
 */
export function defaultBodyForStatus(status: number): unknown {
  if (status === 429) return { message: 'Too Many Requests' }
  if (status === 413) return gatewayTooLargeBody
  if (status >= 500) {
    return {
      code: 1,
      name: 'SERVER_EXCEPTION',
      message: `${STATUS_CODES[status] ?? 'Server error'} (injected fault)`
    }
  }
  if (status === 404) return exhErrorBody(16)
  if (status === 401) return exhErrorBody(104)
  if (status === 403) return { ...exhErrorBody(10) }
  if (status === 400) return exhErrorBody(15)
  return { message: STATUS_CODES[status] ?? 'Unknown status' }
}

/** The API gateway answers oversized bodies itself, without an EXH code. */
export const gatewayTooLargeBody = { message: 'Request Entity Too Large' }
