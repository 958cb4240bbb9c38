import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { syncWith, zipEntries } from './harness.js'

describe('build-command', () => {
  it('builds each selected task in its config folder before packaging, even when the build creates the code folder', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/src.js': 'exports.handler = () => "a"\n',
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/b/src.js': 'exports.handler = () => "b"\n'
    })
    const run = await syncWith(fake, ws.dir, {
      'build-command': 'mkdir -p build && cp src.js build/index.js',
      tasks: 'a'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()]).toEqual(['a'])
    const entries = zipEntries(fake.functions.get('a')?.code ?? Buffer.alloc(0))
    expect(entries.map(e => [e.name, e.data])).toEqual([
      ['index.js', 'exports.handler = () => "a"\n']
    ])
    // Only selected tasks are built.
    await expect(
      import('node:fs/promises').then(fs => fs.stat(ws.path('tasks/b/build')))
    ).rejects.toThrow()
    expect(run.log).toContain('::group::build a')
  })

  it('fails the run before any write when a build fails, naming the task', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x',
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/b/build/index.js': 'x'
    })
    const run = await syncWith(fake, ws.dir, {
      'build-command': 'test "$(basename "$PWD")" != b'
    })
    expect(run.exitCode).toBe(1)
    expect(run.log).toMatch(
      /tasks\/b\/task-config\.json: build-command: exited with code 1 in tasks\/b/
    )
    expect(fake.requests).toEqual([])
    expect(run.result.map(r => [r.config, r.status])).toEqual([
      ['tasks/a/task-config.json', 'skipped'],
      ['tasks/b/task-config.json', 'failed']
    ])
  })

  it('still refuses a code folder the build did not create', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/src.js': 'x'
    })
    const run = await syncWith(fake, ws.dir, { 'build-command': 'true' })
    expect(run.exitCode).toBe(1)
    expect(run.log).toMatch(
      /tasks\/a\/task-config\.json:\d+: path: code folder tasks\/a\/build not found/
    )
    expect(fake.requests).toEqual([])
  })
})
