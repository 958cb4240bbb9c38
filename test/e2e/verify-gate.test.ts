// Verify's texts and the record's names through the bundle, where the
// channel is the point: the outputs file (GitHub takes 1 MB per output),
// the annotation lines, and the log (SPEC sections 8 and 9).
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  verifiedTask
} from '../support/workspace.js'
import { syncWith } from './harness.js'

const MB = 1_000_000

describe('text the function controls (bundle)', () => {
  it('is bounded in every channel, and the counts still count the writes', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...verifiedTask(
        'returns',
        "exports.handler = async () => ({ ok: 'x'.repeat(4 * 1024 * 1024) })\n",
        { verify: JSON.stringify({ expect: { result: { ok: true } } }) }
      ),
      ...verifiedTask(
        'throws',
        [
          'exports.handler = async () => {',
          "  const error = new Error('y'.repeat(4 * 1024 * 1024))",
          "  error.name = 'Bad\\n::error::forged name'",
          '  throw error',
          '}'
        ].join('\n')
      )
    })
    const run = await syncWith(fake, ws.dir, { path: 'tasks', verify: 'true' })
    expect(run.exitCode).toBe(1)
    for (const [name, value] of Object.entries(run.outputs)) {
      expect(Buffer.byteLength(value), name).toBeLessThan(MB)
    }
    expect(run.outputs).toMatchObject({
      created: '2',
      failed: '2',
      changed: 'true'
    })
    for (const entry of run.result) {
      expect(entry).toMatchObject({ action: 'create', status: 'failed' })
      // 1,000 characters, then how many more were left out.
      expect(entry.error).toMatch(/… \(\d+ more characters\)$/)
      expect(entry.error?.length).toBeLessThan(1_100)
    }
    // The error's name: its first line only, never a workflow command.
    expect(run.result.find(r => r.name === 'throws')?.error).toContain(
      'verify: the function failed: Bad: yyy'
    )
    expect(run.stdout).not.toMatch(/^::error::forged/m)
    const annotations = run.stdout
      .split('\n')
      .filter(line => line.startsWith('::error'))
    expect(annotations.length).toBeGreaterThan(0)
    for (const line of annotations) expect(line.length).toBeLessThan(4_200)
    for (const line of run.stdout.split('\n')) {
      expect(line.length).toBeLessThan(16_600)
    }
    expect(run.summary).toContain('2 created')
    expect(run.summary).toContain('2 failed verify')
    // The report files cut the function's texts as the outputs do.
    for (const [name, file] of Object.entries(run.report?.files ?? {})) {
      expect(file.text.length, name).toBeLessThan(20_000)
    }
  })

  it('stays bounded when escaping makes it longer: control characters in the log and the error', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      verifiedTask(
        'noisy',
        [
          'exports.handler = async () => {',
          "  console.log('\\u0001'.repeat(20000))",
          "  throw new Error('\\u0002'.repeat(20000))",
          '}'
        ].join('\n')
      )
    )
    const run = await syncWith(fake, ws.dir, { path: 'tasks', verify: 'true' })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('\\u0001')
    for (const line of run.stdout.split('\n')) {
      const limit = line.startsWith('::error') ? 4_200 : 16_600
      expect(line.length).toBeLessThan(limit)
    }
  })
})

describe('a name taken from $VAR (bundle)', () => {
  it('is its reference in the outputs and the log, not its value', async () => {
    await using fake = await startFakeExh()
    // A value that is a valid function name: any such secret would do.
    const secretName = 'Tok3n-s3cr3t-v4lue'
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('$TASK_NAME', {
        executionCredentials: { permissions: ['VIEW_DOCUMENTS'] }
      }),
      'tasks/a/build/index.js': 'exports.handler = async () => 1\n'
    })
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks' },
      // Debug lines name the task user, whose email is the name lower-cased.
      { env: { TASK_NAME: secretName, RUNNER_DEBUG: '1' } }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(fake.functions.has(secretName)).toBe(true)
    expect(run.result).toMatchObject([
      { name: '$TASK_NAME', action: 'create', status: 'done' }
    ])
    const report = Object.values(run.report?.files ?? {})
      .map(file => file.text)
      .join('\n')
    for (const text of [
      JSON.stringify(run.outputs),
      run.stdout.replace(/^::add-mask::.*$/gm, ''),
      run.summary,
      report
    ]) {
      expect(text).not.toContain(secretName)
      expect(text).not.toContain(secretName.toLowerCase())
    }
    expect(run.stdout).toContain('$TASK_NAME: create done')
  })
})
