// What takes time, on the bundle as the runner runs it: Retry-After waits,
// throttled logins, signals, the number of writes at once. Timing
// assertions use the fake's own request timestamps; lower bounds only where
// the product guarantees them. These run alone (the `timing` project).
import { describe, expect, it } from 'vitest'
import {
  exhErrorBody,
  startFakeExh,
  type LoggedRequest
} from '../fake-exh/index.js'
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
import { syncWith } from './harness.js'

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

describe('waits, signals and concurrency', () => {
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
})

describe('cancelling and giving up', () => {
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
