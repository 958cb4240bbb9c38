import { cp, rm } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { DIST, runAction } from '../support/run-action.js'
import { tempDir } from '../support/tree.js'
import { INLINE_BYTES } from '../../src/fingerprint/file-workers.js'

describe('the bundle', () => {
  it('starts its file workers from dist/file-worker.js, its own entry', async () => {
    expect(existsSync(path.join(path.dirname(DIST), 'file-worker.js'))).toBe(
      true
    )
    // The bundle without that file cannot package more than a run's inline
    // start: the pool loads it.
    const copy = await tempDir()
    await cp(path.dirname(DIST), copy, { recursive: true })
    await rm(path.join(copy, 'file-worker.js'))
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'.repeat(INLINE_BYTES + 1)
    })
    const run = await runAction({
      workspace: ws.dir,
      inputs: { path: 'tasks', 'dry-run': 'true' },
      script: path.join(copy, 'index.js')
    })
    expect(run.exitCode).toBe(1)
    expect(run.log).toContain('file-worker.js')
  })
})
