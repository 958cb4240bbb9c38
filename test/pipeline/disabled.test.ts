// A disabled function (`enabled: false`) is shown as such in the plan, the
// summary and `list`, and an update never enables it (no `enabled` sent).

import { describe, expect, it } from 'vitest'
import { taskConfig } from '../support/workspace.js'
import { syncInProcess } from '../support/in-process.js'
import { fakeWithWorkspace } from '../support/with-fake.js'

const files = (description: string) => ({
  'tasks/a/task-config.json': taskConfig('a', { description }),
  'tasks/a/build/index.js': 'exports.handler = () => 1\n'
})

describe('a disabled function', () => {
  it('is planned and updated as disabled, and stays disabled', async () => {
    await using ctx = await fakeWithWorkspace(files('first'))
    const { fake, ws } = ctx
    const first = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(first.exitCode, first.log).toBe(0)
    expect(first.summary).not.toContain('disabled')
    const stored = fake.functions.get('a')
    if (!stored) throw new Error('a was not created')
    stored.enabled = false
    await ws.write({
      'tasks/a/task-config.json': taskConfig('a', { description: 'second' })
    })

    const plan = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      'dry-run': 'true'
    })
    expect(plan.exitCode, plan.log).toBe(0)
    expect(plan.summary).toMatch(
      /\| `a` \| update \| 📝 planned \| ⏸️ disabled<br>`description`: `first` → `second` \|/
    )
    expect(plan.log).toContain(
      'note: the function is disabled (the action never enables it)'
    )

    fake.clearLog()
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.summary).toContain('| `a` | update | ✅ done | ⏸️ disabled<br>')
    const writes = fake.writeRequests()
    expect(writes.map(w => `${w.method} ${w.path}`)).toEqual([
      'PUT /tasks/v1/functions/a'
    ])
    expect(Object.keys(writes[0]?.body as object)).not.toContain('enabled')
    expect(fake.functions.get('a')).toMatchObject({
      description: 'second',
      enabled: false
    })
  })

  it('is listed as disabled: enabled in each functions entry, a mark in the summary and the log', async () => {
    await using ctx = await fakeWithWorkspace({})
    const { fake, ws } = ctx
    fake.seedFunction({ name: 'on' })
    fake.seedFunction({ name: 'off', enabled: false })
    const run = await syncInProcess(fake, ws.dir, { command: 'list' })
    expect(run.exitCode, run.log).toBe(0)
    const functions = JSON.parse(run.outputs.functions ?? '[]') as {
      name: string
      enabled?: boolean
    }[]
    expect(functions.map(f => [f.name, f.enabled])).toEqual([
      ['on', true],
      ['off', false]
    ])
    expect(run.summary).toContain('| `off` ⏸️ disabled |')
    expect(run.summary).not.toContain('| `on` ⏸️')
    expect(run.log).toMatch(/^ {2}off · disabled · drift: unmanaged/m)
    expect(run.log).toMatch(/^ {2}on · drift: unmanaged/m)
  })
})
