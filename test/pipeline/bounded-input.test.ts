// Hostile configs a pull request can add (SPEC section 8, "Bounded input"):
// each fails its own task, naming its file, while the others are still
// reported; nothing crashes, hangs or is written.

import { execFileSync } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { runInProcess } from '../support/in-process.js'
import { credentialInputs } from '../support/with-fake.js'
import { A, B, REPO, lineOf, prefixed, twoTasks } from '../support/two-tasks.js'
import { MAX_CONFIG_BYTES } from '../../src/task.js'

const BIG = 'tasks/big/task-config.json'
const DEEP = 'tasks/deep/task-config.json'
const FIFO = 'tasks/fifo/task-config.json'

/** A valid config padded with spaces to exactly `bytes`. */
function paddedConfig(name: string, bytes: number): string {
  const text = taskConfig(name)
  return text + ' '.repeat(bytes - Buffer.byteLength(text))
}

describe('bounded input', () => {
  it('fails a config over 1 MB, one nested 100,000 deep and a FIFO, each on its own; the others are reported', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      prefixed({
        ...twoTasks(),
        // Exactly the limit is read.
        [B]: paddedConfig('b', MAX_CONFIG_BYTES),
        [BIG]: paddedConfig('big', MAX_CONFIG_BYTES + 1),
        [DEEP]: `{"name": "deep", "x": ${'['.repeat(100_000)}`
      })
    )
    // A FIFO nobody writes to: opening it for reading would hang the run.
    await mkdir(ws.path(`${REPO}/tasks/fifo`))
    execFileSync('mkfifo', [ws.path(`${REPO}/${FIFO}`)])
    const run = await runInProcess({
      workspace: ws.path(REPO),
      inputs: credentialInputs(fake)
    })

    expect(run.exitCode, run.log).toBe(1)
    expect(fake.requests).toEqual([])
    expect(run.result.map(r => [r.config, r.status])).toEqual([
      [A, 'skipped'],
      [B, 'skipped'],
      [BIG, 'failed'],
      [DEEP, 'failed'],
      [FIFO, 'failed']
    ])
    expect(run.errors).toContain(
      `${BIG}: JSON: is 1,048,577 bytes, over the limit of 1,048,576 bytes (1 MB)`
    )
    expect(run.errors).toContain(
      `${DEEP}:1: JSON: invalid JSON: nested deeper than 64 levels`
    )
    expect(run.errors).toContain(
      `${FIFO}: JSON: is not a regular file (a FIFO), so it is not read`
    )
    for (const file of [BIG, DEEP, FIFO]) {
      expect(run.summary).toContain(file)
    }
    expect(run.summary).toContain('another config is invalid')
  })

  it('refuses a code folder that is, or lies inside, .git, before any write', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      prefixed({
        [A]: taskConfig('a'),
        '.git/config':
          '[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n',
        '.git/hooks/x': 'x',
        // `build -> ../../.git`, as a pull request can commit it.
        'tasks/a/build': { symlink: '../../.git' },
        [B]: taskConfig('b', { path: '../../.git/hooks' })
      })
    )
    const run = await runInProcess({
      workspace: ws.path(REPO),
      inputs: credentialInputs(fake)
    })

    expect(run.exitCode, run.log).toBe(1)
    expect(fake.writeRequests()).toEqual([])
    expect(run.result.map(r => [r.config, r.status])).toEqual([
      [A, 'failed'],
      [B, 'failed']
    ])
    const line = lineOf(taskConfig('a'), '"path"')
    expect(run.errors).toContain(
      `${A}:${line}: path: code folder tasks/a/build is or lies inside a .git folder (its real path is .git)`
    )
    expect(run.errors).toContain(
      `${B}:${line}: path: code folder .git/hooks is or lies inside a .git folder (its real path is .git/hooks)`
    )
  })

  it('stops at a cancel during discovery: no task started, outputs and summary written', async () => {
    await using ws = await makeWorkspace(prefixed(twoTasks()))
    const run = await runInProcess({
      workspace: ws.path(REPO),
      inputs: { 'dry-run': 'true' },
      cancelledBeforeStart: true
    })

    expect(run.exitCode, run.log).toBe(1)
    // No config was read, so no task is known.
    expect(run.result).toEqual([])
    expect(run.outputs.failed).toBe('0')
    expect(run.errors).toBe('the run was cancelled (SIGINT/SIGTERM)')
    expect(run.summary).toContain('the run was cancelled')
  })
})

describe('bounded input: the depth check and the parser see the same tokens', () => {
  // tooDeepAt reads `"` inside a comment as the start of a string and skips
  // the nesting after it; jsonc-parser reads the comment as a comment (an
  // error it recovers from) and recurses 100,000 deep.
  const DEEP = 'tasks/deep/task-config.json'
  const n = 100_000
  const hidden = `{"name": "deep", "x": [/*"*/${'['.repeat(n)}${']'.repeat(n)}/*"*/]}`

  it('fails a config whose nesting a comment hides on its own task, naming its file; the others are reported', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      prefixed({ ...twoTasks(), [DEEP]: hidden })
    )
    const run = await runInProcess({
      workspace: ws.path(REPO),
      inputs: credentialInputs(fake)
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors).not.toContain('Maximum call stack size exceeded')
    expect(run.errors).toContain(DEEP)
    expect(run.result.map(r => [r.config, r.status])).toContainEqual([
      A,
      'skipped'
    ])
  })
})
