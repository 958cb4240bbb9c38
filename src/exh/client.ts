// The Extra Horizon client of a run: the SDK behind one request function,
// the credentials checked before anything else.

import { credentialHint } from '../retry.js'
import { ExhApiError } from './failure.js'
import { functionsApi } from './functions.js'
import { createRequester, withDeadline, type Requester } from './request.js'
import { usersApi } from './users.js'
import { verifyApi } from './executions.js'
import { referencesApi } from './references.js'
import type { ExhClient, ExhClientOptions } from './types.js'

/** What a refused login means, and what to do about it. */
const LOGIN_ADVICE: Record<number, string> = {
  129: 'this account requires multi-factor authentication: use the token and token-secret inputs instead of email and password',
  212: 'logins for this user are frozen for a while after repeated failures: check the email and password inputs, then retry later',
  213: 'this user is locked after too many failed logins: unlock it, or use the token and token-secret inputs'
}

/**
 * Builds the SDK client and checks the credentials: with a token, one
 * `users.me()` (authenticate() takes no options, so no deadline there); with
 * an email and password, one login.
 */
export async function connectExh(
  options: ExhClientOptions
): Promise<ExhClient> {
  const requester = createRequester(options)
  await checkCredentials(requester, options)
  const { sdk, call } = requester
  return {
    ...functionsApi(sdk, call, options.mask),
    users: usersApi(sdk, call, options),
    verify: verifyApi(sdk, call, options.requestTimeoutMs),
    references: referencesApi(sdk, call)
  }
}

async function checkCredentials(
  { sdk, call }: Requester,
  options: ExhClientOptions
): Promise<void> {
  const { credentials } = options
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
    throw new ExhApiError(
      error.call,
      `${error.detail}; ${hint}`,
      error.failure,
      error.reason
    )
  }
}
