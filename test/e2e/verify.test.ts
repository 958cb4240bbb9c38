// `verify` through the bundle: the runner sees the function's own error and
// log lines (escaped and redacted), the result entries and the exit code.
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  verifiedTask
} from '../support/workspace.js'
import { syncWith } from './harness.js'

describe('verify (bundle)', () => {
  it('deploys a build that lacks a dependency, fails its verify with the function’s error and log, and verifies a correct one', async () => {
    await using fake = await startFakeExh()
    const secret = 'verify-secret-value-9876'
    await using ws = await makeWorkspace({
      'tasks/broken/task-config.json': taskConfig('broken', {
        environment: { API_KEY: '$VERIFY_SECRET' }
      }),
      'tasks/broken/task-verify.json': '{}',
      'tasks/broken/build/index.js': [
        "console.log('starting with key ' + process.env.API_KEY)",
        "console.log('::error::forged annotation')",
        "const pad = require('left-pad')",
        'exports.handler = async () => pad("x", 3)'
      ].join('\n'),
      ...verifiedTask(
        'good',
        'exports.handler = async task => ({ n: task.data.n })\n',
        {
          verify: JSON.stringify({
            data: { n: 1 },
            expect: { result: { n: 1 } }
          })
        }
      )
    })
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks', verify: 'true' },
      { env: { VERIFY_SECRET: secret } }
    )
    expect(run.exitCode, run.log).toBe(1)
    expect(fake.functions.has('broken')).toBe(true)
    const broken = run.result.find(r => r.name === 'broken')
    expect(broken).toMatchObject({
      action: 'create',
      status: 'failed',
      verified: false,
      error:
        "verify: the function failed: Runtime.ImportModuleError: Error: Cannot find module 'left-pad' (the function stays deployed)"
    })
    expect(run.result.find(r => r.name === 'good')).toMatchObject({
      status: 'done',
      verified: true
    })
    // The function's log lines, in its group: redacted and escaped.
    expect(run.stdout).toContain('  | starting with key ***')
    expect(run.stdout).toContain(
      String.raw`  | ERROR\tRuntime.ImportModuleError: Error: Cannot find module 'left-pad'`
    )
    const printed = run.stdout.replace(/^::add-mask::.*$/gm, '')
    expect(printed).not.toContain(secret)
    expect(run.stdout).not.toMatch(/^::error::forged/m)
    expect(run.summary).toContain('| Verify |')
  })

  it('reports a mismatch as its first difference; executes it again until it passes, unchanged tasks then only with verify: all, and nothing in a dry run', async () => {
    await using fake = await startFakeExh()
    const verifyCount = (count: number) =>
      JSON.stringify({ expect: { result: { ok: true, count } } })
    await using ws = await makeWorkspace(
      verifiedTask(
        'differs',
        'exports.handler = async () => ({ ok: true, count: 3 })\n',
        { verify: verifyCount(2) }
      )
    )
    const executed = () =>
      fake.requests.filter(r => r.path.endsWith('/execute')).length
    const first = await syncWith(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(first.exitCode, first.log).toBe(1)
    expect(first.result[0]?.error).toBe(
      'verify: result.count: expected 2, got 3 (the function stays deployed)'
    )
    expect(executed()).toBe(1)
    // Unchanged now, but its last verify failed: a re-run stays red.
    const rerun = await syncWith(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(rerun.exitCode, rerun.log).toBe(1)
    expect(rerun.result[0]).toMatchObject({
      action: 'unchanged',
      status: 'failed',
      verified: false
    })
    expect(executed()).toBe(2)
    // A dry run executes nothing.
    const plan = await syncWith(fake, ws.dir, {
      path: 'tasks',
      verify: 'all',
      'dry-run': 'true'
    })
    expect(plan.exitCode, plan.log).toBe(0)
    expect(executed()).toBe(2)
    // Passing now: verified again, then left alone by `verify: true`.
    await ws.write({ 'tasks/differs/task-verify.json': verifyCount(3) })
    const passed = await syncWith(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(passed.exitCode, passed.log).toBe(0)
    expect(passed.stdout).toContain('verified again')
    expect(executed()).toBe(3)
    const quiet = await syncWith(fake, ws.dir, {
      path: 'tasks',
      verify: 'true'
    })
    expect(quiet.result[0]).not.toHaveProperty('verified')
    expect(executed()).toBe(3)
    const all = await syncWith(fake, ws.dir, { path: 'tasks', verify: 'all' })
    expect(all.result[0]).toMatchObject({
      action: 'unchanged',
      status: 'done',
      verified: true
    })
    expect(executed()).toBe(4)
  })
})
