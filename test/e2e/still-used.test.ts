// SPEC section 12 on the bundle: a function that a schedule, a dispatcher
// or a schema transition still runs is not deleted, by `prune` or by
// `command: delete`; the plan shows the delete blocked; `force-delete`
// deletes it with a warning; a lookup the token may not make blocks too.

import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { syncWith } from './harness.js'
import { encodeMarker } from '../../src/marker.js'
import { MARKER_VARIABLE } from '../../src/task.js'
import { markdownText } from '../../src/safe-text.js'

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

const LOOKUPS = ['/tasks/v1/schedules', '/dispatchers/v1/', '/data/v1/']

/**
 * Four functions of this repository: one run by a schedule, one by a
 * dispatcher, one by a schema's transition, and one nothing runs.
 */
function seedUses(fake: FakeExh): { scheduleId: string } {
  for (const name of ['by-schedule', 'by-dispatcher', 'by-schema', 'free']) {
    fake.seedFunction({ name, environmentVariables: ownMarker() })
  }
  const { id } = fake.seedSchedule({ functionName: 'by-schedule' })
  fake.seedDispatcher({
    name: 'on-register',
    actions: [
      { type: 'mail', templateId: 'abc' },
      { type: 'task', functionName: 'by-dispatcher' }
    ]
  })
  fake.seedSchema({
    name: 'measurement',
    transitions: [
      {
        name: 'analyze',
        afterActions: [{ type: 'task', functionName: 'by-schema' }]
      }
    ]
  })
  return { scheduleId: id }
}

/** Each list read exactly once in the run, whatever it deleted. */
function expectEachListReadOnce(fake: FakeExh): void {
  const reads = LOOKUPS.map(
    path =>
      fake.requests.filter(r => r.method === 'GET' && r.path === path).length
  )
  expect(reads).toEqual([1, 1, 1])
}

const blockedErrors = (scheduleId: string) => ({
  'by-dispatcher': 'still used by dispatcher on-register',
  'by-schedule': `still used by schedule ${scheduleId}`,
  'by-schema': 'still used by schema measurement transition analyze'
})

describe('a function something still runs', () => {
  it('is not deleted by command: delete, which fails naming what runs it', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    const { scheduleId } = seedUses(fake)
    const run = await syncWith(fake, ws.dir, {
      command: 'delete',
      tasks: 'by-*\nfree'
    })
    expect(run.exitCode, run.log).toBe(1)
    expect(
      Object.fromEntries(run.result.map(r => [r.name, [r.status, r.error]]))
    ).toEqual({
      ...Object.fromEntries(
        Object.entries(blockedErrors(scheduleId)).map(([name, error]) => [
          name,
          ['failed', error]
        ])
      ),
      free: ['done', undefined]
    })
    expect([...fake.functions.keys()].sort()).toEqual([
      'by-dispatcher',
      'by-schedule',
      'by-schema'
    ])
    expect(run.stdout).toMatch(
      /^::error title=Delete failed::by-schema: still used by schema measurement transition analyze$/m
    )
    expectEachListReadOnce(fake)
  })

  it('shows as blocked in the plan of command: delete (status planned), and nothing is written', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    const { scheduleId } = seedUses(fake)
    const run = await syncWith(fake, ws.dir, {
      command: 'delete',
      tasks: 'by-*\nfree',
      'dry-run': 'true'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.map(r => [r.name, r.status])).toEqual([
      ['by-dispatcher', 'planned'],
      ['by-schedule', 'planned'],
      ['by-schema', 'planned'],
      ['free', 'planned']
    ])
    for (const [name, why] of Object.entries(blockedErrors(scheduleId))) {
      expect(run.summary).toContain(
        `| \`${name}\` | delete | 📝 planned | \`blocked\` ${markdownText(why)} |`
      )
      expect(run.stdout).toContain(
        `::warning::${name}: the delete is blocked: ${why} (force-delete: true deletes it anyway)`
      )
    }
    expect(run.summary).toMatch(/\| `free` \| delete \| 📝 planned \| {2}\|/)
    expect(fake.writeRequests()).toEqual([])
    expectEachListReadOnce(fake)
  })

  it('is not pruned: the prune fails naming what runs it, in the plan and in the run', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'exports.handler = () => 1\n'
    })
    const { scheduleId } = seedUses(fake)
    const blocked = blockedErrors(scheduleId)

    const plan = await syncWith(fake, ws.dir, {
      path: 'tasks',
      prune: 'true',
      'dry-run': 'true'
    })
    expect(plan.exitCode, plan.log).toBe(0)
    for (const [name, why] of Object.entries(blocked)) {
      expect(plan.summary).toContain(
        `| \`${name}\` | delete | 📝 planned | \`blocked\` ${markdownText(why)} |`
      )
    }
    expect(fake.writeRequests()).toEqual([])
    expectEachListReadOnce(fake)

    fake.clearLog()
    const run = await syncWith(fake, ws.dir, { path: 'tasks', prune: 'true' })
    expect(run.exitCode, run.log).toBe(1)
    expect(
      Object.fromEntries(run.result.map(r => [r.name, [r.status, r.error]]))
    ).toEqual({
      a: ['done', undefined],
      ...Object.fromEntries(
        Object.entries(blocked).map(([name, error]) => [
          name,
          ['failed', error]
        ])
      ),
      free: ['done', undefined]
    })
    expect([...fake.functions.keys()].sort()).toEqual([
      'a',
      'by-dispatcher',
      'by-schedule',
      'by-schema'
    ])
    expect(run.stdout).toContain(
      `::error title=Sync failed::by-schedule: still used by schedule ${scheduleId}`
    )
    expectEachListReadOnce(fake)
  })

  it('is deleted with force-delete, which says what still ran it', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    const { scheduleId } = seedUses(fake)
    const run = await syncWith(fake, ws.dir, {
      command: 'delete',
      tasks: 'by-*',
      'force-delete': 'true'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(fake.functions.size).toBe(1)
    expect(run.result.map(r => [r.name, r.status])).toEqual([
      ['by-dispatcher', 'done'],
      ['by-schedule', 'done'],
      ['by-schema', 'done']
    ])
    for (const [name, why] of Object.entries(blockedErrors(scheduleId))) {
      expect(run.stdout).toContain(
        `::warning::${name}: deleted with force-delete (${why})`
      )
      expect(run.summary).toContain(
        `| ✅ done | \`force-delete\` ${markdownText(why)} |`
      )
    }
  })
})

describe('what runs a function, when the token may not look', () => {
  it('fails the delete naming the permission; force-delete deletes with a warning', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    fake.seedFunction({ name: 'free' })
    fake.revokeAdminPermission('VIEW_TASK_SCHEDULES')
    const refused = await syncWith(fake, ws.dir, {
      command: 'delete',
      name: 'free'
    })
    const why =
      'could not check what still uses it: the token lacks VIEW_TASK_SCHEDULES to list schedules (NO_PERMISSION_EXCEPTION)'
    expect(refused.exitCode, refused.log).toBe(1)
    expect(refused.result).toEqual([
      expect.objectContaining({ name: 'free', status: 'failed', error: why })
    ])
    expect(fake.functions.has('free')).toBe(true)

    const forced = await syncWith(fake, ws.dir, {
      command: 'delete',
      name: 'free',
      'force-delete': 'true'
    })
    expect(forced.exitCode, forced.log).toBe(0)
    expect(forced.result).toMatchObject([{ name: 'free', status: 'done' }])
    expect(forced.stdout).toContain(
      `::warning::free: deleted with force-delete (${why})`
    )
    expect(fake.functions.has('free')).toBe(false)
  })
})
