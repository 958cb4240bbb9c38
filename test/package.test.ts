import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import AdmZip from 'adm-zip'
import { describe, expect, it } from 'vitest'
import { hasCommand, makeTree, tempDir, type Tree } from './support/tree.js'
import {
  CodeFolderError,
  scanCodeFolder,
  type WalkedFolder
} from '../src/fingerprint/walk.js'
import {
  MAX_ENVIRONMENT_BYTES,
  MAX_REQUEST_BYTES,
  checkRequestSize,
  environmentBytes,
  packageCodeFolder,
  requestBodyBytes,
  type PackageOptions,
  type TaskPackage
} from '../src/package/zip.js'

/** Over 1 MiB, so packaging streams it; hex compresses to about half. */
function largeContent(): Buffer {
  return Buffer.from(randomBytes(800_000).toString('hex'))
}

const sample: Tree = {
  'index.js': 'exports.handler = async () => "ok"\n',
  bootstrap: { content: '#!/bin/sh\nexec node index.js\n', mode: 0o755 },
  'secret.pem': { content: 'key', mode: 0o600 },
  'empty.txt': '',
  'lib/util.js': 'module.exports = 42\n',
  'lib/alias.js': { symlink: 'util.js' },
  'lib/abs.js': { symlink: '<root>/index.js' },
  'lib/gone.js': { symlink: 'missing.js' },
  'lib/private': { dir: true, mode: 0o700 },
  'node_modules/.bin/tool': { symlink: '../tool/cli.js' },
  'node_modules/tool/cli.js': { content: '#!/usr/bin/env node\n', mode: 0o755 },
  'empty/deeper': { dir: true },
  'ünïcode é.txt': 'utf-8 names',
  '.git/HEAD': 'ref: refs/heads/main'
}

const DOS_1980_01_01 = 0x00210000

/** Packaged in memory: the zip's bytes. */
async function packaged(
  folder: WalkedFolder,
  options: PackageOptions = {}
): Promise<TaskPackage & { zip: Buffer }> {
  const pkg = await packageCodeFolder(folder, options)
  if (!pkg.zip) throw new Error('no zip in memory')
  return { ...pkg, zip: pkg.zip }
}

describe('packageCodeFolder', () => {
  it('writes a zip that reads back as the folder', async () => {
    const root = await makeTree(sample)
    const folder = await scanCodeFolder(root)
    const pkg = await packaged(folder)
    expect(pkg.bytes).toBe(pkg.zip.length)
    expect(pkg.files).toBe(folder.files)

    const entries = new AdmZip(pkg.zip).getEntries()
    expect(entries.map(entry => entry.entryName)).toEqual(
      folder.entries.map(entry =>
        entry.type === 'directory' ? `${entry.path}/` : entry.path
      )
    )
    for (const [index, entry] of folder.entries.entries()) {
      const zipped = entries[index]
      if (!zipped) throw new Error(`no zip entry for ${entry.path}`)
      const unix = zipped.header.attr >>> 16
      expect(zipped.header.made >> 8).toBe(3)
      expect(zipped.header.timeval).toBe(DOS_1980_01_01)
      if (entry.type === 'file') {
        expect(unix).toBe(0o100000 | entry.mode)
        expect(zipped.getData()).toEqual(
          await readFile(path.join(root, entry.path))
        )
        // Deflated unless deflate would not make it smaller (tiny files).
        const shrinks = zipped.header.compressedSize < entry.size
        expect(zipped.header.method).toBe(shrinks ? 8 : 0)
        if (!shrinks) expect(zipped.header.compressedSize).toBe(entry.size)
      } else if (entry.type === 'symlink') {
        expect(unix).toBe(0o120777)
        expect(zipped.header.method).toBe(0)
        expect(zipped.getData().toString()).toBe(entry.linkTarget)
      } else {
        expect(zipped.isDirectory).toBe(true)
        expect(unix).toBe(0o040000 | entry.mode)
      }
    }
  })

  it.each<[string, string, number]>([
    ['an executable bootstrap', 'bootstrap', 0o100755],
    ['a private file', 'secret.pem', 0o100600],
    ['a private folder', 'lib/private/', 0o040700],
    ['a link', 'lib/alias.js', 0o120777],
    ['a link rewritten from absolute', 'lib/abs.js', 0o120777]
  ])('keeps the mode of %s', async (_name, entryName, expected) => {
    const pkg = await packaged(await scanCodeFolder(await makeTree(sample)))
    const entry = new AdmZip(pkg.zip).getEntry(entryName)
    expect(entry).not.toBeNull()
    expect((entry?.header.attr ?? 0) >>> 16).toBe(expected)
  })

  it('stores links with relative targets and no wrapping folder', async () => {
    const pkg = await packaged(await scanCodeFolder(await makeTree(sample)))
    const zip = new AdmZip(pkg.zip)
    expect(zip.readAsText('lib/abs.js')).toBe('../index.js')
    expect(zip.readAsText('lib/gone.js')).toBe('missing.js')
    expect(zip.readAsText('node_modules/.bin/tool')).toBe('../tool/cli.js')
    expect(zip.getEntry('index.js')).not.toBeNull()
    expect(
      zip.getEntries().some(entry => entry.entryName.startsWith('.git'))
    ).toBe(false)
  })

  it.each<[string, Tree]>([
    ['the sample folder', sample],
    ['one file', { 'index.js': 'x' }],
    [
      'many small files',
      Object.fromEntries(
        Array.from({ length: 300 }, (_, i) => [`f/${i}.js`, `${i}`.repeat(i)])
      )
    ]
  ])(
    'packages %s byte-identically, before and after a touch',
    async (_name, tree) => {
      const root = await makeTree(tree)
      const first = await packaged(await scanCodeFolder(root))
      const again = await packaged(await scanCodeFolder(root))
      expect(again.zip.equals(first.zip)).toBe(true)
      const later = new Date('2030-06-07T08:09:10Z')
      for (const rel of Object.keys(tree)) {
        if (!rel.startsWith('.git')) {
          await utimes(path.join(root, rel), later, later).catch(
            () => undefined
          )
        }
      }
      const touched = await packaged(await scanCodeFolder(root))
      expect(touched.zip.equals(first.zip)).toBe(true)
    }
  )

  it('streams a large file into the zip', async () => {
    const big = largeContent()
    const root = await makeTree({
      'index.js': 'x',
      'data/big.txt': { content: big }
    })
    const folder = await scanCodeFolder(root)
    const pkg = await packaged(folder)
    expect(pkg.bytes).toBeLessThan(big.length)
    const entry = new AdmZip(pkg.zip).getEntry('data/big.txt')
    expect(entry?.header.method).toBe(8)
    expect(entry?.getData().equals(big)).toBe(true)
    const again = await packaged(await scanCodeFolder(root))
    expect(again.zip.equals(pkg.zip)).toBe(true)
  })

  it('packages thousands of folders and empty files in a row', async () => {
    // adm-zip's own async writer overflows the stack on a run like this.
    const root = await makeTree({ 'index.js': 'x', d: { dir: true } })
    await Promise.all(
      Array.from({ length: 2500 }, (_, i) =>
        writeFile(path.join(root, 'd', String(i).padStart(4, '0')), '')
      )
    )
    const folder = await scanCodeFolder(root)
    const pkg = await packaged(folder)
    expect(new AdmZip(pkg.zip).getEntries()).toHaveLength(2502)
    expect(pkg.files).toBe(2501)
  })

  it.skipIf(process.platform === 'win32')(
    'fails a zip the disk took only part of, and leaves no file',
    async () => {
      const root = await makeTree({
        'data.bin': { content: randomBytes(900_000) }
      })
      const zip = path.join(await tempDir(), 'cut.zip')
      // A file size limit ends a write short without an error, as a full
      // disk does (Node ignores SIGXFSZ). The whole zip goes in one last
      // write here, so nothing after it would fail instead.
      const out = execFileSync(
        'bash',
        [
          '-c',
          `ulimit -f 512 && exec "$0" --import tsx test/support/package-to-file.ts "$1" "$2"`,
          process.execPath,
          root,
          zip
        ],
        { encoding: 'utf8', timeout: 60_000 }
      )
      const outcome = JSON.parse(out) as { error?: string }
      expect(outcome.error).toMatch(/wrote \d+ of \d+ bytes/)
      expect(existsSync(zip)).toBe(false)
    }
  )

  it('refuses a file that changed after the scan', async () => {
    const root = await makeTree({ 'index.js': 'short' })
    const folder = await scanCodeFolder(root)
    await writeFile(path.join(root, 'index.js'), 'much longer now')
    const error: unknown = await packaged(folder).catch(
      (thrown: unknown) => thrown
    )
    expect(error).toBeInstanceOf(CodeFolderError)
    expect((error as CodeFolderError).message).toContain('index.js')
  })

  it.skipIf(!hasCommand('unzip'))(
    'is read by unzip as the same folder',
    async () => {
      const root = await makeTree(sample)
      const folder = await scanCodeFolder(root)
      const pkg = await packaged(folder)
      const work = await tempDir()
      const zipFile = path.join(work, 'code.zip')
      await writeFile(zipFile, pkg.zip)
      expect(execFileSync('unzip', ['-t', zipFile]).toString()).toContain(
        'No errors detected'
      )
      const listing = execFileSync('zipinfo', [zipFile]).toString()
      expect(listing).toMatch(/^-rwxr-xr-x .* unx .* bootstrap$/m)
      expect(listing).toMatch(/^lrwxrwxrwx .* unx .* stor .* lib\/alias\.js$/m)
      expect(listing).toMatch(/^drwx------ .* lib\/private\/$/m)
      const out = path.join(work, 'out')
      execFileSync('unzip', ['-q', zipFile, '-d', out])
      const unzipped = await scanCodeFolder(out)
      expect(unzipped.entries).toEqual(folder.entries)
      expect(unzipped.fingerprint).toBe(folder.fingerprint)
    }
  )
})

describe('request and environment sizes', () => {
  it.each<[unknown, number]>([
    [{}, 2],
    ['é', 4],
    [{ a: '€' }, 11],
    [{ emoji: '😀' }, 16],
    [[1, 2], 5],
    [undefined, 0]
  ])('counts the UTF-8 bytes of %j as %i', (body, bytes) => {
    expect(requestBodyBytes(body)).toBe(bytes)
  })

  /** A body that, with a zip of `zipBytes`, is exactly `total` bytes. */
  function bodyOfSize(total: number, zipBytes: number): object {
    const base64 = 4 * Math.ceil(zipBytes / 3)
    const bare = requestBodyBytes({ name: 'fn', description: '', code: '' })
    return { name: 'fn', description: 'd'.repeat(total - base64 - bare) }
  }

  it.each<[string, number, number, boolean]>([
    ['exactly the limit', MAX_REQUEST_BYTES, 7_499_970, true],
    ['one byte over', MAX_REQUEST_BYTES + 1, 7_499_970, false],
    ['a small zip, just under', MAX_REQUEST_BYTES - 1, 3, true],
    ['a small zip, just over', MAX_REQUEST_BYTES + 1, 3, false]
  ])('%s', (_name, total, zipBytes, fits) => {
    const body = bodyOfSize(total, zipBytes)
    // The check equals counting the body with the real base64 in it.
    expect(
      requestBodyBytes({
        ...body,
        code: 'A'.repeat(4 * Math.ceil(zipBytes / 3))
      })
    ).toBe(total)
    const message = checkRequestSize(body, zipBytes)
    if (fits) {
      expect(message).toBeUndefined()
    } else {
      expect(message).toContain(`${zipBytes.toLocaleString('en-US')}-byte zip`)
      expect(message).toContain('10,000,000 bytes')
      expect(message).toContain('10,000,001 bytes')
    }
  })

  it('ignores a stale `code` already in the body', () => {
    const body = bodyOfSize(MAX_REQUEST_BYTES, 7_499_970)
    expect(
      checkRequestSize({ ...body, code: 'x'.repeat(5_000_000) }, 7_499_970)
    ).toBeUndefined()
  })

  it('says how large the zip may be', () => {
    const message = checkRequestSize({ name: 'fn' }, 8_000_000)
    expect(message).toContain('8,000,000-byte zip')
    const maxZip = Number(
      /at most ([\d,]+) bytes/.exec(message ?? '')?.[1]?.replaceAll(',', '')
    )
    expect(checkRequestSize({ name: 'fn' }, maxZip)).toBeUndefined()
    expect(checkRequestSize({ name: 'fn' }, maxZip + 1)).toBeDefined()
  })

  it.each<[string, Record<string, string>, number]>([
    ['nothing', {}, 0],
    ['ASCII', { A: 'b' }, 2],
    ['a 2-byte character', { KEY: 'é' }, 5],
    ['a 3-byte character', { K: '€' }, 4],
    ['a 4-byte character (2 UTF-16 units)', { K: '😀' }, 5],
    ['a non-ASCII key and an empty value', { É: 'x', B: '' }, 4],
    ['exactly the limit', { LONG: 'x'.repeat(4092) }, MAX_ENVIRONMENT_BYTES]
  ])('counts the environment bytes of %s', (_name, env, bytes) => {
    expect(environmentBytes(env)).toBe(bytes)
  })
})
