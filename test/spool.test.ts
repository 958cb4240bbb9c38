import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeTree, tempDir } from './support/tree.js'
import {
  readFolder,
  scanCodeFolder,
  walkCodeFolder
} from '../src/fingerprint/walk.js'
import type { EncodedSegment } from '../src/fingerprint/segment-codec.js'
import { spoolZip } from '../src/package/spool.js'
import type { TaskDefinition } from '../src/task.js'

function task(codeDir: string): TaskDefinition {
  return {
    name: 'a',
    codeDir,
    asWritten: {},
    configFile: 'tasks/a/task-config.json',
    locations: { path: { line: 3, column: 11 } },
    config: {
      name: 'a',
      path: 'build',
      entryPoint: 'index.handler',
      runtime: 'nodejs22.x'
    }
  }
}

const where = {
  file: 'tasks/a/task-config.json',
  line: 3,
  column: 11,
  field: 'path',
  task: 'a'
}

describe('spoolZip', () => {
  it('spools the zip and, when asked, the fingerprint from the same read', async () => {
    const root = await makeTree({ 'index.js': 'x', 'lib/b.js': 'y' })
    const spoolDir = await tempDir()
    const spooled = await spoolZip(task(root), await walkCodeFolder(root), {
      spoolDir,
      hash: true
    })
    expect(spooled).toMatchObject({ pkg: { files: 2 } })
    if (!('pkg' in spooled)) return
    expect(existsSync(spooled.pkg.file)).toBe(true)
    expect(path.dirname(spooled.pkg.file)).toBe(spoolDir)
    expect(spooled.fingerprint).toBe((await scanCodeFolder(root)).fingerprint)
    // The digest is of the file's bytes, hashed as they were written.
    const bytes = await readFile(spooled.pkg.file)
    expect(spooled.pkg.sha256).toBe(
      createHash('sha256').update(bytes).digest('hex')
    )
    expect(spooled.pkg.bytes).toBe(bytes.length)
  })

  it.each([
    {
      name: 'a file gone since the walk, named as the workspace sees it',
      body: undefined,
      rule: /^tasks\/a\/build\/gone\.js: cannot be read \(ENOENT\)$/
    },
    {
      name: 'a zip past what the body leaves of a request',
      body: { description: 'x'.repeat(9_990_000) },
      rule: /^the request would be [\d,]+ bytes \(a 7,480-byte zip, .*; the zip was abandoned as it passed 7,479 bytes/
    }
  ])('makes $name the task’s `path` problem', async ({ body, rule }) => {
    const root = await makeTree({
      'index.js': { content: randomBytes(20_000) },
      'gone.js': 'x'
    })
    const walked = await walkCodeFolder(root)
    if (!body) await rm(path.join(root, 'gone.js'))
    const spooled = await spoolZip(task(root), walked, {
      spoolDir: await tempDir(),
      body
    })
    if (!('problem' in spooled)) throw new Error('no problem')
    const { rule: text, ...located } = spooled.problem
    expect(located).toEqual(where)
    expect(text).toMatch(rule)
  })
})

describe('readFolder', () => {
  it('hands a sink every segment in order, and its error for a file past maxBytes', async () => {
    const root = await makeTree({
      'a.js': 'a',
      'b.bin': { content: randomBytes(2 * 1024 * 1024) }
    })
    const walked = await walkCodeFolder(root)
    const seen: EncodedSegment[] = []
    const sink = {
      add: (segment: EncodedSegment) => {
        seen.push(segment)
        return Promise.resolve()
      },
      tooLarge: () => new Error('too large for the sink')
    }
    const options = { hash: true, level: 6 }
    const fingerprint = await readFolder(walked, options, sink)
    expect(fingerprint).toBe((await scanCodeFolder(root)).fingerprint)
    expect(seen.map(segment => segment.failure)).toEqual([undefined, undefined])
    seen.length = 0
    await expect(
      readFolder(walked, { ...options, maxBytes: 1000 }, sink)
    ).rejects.toThrow('too large for the sink')
  })
})
