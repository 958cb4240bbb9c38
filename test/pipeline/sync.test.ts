import { describe, expect, it } from 'vitest'
import { utimes } from 'node:fs/promises'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { MARKER_VARIABLE } from '../../src/task.js'
import { fakeWithWorkspace, zipEntries } from '../support/with-fake.js'
import {
  expectNothingWritten,
  runInProcess,
  syncInProcess
} from '../support/in-process.js'

/** Three tasks in nested folders, one with an executable and a symlink. */
function threeTasks() {
  return {
    'tasks/alpha/task-config.json': taskConfig('alpha', {
      timeLimit: 60,
      memoryLimit: 256,
      environment: { GREETING: 'hi', LEVEL: '3' },
      executionPermission: 'allUsers',
      retryPolicy: { enabled: true, errorsToRetry: ['CONNECTION_ERROR'] }
    }),
    'tasks/alpha/build/index.js': 'exports.handler = async () => 1\n',
    'tasks/alpha/build/lib/util.js': 'module.exports = 2\n',
    'tasks/alpha/build/bootstrap': {
      content: '#!/bin/sh\necho hi\n',
      mode: 0o755
    },
    'tasks/alpha/build/current.js': { symlink: 'index.js' },
    'tasks/group/beta/task-config.json': taskConfig('beta', {
      description: undefined,
      defaultPriority: 4
    }),
    'tasks/group/beta/build/index.js': 'exports.handler = async () => 2\n',
    'tasks/group/deeper/gamma/task-config.json': taskConfig('gamma', {
      runtime: 'python3.12',
      entryPoint: 'main.handler',
      path: 'src'
    }),
    'tasks/group/deeper/gamma/src/main.py': 'def handler(e, c):\n    return 3\n'
  }
}

describe('sync (the pipeline in-process, fake API, real SDK)', () => {
  it('creates three tasks from nested folders with the right fields, entries, modes and links', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(threeTasks())
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)

    expect([...fake.functions.keys()].sort()).toEqual([
      'alpha',
      'beta',
      'gamma'
    ])
    const alpha = fake.functions.get('alpha')
    expect(alpha).toMatchObject({
      description: 'The alpha task',
      entryPoint: 'index.handler',
      runtime: 'nodejs22.x',
      timeLimit: 60,
      memoryLimit: 256,
      executionOptions: { permissionMode: 'allUsers' },
      retryPolicy: { enabled: true, errorsToRetry: ['CONNECTION_ERROR'] }
    })
    expect(alpha?.environmentVariables.GREETING).toEqual({ value: 'hi' })
    expect(alpha?.environmentVariables[MARKER_VARIABLE]).toBeDefined()
    expect(fake.functions.get('beta')).toMatchObject({
      description: 'none',
      executionOptions: { defaultPriority: 4 }
    })
    expect(fake.functions.get('gamma')?.runtime).toBe('python3.12')

    const entries = zipEntries(alpha?.code ?? Buffer.alloc(0))
    expect(entries.map(e => e.name)).toEqual([
      'bootstrap',
      'current.js',
      'index.js',
      'lib/',
      'lib/util.js'
    ])
    expect(entries.find(e => e.name === 'bootstrap')).toMatchObject({
      type: 'file',
      mode: 0o755
    })
    expect(entries.find(e => e.name === 'index.js')?.mode).toBe(0o644)
    expect(entries.find(e => e.name === 'current.js')).toMatchObject({
      type: 'symlink',
      data: 'index.js'
    })

    expect(run.outputs).toMatchObject({
      created: '3',
      updated: '0',
      unchanged: '0',
      failed: '0',
      changed: 'true'
    })
    expect(run.result.map(r => [r.name, r.config, r.action, r.status])).toEqual(
      [
        ['alpha', 'tasks/alpha/task-config.json', 'create', 'done'],
        ['beta', 'tasks/group/beta/task-config.json', 'create', 'done'],
        ['gamma', 'tasks/group/deeper/gamma/task-config.json', 'create', 'done']
      ]
    )
    expect(run.result[0]).toMatchObject({ files: 4 })
    expect(run.result[0]?.bytes).toBe(alpha?.code.length)
    expect(run.result[0]?.fingerprint).toMatch(/^[0-9a-f]{64}$/)
    expect(run.summary).toContain('3 created, 0 updated, 0 unchanged')
    expect(run.summary).toContain('| `alpha` | create | ✅ done |')
  })

  it('updates a changed field on the second run, and only that task', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(threeTasks())
    expect(
      (await syncInProcess(fake, ws.dir, { path: 'tasks' })).exitCode
    ).toBe(0)
    await ws.write({
      'tasks/alpha/task-config.json': taskConfig('alpha', {
        timeLimit: 90,
        memoryLimit: 256,
        environment: { GREETING: 'hi', LEVEL: '3' },
        executionPermission: 'allUsers',
        retryPolicy: { enabled: true, errorsToRetry: ['CONNECTION_ERROR'] }
      })
    })
    fake.clearLog()
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    expect(fake.functions.get('alpha')?.timeLimit).toBe(90)
    expect(run.result.map(r => [r.name, r.action, r.changes])).toEqual([
      ['alpha', 'update', ['timeLimit']],
      ['beta', 'unchanged', undefined],
      ['gamma', 'unchanged', undefined]
    ])
    const writes = fake.writeRequests()
    expect(writes.map(w => `${w.method} ${w.path}`)).toEqual([
      'PUT /tasks/v1/functions/alpha'
    ])
    // Every write carries a fresh marker, so the environment goes along.
    expect(writes[0]?.body).toEqual({
      timeLimit: 90,
      environmentVariables: {
        GREETING: { value: 'hi' },
        LEVEL: { value: '3' },
        [MARKER_VARIABLE]: { value: expect.any(String) as unknown }
      }
    })
  })

  it('syncs a single config file named by path', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(threeTasks())
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks/group/beta/task-config.json'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()]).toEqual(['beta'])
  })

  it('syncs only the tasks the filter selects', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(threeTasks())
    const run = await syncInProcess(fake, ws.dir, { tasks: 'a*\ngamma' })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()].sort()).toEqual(['alpha', 'gamma'])
    expect(run.result.map(r => r.name)).toEqual(['alpha', 'gamma'])
  })

  it('refuses a filter that matches nothing, writing nothing', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(threeTasks())
    const run = await syncInProcess(fake, ws.dir, { tasks: 'alpha\nnope-*' })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toContain('tasks: matched no task: nope-*')
    expect(fake.requests).toEqual([])
  })

  it('substitutes $NAME values from the environment and masks them', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'task-config.json': taskConfig('subst', {
        description: '$TASK_DESCRIPTION',
        environment: { API_KEY: '$SECRET_API_KEY', PLAIN: 'x$NOT' }
      }),
      'build/index.js': 'x'
    })
    const secret = 'sk-live-0123456789abcdef'
    const run = await syncInProcess(
      fake,
      ws.dir,
      {},
      {
        env: {
          SECRET_API_KEY: secret,
          TASK_DESCRIPTION: 'From the environment'
        }
      }
    )
    expect(run.exitCode, run.log).toBe(0)
    const fn = fake.functions.get('subst')
    expect(fn?.description).toBe('From the environment')
    expect(fn?.environmentVariables.API_KEY).toEqual({ value: secret })
    expect(fn?.environmentVariables.PLAIN).toEqual({ value: 'x$NOT' })
    expect(run.masked).toContain(secret)
    expect(run.summary + JSON.stringify(run.outputs)).not.toContain(secret)
  })

  it('masks substituted and read-back values, but not trivial ones', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'a/task-config.json': taskConfig('a', {
        environment: { FLAG: '$FLAG', WORKERS: '$WORKERS', KEY: '$KEY' }
      }),
      'a/build/index.js': 'x',
      'b/task-config.json': taskConfig('b'),
      'b/build/index.js': 'y'
    })
    fake.seedFunction({
      name: 'b',
      environmentVariables: { PIN: { value: '4111111111111111' } }
    })
    const run = await syncInProcess(
      fake,
      ws.dir,
      {},
      {
        env: { FLAG: 'true', WORKERS: '4', KEY: 'key-0123456789' }
      }
    )
    expect(run.exitCode, run.log).toBe(0)
    const masks = run.masked
    expect(masks).toEqual(
      expect.arrayContaining(['key-0123456789', '4111111111111111'])
    )
    expect(masks).not.toContain('true')
    expect(masks).not.toContain('4')
  })

  it.each([
    ['unset', {}],
    ['empty', { SECRET_API_KEY: '' }]
  ])(
    'refuses a %s $NAME variable, naming it and the file',
    async (_label, env) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace({
        'task-config.json': taskConfig('subst', {
          environment: { API_KEY: '$SECRET_API_KEY' }
        }),
        'build/index.js': 'x'
      })
      const run = await syncInProcess(fake, ws.dir, {}, { env })
      expect(run.exitCode).toBe(1)
      expect(run.errors).toMatch(
        /task-config\.json:\d+: environment\.API_KEY: .*SECRET_API_KEY/
      )
      expect(fake.writeRequests()).toEqual([])
      expect(run.result).toMatchObject([
        { config: 'task-config.json', status: 'failed' }
      ])
    }
  )

  it('validates everything before writing: one bad config means no write at all', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...threeTasks(),
      'tasks/zeta/task-config.json': taskConfig('zeta', { timeLimit: 301 }),
      'tasks/zeta/build/index.js': 'x'
    })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode).toBe(1)
    expect(fake.writeRequests()).toEqual([])
    expect(run.errors).toMatch(
      /tasks\/zeta\/task-config\.json:\d+: timeLimit: must be <= 300/
    )
    expect(run.result.map(r => [r.config, r.status])).toEqual([
      ['tasks/alpha/task-config.json', 'skipped'],
      ['tasks/group/beta/task-config.json', 'skipped'],
      ['tasks/group/deeper/gamma/task-config.json', 'skipped'],
      ['tasks/zeta/task-config.json', 'failed']
    ])
    expect(run.outputs.failed).toBe('1')
    expect(run.summary).toContain('timeLimit: must be <= 300')
  })

  it('runs a task given by the single-task inputs alone, and overrides one config file', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(threeTasks())
    const alone = await syncInProcess(fake, ws.dir, {
      name: 'from-inputs',
      code: 'tasks/alpha/build',
      'entry-point': 'index.handler',
      runtime: 'nodejs20.x',
      env: 'A=1\nB=x=y'
    })
    expect(alone.exitCode, alone.log).toBe(0)
    expect(fake.functions.get('from-inputs')).toMatchObject({
      runtime: 'nodejs20.x',
      description: 'none',
      environmentVariables: { A: { value: '1' }, B: { value: 'x=y' } }
    })
    expect(alone.result[0]?.config).toBeUndefined()

    const overridden = await syncInProcess(fake, ws.dir, {
      path: 'tasks/group/beta/task-config.json',
      'memory-limit': '1024',
      name: 'beta-copy'
    })
    expect(overridden.exitCode, overridden.log).toBe(0)
    expect(fake.functions.get('beta-copy')?.memoryLimit).toBe(1024)

    const folder = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      'memory-limit': '1024'
    })
    expect(folder.exitCode).toBe(1)
    expect(folder.errors).toContain(
      'single-task inputs need `path` to name one task-config.json file'
    )
  })
})

describe('plan: change detection, skip-unchanged and dry-run', () => {
  async function synced() {
    const ctx = await fakeWithWorkspace({
      'tasks/one/task-config.json': taskConfig('one', {
        memoryLimit: 256,
        environment: { MODE: 'fast', TOKEN: 'tok-very-secret-value-1' }
      }),
      'tasks/one/build/index.js': 'exports.handler = () => 1\n',
      'tasks/two/task-config.json': taskConfig('two', {
        executionPermission: 'public'
      }),
      'tasks/two/build/index.js': 'exports.handler = () => 2\n'
    })
    const first = await syncInProcess(ctx.fake, ctx.ws.dir)
    expect(first.exitCode, first.log).toBe(0)
    ctx.fake.clearLog()
    return ctx
  }

  it('uploads nothing and reports all unchanged when nothing changed, even after touching files', async () => {
    await using ctx = await synced()
    const later = new Date(Date.now() + 60_000)
    await utimes(ctx.ws.path('tasks/one/build/index.js'), later, later)
    const run = await expectNothingWritten(ctx.fake, 2, () =>
      syncInProcess(ctx.fake, ctx.ws.dir)
    )
    expect(run.outputs).toMatchObject({ unchanged: '2', changed: 'false' })
  })

  it('reports exactly memoryLimit when only memoryLimit changed', async () => {
    await using ctx = await synced()
    await ctx.ws.write({
      'tasks/one/task-config.json': taskConfig('one', {
        memoryLimit: 512,
        environment: { MODE: 'fast', TOKEN: 'tok-very-secret-value-1' }
      })
    })
    const run = await syncInProcess(ctx.fake, ctx.ws.dir)
    expect(run.result[0]).toMatchObject({
      action: 'update',
      changes: ['memoryLimit']
    })
    expect(run.result[0]?.bytes).toBeUndefined()
    expect(ctx.fake.functions.get('one')?.memoryLimit).toBe(512)
    expect(ctx.fake.writeRequests()[0]?.body).toEqual({
      memoryLimit: 512,
      environmentVariables: {
        MODE: { value: 'fast' },
        TOKEN: { value: 'tok-very-secret-value-1' },
        [MARKER_VARIABLE]: { value: expect.any(String) as unknown }
      }
    })
  })

  it('reports code when one file changed, and uploads it', async () => {
    await using ctx = await synced()
    await ctx.ws.write({
      'tasks/one/build/index.js': 'exports.handler = () => 42\n'
    })
    const run = await syncInProcess(ctx.fake, ctx.ws.dir)
    expect(run.result[0]).toMatchObject({ action: 'update', changes: ['code'] })
    expect(run.result[1]?.action).toBe('unchanged')
    const code = ctx.fake.functions.get('one')?.code ?? Buffer.alloc(0)
    expect(zipEntries(code).find(e => e.name === 'index.js')?.data).toContain(
      '42'
    )
    // The environment is rewritten with the new fingerprint, values intact.
    expect(ctx.fake.functions.get('one')?.environmentVariables.TOKEN).toEqual({
      value: 'tok-very-secret-value-1'
    })
  })

  it('reports a changed environment value by key only', async () => {
    await using ctx = await synced()
    const newSecret = 'tok-very-secret-value-2'
    await ctx.ws.write({
      'tasks/one/task-config.json': taskConfig('one', {
        memoryLimit: 256,
        environment: { MODE: 'fast', TOKEN: newSecret }
      })
    })
    const run = await syncInProcess(ctx.fake, ctx.ws.dir)
    expect(run.result[0]).toMatchObject({
      action: 'update',
      changes: ['environment.TOKEN']
    })
    expect(ctx.fake.functions.get('one')?.environmentVariables.TOKEN).toEqual({
      value: newSecret
    })
    for (const text of [run.summary, JSON.stringify(run.outputs)]) {
      expect(text).not.toContain(newSecret)
      expect(text).not.toContain('tok-very-secret-value-1')
    }
    // Values are never printed, masked or not.
    expect(run.log).not.toContain(newSecret)
  })

  it('keeps a variable set on the server by hand when the config has no environment', async () => {
    await using ctx = await synced()
    const two = ctx.fake.functions.get('two')
    if (!two) throw new Error('two was not created')
    two.environmentVariables.SET_BY_HAND = { value: 'manual-value-123' }
    await ctx.ws.write({
      'tasks/two/build/index.js': 'exports.handler = () => 22\n'
    })
    const run = await syncInProcess(ctx.fake, ctx.ws.dir)
    expect(run.result[1]).toMatchObject({ action: 'update', changes: ['code'] })
    expect(
      ctx.fake.functions.get('two')?.environmentVariables.SET_BY_HAND
    ).toEqual({
      value: 'manual-value-123'
    })
  })

  it('keeps the remote permissionMode when a config sets only defaultPriority', async () => {
    await using ctx = await synced()
    await ctx.ws.write({
      'tasks/two/task-config.json': taskConfig('two', { defaultPriority: 9 })
    })
    const run = await syncInProcess(ctx.fake, ctx.ws.dir)
    expect(run.result[1]).toMatchObject({
      action: 'update',
      changes: ['defaultPriority']
    })
    expect(ctx.fake.functions.get('two')?.executionOptions).toEqual({
      permissionMode: 'public',
      defaultPriority: 9
    })
  })

  it('with skip-unchanged false uploads every task as update with no changes', async () => {
    await using ctx = await synced()
    const run = await syncInProcess(ctx.fake, ctx.ws.dir, {
      'skip-unchanged': 'false'
    })
    expect(run.result.map(r => [r.action, r.changes])).toEqual([
      ['update', []],
      ['update', []]
    ])
    expect(ctx.fake.writeRequests()).toHaveLength(2)
    expect(run.outputs.changed).toBe('false')
  })

  it('in a dry run only reads reach the API and the summary reads as a plan', async () => {
    await using ctx = await synced()
    await ctx.ws.write({
      'tasks/one/build/index.js': 'changed\n',
      'tasks/three/task-config.json': taskConfig('three'),
      'tasks/three/build/index.js': 'x'
    })
    const run = await syncInProcess(ctx.fake, ctx.ws.dir, { 'dry-run': 'true' })
    expect(run.exitCode, run.log).toBe(0)
    expect(ctx.fake.requests.every(r => r.method === 'GET')).toBe(true)
    expect(ctx.fake.requests.length).toBeGreaterThan(0)
    expect(run.result.map(r => [r.name, r.action, r.status])).toEqual([
      ['one', 'update', 'planned'],
      ['three', 'create', 'planned'],
      ['two', 'unchanged', 'planned']
    ])
    expect(run.outputs).toMatchObject({
      created: '1',
      updated: '1',
      unchanged: '1',
      changed: 'true'
    })
    expect(run.summary).toContain('1 to create, 1 to update, 1 unchanged')
    // A create says what it sets, by field and variable name, no value.
    expect(run.log).toMatch(
      /^sets: code, description, entryPoint, runtime(, [\w.]+)*$/m
    )
    expect(run.summary).toMatch(/\| sets `code`, `description`, `entryPoint`/)
    expect(ctx.fake.functions.has('three')).toBe(false)
  })

  it('in a dry run without credentials makes no request, validates offline and says what was missing', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/one/task-config.json': taskConfig('one'),
      'tasks/one/build/index.js': 'x'
    })
    const run = await runInProcess({
      workspace: ws.dir,
      inputs: {
        'dry-run': 'true',
        host: fake.url,
        'consumer-key': fake.consumer.key
      }
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(fake.requests).toEqual([])
    expect(run.result).toMatchObject([
      { name: 'one', action: 'validate', status: 'planned' }
    ])
    expect(run.result[0]?.bytes).toBeGreaterThan(0)
    expect(run.outputs.changed).toBe('')
    expect(run.log).toContain('consumer-secret, token, token-secret')
    expect(run.summary).toContain(
      'consumer-secret, token, token-secret missing'
    )
  })

  it('gives tasks whose names differ only in case their own code', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/upper/task-config.json': taskConfig('Report'),
      'tasks/upper/build/index.js': 'exports.handler = async () => "upper"\n',
      'tasks/lower/task-config.json': taskConfig('report'),
      'tasks/lower/build/index.js': 'exports.handler = async () => "lower"\n'
    })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    const code = (name: string): string | undefined => {
      const zip = fake.functions.get(name)?.code
      return zip && zipEntries(zip).find(e => e.name === 'index.js')?.data
    }
    expect(code('Report')).toContain('"upper"')
    expect(code('report')).toContain('"lower"')
  })
})
