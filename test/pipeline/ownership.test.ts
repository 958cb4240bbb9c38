import { describe, expect, it } from 'vitest'
import { taskConfig } from '../support/workspace.js'
import { expectNothingWritten, syncInProcess } from '../support/in-process.js'
import { fakeWithWorkspace } from '../support/with-fake.js'
import { MARKER_VARIABLE } from '../../src/task.js'
import { readMarker } from '../../src/marker.js'
import type { FakeExh } from '../fake-exh/index.js'

const REPO_A = { GITHUB_REPOSITORY: 'org/repo-a', GITHUB_REPOSITORY_ID: '1001' }
const REPO_B = { GITHUB_REPOSITORY: 'org/repo-b', GITHUB_REPOSITORY_ID: '2002' }

function files(code: string): Record<string, string> {
  return {
    'tasks/report/task-config.json': taskConfig('report'),
    'tasks/report/build/index.js': code
  }
}

function markerOf(fake: FakeExh, name: string) {
  const env = fake.functions.get(name)?.environmentVariables ?? {}
  return readMarker(
    Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.value]))
  )
}

/** Repository A syncs `report`; B then holds a config for it with other code. */
async function ownedByA() {
  const ctx = await fakeWithWorkspace(files('exports.handler = () => "a"\n'))
  const first = await syncInProcess(
    ctx.fake,
    ctx.ws.dir,
    { path: 'tasks' },
    { env: REPO_A }
  )
  expect(first.exitCode, first.log).toBe(0)
  await ctx.ws.write(files('exports.handler = () => "b"\n'))
  ctx.fake.clearLog()
  return ctx
}

describe('a function of another repository', () => {
  it('is not updated: the task fails naming the owner and the way out, nothing is written', async () => {
    await using ctx = await ownedByA()
    const run = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks' },
      { env: REPO_B }
    )
    expect(run.exitCode).toBe(1)
    expect(ctx.fake.writeRequests()).toEqual([])
    expect(run.result).toMatchObject([{ name: 'report', status: 'failed' }])
    expect(run.result[0]?.error).toContain(
      'is managed by the repository org/repo-a'
    )
    expect(run.result[0]?.error).toContain('set "adopt: report"')
    expect(markerOf(ctx.fake, 'report')).toMatchObject({
      repository: 'org/repo-a',
      repositoryId: '1001'
    })
  })

  it('shows as a failed row in a dry run plan', async () => {
    await using ctx = await ownedByA()
    const run = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks', 'dry-run': 'true' },
      { env: REPO_B }
    )
    expect(run.exitCode).toBe(1)
    expect(run.result).toMatchObject([{ name: 'report', status: 'failed' }])
    expect(run.summary).toContain('org/repo-a')
    expect(ctx.fake.writeRequests()).toEqual([])
  })

  it('is taken over when adopt names it: updated, and its marker now names this repository', async () => {
    await using ctx = await ownedByA()
    const run = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks', adopt: 'rep*' },
      { env: REPO_B }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result).toMatchObject([
      { name: 'report', action: 'update', status: 'done', changes: ['code'] }
    ])
    expect(markerOf(ctx.fake, 'report')).toMatchObject({
      repository: 'org/repo-b',
      repositoryId: '2002'
    })
    // And from now on, A is the stranger.
    const back = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks', 'dry-run': 'true' },
      { env: REPO_A }
    )
    expect(back.result[0]?.error).toContain('org/repo-b')
  })

  it("is still this repository's after a rename (same id, new name)", async () => {
    await using ctx = await ownedByA()
    const run = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks' },
      { env: { ...REPO_A, GITHUB_REPOSITORY: 'new-owner/repo-a' } }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result).toMatchObject([{ action: 'update', status: 'done' }])
    expect(markerOf(ctx.fake, 'report')).toMatchObject({
      repository: 'new-owner/repo-a',
      repositoryId: '1001'
    })
  })

  it('is taken over when it has no marker (made by hand or by the CLI)', async () => {
    await using ctx = await fakeWithWorkspace(files('exports.handler = 1\n'))
    ctx.fake.seedFunction({ name: 'report' })
    const run = await syncInProcess(
      ctx.fake,
      ctx.ws.dir,
      { path: 'tasks' },
      { env: REPO_B }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(markerOf(ctx.fake, 'report')?.repositoryId).toBe('2002')
  })
})

describe('a marker written before the repository id was recorded', () => {
  it("is this repository's when the name matches, causes no write, and gets the id on the next write", async () => {
    await using ctx = await fakeWithWorkspace(files('exports.handler = 1\n'))
    const { fake, ws } = ctx
    const first = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks' },
      { env: { GITHUB_REPOSITORY: 'org/repo-a' } }
    )
    expect(first.exitCode, first.log).toBe(0)
    // What the previous version wrote: version 1, no repository id.
    const stored = fake.functions.get('report')?.environmentVariables ?? {}
    const marker = stored[MARKER_VARIABLE]
    if (!marker) throw new Error('no marker after the first sync')
    marker.value = JSON.stringify({ ...JSON.parse(marker.value), v: 1 })
    await expectNothingWritten(fake, 1, () =>
      syncInProcess(fake, ws.dir, { path: 'tasks' }, { env: REPO_A })
    )

    await ws.write({ 'tasks/report/build/index.js': 'exports.handler = 2\n' })
    const next = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks' },
      { env: REPO_A }
    )
    expect(next.exitCode, next.log).toBe(0)
    expect(markerOf(fake, 'report')).toMatchObject({
      repository: 'org/repo-a',
      repositoryId: '1001'
    })
  })
})
