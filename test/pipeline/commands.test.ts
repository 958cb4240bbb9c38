// command: list and delete through the pipeline in-process: the outputs,
// the summary and the log's words (the runner's channel is not the point).
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace } from '../support/workspace.js'
import { syncInProcess } from '../support/in-process.js'
import { encodeMarker } from '../../src/marker.js'
import { MARKER_VARIABLE } from '../../src/task.js'

/** The marker the action leaves on a function of the test repository. */
function ownMarker(): Record<string, { value: string }> {
  return {
    [MARKER_VARIABLE]: {
      value: encodeMarker({
        fingerprint: 'f',
        repository: 'org/tasks-repo',
        scope: 'tasks'
      })
    }
  }
}

describe('command: list and delete', () => {
  it('lists the remote functions as an output and a summary table', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    fake.seedFunction({ name: 'alpha', description: 'First' })
    fake.seedFunction({
      name: 'beta',
      description: 'Second | piped',
      environmentVariables: ownMarker()
    })
    const run = await syncInProcess(fake, ws.dir, { command: 'list' })
    expect(run.exitCode, run.log).toBe(0)
    const functions = JSON.parse(run.outputs.functions ?? '[]') as {
      name: string
      description: string
      updateTimestamp: string
      repository?: string
      drift: string
    }[]
    expect(
      functions.map(f => [f.name, f.description, f.repository, f.drift])
    ).toEqual([
      ['alpha', 'First', undefined, 'unmanaged'],
      // A marker written before the deployment record: no commit, no run.
      ['beta', 'Second | piped', 'org/tasks-repo', 'unknown']
    ])
    expect(functions[0]?.updateTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/)
    expect(run.summary).toContain('| `alpha` | First |')
    expect(run.summary).toContain('Second \\| piped')
    // The log has the table too, one line per function.
    expect(run.log).toMatch(/^2 functions:$/m)
    expect(run.log).toMatch(
      /^ {2}alpha · drift: unmanaged · updated \d{4}-[^ ]+ · First$/m
    )
    expect(fake.writeRequests()).toEqual([])
  })

  it('deletes the functions of this repository that tasks matches, reports a missing name, and keeps users and roles', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    for (const name of ['old-a', 'old-b', 'keep']) {
      fake.seedFunction({ name, environmentVariables: ownMarker() })
    }
    const roles = fake.roles.size
    const users = fake.users.size
    const run = await syncInProcess(fake, ws.dir, {
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
    expect(run.log).toContain(
      'no function of this repository matches "never-existed"'
    )
    expect(run.summary).toContain('users and roles are never removed')
    expect([fake.roles.size, fake.users.size]).toEqual([roles, users])
  })

  it('plans a delete in a dry run without deleting', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    fake.seedFunction({ name: 'gone' })
    const run = await syncInProcess(fake, ws.dir, {
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

  it('deletes a function by its exact name whoever made it, as the CLI does', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    fake.seedFunction({ name: 'by-hand' })
    fake.seedFunction({ name: 'by-hand-2' })
    const run = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      name: 'by-hand'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()]).toEqual(['by-hand-2'])
    expect(run.result).toMatchObject([
      { name: 'by-hand', action: 'delete', status: 'done' }
    ])
  })

  it('takes a name of * literally: nothing is deleted, the name is not found', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    for (const name of ['a', 'b']) fake.seedFunction({ name })
    const run = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      name: '*'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()]).toEqual(['a', 'b'])
    expect(fake.writeRequests()).toEqual([])
    expect(run.result).toEqual([
      { name: '*', action: 'delete', status: 'skipped', error: 'not found' }
    ])
    expect(run.log).toMatch(/^warning: /m)
    expect(run.log).toContain('no function is named "*"')
  })

  it("deletes with a tasks pattern only the functions carrying this repository's marker", async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    fake.seedFunction({ name: 'ours', environmentVariables: ownMarker() })
    fake.seedFunction({ name: 'by-hand' })
    fake.seedFunction({
      name: 'theirs',
      environmentVariables: {
        [MARKER_VARIABLE]: {
          value: encodeMarker({
            fingerprint: 'f',
            repository: 'org/other-repo',
            repositoryId: '7',
            scope: 'tasks'
          })
        }
      }
    })
    const run = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      tasks: '*'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()].sort()).toEqual(['by-hand', 'theirs'])
    expect(run.result.map(r => [r.name, r.status])).toEqual([['ours', 'done']])
  })

  it('refuses a delete with neither name nor tasks before any call', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    fake.seedFunction({ name: 'a' })
    const run = await syncInProcess(fake, ws.dir, { command: 'delete' })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toMatch(/name, tasks: command: delete needs/)
    expect(fake.requests).toEqual([])
    expect(fake.functions.has('a')).toBe(true)
  })

  it('reports a delete whose answer was lost and whose retry finds nothing as done', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    fake.seedFunction({ name: 'gone-twice' })
    fake.fault({
      method: 'DELETE',
      path: /gone-twice$/,
      drop: 'after'
    })
    const run = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      name: 'gone-twice'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(
      fake.requests.filter(r => r.method === 'DELETE').map(r => r.status)
    ).toEqual([0, 404])
    expect(run.result).toMatchObject([
      { name: 'gone-twice', action: 'delete', status: 'done' }
    ])
    expect(fake.functions.has('gone-twice')).toBe(false)
  })
})
