// `verify` in-process against the fake, which really runs Node.js handlers.
import { execFileSync } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  verifiedTask
} from '../support/workspace.js'
import { syncInProcess } from '../support/in-process.js'
import { MAX_CONFIG_BYTES } from '../../src/task.js'
import { readMarker } from '../../src/marker.js'
import { storedVariables } from '../support/deployer.js'

const expectOk = JSON.stringify({
  data: { n: 2 },
  expect: { result: { ok: true } }
})

/** Four tasks: one that passes, one that throws, one missing a dependency, one whose result differs. */
function tasks() {
  return {
    'tasks/good/task-config.json': taskConfig('good'),
    'tasks/good/task-verify.json': expectOk,
    'tasks/good/build/index.js':
      "exports.handler = async task => { console.log('n is', task.data.n); return { ok: task.data.n === 2, extra: 1 } }\n",
    ...verifiedTask(
      'throws',
      "exports.handler = async () => { console.log('starting'); throw new Error('database unreachable') }\n"
    ),
    ...verifiedTask(
      'missing',
      "const pad = require('left-pad')\nexports.handler = async () => pad('x', 3)\n"
    ),
    'tasks/differs/task-config.json': taskConfig('differs'),
    'tasks/differs/task-verify.json': expectOk,
    'tasks/differs/build/index.js':
      'exports.handler = async () => ({ ok: false })\n',
    // No task-verify.json: never executed; its entry point names no file.
    'tasks/plain/task-config.json': taskConfig('plain', {
      entryPoint: 'main.handler'
    }),
    'tasks/plain/build/index.js': 'exports.handler = async () => 1\n'
  }
}

const executions = (fake: FakeExh) =>
  fake.requests
    .filter(r => r.path.endsWith('/execute'))
    .map(r => r.path.split('/')[4])
    .sort()

describe('verify (in-process, the fake executes the handlers)', () => {
  it('executes each written task once: verified, or failed with the first difference or the function’s own error and log', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(tasks())
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(run.exitCode).toBe(1)
    expect(executions(fake)).toEqual(['differs', 'good', 'missing', 'throws'])
    const byName = Object.fromEntries(
      run.result.map(r => [r.name ?? '', r] as const)
    )
    expect(byName.good).toMatchObject({
      action: 'create',
      status: 'done',
      verified: true
    })
    expect(byName.good?.verifyMs).toBeTypeOf('number')
    expect(byName.plain).not.toHaveProperty('verified')
    expect(byName.throws).toMatchObject({
      status: 'failed',
      verified: false,
      error:
        'verify: the function failed: Error: database unreachable (the function stays deployed)'
    })
    expect(byName.missing?.error).toBe(
      "verify: the function failed: Runtime.ImportModuleError: Error: Cannot find module 'left-pad' (the function stays deployed)"
    )
    expect(byName.differs?.error).toBe(
      'verify: result.ok: expected true, got false (the function stays deployed)'
    )
    // Deployed all the same: the API keeps no earlier code.
    expect([...fake.functions.keys()].sort()).toEqual([
      'differs',
      'good',
      'missing',
      'plain',
      'throws'
    ])
    // The function's own log lines, in the task's log group.
    expect(run.log).toMatch(
      /function log, task \w+ \(last 2 of 2 lines\):\n {2}\| starting\n {2}\| ERROR\tError: database unreachable/
    )
    expect(run.log).toContain(
      "  | ERROR\tRuntime.ImportModuleError: Error: Cannot find module 'left-pad'"
    )
    expect(run.log).toContain('verify: tasks/good/task-verify.json: passed')
    expect(run.log).toMatch(
      /warning: tasks\/plain\/task-config\.json:\d+: entryPoint: `main\.handler` needs one of main\.js, main\.mjs, main\.cjs in the code folder tasks\/plain\/build/
    )
    expect(run.summary).toContain(
      '| Task | Action | Status | Details | Code | Time | Verify |'
    )
    expect(run.summary).toMatch(
      /\| `good` \| create \| ✅ done \|.*\| ✅ \d+\.\d s \|/
    )
  })

  it('executes unchanged tasks only with verify: all, and nothing in a dry run', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...verifiedTask('good', 'exports.handler = async () => ({})\n')
    })
    const first = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(first.exitCode, first.log).toBe(0)
    expect(first.summary).not.toContain('Verify')
    const again = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(again.result.map(r => r.verified)).toEqual([undefined])
    const dry = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'all',
      'dry-run': 'true'
    })
    expect(dry.exitCode, dry.log).toBe(0)
    expect(executions(fake)).toEqual([])
    const all = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'all'
    })
    expect(all.result).toEqual([
      expect.objectContaining({
        action: 'unchanged',
        status: 'done',
        verified: true
      })
    ])
    expect(executions(fake)).toEqual(['good'])
  })

  it('honours a cancel during an execution, and never retries it', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...verifiedTask('slow', 'exports.handler = async () => 1\n')
    })
    // The execution's rule is used up once it is in flight.
    fake.fault({ method: 'POST', path: /\/execute$/, delayMs: 30_000 })
    const run = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks', verify: 'true' },
      { interruptWhen: () => fake.pendingFaults().length === 0 }
    )
    expect(run.exitCode).toBe(1)
    expect(run.endAfterCancelMs).toBeLessThan(5000)
    expect(run.result[0]).toMatchObject({
      status: 'failed',
      verified: false,
      error: 'verify: outcome unknown (cancelled) (the function stays deployed)'
    })
  })

  it('gives an execution its timeLimit on top of request-timeout', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...verifiedTask('runs', 'exports.handler = async () => 1\n', {
        config: { timeLimit: 5 }
      })
    })
    // Longer than request-timeout, well within timeLimit + request-timeout.
    fake.fault({ method: 'POST', path: /\/execute$/, delayMs: 1100 })
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true',
      'request-timeout': '1'
    })
    expect(run.result[0], run.log).toMatchObject({ verified: true })
  })

  it('does not retry an execution whose answer was lost', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...verifiedTask('once', 'exports.handler = async () => 1\n')
    })
    fake.fault({ method: 'POST', path: /\/execute$/, drop: 'after' })
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(run.result[0]?.error).toMatch(
      /^verify: executing function once failed: /
    )
    expect(executions(fake)).toEqual(['once'])
  })

  it('keeps the verify error when the log cannot be read, and says why', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/throws/task-config.json': taskConfig('throws'),
      'tasks/throws/task-verify.json': '{}',
      'tasks/throws/build/index.mjs':
        "export const handler = () => { throw new Error('boom') }\n"
    })
    fake.fault({
      method: 'GET',
      path: /\/logs$/,
      status: 403,
      body: {
        code: 10,
        name: 'NO_PERMISSION_EXCEPTION',
        message: 'Permission denied'
      }
    })
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(run.result[0]?.error).toBe(
      'verify: the function failed: Error: boom (the function stays deployed)'
    )
    expect(run.log).toContain(
      '(no log lines: reading the log needs the VIEW_TASK_LOGS permission'
    )
  })

  it('fails validation before any write: an unknown property in task-verify.json, a timeLimit over 30 s; with verify: false it is not read', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...verifiedTask('a', 'exports.handler = async () => 1\n', {
        verify: '{ "data": {}, "expected": {} }'
      }),
      ...verifiedTask('b', 'exports.handler = async () => 1\n', {
        config: { timeLimit: 60 }
      })
    })
    const runs: Record<string, string>[] = [
      { verify: 'true' },
      { verify: 'all', 'dry-run': 'true' }
    ]
    for (const inputs of runs) {
      const run = await syncInProcess(fake, ws.dir, {
        path: 'tasks',
        ...inputs
      })
      expect(run.exitCode).toBe(1)
      expect(run.result.map(r => r.error)).toEqual([
        '1 problem: task-verify.json: expected: is not allowed (unknown property); did you mean `expect`?',
        '1 problem: timeLimit: must be at most 30 for a task with task-verify.json, not 60: the API executes a function directly only up to 30 s (remove task-verify.json, or lower timeLimit)'
      ])
      expect(run.errors).toContain(
        'tasks/a/task-verify.json:1: expected: is not allowed'
      )
    }
    expect(fake.writeRequests()).toEqual([])
    const off = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(off.exitCode, off.log).toBe(0)
    expect(executions(fake)).toEqual([])
  })
})

describe('verify: the way back', () => {
  it('names the commit of the deploy a failed update replaced, to redeploy', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...verifiedTask('good', 'exports.handler = async () => 1\n')
    })
    const previous = 'abcdef1234567890abcdef1234567890abcdef12'
    const first = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks', verify: 'true' },
      { env: { GITHUB_SHA: previous } }
    )
    expect(first.result).toMatchObject([{ status: 'done', verified: true }])
    await ws.write({
      'tasks/good/build/index.js':
        "exports.handler = async () => { throw new Error('broken') }\n"
    })
    const second = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks', verify: 'true' },
      { env: { GITHUB_SHA: 'f'.repeat(40) } }
    )
    expect(second.exitCode).toBe(1)
    expect(second.result[0]?.error).toMatch(/^verify: .*broken/)
    expect(second.result[0]?.error).toContain(
      'to roll back, redeploy commit abcdef1'
    )
  })
})

describe('task-verify.json: read within the bounds of task-config.json (SPEC section 8)', () => {
  it('fails a FIFO, a link out of the workspace and a file over 1 MB each on its own task, naming task-verify.json, without reading them', async () => {
    const outside = await mkdtemp(path.join(tmpdir(), 'exh-outside-'))
    try {
      // A JSON file of the runner's, outside the checkout.
      const secret = path.join(outside, 'secret.json')
      await writeFile(secret, JSON.stringify({ data: {}, leakedKeyName: 1 }))
      await using fake = await startFakeExh()
      const files: Record<string, string | { symlink: string }> = {
        'tasks/big/task-verify.json': '{}' + ' '.repeat(MAX_CONFIG_BYTES - 1),
        'tasks/out/task-verify.json': { symlink: secret },
        // A link that stays inside is followed: its problem is reported.
        'shared/verify.json': '{ "dta": 1 }',
        'tasks/in/task-verify.json': { symlink: '../../shared/verify.json' }
      }
      for (const name of ['big', 'fifo', 'in', 'out']) {
        files[`tasks/${name}/task-config.json`] = taskConfig(name)
        files[`tasks/${name}/build/index.js`] = 'exports.handler = () => 1\n'
      }
      await using ws = await makeWorkspace(files)
      // Opening a FIFO nobody writes to for reading would hang the run.
      execFileSync('mkfifo', [ws.path('tasks/fifo/task-verify.json')])
      for (const dryRun of ['true', 'false']) {
        const run = await syncInProcess(fake, ws.dir, {
          path: 'tasks',
          verify: 'true',
          'dry-run': dryRun
        })
        expect(run.exitCode, run.log).toBe(1)
        expect(run.log).not.toContain('leakedKeyName')
        expect(run.result.map(r => [r.name, r.status, r.error])).toEqual([
          [
            'big',
            'failed',
            '1 problem: task-verify.json: JSON: is 1,048,577 bytes, over the limit of 1,048,576 bytes (1 MB)'
          ],
          [
            'fifo',
            'failed',
            '1 problem: task-verify.json: JSON: is not a regular file (a FIFO), so it is not read'
          ],
          [
            'in',
            'failed',
            '1 problem: task-verify.json: dta: is not allowed (unknown property); did you mean `data`?'
          ],
          [
            'out',
            'failed',
            expect.stringMatching(
              /^1 problem: task-verify\.json: JSON: is a symlink to a target outside the workspace \(its real path is .*secret\.json\), so it is not read$/
            )
          ]
        ])
        expect(run.errors).toContain(
          'tasks/fifo/task-verify.json: JSON: is not a regular file (a FIFO)'
        )
      }
      expect(fake.writeRequests()).toEqual([])
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })
})

describe('verify and the timeLimit the function keeps', () => {
  it('refuses before any write a task whose function keeps a timeLimit over 30 s the config does not set; with verify: false it deploys', async () => {
    await using fake = await startFakeExh()
    // Made by hand (or by the CLI) with timeLimit 60; a config without
    // timeLimit leaves it alone, as the CLI does.
    fake.seedFunction({ name: 'a', timeLimit: 60 })
    await using ws = await makeWorkspace({
      ...verifiedTask('a', 'exports.handler = async () => ({})\n')
    })
    for (const dryRun of ['false', 'true']) {
      const run = await syncInProcess(fake, ws.dir, {
        path: 'tasks',
        verify: 'true',
        'dry-run': dryRun
      })
      expect(run.exitCode).toBe(1)
      expect(run.result, run.log).toMatchObject([
        {
          name: 'a',
          status: 'failed',
          error:
            'function a has a timeLimit of 60 s, which it keeps as the config sets none, and direct execution (task-verify.json) allows at most 30 s: set timeLimit to 30 or less in the config (or remove task-verify.json)'
        }
      ])
    }
    expect(fake.writeRequests()).toEqual([])
    const off = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(off.result, off.log).toMatchObject([
      { action: 'update', status: 'done' }
    ])
    expect(fake.functions.get('a')?.timeLimit).toBe(60)
  })
})

describe('verify after a permissions-only update', () => {
  it('does not tell to roll back a function this run did not write', async () => {
    await using fake = await startFakeExh()
    const files = (permissions: string[]) => ({
      'tasks/a/task-config.json': taskConfig('a', {
        executionCredentials: { permissions }
      }),
      'tasks/a/task-verify.json': expectOk,
      'tasks/a/build/index.js':
        'exports.handler = async () => ({ ok: false })\n'
    })
    await using ws = await makeWorkspace(files(['VIEW_USER']))
    const sha = (c: string) => ({ env: { GITHUB_SHA: c.repeat(40) } })
    const first = await syncInProcess(fake, ws.dir, { path: 'tasks' }, sha('a'))
    expect(first.result, first.log).toMatchObject([{ status: 'done' }])
    await ws.write(files(['VIEW_USER', 'VIEW_TASKS']))
    fake.clearLog()
    const second = await syncInProcess(
      fake,
      ws.dir,
      { path: 'tasks', verify: 'true' },
      sha('b')
    )
    // Only the role changed: no write of the function, an execution, and
    // then the failed verify recorded in its marker (environment only).
    const functionWrites = fake
      .writeRequests()
      .filter(r => r.path.startsWith('/tasks/v1/functions'))
    expect(functionWrites.map(r => `${r.method} ${r.path}`)).toEqual([
      'POST /tasks/v1/functions/a/execute',
      'PUT /tasks/v1/functions/a'
    ])
    expect(Object.keys(functionWrites[1]?.body as object)).toEqual([
      'environmentVariables'
    ])
    const marker = readMarker(storedVariables(fake, 'a'))
    // The commit whose code runs is still aaaaaaa: no rollback to name.
    expect(marker).toMatchObject({ verify: 'failed', commit: 'a'.repeat(40) })
    expect(marker?.rollback).toBeUndefined()
    // The function still runs commit aaaaaaa: nothing to roll back to.
    expect(second.result, second.log).toMatchObject([
      {
        action: 'update',
        status: 'failed',
        verified: false,
        error: 'verify: result.ok: expected true, got false'
      }
    ])
  })
})
