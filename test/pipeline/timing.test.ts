// Deadlines measured in-process: the action's own request-timeout and
// back-off waited for real, so this file runs in the timing project (alone,
// one file at a time), never beside the parallel tests.
import { describe, expect, it, vi } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace } from '../support/workspace.js'
import { named, tasks } from '../support/fault-helpers.js'
import { syncInProcess } from '../support/in-process.js'

describe('request-timeout, waited for real', () => {
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
    const run = await syncInProcess(
      fake,
      ws.dir,
      {
        path: 'tasks',
        'request-timeout': '1',
        concurrency: '2'
      },
      { realWaits: true }
    )
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
})
