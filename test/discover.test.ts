import { describe, expect, it } from 'vitest'
import * as path from 'node:path'
import { findTaskConfigs } from '../src/discover.js'
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
    const found = await findTaskConfigs([ws.path('tasks')], ws.dir)
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
    const found = await findTaskConfigs(
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
