// Discovery through the pipeline in-process (what is synced, not the
// channel), compared with what the Extra Horizon CLI syncs: symlinked
// configs, task folders and `path`; a config a build copied into its code
// folder; an unreadable folder; an empty description.

import { chmod } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { expectNothingWritten, syncInProcess } from '../support/in-process.js'

const CODE = 'exports.handler = async () => 1\n'

/** The warnings of a run, as its log has them (the runner's annotations on the bundle). */
function warnings(log: string): string[] {
  return log
    .split('\n')
    .filter(line => line.startsWith('warning: '))
    .map(line => line.slice('warning: '.length))
}

describe('discovery follows symlinks as the CLI does', () => {
  it('syncs a symlinked config, a symlinked task folder and a symlinked `path`', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      // a: the config is a link; its `path` is resolved from the link's folder.
      'shared/a.json': taskConfig('a'),
      'tasks/a/task-config.json': { symlink: '../../shared/a.json' },
      'tasks/a/build/index.js': CODE,
      // b: the whole task folder is a link.
      'vendor/b/task-config.json': taskConfig('b'),
      'vendor/b/build/index.js': CODE,
      'tasks/b': { symlink: '../vendor/b' },
      // A link back up to tasks: searched once, no loop.
      'tasks/loop/up': { symlink: '..' },
      // `path` itself a link to a folder.
      'real/c/task-config.json': taskConfig('c'),
      'real/c/build/index.js': CODE,
      more: { symlink: 'real' }
    })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks\nmore' })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.map(r => [r.name, r.config, r.status]).sort()).toEqual([
      ['a', 'tasks/a/task-config.json', 'done'],
      ['b', 'tasks/b/task-config.json', 'done'],
      ['c', 'more/c/task-config.json', 'done']
    ])
    expect([...fake.functions.keys()].sort()).toEqual(['a', 'b', 'c'])
  })

  it('skips, with one warning, a link whose target leaves the workspace', async () => {
    await using outside = await makeWorkspace({
      'x/task-config.json': taskConfig('x'),
      'x/build/index.js': CODE
    })
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': CODE,
      'tasks/x': { symlink: outside.path('x') }
    })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.map(r => r.name)).toEqual(['a'])
    expect(warnings(run.log)).toEqual([
      'skipped tasks/x: a symlink to a target outside the workspace'
    ])
    expect(fake.functions.has('x')).toBe(false)
  })
})

describe('discovery leaves copies and unreadable folders alone', () => {
  it('does not take a config a build copied into the code folder for a second task', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': CODE,
      'tasks/a/build/task-config.json': taskConfig('a')
    })
    const run = await syncInProcess(fake, ws.dir, { path: 'tasks\ntasks/a' })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.map(r => [r.config, r.status])).toEqual([
      ['tasks/a/task-config.json', 'done']
    ])
  })

  // chmod 000 does not stop root from reading (the unit test of discover.ts
  // injects the EACCES instead).
  it.skipIf(process.getuid?.() === 0)(
    'skips an unreadable folder with a warning naming it, and syncs the rest',
    async () => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace({
        'tasks/a/task-config.json': taskConfig('a'),
        'tasks/a/build/index.js': CODE,
        'tasks/data/db/file': 'x'
      })
      await chmod(ws.path('tasks/data'), 0o000)
      try {
        const run = await syncInProcess(fake, ws.dir, { path: 'tasks' })
        expect(run.exitCode, run.log).toBe(0)
        expect(run.result.map(r => r.name)).toEqual(['a'])
        expect(warnings(run.log)).toEqual([
          expect.stringMatching(
            /^skipped folder tasks\/data: it cannot be read \(EACCES\)/
          )
        ])
        expect(run.log).not.toContain(ws.dir)
      } finally {
        await chmod(ws.path('tasks/data'), 0o755)
      }
    }
  )
})

describe('an empty description', () => {
  it('sends "none" on create, as the CLI does, and is never a change', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', { description: '' }),
      'tasks/a/build/index.js': CODE
    })
    const first = await syncInProcess(fake, ws.dir, { path: 'tasks' })
    expect(first.exitCode, first.log).toBe(0)
    expect(fake.functions.get('a')?.description).toBe('none')

    const second = await expectNothingWritten(fake, 1, () =>
      syncInProcess(fake, ws.dir, { path: 'tasks' })
    )
    expect(second.result).toMatchObject([{ name: 'a', action: 'unchanged' }])
    expect(fake.functions.get('a')?.description).toBe('none')
  })
})
