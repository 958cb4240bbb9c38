// Issue 5: fault injection and concurrency, end to end through the bundled
// action against the fake API. Timing assertions use the fake's own request
// timestamps; lower bounds only where the product guarantees them.
import { describe, expect, it, vi } from 'vitest'
import {
  exhErrorBody,
  startFakeExh,
  type FakeExh,
  type LoggedRequest
} from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import type { ActionRun } from '../support/run-action.js'
import { syncWith } from './harness.js'

const LIST = '/tasks/v1/functions/'
const LOGIN = '/auth/v2/oauth1/tokens'

/** Inputs that log in with email and password instead of the admin token. */
function passwordInputs(
  email: string,
  password: string
): Record<string, string> {
  return { path: 'tasks', token: '', 'token-secret': '', email, password }
}
const CREATE = '/tasks/v1/functions/'

/** One folder per task under `tasks/`, each with a tiny handler. */
function tasks(
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

function named(fake: FakeExh, method: string, path: string): LoggedRequest[] {
  return fake.requests
    .filter(r => r.method === method && r.path === path)
    .sort((a, b) => a.startedAt - b.startedAt)
}

function bodyName(request: LoggedRequest): unknown {
  return (request.body as { name?: unknown } | undefined)?.name
}

/** The most requests that were being handled at the same moment. */
function maxOverlap(requests: LoggedRequest[]): number {
  // At equal times an end sorts first: back-to-back is not overlapping.
  const events = requests
    .flatMap(r => [
      { at: r.startedAt, step: 1 },
      { at: r.endedAt, step: -1 }
    ])
    .sort((a, b) => a.at - b.at || a.step - b.step)
  let current = 0
  let max = 0
  for (const event of events) {
    current += event.step
    max = Math.max(max, current)
  }
  return max
}

/** Everything a user can read, without the runner's own `::add-mask::` lines. */
function readable(run: ActionRun): string {
  const log = run.log
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
  return [log, JSON.stringify(run.outputs), run.summary].join('\n')
}

describe('faults and concurrency end to end (bundled action, fake API)', () => {
  it('retries a listing that answers 503 twice, with the SDK retries off', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ alpha: {} }))
    fake.fault({ method: 'GET', path: LIST, times: 2, status: 503 })
    const run = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    // With the SDK's own GET retries on, each attempt would be 5 requests.
    expect(named(fake, 'GET', LIST).map(r => r.status)).toEqual([503, 503, 200])
    expect(fake.pendingFaults()).toEqual([])
    expect([...fake.functions.keys()]).toEqual(['alpha'])
    expect(run.result).toMatchObject([
      { name: 'alpha', action: 'create', status: 'done' }
    ])
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
    const run = await syncWith(fake, ws.dir, { path: 'tasks' })
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
      const run = await syncWith(fake, ws.dir, { path: 'tasks' })
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

  it('waits for Retry-After after a 429 on a create and on an update', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      tasks({ fresh: {}, known: { memoryLimit: 256 } })
    )
    fake.seedFunction({ name: 'known', memoryLimit: 128 })
    const tooMany = { status: 429, headers: { 'Retry-After': '2' } }
    fake.fault({ method: 'POST', path: CREATE, ...tooMany })
    fake.fault({ method: 'PUT', path: '/tasks/v1/functions/known', ...tooMany })
    const run = await syncWith(fake, ws.dir, {
      path: 'tasks',
      concurrency: '2'
    })
    expect(run.exitCode, run.log).toBe(0)
    for (const [method, path] of [
      ['POST', CREATE],
      ['PUT', '/tasks/v1/functions/known']
    ] as const) {
      const [refused, retried, ...more] = named(fake, method, path)
      expect(more).toEqual([])
      expect(refused?.status).toBe(429)
      expect(retried?.status).toBe(200)
      const waitedMs = (retried?.startedAt ?? 0) - (refused?.endedAt ?? 0)
      console.info(`${method} retried ${Math.round(waitedMs)} ms after 429`)
      expect(waitedMs).toBeGreaterThanOrEqual(2000)
      expect(waitedMs).toBeLessThan(10_000)
    }
    expect(fake.functions.get('fresh')).toBeDefined()
    expect(fake.functions.get('known')?.memoryLimit).toBe(256)
  })

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
    const run = await syncWith(
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
      expect(run.log).toContain(`::add-mask::${secret}`)
      expect(readable(run)).not.toContain(secret)
    }
    expect(fake.functions.has('secretive')).toBe(false)
    expect(fake.functions.get('steady')?.timeLimit).toBe(60)
  })

  it.each([
    ['token-secret', 'wrong-token-secret-value'],
    ['token', 'wrong-token-value-0123456789']
  ])(
    'stops at once on a 401 from the token check (bad %s), naming the inputs',
    async (input, wrong) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(tasks({ alpha: {} }))
      const run = await syncWith(fake, ws.dir, {
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
      expect(run.result[0]?.error).toBe('not started: login failed')
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

  it('gives up on an API slower than request-timeout, saying so, without hanging', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      tasks({ quick: {}, slow: { timeLimit: 60 } })
    )
    fake.seedFunction({ name: 'slow', timeLimit: 30 })
    const slowPath = '/tasks/v1/functions/slow'
    fake.fault({
      method: 'PUT',
      path: slowPath,
      delayMs: 3000,
      times: Infinity
    })
    const run = await syncWith(fake, ws.dir, {
      path: 'tasks',
      'request-timeout': '1',
      concurrency: '2'
    })
    expect(run.exitCode).toBe(1)
    const [quick, slow] = run.result
    expect(quick).toMatchObject({ name: 'quick', status: 'done' })
    expect(slow).toMatchObject({ name: 'slow', status: 'failed' })
    expect(slow?.error).toMatch(/timed out after 1 s/)
    expect(slow?.error).toMatch(/gave up after 4 attempts/)
    expect(fake.functions.has('quick')).toBe(true)
    // The fake logs a request when it ends: its delay outlives the action.
    await vi.waitFor(
      () => {
        expect(named(fake, 'PUT', slowPath)).toHaveLength(4)
      },
      { timeout: 5000, interval: 50 }
    )
    const starts = named(fake, 'PUT', slowPath).map(r => r.startedAt)
    const gaps = starts.slice(1).map((at, i) => at - (starts[i] ?? 0))
    console.info(
      `request-timeout 1 s: attempts ${gaps.map(Math.round).join(', ')} ms apart`
    )
    // Each attempt was abandoned after 1 s, well before the fake answered.
    expect(gaps[0]).toBeGreaterThanOrEqual(1000)
    expect(gaps[0]).toBeLessThan(3000)
  })

  it('on SIGINT aborts in-flight creates, skips the rest and still reports', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      tasks({ one: {}, two: {}, three: {}, four: {} })
    )
    // Interrupt once both creates of the first round are in flight.
    fake.fault({ method: 'POST', path: CREATE, delayMs: 30_000, times: 2 })
    fake.fault({ method: 'POST', path: CREATE, delayMs: 30_000, times: 99 })
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks', concurrency: '2' },
      { interruptWhen: () => fake.pendingFaults().length === 1 }
    )
    expect(run.exitCode).toBe(1)
    expect(run.exitAfterSignalMs).toBeLessThan(5000)
    expect(run.result.map(r => [r.name, r.status, r.error])).toEqual([
      ['four', 'failed', 'outcome unknown (cancelled)'],
      ['one', 'failed', 'outcome unknown (cancelled)'],
      ['three', 'skipped', 'not started: cancelled'],
      ['two', 'skipped', 'not started: cancelled']
    ])
    expect(run.outputs).toMatchObject({ failed: '2', created: '0' })
    expect(run.summary).toContain('outcome unknown (cancelled)')
    // Nothing new started after the signal: no third create reached the fake.
    expect(fake.pendingFaults()).toHaveLength(1)
    expect(fake.pendingFaults()[0]?.times).toBe(99)
    expect(fake.functions.size).toBe(0)
  })

  it('on SIGINT during a Retry-After wait sends no retry', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ patient: {} }))
    fake.fault({
      method: 'POST',
      path: CREATE,
      status: 429,
      headers: { 'Retry-After': '30' }
    })
    let throttledAt: number | undefined
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks' },
      {
        // Into the 30 s wait: the 429 is answered, the retry not yet due.
        interruptWhen: () => {
          if (!fake.requests.some(r => r.status === 429)) return false
          throttledAt ??= performance.now()
          return performance.now() - throttledAt > 300
        }
      }
    )
    expect(run.exitCode).toBe(1)
    expect(run.exitAfterSignalMs).toBeLessThan(5000)
    expect(run.result).toMatchObject([
      {
        name: 'patient',
        status: 'failed',
        error: 'outcome unknown (cancelled)'
      }
    ])
    expect(
      fake.requests
        .filter(r => r.path.startsWith(CREATE))
        .map(r => `${r.method} ${r.path} ${r.status}`)
    ).toEqual(['GET /tasks/v1/functions/ 200', 'POST /tasks/v1/functions/ 429'])
    expect(fake.functions.size).toBe(0)
  })

  it.each([2, 4])(
    'creates 8 tasks at most %i at a time, in 8/C rounds',
    async concurrency => {
      await using fake = await startFakeExh()
      const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
      await using ws = await makeWorkspace(
        tasks(Object.fromEntries(names.map(name => [name, {}])))
      )
      const delayMs = 300
      fake.fault({ method: 'POST', path: CREATE, delayMs, times: Infinity })
      const run = await syncWith(fake, ws.dir, {
        path: 'tasks',
        concurrency: String(concurrency)
      })
      expect(run.exitCode, run.log).toBe(0)
      const creates = named(fake, 'POST', CREATE)
      expect(creates.map(bodyName).sort()).toEqual(names)
      expect(creates.every(r => r.status === 200)).toBe(true)
      const overlap = maxOverlap(creates)
      const span =
        Math.max(...creates.map(r => r.endedAt)) -
        Math.min(...creates.map(r => r.startedAt))
      console.info(
        `concurrency ${concurrency}: max overlap ${overlap}, span ${Math.round(span)} ms`
      )
      expect(overlap).toBe(concurrency)
      expect(span).toBeGreaterThanOrEqual(
        (names.length / concurrency) * delayMs * 0.9
      )
      expect([...fake.functions.keys()].sort()).toEqual(names)
    }
  )

  it('with fail-fast skips every task after the first failure', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      tasks({ first: {}, second: {}, third: {} })
    )
    fake.fault({ method: 'POST', path: CREATE, status: 500, times: Infinity })
    const run = await syncWith(fake, ws.dir, {
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
    expect(run.log).toContain('::group::third: create skipped')
    const creates = named(fake, 'POST', CREATE)
    expect(creates.map(bodyName)).toEqual(['first', 'first', 'first', 'first'])
    expect(fake.functions.size).toBe(0)
  })
})

describe('faults found in review', () => {
  it('on SIGINT while planning fails the run and starts nothing', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ a: {}, b: {} }))
    fake.seedFunction({ name: 'a' })
    fake.seedFunction({ name: 'b' })
    fake.fault({
      method: 'GET',
      path: /^\/tasks\/v1\/functions\/[ab]$/,
      delayMs: 20_000,
      times: 2
    })
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks' },
      {
        interruptWhen: () =>
          fake.requests.some(r => r.path === LIST) &&
          fake.pendingFaults().length === 0
      }
    )
    expect(run.exitCode).toBe(1)
    expect(run.exitAfterSignalMs).toBeLessThan(5_000)
    expect(run.result.map(r => [r.name, r.status])).toEqual([
      ['a', 'skipped'],
      ['b', 'skipped']
    ])
    expect(run.summary).toContain('the run was cancelled')
    expect(fake.writeRequests()).toEqual([])
  })

  it('turns a create that finished after its timeout into an update, never "already exists"', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ slow: {} }))
    fake.fault({ method: 'POST', path: CREATE, delayMs: 1_500 })
    const run = await syncWith(fake, ws.dir, {
      path: 'tasks',
      'request-timeout': '1'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()]).toEqual(['slow'])
    expect(run.log).not.toContain('RESOURCE_ALREADY_EXISTS')
    expect(run.result[0]).toMatchObject({ action: 'create', status: 'done' })
  })

  it('exits soon after giving up on a login that never answers', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ a: {} }))
    fake.fault({
      method: 'POST',
      path: LOGIN,
      delayMs: 60_000,
      times: Infinity
    })
    const started = performance.now()
    const run = await syncWith(fake, ws.dir, {
      ...passwordInputs(fake.admin.email, fake.admin.password),
      'request-timeout': '1'
    })
    // Four attempts of 1 s plus back-off, then at most a second to exit:
    // nothing waits for the abandoned logins (60 s each).
    expect(performance.now() - started).toBeLessThan(30_000)
    expect(run.exitCode).toBe(1)
    expect(run.log).toContain('timed out after 1 s (request-timeout)')
  })
})

describe('logging in with email and password', () => {
  it('logs in once and syncs', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ a: {} }))
    const run = await syncWith(
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
    const run = await syncWith(
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
    const run = await syncWith(
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
    const run = await syncWith(
      fake,
      ws.dir,
      passwordInputs(fake.admin.email, fake.admin.password)
    )
    expect(run.exitCode).toBe(1)
    expect(named(fake, 'POST', LOGIN)).toHaveLength(1)
    expect(readable(run)).toContain(word)
  })

  it('waits at least a second after a login throttled with 211, then logs in', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks({ a: {} }))
    fake.fault({
      method: 'POST',
      path: LOGIN,
      status: 401,
      body: exhErrorBody(211)
    })
    const run = await syncWith(
      fake,
      ws.dir,
      passwordInputs(fake.admin.email, fake.admin.password)
    )
    expect(run.exitCode, run.log).toBe(0)
    const logins = named(fake, 'POST', LOGIN)
    expect(logins.map(r => r.status)).toEqual([401, 200])
    const [first, second] = logins
    expect(
      (second?.startedAt ?? 0) - (first?.endedAt ?? 0)
    ).toBeGreaterThanOrEqual(1000)
  })
})
