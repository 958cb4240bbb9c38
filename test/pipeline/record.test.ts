// The deployment record (SPEC section 9): what the marker records of each
// deploy, `command: list` with drift, and a dry run's drift note.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { taskConfig } from '../support/workspace.js'
import { fakeWithWorkspace } from '../support/with-fake.js'
import { expectNothingWritten, syncInProcess } from '../support/in-process.js'
import { readMarker } from '../../src/marker.js'
import { MARKER_VARIABLE } from '../../src/task.js'
import type { FakeExh } from '../fake-exh/index.js'

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const NEXT_SHA = 'ffeeddccbbaa99887766554433221100ffeeddcc'
/** The runner's variables of a push to main. */
const runner = (sha = SHA, run = '4242') => ({
  GITHUB_SHA: sha,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_RUN_ID: run,
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_SERVER_URL: 'https://github.com'
})

function twoTasks() {
  return {
    'tasks/kept/task-config.json': taskConfig('kept', {
      environment: { MODE: 'fast' }
    }),
    'tasks/kept/build/index.js': 'exports.handler = () => 1\n',
    'tasks/drifted/task-config.json': taskConfig('drifted'),
    'tasks/drifted/build/index.js': 'exports.handler = () => 2\n'
  }
}

/** The marker stored on a fake function, parsed. */
function storedMarker(fake: FakeExh, name: string) {
  const raw =
    fake.functions.get(name)?.environmentVariables[MARKER_VARIABLE]?.value
  return raw === undefined ? undefined : readMarker({ [MARKER_VARIABLE]: raw })
}

/** Another tool changes the function 11 minutes after the action wrote it. */
function changeOutside(fake: FakeExh, name: string): void {
  const fn = fake.functions.get(name)
  const at = storedMarker(fake, name)?.at
  if (!fn || !at) throw new Error(`no recorded deploy of ${name}`)
  fn.description = 'edited in the console'
  fn.updateTimestamp = new Date(Date.parse(at) + 11 * 60_000).toISOString()
}

describe('the deployment record', () => {
  it('lists who deployed each function from which commit and run, and its drift', async () => {
    await using ctx = await fakeWithWorkspace(twoTasks())
    const { fake, ws } = ctx
    const deploy = await syncInProcess(fake, ws.dir, {}, { env: runner() })
    expect(deploy.exitCode, deploy.log).toBe(0)
    expect(storedMarker(fake, 'kept')).toMatchObject({
      commit: SHA,
      ref: 'refs/heads/main',
      run: '4242',
      attempt: '1'
    })
    changeOutside(fake, 'drifted')
    fake.seedFunction({
      name: 'by-hand',
      environmentVariables: { SECRET: { value: 'a-value-set-by-hand' } }
    })
    fake.clearLog()

    const run = await syncInProcess(
      fake,
      ws.dir,
      { command: 'list' },
      { env: runner(NEXT_SHA, '5000') }
    )
    expect(run.exitCode, run.log).toBe(0)
    const functions = JSON.parse(run.outputs.functions ?? '[]') as Record<
      string,
      unknown
    >[]
    const byName = new Map(functions.map(f => [f.name, f]))
    expect(byName.get('kept')).toEqual({
      name: 'kept',
      description: 'The kept task',
      updateTimestamp: expect.any(String) as unknown,
      enabled: true,
      repository: 'org/tasks-repo',
      commit: SHA,
      deployedAt: storedMarker(fake, 'kept')?.at,
      run: 'https://github.com/org/tasks-repo/actions/runs/4242',
      // The sha256 of the zip the function runs: the bytes the fake received.
      zipSha256: createHash('sha256')
        .update(fake.functions.get('kept')?.code ?? '')
        .digest('hex'),
      drift: 'none'
    })
    expect(byName.get('drifted')).toMatchObject({
      commit: SHA,
      drift: 'changed outside'
    })
    expect(byName.get('by-hand')).toEqual({
      name: 'by-hand',
      updateTimestamp: expect.any(String) as unknown,
      enabled: true,
      drift: 'unmanaged'
    })
    expect(run.summary).toContain('| `kept` | The kept task |')
    expect(run.summary).toMatch(
      /\| `kept` \|.* \| `org\/tasks-repo` \| `a1b2c3d` \| `sha256:[0-9a-f]{12}` \| \S+ \(\[run\]\(https:\/\/github\.com\/org\/tasks-repo\/actions\/runs\/4242\)\) \| ✅ none \|/
    )
    expect(run.summary).toMatch(/`drifted` .*⚠️ changed outside \|/)
    expect(run.summary).toMatch(/`by-hand` .*➖ unmanaged \|/)
    // The credentials check, the listing and each function's read; no other
    // value masked.
    expect(fake.writeRequests()).toEqual([])
    expect(fake.requests.map(r => `${r.method} ${r.path}`).sort()).toEqual(
      [
        'GET /tasks/v1/functions/',
        'GET /tasks/v1/functions/by-hand',
        'GET /tasks/v1/functions/drifted',
        'GET /tasks/v1/functions/kept',
        'GET /users/v1/me'
      ].sort()
    )
    expect(run.masked).not.toContain('a-value-set-by-hand')
    expect(run.masked).not.toContain('fast')
  })

  it('notes "changed outside since <short sha>" on a drifted task in a dry-run plan', async () => {
    await using ctx = await fakeWithWorkspace(twoTasks())
    const { fake, ws } = ctx
    const deploy = await syncInProcess(fake, ws.dir, {}, { env: runner() })
    expect(deploy.exitCode, deploy.log).toBe(0)
    changeOutside(fake, 'drifted')
    const plan = await syncInProcess(
      fake,
      ws.dir,
      { 'dry-run': 'true' },
      { env: runner(NEXT_SHA) }
    )
    expect(plan.exitCode, plan.log).toBe(0)
    expect(plan.log).toMatch(
      /drifted: update planned\n(?:.*\n)*?note: changed outside since a1b2c3d/
    )
    expect(plan.summary).toMatch(
      /\| `drifted` \| update \| .* \| ⚠️ changed outside since a1b2c3d<br>`description`/
    )
    expect(plan.summary).not.toMatch(/`kept`.*changed outside/)
    expect(plan.log).not.toMatch(/kept[^\n]*\n(?:[^\n]*\n)*?note:/)
  })

  it('writes a fresh marker with an update of the description alone', async () => {
    await using ctx = await fakeWithWorkspace(twoTasks())
    const { fake, ws } = ctx
    const deploy = await syncInProcess(fake, ws.dir, {}, { env: runner() })
    expect(deploy.exitCode, deploy.log).toBe(0)
    const first = storedMarker(fake, 'kept')
    await ws.write({
      'tasks/kept/task-config.json': taskConfig('kept', {
        description: 'Says more',
        environment: { MODE: 'fast' }
      })
    })
    fake.clearLog()
    const run = await syncInProcess(
      fake,
      ws.dir,
      {},
      { env: runner(NEXT_SHA, '5000') }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.map(r => [r.name, r.action, r.changes])).toEqual([
      ['drifted', 'unchanged', undefined],
      ['kept', 'update', ['description']]
    ])
    const [write] = fake.writeRequests()
    expect(write?.body).toMatchObject({
      description: 'Says more',
      environmentVariables: { MODE: { value: 'fast' } }
    })
    expect(storedMarker(fake, 'kept')).toEqual({
      ...first,
      commit: NEXT_SHA,
      run: '5000',
      at: expect.any(String) as unknown
    })
    expect(fake.functions.get('kept')?.environmentVariables.MODE?.value).toBe(
      'fast'
    )
  })

  it('writes nothing and reports nothing drifted after an upgrade from markers without the record', async () => {
    await using ctx = await fakeWithWorkspace(twoTasks())
    const { fake, ws } = ctx
    const deploy = await syncInProcess(fake, ws.dir, {}, { env: runner() })
    expect(deploy.exitCode, deploy.log).toBe(0)
    // As the previous release left them: version 2 without the record,
    // and stamped long ago.
    for (const fn of fake.functions.values()) {
      const marker = storedMarker(fake, fn.name)
      fn.environmentVariables[MARKER_VARIABLE] = {
        value: JSON.stringify({
          v: 2,
          fingerprint: marker?.fingerprint,
          repository: marker?.repository,
          scope: marker?.scope
        })
      }
      fn.updateTimestamp = '2025-01-01T00:00:00.000Z'
    }
    const snapshot = (): string => JSON.stringify([...fake.functions.values()])
    const before = snapshot()
    await expectNothingWritten(fake, 2, () =>
      syncInProcess(fake, ws.dir, {}, { env: runner(NEXT_SHA) })
    )
    expect(snapshot()).toBe(before)

    const plan = await syncInProcess(
      fake,
      ws.dir,
      { 'dry-run': 'true' },
      { env: runner(NEXT_SHA) }
    )
    expect(plan.log).not.toContain('changed outside')
    const list = await syncInProcess(fake, ws.dir, { command: 'list' })
    const drift = (
      JSON.parse(list.outputs.functions ?? '[]') as { drift: string }[]
    ).map(f => f.drift)
    expect(drift).toEqual(['unknown', 'unknown'])
  })

  it('records the digest of each zip uploaded: replaced by new code, kept by a write without code', async () => {
    await using ctx = await fakeWithWorkspace(twoTasks())
    const { fake, ws } = ctx
    const digestOf = (name: string): string =>
      createHash('sha256')
        .update(fake.functions.get(name)?.code ?? '')
        .digest('hex')
    // A function last synced by the CLI (no marker): its code is uploaded.
    fake.seedFunction({ name: 'kept' })
    const deploy = await syncInProcess(fake, ws.dir, {}, { env: runner() })
    expect(deploy.exitCode, deploy.log).toBe(0)
    const first = digestOf('kept')
    expect(storedMarker(fake, 'kept')?.zip).toBe(first)
    expect(storedMarker(fake, 'drifted')?.zip).toBe(digestOf('drifted'))

    await ws.write({
      'tasks/kept/build/index.js': 'exports.handler = () => 3\n',
      'tasks/drifted/task-config.json': taskConfig('drifted', {
        timeLimit: 120
      })
    })
    const next = await syncInProcess(
      fake,
      ws.dir,
      {},
      { env: runner(NEXT_SHA) }
    )
    expect(next.exitCode, next.log).toBe(0)
    expect(next.result.map(r => [r.name, r.changes])).toEqual([
      ['drifted', ['timeLimit']],
      ['kept', ['code']]
    ])
    expect(digestOf('kept')).not.toBe(first)
    expect(storedMarker(fake, 'kept')).toMatchObject({
      commit: NEXT_SHA,
      zip: digestOf('kept')
    })
    // No code sent: the digest of the code it still runs.
    expect(storedMarker(fake, 'drifted')).toMatchObject({
      commit: NEXT_SHA,
      zip: digestOf('drifted')
    })
  })
})
