// Helpers shared by the fault tests: in-process (test/pipeline) and the
// timing ones on the bundle (test/e2e).

import type { FakeExh, LoggedRequest } from '../fake-exh/index.js'
import { taskConfig } from './workspace.js'

export const LIST = '/tasks/v1/functions/'
export const LOGIN = '/auth/v2/oauth1/tokens'

/** Inputs that log in with email and password instead of the admin token. */
export function passwordInputs(
  email: string,
  password: string
): Record<string, string> {
  return { path: 'tasks', token: '', 'token-secret': '', email, password }
}
export const CREATE = '/tasks/v1/functions/'

/** One folder per task under `tasks/`, each with a tiny handler. */
export function tasks(
  fields: Record<string, Record<string, unknown>>
): Record<string, string> {
  const files: Record<string, string> = {}
  for (const [name, config] of Object.entries(fields)) {
    files[`tasks/${name}/task-config.json`] = taskConfig(name, config)
    files[`tasks/${name}/build/index.js`] =
      `exports.handler = async () => '${name}'\n`
  }
  return files
}

export function named(
  fake: FakeExh,
  method: string,
  path: string
): LoggedRequest[] {
  return fake.requests
    .filter(r => r.method === method && r.path === path)
    .sort((a, b) => a.startedAt - b.startedAt)
}

export function bodyName(request: LoggedRequest): unknown {
  return (request.body as { name?: unknown } | undefined)?.name
}
