import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import path from 'node:path'
import AdmZip from 'adm-zip'
import { describe, expect, it } from 'vitest'
import { makeTree, tempDir, type Tree } from './support/tree.js'
import { scanCodeFolder, walkCodeFolder } from '../src/fingerprint/walk.js'
import { ZipTooLarge, packageCodeFolder } from '../src/package/zip.js'
import { spoolFile } from '../src/package/spool.js'

/** Many small files, some empty, a few above the streaming threshold. */
function mixedTree(): Tree {
  const tree: Tree = {}
  for (let i = 0; i < 300; i++) {
    const text = `module.exports = ${'x'.repeat(i * 37)}\n`
    tree[`node_modules/pkg-${i % 17}/file-${i}.js`] = i % 50 === 0 ? '' : text
  }
  tree['big/one.bin'] = {
    content: Buffer.from(randomBytes(700_000).toString('hex'))
  }
  tree['big/two.txt'] = { content: 'abc'.repeat(600_000) }
  tree['lib/link.js'] = { symlink: '../big/two.txt' }
  tree['bootstrap'] = { content: '#!/bin/sh\n', mode: 0o755 }
  return tree
}

describe('packaging in parallel', () => {
  it('writes the same bytes whatever the split and the concurrency', async () => {
    const folder = await walkCodeFolder(await makeTree(mixedTree()))
    const splits = [
      { jobsAhead: 1, segmentEntries: 1 },
      { jobsAhead: 2, segmentEntries: 7 },
      { jobsAhead: 16, segmentEntries: 512 }
    ]
    const zips = await Promise.all([
      ...splits.map(split => packageCodeFolder(folder, { split })),
      // Several at once share the workers, finishing in any order.
      ...Array.from({ length: 4 }, () => packageCodeFolder(folder))
    ])
    const [first, ...others] = zips.map(pkg => pkg.zip?.toString('hex'))
    expect(first).toBeDefined()
    for (const other of others) expect(other).toBe(first)
  })

  it('gives the same fingerprint from the zip read as from a scan', async () => {
    const root = await makeTree(mixedTree())
    const pkg = await packageCodeFolder(await walkCodeFolder(root), {
      hash: true,
      file: path.join(await tempDir(), 'code.zip')
    })
    expect(pkg.fingerprint).toBe((await scanCodeFolder(root)).fingerprint)
  })

  it('keeps setuid, setgid and sticky bits in the zip', async () => {
    const root = await makeTree({
      'bin/tool': { content: '#!/bin/sh\n', mode: 0o4755 },
      'bin/group': { content: '#!/bin/sh\n', mode: 0o2755 },
      shared: { dir: true, mode: 0o1777 }
    })
    const pkg = await packageCodeFolder(await walkCodeFolder(root))
    const modes = Object.fromEntries(
      new AdmZip(pkg.zip)
        .getEntries()
        .map(entry => [entry.entryName, (entry.header.attr >>> 16) & 0o7777])
    )
    expect(modes).toMatchObject({
      'bin/tool': 0o4755,
      'bin/group': 0o2755,
      'shared/': 0o1777
    })
  })
})

describe('packaging past the size limit', () => {
  it.each([
    ['many small incompressible files', 200, 20_000],
    ['one large incompressible file', 1, 4_000_000]
  ])(
    'abandons the zip of %s as it passes the limit, leaving no file',
    async (_name, files, size) => {
      const tree: Tree = {}
      for (let i = 0; i < files; i++) {
        tree[`data-${i}.bin`] = { content: randomBytes(size) }
      }
      const folder = await walkCodeFolder(await makeTree(tree))
      const spool = await tempDir()
      const file = path.join(spool, 'code.zip')
      const error: unknown = await packageCodeFolder(folder, {
        file,
        maxBytes: 100_000
      }).catch((thrown: unknown) => thrown)
      expect(error).toBeInstanceOf(ZipTooLarge)
      expect(existsSync(file)).toBe(false)
      expect(await readdir(spool)).toEqual([])
    }
  )

  it('stops on a cancel, leaving no file', async () => {
    const folder = await walkCodeFolder(await makeTree(mixedTree()))
    const file = path.join(await tempDir(), 'code.zip')
    const error: unknown = await packageCodeFolder(folder, {
      file,
      signal: AbortSignal.abort()
    }).catch((thrown: unknown) => thrown)
    expect((error as Error).name).toBe('AbortError')
    expect(existsSync(file)).toBe(false)
  })
})

describe('spool files', () => {
  it('differ for task names that differ only in case', async () => {
    const dir = await tempDir()
    const names = ['Report', 'report', 'REPORT']
    const files = names.map(name => path.basename(spoolFile(dir, name)))
    expect(new Set(files.map(file => file.toLowerCase())).size).toBe(3)
  })
})
