// Faults the API can throw at a run (5xx, lost connections, 401s, timeouts,
// refused logins), through the pipeline in-process against the fake API.
// Real waits and deadlines are measured in the timing project (test/pipeline/timing.test.ts, test/e2e/faults.test.ts): here the back-off is cut to milliseconds.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { exhErrorBody, startFakeExh, type FakeExh } from '../fake-exh/index.js'
import { makeWorkspace } from '../support/workspace.js'
import {
  CREATE,
  LIST,
  LOGIN,
  bodyName,
  named,
  passwordInputs,
  tasks
} from '../support/fault-helpers.js'
import { syncInProcess, type PipelineRun } from '../support/in-process.js'

/** Everything a user can read. */
function readable(run: PipelineRun): string {
  return [run.log, JSON.stringify(run.outputs), run.summary].join('\n')
}

describe('faults from the API', () => {
  it('retries a listing that answers 503 twice, with the SDK retries off', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ alpha: {} }))
    fake.fault({ method: 'GET', path: LIST, times: 2, status: 503 })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    // With the SDK's own GET retries on, each attempt would be 5 requests.
    expect(named(fake, 'GET', LIST).map(r => r.status)).toEqual([503, 503, 200])
    expect(fake.pendingFaults()).toEqual([])
    expect([...fake.functions.keys()]).toEqual(['alpha'])
    expect(run.result).toMatchObject([
      { name: 'alpha', action: 'create', status: 'done' }
    ])
  })

  it('fails only the task whose function cannot be read (read while fingerprinting), writing nothing for it', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      tasks({ alpha: { timeLimit: 60 }, beta: { timeLimit: 60 } })
    )
    fake.seedFunction({ name: 'alpha', timeLimit: 30 })
    fake.seedFunction({ name: 'beta', timeLimit: 30 })
    // A 400 is not retried: the read fails at once.
    fake.fault({
      method: 'GET',
      path: '/tasks/v1/functions/alpha',
      status: 400,
      body: exhErrorBody(15)
    })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode).toBe(1)
    expect(named(fake, 'PUT', '/tasks/v1/functions/alpha')).toEqual([])
    expect(fake.functions.get('alpha')?.timeLimit).toBe(30)
    expect(fake.functions.get('beta')?.timeLimit).toBe(60)
    expect(run.result).toMatchObject([
      { name: 'alpha', status: 'failed' },
      { name: 'beta', action: 'update', status: 'done' }
    ])
    expect(run.result[0]?.error).toMatch(/reading function alpha/)
  })

  it('stops its remote reads when a code folder fails the run before planning', async () => {
    await using fake = await startFakeExh()
    const names = Array.from({ length: 40 }, (_, i) => `task-${i + 10}`)
    await using ws = await makeWorkspace({
      ...tasks(Object.fromEntries(names.map(name => [name, {}]))),
      'tasks/task-10/build/leak.js': { symlink: '../../task-11/build/index.js' }
    })
    for (const name of names) fake.seedFunction({ name })
    // Each read is held until the run has ended, so reads are still queued
    // when it fails however long the fingerprints take (a fixed delay raced
    // them). A run that did not stop them would read the rest once released.
    let release = (): void => {}
    fake.fault({
      method: 'GET',
      path: /^\/tasks\/v1\/functions\/task-/,
      times: Infinity,
      hold: new Promise<void>(resolve => (release = resolve))
    })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    release()
    expect(run.exitCode).toBe(1)
    expect(run.errors).toMatch(/points outside the code folder/)
    await new Promise(resolve => setTimeout(resolve, 1000))
    const reads = fake.requests.filter(r =>
      r.path.startsWith('/tasks/v1/functions/task-')
    )
    // Those in flight when it failed (16 at once), never the 40.
    expect(reads.length).toBeLessThanOrEqual(16)
  })

  it('retries an update that answers 500 once, and updates the function', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ alpha: { timeLimit: 60 } }))
    fake.seedFunction({ name: 'alpha', timeLimit: 30 })
    fake.fault({
      method: 'PUT',
      path: '/tasks/v1/functions/alpha',
      status: 500
    })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    expect(
      named(fake, 'PUT', '/tasks/v1/functions/alpha').map(r => r.status)
    ).toEqual([500, 200])
    expect(fake.functions.get('alpha')?.timeLimit).toBe(60)
    expect(run.result).toMatchObject([
      { name: 'alpha', action: 'update', status: 'done' }
    ])
    expect(run.result[0]?.changes).toContain('timeLimit')
    expect(run.log).toMatch(/updating function alpha: .*HTTP 500.*retrying/)
  })

  it.each([
    ['before', [0, 404, 200], ['POST', 'GET', 'POST']],
    ['after', [0, 200, 200], ['POST', 'GET', 'PUT']]
  ] as const)(
    'makes exactly one function when a create loses its connection %s the API acted',
    async (drop, statuses, methods) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(
        tasks({ alpha: { timeLimit: 42, environment: { MODE: 'prod' } } })
      )
      fake.fault({ method: 'POST', path: CREATE, drop })
      const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
      expect(run.exitCode, run.log).toBe(0)
      const writesAndChecks = fake.requests.filter(r =>
        r.path.startsWith('/tasks/v1/functions/alpha')
          ? true
          : r.method === 'POST' && r.path === CREATE
      )
      expect(writesAndChecks.map(r => r.method)).toEqual(methods)
      expect(writesAndChecks.map(r => r.status)).toEqual(statuses)
      expect(fake.requests.filter(r => r.status === 400)).toEqual([])
      expect(run.log).not.toMatch(/already exists|ALREADY_EXISTS/i)
      expect([...fake.functions.keys()]).toEqual(['alpha'])
      expect(fake.functions.get('alpha')).toMatchObject({
        timeLimit: 42,
        environmentVariables: { MODE: { value: 'prod' } }
      })
      expect(run.result).toMatchObject([
        { name: 'alpha', action: 'create', status: 'done' }
      ])
    }
  )

  it('fails only the task whose create keeps failing, leaking none of its secrets', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      tasks({
        secretive: {
          environment: { API_KEY: '$SECRET_API_KEY', DB_URL: '$DB_URL' }
        },
        steady: { timeLimit: 60 }
      })
    )
    fake.seedFunction({ name: 'steady', timeLimit: 30 })
    fake.fault({ method: 'POST', path: CREATE, status: 500, times: Infinity })
    const secrets = [
      'sk-live-5ecr3t-api-key-0123456789',
      'postgres://admin:hunter2-pw@db.internal/prod'
    ]
    const run = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks', concurrency: '2' },
      { env: { SECRET_API_KEY: secrets[0] ?? '', DB_URL: secrets[1] ?? '' } }
    )
    expect(run.exitCode).toBe(1)
    const [secretive, steady] = run.result
    expect(secretive).toMatchObject({
      name: 'secretive',
      action: 'create',
      status: 'failed'
    })
    expect(secretive?.error).toMatch(/HTTP 500/)
    expect(secretive?.error).toMatch(/gave up after 4 attempts/)
    expect(secretive?.error).not.toContain('\n')
    expect(steady).toMatchObject({
      name: 'steady',
      action: 'update',
      status: 'done'
    })
    expect(run.outputs).toMatchObject({ failed: '1', updated: '1' })
    // The SDK's error held the request body with both values.
    const posted = named(fake, 'POST', CREATE)
    expect(posted).toHaveLength(4)
    expect(JSON.stringify(posted[0]?.body)).toContain(secrets[0])
    for (const secret of secrets) {
      expect(run.masked).toContain(secret)
      expect(readable(run)).not.toContain(secret)
    }
    expect(fake.functions.has('secretive')).toBe(false)
    expect(fake.functions.get('steady')?.timeLimit).toBe(60)
  })

  it('says the token could not be checked, not that it was rejected, when the API refuses for another reason', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ alpha: {} }))
    fake.fault({ method: 'GET', path: '/users/v1/me', status: 403 })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode).toBe(1)
    expect(run.result[0]?.error).toBe(
      'not started: the token could not be checked'
    )
    expect(fake.writeRequests()).toEqual([])
  })

  it.each([
    ['token-secret', 'wrong-token-secret-value'],
    ['token', 'wrong-token-value-0123456789']
  ])(
    'stops at once on a 401 from the token check (bad %s), naming the inputs',
    async (input, wrong) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(tasks({ alpha: {} }))
      const run = await syncInProcess(fake, ws.dir, {
        path: 'tasks',
        [input]: wrong
      })
      expect(run.exitCode).toBe(1)
      expect(
        fake.requests.map(r => `${r.method} ${r.path} ${r.status}`)
      ).toEqual(['GET /users/v1/me 401'])
      expect(fake.functions.size).toBe(0)
      // Nothing was started, and the result says so for every task.
      expect(run.result).toMatchObject([{ name: 'alpha', status: 'skipped' }])
      expect(run.result[0]?.error).toBe('not started: credentials rejected')
      expect(run.outputs.failed).toBe('0')
      const text = readable(run)
      for (const name of [
        'consumer-key',
        'consumer-secret',
        'token',
        'token-secret'
      ]) {
        expect(text).toContain(name)
      }
      for (const secret of [
        wrong,
        fake.consumer.key,
        fake.consumer.secret,
        fake.admin.token,
        fake.admin.tokenSecret
      ]) {
        expect(text).not.toContain(secret)
      }
    }
  )

  it('with fail-fast skips every task after the first failure', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      tasks({ first: {}, second: {}, third: {} })
    )
    fake.fault({ method: 'POST', path: CREATE, status: 500, times: Infinity })
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      concurrency: '1',
      'fail-fast': 'true'
    })
    expect(run.exitCode).toBe(1)
    expect(run.result.map(r => [r.name, r.status])).toEqual([
      ['first', 'failed'],
      ['second', 'skipped'],
      ['third', 'skipped']
    ])
    expect(run.result[1]?.error).toBe(
      'not started: fail-fast after first failed'
    )
    expect(run.summary).toContain(
      '| `third` | create | ⏭️ skipped | error: `not started: fail-fast after first failed` |'
    )
    expect(run.log).toContain('third: create skipped')
    const creates = named(fake, 'POST', CREATE)
    expect(creates.map(bodyName)).toEqual(['first', 'first', 'first', 'first'])
    expect(fake.functions.size).toBe(0)
  })
})

describe('a create whose answer came too late', () => {
  it('turns a create that finished after its timeout into an update, never "already exists"', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ slow: {} }))
    fake.fault({ method: 'POST', path: CREATE, delayMs: 1_500 })
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      'request-timeout': '1'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()]).toEqual(['slow'])
    expect(run.log).not.toContain('RESOURCE_ALREADY_EXISTS')
    expect(run.result[0]).toMatchObject({ action: 'create', status: 'done' })
  })
})

describe('logging in with email and password', () => {
  it('logs in once and syncs', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ a: {} }))
    const run = await syncInProcess(
      fake,
      ws.dir,
      passwordInputs(fake.admin.email, fake.admin.password)
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(fake.loginCount).toBe(1)
    expect(fake.functions.has('a')).toBe(true)
    expect(readable(run)).not.toContain(fake.admin.password)
  })

  it('stops at once on a wrong password, naming the inputs to check', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ a: {} }))
    const run = await syncInProcess(
      fake,
      ws.dir,
      passwordInputs(fake.admin.email, 'Wrong-Passw0rd')
    )
    expect(run.exitCode).toBe(1)
    expect(named(fake, 'POST', LOGIN)).toHaveLength(1)
    expect(readable(run)).toContain('email and password')
    expect(readable(run)).not.toContain('Wrong-Passw0rd')
    expect(fake.writeRequests()).toEqual([])
  })

  it('says to use a token when the account requires MFA', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ a: {} }))
    fake.addUser({
      email: 'ci.bot@example.com',
      password: 'Ci-Passw0rd-123',
      mfaRequired: true
    })
    const run = await syncInProcess(
      fake,
      ws.dir,
      passwordInputs('ci.bot@example.com', 'Ci-Passw0rd-123')
    )
    expect(run.exitCode).toBe(1)
    expect(named(fake, 'POST', LOGIN)).toHaveLength(1)
    expect(readable(run)).toContain('requires multi-factor authentication')
    expect(readable(run)).toContain('token and token-secret inputs')
  })

  it.each([
    [212 as const, 'frozen'],
    [213 as const, 'locked']
  ])('stops at once on login code %i (%s)', async (code, word) => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ a: {} }))
    fake.fault({
      method: 'POST',
      path: LOGIN,
      status: 401,
      body: exhErrorBody(code),
      times: Infinity
    })
    const run = await syncInProcess(
      fake,
      ws.dir,
      passwordInputs(fake.admin.email, fake.admin.password)
    )
    expect(run.exitCode).toBe(1)
    expect(named(fake, 'POST', LOGIN)).toHaveLength(1)
    expect(readable(run)).toContain(word)
  })
})

/** A server that records whatever reaches it: where a redirect points. */
async function withTrap(
  test: (url: string, reached: string[]) => Promise<void>
): Promise<void> {
  const reached: string[] = []
  const trap = createServer((req, res) => {
    reached.push(`${req.method ?? ''} ${req.url ?? ''}`)
    res.end('{}')
  })
  await new Promise<void>(resolve => trap.listen(0, '127.0.0.1', resolve))
  const { port } = trap.address() as AddressInfo
  try {
    await test(`http://127.0.0.1:${port}/collect`, reached)
  } finally {
    await new Promise(resolve => trap.close(resolve))
  }
}

/** Every `method path` request is answered with a redirect to `location`. */
function redirect(
  fake: FakeExh,
  method: string,
  path: string,
  location: string
): void {
  fake.fault({
    method,
    path,
    status: 307,
    headers: { Location: location },
    times: Infinity
  })
}

const REGISTER = '/users/v1/register'
const taskUser = {
  environment: { KEY: 'redirected-value' },
  executionCredentials: { permissions: ['VIEW_DOCUMENTS'] }
}

describe('a request answered with a redirect', () => {
  it.each([
    ['the listing', 'GET', LIST, {}],
    ['a create', 'POST', CREATE, {}],
    ['an update', 'PUT', `${CREATE}moved`, {}],
    ["a task user's registration (its password)", 'POST', REGISTER, taskUser],
    ["a task user's login (its password)", 'POST', LOGIN, taskUser]
  ] as const)('fails %s and sends it nowhere else', (_, method, path, fields) =>
    withTrap(async (location, reached) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(tasks({ moved: fields }))
      if (path.endsWith('moved')) fake.seedFunction({ name: 'moved' })
      redirect(fake, method, path, location)
      const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
      expect(run.exitCode).toBe(1)
      expect(readable(run)).toMatch(/307/)
      expect(reached).toEqual([])
      expect(named(fake, method, path).length).toBeGreaterThan(0)
      expect(fake.functions.has('moved')).toBe(path.endsWith('moved'))
      // SPEC section 3's reason when the listing is what failed.
      if (method === 'GET') {
        expect(run.result[0]?.error).toBe('not started: listing failed')
      }
    })
  )

  it("fails the login with the action's password and sends it nowhere else", () =>
    withTrap(async (location, reached) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(tasks({ a: {} }))
      redirect(fake, 'POST', LOGIN, location)
      const run = await syncInProcess(
        fake,
        ws.dir,
        passwordInputs(fake.admin.email, fake.admin.password)
      )
      expect(run.exitCode).toBe(1)
      expect(readable(run)).toMatch(/307/)
      expect(reached).toEqual([])
      expect(named(fake, 'POST', LOGIN).length).toBeGreaterThan(0)
      expect(fake.writeRequests()).toEqual([])
    }))
})

describe("a task user's login answered without tokens", () => {
  it('fails that task instead of storing empty tokens', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ moved: taskUser }))
    fake.fault({ method: 'POST', path: LOGIN, status: 200, body: {} })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode).toBe(1)
    expect(run.result[0]).toMatchObject({ name: 'moved', status: 'failed' })
    expect(run.result[0]?.error).toMatch(/the answer held no tokens/)
    expect(fake.functions.has('moved')).toBe(false)
  })
})
