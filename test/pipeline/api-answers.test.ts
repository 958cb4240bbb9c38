// API answers the action reads without trusting them: one odd function
// never stops the others.
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { syncInProcess } from '../support/in-process.js'

describe('a function whose updateTimestamp is no date', () => {
  it('lists the other functions and plans the tasks instead of failing the listing', async () => {
    await using fake = await startFakeExh()
    // The SDK turns it into an Invalid Date; toISOString then throws.
    fake.seedFunction({ name: 'odd', updateTimestamp: 'not a date' })
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    const list = await syncInProcess(fake, ws.dir, { command: 'list' })
    expect.soft(list.exitCode, list.log).toBe(0)
    const plan = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      'dry-run': 'true'
    })
    expect(plan.result, plan.log).toMatchObject([
      { name: 'a', status: 'planned' }
    ])
  })
})
