// What still runs a function, in-process against the fake: the requests a
// run makes for it (none when nothing is deleted, each list once when
// something is), and what the readers find in the API's shapes.

import { describe, expect, it } from 'vitest'
import { taskConfig } from '../support/workspace.js'
import { syncInProcess } from '../support/in-process.js'
import { fakeWithWorkspace } from '../support/with-fake.js'
import type { FakeExh } from '../fake-exh/index.js'
import { encodeMarker } from '../../src/marker.js'
import { MARKER_VARIABLE } from '../../src/task.js'

/** The marker of a function this repository deployed from `tasks`. */
const ownMarker = () => ({
  [MARKER_VARIABLE]: {
    value: encodeMarker({
      fingerprint: 'f',
      repository: 'org/tasks-repo',
      scope: 'tasks'
    })
  }
})

const task = {
  'tasks/a/task-config.json': taskConfig('a'),
  'tasks/a/build/index.js': 'exports.handler = () => 1\n'
}

const requestLine = (fake: FakeExh): string[] =>
  fake.requests.map(r => `${r.method} ${r.path}`)

const LOOKUPS = ['/tasks/v1/schedules', '/dispatchers/v1/', '/data/v1/']

describe('the lookups before a delete', () => {
  it('are not made by a run that deletes nothing: an unchanged re-sync with prune makes the same requests as without', async () => {
    await using ctx = await fakeWithWorkspace(task)
    const { fake, ws } = ctx
    // Something that runs `a`: it is never looked at, since nothing is deleted.
    fake.seedSchedule({ functionName: 'a' })
    const first = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(first.exitCode, first.log).toBe(0)

    fake.clearLog()
    const unchanged = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(unchanged.result).toMatchObject([{ name: 'a', action: 'unchanged' }])
    const without = requestLine(fake)
    fake.clearLog()
    const pruning = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      prune: 'true'
    })
    expect(pruning.exitCode, pruning.log).toBe(0)
    expect(requestLine(fake)).toEqual(without)
    expect(without).toEqual([
      'GET /users/v1/me',
      'GET /tasks/v1/functions/',
      'GET /tasks/v1/functions/a'
    ])
  })

  it('are not made by a delete of a name that does not exist', async () => {
    await using ctx = await fakeWithWorkspace({})
    const { fake, ws } = ctx
    const run = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      name: 'missing'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(
      fake.requests.filter(r => LOOKUPS.includes(r.path)).map(r => r.path)
    ).toEqual([])
  })

  it('read each list once (every page of it) however many functions are deleted, and find every kind of task action', async () => {
    await using ctx = await fakeWithWorkspace({})
    const { fake, ws } = ctx
    fake.seedFunction({ name: 'used' })
    for (const name of ['f1', 'f2', 'f3']) {
      fake.seedFunction({ name, environmentVariables: ownMarker() })
    }
    // 55 schedules: two pages; the last one runs `used`.
    for (let i = 0; i < 54; i++) fake.seedSchedule({ functionName: 'other' })
    const late = fake.seedSchedule({ functionName: 'used' })
    fake.seedDispatcher({
      name: 'twice',
      actions: [
        { type: 'task', functionName: 'used' },
        { type: 'task', functionName: 'used' }
      ]
    })
    const unnamed = fake.seedDispatcher({
      actions: [{ type: 'task', functionName: 'used' }]
    })
    // A mail action and a set action never count, whatever their fields.
    fake.seedDispatcher({
      name: 'mail',
      actions: [{ type: 'mail', functionName: 'used' }]
    })
    fake.seedSchema({
      name: 'intake',
      creationActions: [{ type: 'task', functionName: 'used' }],
      transitions: [
        {
          actions: [{ type: 'set', field: 'functionName', value: 'used' }],
          afterActions: [{ type: 'task', functionName: 'used' }]
        }
      ]
    })
    const schema = fake.references.schemas[0]
    const run = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      name: 'used'
    })
    expect(run.exitCode, run.log).toBe(1)
    expect(run.result).toMatchObject([
      {
        name: 'used',
        status: 'failed',
        error: `still used by schedule ${late.id}, dispatcher twice, dispatcher ${unnamed.id}, schema intake creation transition, schema intake transition ${schema?.transitions[0]?.id ?? '?'}`
      }
    ])
    expect(
      fake.requests.filter(r => LOOKUPS.includes(r.path)).map(r => r.path)
    ).toHaveLength(4)
    expect(
      LOOKUPS.map(path => fake.requests.filter(r => r.path === path).length)
    ).toEqual([2, 1, 1])

    // Three deletes in one run: still each list read once.
    fake.clearLog()
    const three = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      tasks: 'f*'
    })
    expect(three.result.map(r => [r.name, r.status])).toEqual([
      ['f1', 'done'],
      ['f2', 'done'],
      ['f3', 'done']
    ])
    const counts = LOOKUPS.map(
      path => fake.requests.filter(r => r.path === path).length
    )
    expect(counts).toEqual([2, 1, 1])
  })

  it('names five users and counts the rest', async () => {
    await using ctx = await fakeWithWorkspace({})
    const { fake, ws } = ctx
    fake.seedFunction({ name: 'busy' })
    for (let i = 1; i <= 8; i++) {
      fake.seedDispatcher({
        name: `d${i}`,
        actions: [{ type: 'task', functionName: 'busy' }]
      })
    }
    const run = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      name: 'busy'
    })
    expect(run.result).toMatchObject([
      {
        status: 'failed',
        error:
          'still used by dispatcher d1, dispatcher d2, dispatcher d3, dispatcher d4, dispatcher d5 and 3 more'
      }
    ])
    expect(fake.functions.has('busy')).toBe(true)
  })

  it('fail a delete naming VIEW_DISPATCHERS when the token may not list dispatchers, and plan it blocked', async () => {
    await using ctx = await fakeWithWorkspace({})
    const { fake, ws } = ctx
    fake.seedFunction({ name: 'x' })
    fake.revokeAdminPermission('VIEW_DISPATCHERS')
    const why =
      'could not check what still uses it: the token lacks VIEW_DISPATCHERS to list dispatchers (NO_PERMISSION_EXCEPTION)'
    const plan = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      name: 'x',
      'dry-run': 'true'
    })
    expect(plan.exitCode, plan.log).toBe(0)
    expect(plan.result).toMatchObject([{ name: 'x', status: 'planned' }])
    expect(plan.report.results[0]?.details).toEqual([
      { field: 'blocked', note: why }
    ])
    const run = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      name: 'x'
    })
    expect(run.result).toMatchObject([
      { name: 'x', status: 'failed', error: why }
    ])
    expect(fake.functions.has('x')).toBe(true)
  })

  it('fail a delete when a listing answers with no list: an odd answer never means that nothing uses the function', async () => {
    await using ctx = await fakeWithWorkspace({})
    const { fake, ws } = ctx
    fake.seedFunction({ name: 'x' })
    fake.fault({
      method: 'GET',
      path: '/tasks/v1/schedules',
      status: 200,
      body: {
        data: { functionName: 'x' },
        page: { total: 1, offset: 0, limit: 50 }
      }
    })
    const run = await syncInProcess(fake, ws.dir, {
      command: 'delete',
      name: 'x'
    })
    expect(run.result).toMatchObject([{ name: 'x', status: 'failed' }])
    expect(run.result[0]?.error).toMatch(/^could not check what still uses it/)
    expect(fake.functions.has('x')).toBe(true)
  })
})
