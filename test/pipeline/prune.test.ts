import { describe, expect, it } from 'vitest'
import { taskConfig } from '../support/workspace.js'
import { syncInProcess } from '../support/in-process.js'
import { fakeWithWorkspace } from '../support/with-fake.js'
import { MARKER_VARIABLE } from '../../src/task.js'

function task(name: string): Record<string, string> {
  return {
    [`tasks/${name}/task-config.json`]: taskConfig(name),
    [`tasks/${name}/build/index.js`]: `exports.handler = () => '${name}'\n`
  }
}

/** a, b and c synced by the action; `manual` made by hand; `other` by another scope. */
async function synced() {
  const ctx = await fakeWithWorkspace({
    ...task('a'),
    ...task('b'),
    ...task('c')
  })
  const { fake, ws } = ctx
  const first = await syncInProcess(fake, ws.dir, { path: 'tasks' })
  expect(first.exitCode, first.log).toBe(0)
  fake.seedFunction({ name: 'manual' })
  const elsewhere = await syncInProcess(fake, ws.dir, {
    path: 'tasks/a/task-config.json',
    name: 'other'
  })
  expect(elsewhere.exitCode, elsewhere.log).toBe(0)
  await ws.remove('tasks/b')
  await ws.remove('tasks/c')
  fake.clearLog()
  return ctx
}

describe('prune', () => {
  it('deletes only the functions this action manages in the same scope that no config describes', async () => {
    await using ctx = await synced()
    const run = await syncInProcess(ctx.fake, ctx.ws.dir, {
      path: 'tasks',
      prune: 'true'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...ctx.fake.functions.keys()].sort()).toEqual([
      'a',
      'manual',
      'other'
    ])
    expect(run.result.map(r => [r.name, r.action, r.status])).toEqual([
      ['a', 'unchanged', 'done'],
      ['b', 'delete', 'done'],
      ['c', 'delete', 'done']
    ])
    expect(run.outputs).toMatchObject({ deleted: '2', changed: 'true' })
    expect(run.summary).toContain('users and roles are never removed')
    expect(
      ctx.fake.functions.get('other')?.environmentVariables[MARKER_VARIABLE]
    ).toBeDefined()
  })

  it('never deletes through a listed name that would address another function (a query or a path in the name)', async () => {
    await using ctx = await synced()
    const marker =
      ctx.fake.functions.get('a')?.environmentVariables[MARKER_VARIABLE]
    expect(marker).toBeDefined()
    // A hostile listing: `a?x` reads and deletes /functions/a, which is ours.
    ctx.fake.seedFunction({
      name: 'a?x',
      environmentVariables: { [MARKER_VARIABLE]: marker as { value: string } }
    })
    const run = await syncInProcess(ctx.fake, ctx.ws.dir, {
      path: 'tasks',
      prune: 'true'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(ctx.fake.functions.has('a')).toBe(true)
    expect(run.result.map(r => r.name)).not.toContain('a?x')
  })

  it('plans the deletions in a dry run without deleting', async () => {
    await using ctx = await synced()
    const run = await syncInProcess(ctx.fake, ctx.ws.dir, {
      path: 'tasks',
      prune: 'true',
      'dry-run': 'true'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.filter(r => r.action === 'delete')).toMatchObject([
      { name: 'b', status: 'planned' },
      { name: 'c', status: 'planned' }
    ])
    expect(ctx.fake.writeRequests()).toEqual([])
    expect(run.summary).toContain('2 to delete')
  })

  it('leaves functions outside the tasks filter alone', async () => {
    await using ctx = await synced()
    const run = await syncInProcess(ctx.fake, ctx.ws.dir, {
      path: 'tasks',
      prune: 'true',
      tasks: 'a'
    })
    expect(run.exitCode, run.log).toBe(0)
    // b and c are outside the filter: out of reach of this run.
    expect(ctx.fake.functions.has('b')).toBe(true)
    expect(ctx.fake.functions.has('c')).toBe(true)
    expect(ctx.fake.writeRequests()).toEqual([])
  })

  it('prunes nothing when a task fails', async () => {
    await using ctx = await synced()
    await ctx.ws.write({ 'tasks/a/build/index.js': 'changed\n' })
    ctx.fake.fault({
      method: 'PUT',
      path: '/tasks/v1/functions/a',
      status: 500,
      times: Infinity
    })
    const run = await syncInProcess(ctx.fake, ctx.ws.dir, {
      path: 'tasks',
      prune: 'true'
    })
    expect(run.exitCode).toBe(1)
    expect(ctx.fake.functions.has('b')).toBe(true)
    expect(run.result.filter(r => r.action === 'delete')).toMatchObject([
      { name: 'b', status: 'skipped', error: 'not pruned: a task failed' },
      { name: 'c', status: 'skipped', error: 'not pruned: a task failed' }
    ])
  })
})

describe('prune and the repository', () => {
  const repoA = { GITHUB_REPOSITORY: 'org/a', GITHUB_REPOSITORY_ID: '101' }

  async function syncedByA() {
    const ctx = await fakeWithWorkspace({ ...task('keep'), ...task('old') })
    const first = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks' },
      { env: repoA }
    )
    expect(first.exitCode, first.log).toBe(0)
    await ctx.ws.remove('tasks/old')
    return ctx
  }

  it('still prunes its functions after the repository was renamed', async () => {
    await using ctx = await syncedByA()
    const run = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks', prune: 'true' },
      { env: { ...repoA, GITHUB_REPOSITORY: 'org/a-renamed' } }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect([...ctx.fake.functions.keys()]).toEqual(['keep'])
  })

  it('never prunes for a new repository that took over the old name', async () => {
    await using ctx = await syncedByA()
    const run = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks', prune: 'true', adopt: 'keep' },
      { env: { ...repoA, GITHUB_REPOSITORY_ID: '202' } }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.map(r => r.name)).toEqual(['keep'])
    expect([...ctx.fake.functions.keys()].sort()).toEqual(['keep', 'old'])
  })

  it('reports a pruned function whose delete answer was lost as done', async () => {
    await using ctx = await syncedByA()
    ctx.fake.fault({ method: 'DELETE', path: /\/old$/, drop: 'after' })
    const run = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks', prune: 'true' },
      { env: repoA }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.filter(r => r.action === 'delete')).toMatchObject([
      { name: 'old', status: 'done' }
    ])
    expect(ctx.fake.functions.has('old')).toBe(false)
  })
})

describe('prune never reaches', () => {
  it('a function of another repository with the same scope', async () => {
    await using ctx = await fakeWithWorkspace({ ...task('mine') })
    const { fake, ws } = ctx
    await ws.write(task('theirs'))
    const foreign = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks', tasks: 'theirs' },
      { env: { GITHUB_REPOSITORY: 'org/another-repo' } }
    )
    expect(foreign.exitCode, foreign.log).toBe(0)
    await ws.remove('tasks/theirs')
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      prune: 'true'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()].sort()).toEqual(['mine', 'theirs'])
  })

  it('a task synced by the single-task inputs alone', async () => {
    await using ctx = await fakeWithWorkspace({ ...task('a') })
    const { fake, ws } = ctx
    const solo = await syncInProcess(fake, ws.dir, {
      name: 'solo',
      code: 'tasks/a/build',
      'entry-point': 'index.handler',
      runtime: 'nodejs22.x'
    })
    expect(solo.exitCode, solo.log).toBe(0)
    const run = await syncInProcess(fake, ws.dir, { prune: 'true' })
    expect(run.exitCode, run.log).toBe(0)
    expect(fake.functions.has('solo')).toBe(true)
  })

  it('anything while a config name is an unset $NAME', async () => {
    await using ctx = await fakeWithWorkspace({
      ...task('a'),
      'tasks/b/task-config.json': taskConfig('$FN_NAME'),
      'tasks/b/build/index.js': 'b'
    })
    const { fake, ws } = ctx
    const first = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks' },
      { env: { FN_NAME: 'fn-b' } }
    )
    expect(first.exitCode, first.log).toBe(0)
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      prune: 'true',
      tasks: 'a'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(fake.functions.has('fn-b')).toBe(true)
    expect(run.log).toContain('prune: nothing is pruned')
  })
})
