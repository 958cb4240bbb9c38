// Verify as a gate that holds, and a record that says only what it can
// prove (SPEC section 9), in-process against the fake, which runs the
// handlers for real.
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  verifiedTask
} from '../support/workspace.js'
import { syncInProcess } from '../support/in-process.js'
import { storedVariables } from '../support/deployer.js'
import { readMarker } from '../../src/marker.js'

const expectOk = (ok: boolean) => JSON.stringify({ expect: { result: { ok } } })
const failing = 'exports.handler = async () => ({ ok: false })\n'
const passing = 'exports.handler = async () => ({ ok: true })\n'
const sha = (c: string) => ({ env: { GITHUB_SHA: c.repeat(40) } })
const markerOf = (fake: FakeExh, name: string) =>
  readMarker(storedVariables(fake, name))
const functionCalls = (fake: FakeExh) =>
  fake
    .writeRequests()
    .filter(r => r.path.startsWith('/tasks/v1/functions'))
    .map(r => `${r.method} ${r.path}`)

describe('a failed verify is recorded, and holds', () => {
  it('fails the re-run of the same commit until a verify passes, then verifies again once', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      verifiedTask('a', failing, { verify: expectOk(true) })
    )
    const inputs = { path: 'tasks', verify: 'true' }
    const first = await syncInProcess(fake, ws.dir, inputs, sha('b'))
    // The write counts although its verify failed: new code is live.
    expect(first.result, first.log).toMatchObject([
      { action: 'create', status: 'failed', verified: false }
    ])
    expect(first.outputs).toMatchObject({
      created: '1',
      failed: '1',
      changed: 'true'
    })
    expect(first.summary).toContain(
      '1 created, 0 updated, 0 unchanged, 1 failed verify'
    )
    expect(markerOf(fake, 'a')).toMatchObject({
      verify: 'failed',
      commit: 'b'.repeat(40)
    })

    // The same commit again: unchanged, but executed again, and red.
    fake.clearLog()
    const again = await syncInProcess(fake, ws.dir, inputs, sha('b'))
    expect(again.exitCode).toBe(1)
    expect(again.result, again.log).toMatchObject([
      { action: 'unchanged', status: 'failed', verified: false }
    ])
    // Already flagged: nothing written, only executed.
    expect(functionCalls(fake)).toEqual(['POST /tasks/v1/functions/a/execute'])
    expect(again.outputs).toMatchObject({ changed: 'false', failed: '1' })

    // task-verify.json is no code: the function is unchanged, and passes.
    await ws.write({ 'tasks/a/task-verify.json': expectOk(false) })
    fake.clearLog()
    const passed = await syncInProcess(fake, ws.dir, inputs, sha('c'))
    expect(passed.result, passed.log).toMatchObject([
      { action: 'update', status: 'done', verified: true, changes: [] }
    ])
    expect(passed.log).toContain('verified again')
    expect(passed.summary).toContain('verified again')
    // A marker-only write: counted as updated, and no change.
    expect(passed.outputs).toMatchObject({ updated: '1', changed: 'false' })
    expect(functionCalls(fake)).toEqual([
      'POST /tasks/v1/functions/a/execute',
      'PUT /tasks/v1/functions/a'
    ])
    const fresh = markerOf(fake, 'a')
    expect(fresh?.verify).toBeUndefined()
    expect(fresh?.commit).toBe('c'.repeat(40))

    // Green now: nothing executed with verify: true.
    fake.clearLog()
    const quiet = await syncInProcess(fake, ws.dir, inputs, sha('c'))
    expect(quiet.result).toMatchObject([
      { action: 'unchanged', status: 'done' }
    ])
    expect(functionCalls(fake)).toEqual([])
  })

  it('names the commit before the failed deploy on every re-run, and after another failed deploy', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      verifiedTask('a', passing, { verify: expectOk(true) })
    )
    const inputs = { path: 'tasks', verify: 'true' }
    expect((await syncInProcess(fake, ws.dir, inputs, sha('a'))).exitCode).toBe(
      0
    )
    await ws.write({ 'tasks/a/build/index.js': failing })
    const broken = await syncInProcess(fake, ws.dir, inputs, sha('b'))
    const redeploy = 'to roll back, redeploy commit aaaaaaa'
    expect(broken.result[0]?.error).toContain(redeploy)
    expect(markerOf(fake, 'a')).toMatchObject({
      verify: 'failed',
      commit: 'b'.repeat(40),
      rollback: 'a'.repeat(40)
    })
    const rerun = await syncInProcess(fake, ws.dir, inputs, sha('b'))
    expect(rerun.result[0]?.error).toContain(redeploy)
    await ws.write({
      'tasks/a/build/index.js': failing.replace('false', '0')
    })
    const worse = await syncInProcess(fake, ws.dir, inputs, sha('d'))
    expect(worse.result[0]).toMatchObject({
      action: 'update',
      status: 'failed'
    })
    expect(worse.result[0]?.error).toContain(redeploy)
    expect(markerOf(fake, 'a')?.rollback).toBe('a'.repeat(40))
  })

  it('warns of a flagged function that this run will not verify, and keeps the flag', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      verifiedTask('a', failing, { verify: expectOk(true) })
    )
    await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks', verify: 'true' },
      sha('b')
    )
    const off = await syncInProcess(fake, ws.dir, { path: 'tasks' }, sha('b'))
    expect(off.report.warnings).toContain('a: last verify failed (bbbbbbb)')
    expect(off.summary).toContain(String.raw`last verify failed \(bbbbbbb\)`)
    const plan = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      'dry-run': 'true'
    })
    expect(plan.report.warnings).toContain('a: last verify failed (bbbbbbb)')

    await ws.remove('tasks/a/task-verify.json')
    const none = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(none.report.warnings).toContain(
      'a: last verify failed; nothing to verify it with'
    )
    expect(markerOf(fake, 'a')?.verify).toBe('failed')
  })

  it('leaves a write whose verify a cancel cut short pending: the re-run executes it again and stays red', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      verifiedTask(
        'a',
        'exports.handler = async () => { await new Promise(r => setTimeout(r, 2000)); return { ok: false } }\n',
        { verify: expectOk(true) }
      )
    )
    const inputs = { path: 'tasks', verify: 'true' }
    const first = await syncInProcess(fake, ws.dir, inputs, {
      ...sha('b'),
      // Once the function is written: its verify (2 s) has not ended.
      interruptWhen: () => fake.functions.has('a')
    })
    expect(first.exitCode).toBe(1)
    // Written with the verify to follow: pending, never clean.
    expect(markerOf(fake, 'a')?.verify).toBe('pending')
    const list = await syncInProcess(fake, ws.dir, { command: 'list' })
    expect(list.log).toContain('verify: pending')
    const again = await syncInProcess(fake, ws.dir, inputs, sha('b'))
    expect(again.exitCode).toBe(1)
    expect(again.result).toMatchObject([
      { action: 'unchanged', status: 'failed', verified: false }
    ])
    expect(markerOf(fake, 'a')?.verify).toBe('failed')
    const off = await syncInProcess(fake, ws.dir, { path: 'tasks' }, sha('b'))
    expect(off.report.warnings).toContain('a: last verify failed (bbbbbbb)')
  })

  it('clears the pending mark once a written task passes its verify', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      verifiedTask('a', passing, { verify: expectOk(true) })
    )
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(run.exitCode, run.log).toBe(0)
    const stored = markerOf(fake, 'a')
    expect(stored?.verify).toBeUndefined()
    // The clearing write keeps what the upload recorded.
    expect(stored?.zip).toMatch(/^[0-9a-f]{64}$/)
    expect(functionCalls(fake)).toEqual([
      'POST /tasks/v1/functions/',
      'POST /tasks/v1/functions/a/execute',
      'PUT /tasks/v1/functions/a'
    ])
  })

  it('keeps the report and the other tasks whole when a result is nested 6,000 levels deep', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...verifiedTask('deep', passing, { verify: expectOk(true) }),
      ...verifiedTask('fine', passing, { verify: expectOk(true) })
    })
    // An API answer no handler could send (JSON.stringify gives up far
    // earlier): the parser takes it, and so must everything after it.
    const deep = '{"v":'.repeat(6000) + '1' + '}'.repeat(6000)
    fake.fault({
      method: 'POST',
      path: '/tasks/v1/functions/deep/execute',
      status: 200,
      body: `{"id":"5f0000000000000000000001","status":"complete","result":${deep}}`
    })
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true',
      concurrency: '1'
    })
    expect(run.result, run.log).toMatchObject([
      {
        name: 'deep',
        action: 'create',
        status: 'failed',
        error: expect.stringContaining('nested too deep') as unknown
      },
      { name: 'fine', action: 'create', status: 'done', verified: true }
    ])
    expect(run.outputs).toMatchObject({ created: '2', failed: '1' })
  })
})

describe('the record says only what it can prove', () => {
  it('never shows the read-back value of a field deployed from $VAR as its before', async () => {
    await using fake = await startFakeExh()
    const secret = 'description-secret-4711'
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', { description: '$DESC' }),
      'tasks/a/build/index.js': passing
    })
    const first = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks' },
      { env: { DESC: secret } }
    )
    expect(first.exitCode, first.log).toBe(0)
    expect(markerOf(fake, 'a')?.substituted).toEqual(['description'])
    await ws.write({
      'tasks/a/task-config.json': taskConfig('a', { description: 'public' })
    })
    // DESC no longer set: nothing would mask the old value.
    const plan = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      'dry-run': 'true'
    })
    expect(plan.result).toMatchObject([
      { action: 'update', changes: ['description'] }
    ])
    expect(plan.log).toContain('description: (a substituted value) → public')
    for (const text of [plan.log, plan.summary, JSON.stringify(plan.outputs)]) {
      expect(text).not.toContain(secret)
    }
    await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(markerOf(fake, 'a')?.substituted).toBeUndefined()
  })

  it('writes nothing without GITHUB_REPOSITORY, naming it; a dry run and list work', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': passing
    })
    const noRepository = { env: { GITHUB_REPOSITORY: '' } }
    const run = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks' },
      noRepository
    )
    expect(run.exitCode).toBe(1)
    expect(run.errors).toContain(
      'GITHUB_REPOSITORY is not set: the deployment record needs the repository that owns these functions'
    )
    expect(fake.writeRequests()).toEqual([])
    const plan = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks', 'dry-run': 'true' },
      noRepository
    )
    expect(plan.exitCode, plan.log).toBe(0)
    const list = await syncInProcess(
      fake,
      ws.dir,
      { command: 'list' },
      noRepository
    )
    expect(list.exitCode, list.log).toBe(0)
    expect(fake.writeRequests()).toEqual([])
  })

  it('stores the host exactly as given, trailing / kept, where the CLI stores it', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', {
        environment: { HOST: '$API_HOST' }
      }),
      'tasks/a/build/index.js': passing,
      'tasks/b/task-config.json': taskConfig('b', {
        executionCredentials: { permissions: ['VIEW_USER'] }
      }),
      'tasks/b/build/index.js': passing
    })
    const host = `${fake.url}/`
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks', host })
    expect(run.exitCode, run.log).toBe(0)
    expect(storedVariables(fake, 'a').HOST).toBe(host)
    expect(storedVariables(fake, 'b').API_HOST).toBe(host)
    // Requests still go to the host without its `/`: nothing changes.
    const again = await syncInProcess(fake, ws.dir, { path: 'tasks', host })
    expect(again.result.map(r => r.action)).toEqual(['unchanged', 'unchanged'])
  })

  it('refuses a task-verify.json that links into .git', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': passing
    })
    await mkdir(ws.path('.git'), { recursive: true })
    await writeFile(ws.path('.git/verify.json'), '{}')
    await symlink(
      path.join('..', '..', '.git', 'verify.json'),
      ws.path('tasks/a/task-verify.json')
    )
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toContain('is a symlink into a .git folder')
    expect(fake.writeRequests()).toEqual([])
  })
})

describe('the room the verify flag takes', () => {
  it('is counted in the environment-size check before any write, only when a verify may follow', async () => {
    await using fake = await startFakeExh()
    const files = (big: number) => ({
      'tasks/a/task-config.json': taskConfig('a', {
        environment: { BIG: 'x'.repeat(big) }
      }),
      'tasks/a/build/index.js': passing,
      'tasks/a/task-verify.json': expectOk(true)
    })
    await using ws = await makeWorkspace(files(3_000))
    expect(
      (await syncInProcess(fake, ws.dir, { path: 'tasks' })).exitCode
    ).toBe(0)
    const stored = Object.entries(storedVariables(fake, 'a')).reduce(
      (bytes, [key, value]) =>
        bytes + Buffer.byteLength(key) + Buffer.byteLength(value),
      0
    )
    // 50 bytes under the limit as stored: room for no flag (up to 97).
    await ws.write(files(3_000 + 4_096 - stored - 50))
    fake.clearLog()
    const verified = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(verified.exitCode).toBe(1)
    expect(verified.errors).toContain('with the verify flag it may carry')
    expect(fake.writeRequests()).toEqual([])
    const plain = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(plain.exitCode, plain.log).toBe(0)
    expect(plain.result).toMatchObject([{ action: 'update', status: 'done' }])
  })
})
