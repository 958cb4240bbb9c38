import { describe, expect, it } from 'vitest'
import * as path from 'node:path'
import type { Dirent } from 'node:fs'
import { readdir } from 'node:fs/promises'
import {
  findTaskConfigs,
  unreadableWarnings,
  type Discovery
} from '../src/config/discover.js'
import { ValidationError } from '../src/errors.js'
import { makeWorkspace } from './support/workspace.js'

const config = '{}'

describe('findTaskConfigs', () => {
  it('searches folders recursively, skipping node_modules and dot-folders, sorted', async () => {
    await using ws = await makeWorkspace({
      'tasks/b/task-config.json': config,
      'tasks/a/deep/er/task-config.json': config,
      'tasks/a/task-config.json': config,
      'tasks/a/node_modules/dep/task-config.json': config,
      'tasks/.hidden/task-config.json': config,
      'tasks/c/not-a-config.json': config
    })
    const { configs: found } = await findTaskConfigs([ws.path('tasks')], ws.dir)
    expect(found.map(f => path.relative(ws.dir, f.file))).toEqual([
      'tasks/a/deep/er/task-config.json',
      'tasks/a/task-config.json',
      'tasks/b/task-config.json'
    ])
    expect(new Set(found.map(f => f.root))).toEqual(new Set([ws.path('tasks')]))
  })

  it('finds each file once when paths overlap, and takes files as given', async () => {
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': config,
      'tasks/b/task-config.json': config
    })
    const { configs: found } = await findTaskConfigs(
      [
        ws.path('tasks'),
        ws.path('tasks/a'),
        ws.path('tasks/b/task-config.json')
      ],
      ws.dir
    )
    expect(found).toHaveLength(2)
  })

  it('names the paths searched when nothing is found', async () => {
    await using ws = await makeWorkspace({ 'tasks/readme.md': 'x' })
    await expect(findTaskConfigs([ws.path('tasks')], ws.dir)).rejects.toThrow(
      /path: no task-config\.json found in tasks/
    )
  })

  it.each([
    ['examples/*/tasks', 'examples'],
    ['examples/tasks-*', 'examples'],
    ['*', '.']
  ])(
    'says that path %s is no pattern, and which folder to give',
    async (given, folder) => {
      await using ws = await makeWorkspace({
        'examples/a/tasks/task-config.json': '{}'
      })
      const error: unknown = await findTaskConfigs(
        [ws.path(given)],
        ws.dir
      ).catch((e: unknown) => e)
      expect(String(error)).toContain(
        `path: ${given} does not exist: path takes files and folders, not patterns, and a folder is searched recursively (path: ${folder})`
      )
    }
  )

  it('refuses a path that does not exist', async () => {
    await using ws = await makeWorkspace()
    const error: unknown = await findTaskConfigs(
      [ws.path('nope')],
      ws.dir
    ).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ValidationError)
    expect(String(error)).toContain('path: nope does not exist')
  })
})

const task = (codePath: string) =>
  JSON.stringify({ name: 'a', path: codePath, entryPoint: 'i', runtime: 'x' })

function configsIn(ws: { dir: string }, discovery: Discovery) {
  return discovery.configs.map(found => ({
    file: path.relative(ws.dir, found.file),
    root: path.relative(ws.dir, found.root)
  }))
}

describe('findTaskConfigs with symlinks, copies and unreadable folders', () => {
  it('finds a config file that is a symlink, reported by its link path', async () => {
    await using ws = await makeWorkspace({
      'shared/a.json': config,
      'tasks/a/task-config.json': { symlink: '../../shared/a.json' }
    })
    const found = await findTaskConfigs([ws.path('tasks')], ws.dir)
    expect(configsIn(ws, found)).toEqual([
      { file: 'tasks/a/task-config.json', root: 'tasks' }
    ])
  })

  it('searches a task folder that is a symlink', async () => {
    await using ws = await makeWorkspace({
      'elsewhere/b/task-config.json': config,
      'tasks/b': { symlink: '../elsewhere/b' }
    })
    const found = await findTaskConfigs([ws.path('tasks')], ws.dir)
    expect(configsIn(ws, found)).toEqual([
      { file: 'tasks/b/task-config.json', root: 'tasks' }
    ])
  })

  it('searches a `path` that is a symlink to a folder', async () => {
    await using ws = await makeWorkspace({
      'real/a/task-config.json': config,
      tasks: { symlink: 'real' }
    })
    const found = await findTaskConfigs([ws.path('tasks')], ws.dir)
    expect(configsIn(ws, found)).toEqual([
      { file: 'tasks/a/task-config.json', root: 'tasks' }
    ])
  })

  it('visits each real folder once, so link cycles end', async () => {
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': config,
      'tasks/a/loop': { symlink: '..' },
      'tasks/self': { symlink: '.' }
    })
    const found = await findTaskConfigs([ws.path('tasks')], ws.dir)
    expect(configsIn(ws, found)).toEqual([
      { file: 'tasks/a/task-config.json', root: 'tasks' }
    ])
  })

  it('skips, with a warning, a link whose target leaves the workspace', async () => {
    await using outside = await makeWorkspace({
      'x/task-config.json': config,
      'y.json': config
    })
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': config,
      'tasks/out': { symlink: outside.path('x') },
      'tasks/b/task-config.json': { symlink: outside.path('y.json') }
    })
    const found = await findTaskConfigs([ws.path('tasks')], ws.dir)
    expect(configsIn(ws, found)).toEqual([
      { file: 'tasks/a/task-config.json', root: 'tasks' }
    ])
    expect(found.warnings).toEqual([
      'skipped tasks/b/task-config.json: a symlink to a target outside the workspace',
      'skipped tasks/out: a symlink to a target outside the workspace'
    ])
  })

  it('refuses a `path` that is a symlink leaving the workspace', async () => {
    await using outside = await makeWorkspace({ 'x/task-config.json': config })
    await using ws = await makeWorkspace({
      tasks: { symlink: outside.path('x') }
    })
    await expect(findTaskConfigs([ws.path('tasks')], ws.dir)).rejects.toThrow(
      'path: tasks is a symlink to a target outside the workspace'
    )
  })

  it("does not take a copy of a config in its task's code folder for a task", async () => {
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': task('./build'),
      'tasks/a/build/task-config.json': task('./build'),
      'tasks/a/build/sub/task-config.json': config,
      'tasks/b/task-config.json': task('.'),
      'tasks/b/lib/task-config.json': config
    })
    const found = await findTaskConfigs(
      [ws.path('tasks'), ws.path('tasks/a')],
      ws.dir
    )
    expect(configsIn(ws, found).map(c => c.file)).toEqual([
      'tasks/a/task-config.json',
      'tasks/b/lib/task-config.json',
      'tasks/b/task-config.json'
    ])
  })

  it('reads each config once, as validation reads it, and hands it on', async () => {
    await using ws = await makeWorkspace({
      // A byte-order mark (some Windows editors write one) is no content.
      'tasks/a/task-config.json': `\uFEFF${task('./build')}`,
      'tasks/a/build/task-config.json': task('./build'),
      'tasks/b/task-config.json': '{ "path": '
    })
    const found = await findTaskConfigs([ws.path('tasks')], ws.dir)
    expect(configsIn(ws, found).map(c => c.file)).toEqual([
      'tasks/a/task-config.json',
      'tasks/b/task-config.json'
    ])
    expect(found.configs.map(c => c.read?.ok)).toEqual([true, false])
  })

  it('skips a folder that cannot be read and lists it, finding the rest', async () => {
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': config,
      'tasks/data/x/task-config.json': config
    })
    const denied = ws.path('tasks/data')
    const readFolder = async (folder: string): Promise<Dirent[]> => {
      if (folder === denied) {
        throw Object.assign(new Error(`EACCES: scandir '${folder}'`), {
          code: 'EACCES'
        })
      }
      return readdir(folder, { withFileTypes: true })
    }
    const found = await findTaskConfigs([ws.path('tasks')], ws.dir, readFolder)
    expect(configsIn(ws, found).map(c => c.file)).toEqual([
      'tasks/a/task-config.json'
    ])
    expect(found.unreadable).toEqual([{ folder: denied, code: 'EACCES' }])
  })
})

describe('findTaskConfigs when nothing could be read', () => {
  it('says which folders it could not read', async () => {
    await using ws = await makeWorkspace({ 'tasks/x/task-config.json': config })
    const denied = (): Promise<Dirent[]> =>
      Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' }))
    await expect(
      findTaskConfigs([ws.path('tasks')], ws.dir, denied)
    ).rejects.toThrow(
      'path: no task-config.json found in tasks (searched recursively, skipping node_modules and dot-folders; could not read tasks (EACCES))'
    )
  })
})

describe('unreadableWarnings', () => {
  const ws = '/ws'
  it.each([
    {
      unreadable: [{ folder: '/ws/tasks/data', code: 'EACCES' }],
      codeFolders: [],
      warnings: [
        'skipped folder tasks/data: it cannot be read (EACCES); check its permissions, or leave it out of `path`'
      ]
    },
    {
      unreadable: [{ folder: '/ws/tasks/a/build', code: 'EACCES' }],
      codeFolders: ['/ws/tasks/a/build'],
      warnings: []
    },
    {
      unreadable: [{ folder: '/ws/tasks/bad\n::add-mask::x', code: 'EPERM' }],
      codeFolders: [],
      // As the file system names it: the log and Markdown escape it where
      // they print it (test/e2e/trust.test.ts shows it never forms a command).
      warnings: [
        'skipped folder tasks/bad\n::add-mask::x: it cannot be read (EPERM); check its permissions, or leave it out of `path`'
      ]
    }
  ])(
    'warns about $unreadable.0.folder unless it is a selected code folder',
    ({ unreadable, codeFolders, warnings }) => {
      expect(unreadableWarnings(unreadable, codeFolders, ws)).toEqual(warnings)
    }
  )
})

describe('a path outside the workspace (a second checkout)', () => {
  it('finds its configs: the workflow named that folder', async () => {
    await using ws = await makeWorkspace()
    await using other = await makeWorkspace({
      'tasks/a/task-config.json': '{}',
      'tasks/a/build/index.js': 'x'
    })
    const found = await findTaskConfigs([other.path('tasks')], ws.dir)
    expect(found.configs.map(config => config.file)).toEqual([
      other.path('tasks/a/task-config.json')
    ])
    expect(found.warnings).toEqual([])
  })
})
