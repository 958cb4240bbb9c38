import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  type Workspace
} from '../support/workspace.js'
import { CREDENTIAL_VARIABLES } from '../../src/task.js'
import { syncInProcess } from '../support/in-process.js'
import { fakeWithWorkspace } from '../support/with-fake.js'
import type { PipelineRun } from '../support/in-process.js'

const NAME = 'reporter'
const ROLE = `exh.tasks.${NAME}`
const DEFAULT_EMAIL = `exh.tasks+${NAME}@extrahorizon.com`

function withCredentials(
  permissions: string[],
  extra: Record<string, unknown> = {}
): Record<string, string> {
  return {
    'task-config.json': taskConfig(NAME, {
      environment: { MODE: 'daily' },
      executionCredentials: { permissions, ...extra }
    }),
    'build/index.js': 'exports.handler = async () => 1\n'
  }
}

function roleOf(fake: FakeExh) {
  return [...fake.roles.values()].find(role => role.name === ROLE)
}

function userOf(fake: FakeExh, email = DEFAULT_EMAIL) {
  return [...fake.users.values()].find(user => user.email === email)
}

function variables(fake: FakeExh): Record<string, string> {
  const env = fake.functions.get(NAME)?.environmentVariables ?? {}
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.value]))
}

/** Every secret this run could know, to search the output channels for. */
function secretsOf(fake: FakeExh): string[] {
  return [
    fake.consumer.secret,
    fake.admin.token,
    fake.admin.tokenSecret,
    ...[...fake.users.values()].map(user => user.password),
    ...[...fake.tokens.values()].flatMap(token => [
      token.token,
      token.tokenSecret
    ])
  ]
}

function expectNoSecrets(run: PipelineRun, secrets: string[]): void {
  const channels = {
    log: run.log,
    outputs: JSON.stringify(run.outputs),
    summary: run.summary
  }
  for (const secret of secrets) {
    for (const [channel, text] of Object.entries(channels)) {
      expect(text.includes(secret), `a secret in ${channel}`).toBe(false)
    }
  }
}

async function firstSync(permissions: string[]) {
  const ctx = await fakeWithWorkspace(withCredentials(permissions))
  const run = await syncInProcess(ctx.fake, ctx.ws.dir)
  return Object.assign(ctx, { run })
}

describe('executionCredentials (the pipeline in-process)', () => {
  it('creates the role, the user and the five variables on the first sync', async () => {
    await using ctx = await firstSync([
      'VIEW_DOCUMENTS:a',
      'UPDATE_DOCUMENTS:b'
    ])
    const { fake, run } = ctx
    expect(run.exitCode, run.log).toBe(0)

    const role = roleOf(fake)
    expect([...(role?.permissions ?? [])].sort()).toEqual([
      'UPDATE_DOCUMENTS:b',
      'VIEW_DOCUMENTS:a'
    ])
    const user = userOf(fake)
    expect(user).toBeDefined()
    expect(user?.roleIds).toContain(role?.id)
    expect(fake.loginCount).toBe(1)

    const env = variables(fake)
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining(['MODE', ...CREDENTIAL_VARIABLES])
    )
    expect(env.API_HOST).toBe(fake.url)
    expect(env.API_OAUTH_CONSUMER_KEY).toBe(fake.consumer.key)
    expect(env.API_OAUTH_CONSUMER_SECRET).toBe(fake.consumer.secret)
    expect(fake.tokens.get(env.API_OAUTH_TOKEN ?? '')).toMatchObject({
      userId: user?.id,
      tokenSecret: env.API_OAUTH_TOKEN_SECRET
    })
    expect(run.result[0]).toMatchObject({
      action: 'create',
      status: 'done',
      credentials: {
        user: 'create',
        permissionsAdded: ['VIEW_DOCUMENTS:a', 'UPDATE_DOCUMENTS:b'],
        permissionsRemoved: []
      }
    })
    expectNoSecrets(run, secretsOf(fake))
    // The generated password and the minted tokens are masked as they appear.
    expect(run.masked).toEqual(
      expect.arrayContaining([
        user?.password,
        env.API_OAUTH_TOKEN,
        env.API_OAUTH_TOKEN_SECRET
      ])
    )
  })

  it('reuses the stored tokens on a second sync: no registration, no login', async () => {
    await using ctx = await firstSync(['VIEW_DOCUMENTS:a'])
    const { fake, ws } = ctx
    const before = variables(fake)
    fake.clearLog()
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result[0]).toMatchObject({
      action: 'unchanged',
      credentials: {
        user: 'reuse',
        permissionsAdded: [],
        permissionsRemoved: []
      }
    })
    expect(fake.loginCount).toBe(1)
    expect(fake.requests.map(r => `${r.method} ${r.path}`)).not.toContain(
      'POST /users/v1/register'
    )
    expect(fake.writeRequests()).toEqual([])
    expect(variables(fake)).toEqual(before)
    expectNoSecrets(run, secretsOf(fake))
  })

  it('adds and removes exactly the difference when permissions change, without a code upload', async () => {
    await using ctx = await firstSync([
      'VIEW_DOCUMENTS:a',
      'UPDATE_DOCUMENTS:b'
    ])
    const { fake, ws } = ctx
    await ws.write(withCredentials(['VIEW_DOCUMENTS:a', 'DELETE_DOCUMENTS:c']))
    fake.clearLog()
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result[0]).toMatchObject({
      action: 'update',
      changes: ['executionCredentials.permissions'],
      credentials: {
        user: 'reuse',
        permissionsAdded: ['DELETE_DOCUMENTS:c'],
        permissionsRemoved: ['UPDATE_DOCUMENTS:b']
      }
    })
    const writes = fake.writeRequests()
    expect(writes.map(w => [w.path, w.body])).toEqual([
      [
        '/users/v1/roles/add_permissions',
        { permissions: ['DELETE_DOCUMENTS:c'] }
      ],
      [
        '/users/v1/roles/remove_permissions',
        { permissions: ['UPDATE_DOCUMENTS:b'] }
      ]
    ])
    expect([...(roleOf(fake)?.permissions ?? [])].sort()).toEqual([
      'DELETE_DOCUMENTS:c',
      'VIEW_DOCUMENTS:a'
    ])
    expect(run.result[0]?.bytes).toBeUndefined()
  })

  it('uses a configured email, lower-cased', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      withCredentials(['VIEW_DOCUMENTS:a'], {
        email: 'Reports.Bot@Example.COM'
      })
    )
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode, run.log).toBe(0)
    const register = fake.requests.find(r => r.path === '/users/v1/register')
    expect(register?.body).toMatchObject({
      email: 'reports.bot@example.com',
      activation_mode: 'manual'
    })
    expect(userOf(fake, 'reports.bot@example.com')).toBeDefined()
  })

  it('fails the task, leaving the function as it was, when the user exists but the function holds no credentials', async () => {
    await using fake = await startFakeExh()
    await using ws: Workspace = await makeWorkspace(withCredentials(['X:y']))
    fake.addUser({ email: DEFAULT_EMAIL, password: 'Existing-Passw0rd' })
    const existing = fake.seedFunction({
      name: NAME,
      environmentVariables: { MODE: { value: 'daily' } }
    })
    const before = JSON.stringify(existing)
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode).toBe(1)
    expect(run.result[0]).toMatchObject({ name: NAME, status: 'failed' })
    expect(run.result[0]?.error).toContain(
      `remove the user ${DEFAULT_EMAIL}, or set a different executionCredentials.email`
    )
    expect(fake.writeRequests()).toEqual([])
    expect(JSON.stringify(fake.functions.get(NAME))).toBe(before)
    expectNoSecrets(run, secretsOf(fake))
  })

  it('fails the task, leaving the function as it was, when the stored tokens belong to another user', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(withCredentials(['X:y']))
    fake.addUser({ email: DEFAULT_EMAIL, password: 'Existing-Passw0rd' })
    const other = fake.addUser({
      email: 'someone.else@example.com',
      password: 'Other-Passw0rd1'
    })
    const token = fake.mintToken(other.id)
    fake.seedFunction({
      name: NAME,
      environmentVariables: {
        API_HOST: { value: fake.url },
        API_OAUTH_CONSUMER_KEY: { value: fake.consumer.key },
        API_OAUTH_CONSUMER_SECRET: { value: fake.consumer.secret },
        API_OAUTH_TOKEN: { value: token.token },
        API_OAUTH_TOKEN_SECRET: { value: token.tokenSecret }
      }
    })
    const before = JSON.stringify(fake.functions.get(NAME))
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode).toBe(1)
    expect(run.result[0]?.error).toContain('someone.else@example.com')
    expect(run.result[0]?.error).toContain(
      'or set a different executionCredentials.email'
    )
    expect(fake.writeRequests()).toEqual([])
    expect(JSON.stringify(fake.functions.get(NAME))).toBe(before)
    expectNoSecrets(run, [token.token, token.tokenSecret])
  })

  it('does not blame the stored tokens for a server error while checking them', async () => {
    await using ctx = await firstSync(['VIEW_DOCUMENTS:a'])
    const { fake, ws } = ctx
    fake.fault({
      method: 'GET',
      path: '/users/v1/me',
      status: 503,
      times: Infinity
    })
    fake.clearLog()
    // Log in with a password, so the only users.me calls check stored tokens.
    const run = await syncInProcess(fake, ws.dir, {
      token: '',
      'token-secret': '',
      email: fake.admin.email,
      password: fake.admin.password
    })
    expect(run.exitCode).toBe(1)
    expect(run.result[0]?.error).toContain('HTTP 503')
    expect(run.result[0]?.error).not.toContain('remove the user')
    expect(fake.writeRequests()).toEqual([])
  })

  it('logs in with the password just sent when a registration answer was lost', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(withCredentials(['VIEW_DOCUMENTS:a']))
    fake.fault({ method: 'POST', path: '/users/v1/register', drop: 'after' })
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode, run.log).toBe(0)
    const registrations = fake.requests.filter(
      r => r.path === '/users/v1/register'
    )
    // The dropped answer is found by looking the user up: no second try.
    expect(registrations.map(r => r.status)).toEqual([0])
    expect(
      [...fake.users.values()].filter(u => u.email === DEFAULT_EMAIL)
    ).toHaveLength(1)
    expect(fake.loginCount).toBe(1)
    const env = variables(fake)
    expect(fake.tokens.get(env.API_OAUTH_TOKEN ?? '')?.userId).toBe(
      userOf(fake)?.id
    )
  })

  it('says to remove the user when the function write fails after registering it', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(withCredentials(['VIEW_DOCUMENTS:a']))
    fake.fault({
      method: 'POST',
      path: '/tasks/v1/functions/',
      status: 400,
      body: { code: 15, name: 'FIELD_FORMAT_EXCEPTION', message: 'bad' }
    })
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode).toBe(1)
    expect(run.result[0]?.error).toContain(
      `the user ${DEFAULT_EMAIL} was registered, but its tokens could not be stored on the function: remove that user`
    )
    // The role is given only once the function holds the tokens.
    expect(userOf(fake)?.roleIds).toEqual([])
    expect(fake.functions.has(NAME)).toBe(false)
  })

  it('says the user was registered and must be removed when the login right after fails', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(withCredentials(['VIEW_DOCUMENTS:a']))
    fake.fault({ method: 'POST', path: '/auth/v2/oauth1/tokens', status: 403 })
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode).toBe(1)
    expect(userOf(fake)).toBeDefined()
    expect(fake.functions.has(NAME)).toBe(false)
    expect(run.result[0]?.status).toBe('failed')
    expect(run.result[0]?.error).toContain(
      `the user ${DEFAULT_EMAIL} was registered, but the login right after did not complete, so no function holds its tokens: remove that user (or set a different executionCredentials.email) before the next run`
    )
    expectNoSecrets(run, secretsOf(fake))
  })

  it('says the user was registered and must be removed when the login right after is cancelled', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(withCredentials(['VIEW_DOCUMENTS:a']))
    fake.fault({
      method: 'POST',
      path: '/auth/v2/oauth1/tokens',
      delayMs: 30_000
    })
    // The delayed login's rule is used up once the login is in flight.
    const run = await syncInProcess(
      fake,
      ws.dir,
      {},
      { interruptWhen: () => fake.pendingFaults().length === 0 }
    )
    expect(run.exitCode).toBe(1)
    expect(run.endAfterCancelMs).toBeLessThan(5000)
    expect(run.result[0]?.error).toBe(
      `outcome unknown (cancelled); the user ${DEFAULT_EMAIL} was registered, but the login right after did not complete, so no function holds its tokens: remove that user (or set a different executionCredentials.email) before the next run`
    )
  })

  it('gives the role on the next run when granting it failed after the function was written', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(withCredentials(['VIEW_DOCUMENTS:a']))
    fake.fault({ method: 'POST', path: '/users/v1/add_roles', status: 403 })
    const first = await syncInProcess(fake, ws.dir)
    expect(first.exitCode).toBe(1)
    expect(first.result[0]?.error).toContain('the next run adds the role')
    expect(fake.functions.has(NAME)).toBe(true)
    expect(userOf(fake)?.roleIds).toEqual([])

    fake.clearLog()
    const second = await syncInProcess(fake, ws.dir)
    expect(second.exitCode, second.log).toBe(0)
    expect(second.result[0]).toMatchObject({ credentials: { user: 'reuse' } })
    expect(fake.writeRequests().map(w => w.path)).toEqual([
      '/users/v1/add_roles'
    ])
    expect(userOf(fake)?.roleIds).toEqual([roleOf(fake)?.id])
  })

  it('logs in when a retried registration is told the email is taken', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(withCredentials(['VIEW_DOCUMENTS:a']))
    // The answer is lost, and the look-up before the retry still misses the
    // user (a lagging read): the retry then hears "email used".
    fake.fault({ method: 'POST', path: '/users/v1/register', drop: 'after' })
    fake.fault({
      method: 'GET',
      path: '/users/v1/',
      status: 200,
      body: { page: { total: 0, offset: 0, limit: 20 }, data: [] },
      times: 2
    })
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode, run.log).toBe(0)
    expect(
      fake.requests
        .filter(r => r.path === '/users/v1/register')
        .map(r => r.status)
    ).toEqual([0, 400])
    expect(fake.loginCount).toBe(1)
    expect(fake.tokens.get(variables(fake).API_OAUTH_TOKEN ?? '')?.userId).toBe(
      userOf(fake)?.id
    )
    expectNoSecrets(run, secretsOf(fake))
  })

  it('plans without writing in a dry run: no user, no role', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(withCredentials(['VIEW_DOCUMENTS:a']))
    const run = await syncInProcess(fake, ws.dir, { 'dry-run': 'true' })
    expect(run.exitCode, run.log).toBe(0)
    expect(fake.requests.every(r => r.method === 'GET')).toBe(true)
    expect(roleOf(fake)).toBeUndefined()
    expect(userOf(fake)).toBeUndefined()
    expect(run.result[0]).toMatchObject({
      action: 'create',
      status: 'planned',
      credentials: {
        user: 'create',
        permissionsAdded: ['VIEW_DOCUMENTS:a'],
        permissionsRemoved: []
      }
    })
    expectNoSecrets(run, secretsOf(fake))
  })

  it('warns about an empty permission list and adds nothing', async () => {
    await using ctx = await firstSync([])
    expect(ctx.run.exitCode, ctx.run.log).toBe(0)
    expect(roleOf(ctx.fake)?.permissions).toEqual([])
    expect(
      ctx.fake.requests.some(r => r.path === '/users/v1/roles/add_permissions')
    ).toBe(false)
    expect(ctx.run.log).toContain('executionCredentials.permissions is empty')
  })
})
