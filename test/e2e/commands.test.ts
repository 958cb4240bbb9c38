import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace } from '../support/workspace.js'
import { syncWith } from './harness.js'

describe('command: list and delete', () => {
  it('lists the remote functions as an output and a summary table', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    fake.seedFunction({ name: 'alpha', description: 'First' })
    fake.seedFunction({ name: 'beta', description: 'Second | piped' })
    const run = await syncWith(fake, ws.dir, { command: 'list' })
    expect(run.exitCode, run.log).toBe(0)
    const functions = JSON.parse(run.outputs.functions ?? '[]') as {
      name: string
      description: string
      updateTimestamp: string
    }[]
    expect(functions.map(f => [f.name, f.description])).toEqual([
      ['alpha', 'First'],
      ['beta', 'Second | piped']
    ])
    expect(functions[0]?.updateTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(run.summary).toContain('| `alpha` | First |')
    expect(run.summary).toContain('Second \\| piped')
    expect(fake.writeRequests()).toEqual([])
  })

  it('deletes the named functions, reports a missing name, and keeps users and roles', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    for (const name of ['old-a', 'old-b', 'keep']) fake.seedFunction({ name })
    const roles = fake.roles.size
    const users = fake.users.size
    const run = await syncWith(fake, ws.dir, {
      command: 'delete',
      tasks: 'old-*\nnever-existed'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()]).toEqual(['keep'])
    expect(run.result.map(r => [r.name, r.action, r.status])).toEqual([
      ['old-a', 'delete', 'done'],
      ['old-b', 'delete', 'done']
    ])
    expect(run.outputs.deleted).toBe('2')
    expect(run.log).toContain('no function matches "never-existed"')
    expect(run.summary).toContain('users and roles are never removed')
    expect([fake.roles.size, fake.users.size]).toEqual([roles, users])
  })

  it('plans a delete in a dry run without deleting', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    fake.seedFunction({ name: 'gone' })
    const run = await syncWith(fake, ws.dir, {
      command: 'delete',
      name: 'gone',
      'dry-run': 'true'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result).toMatchObject([
      { name: 'gone', action: 'delete', status: 'planned' }
    ])
    expect(fake.functions.has('gone')).toBe(true)
    expect(fake.writeRequests()).toEqual([])
  })
})
