import { execFileSync } from 'node:child_process'
import {
  chmod,
  cp,
  mkdir,
  rename,
  symlink,
  unlink,
  utimes,
  writeFile
} from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeTree, tempDir, type Tree } from './support/tree.js'
import {
  CodeFolderError,
  scanCodeFolder,
  type CodeEntry
} from '../src/fingerprint/walk.js'

function paths(entries: CodeEntry[]): string[] {
  return entries.map(entry => entry.path)
}

async function scanError(root: string): Promise<CodeFolderError> {
  const error: unknown = await scanCodeFolder(root).then(
    () => undefined,
    (thrown: unknown) => thrown
  )
  expect(error).toBeInstanceOf(CodeFolderError)
  return error as CodeFolderError
}

describe('scanCodeFolder: entries', () => {
  it('sorts entries by UTF-8 bytes, whatever the creation order', async () => {
    const root = await makeTree({
      'b.js': 'b',
      'a/z.js': 'z',
      'a-c.js': 'c',
      'A.js': 'A',
      'a/b/c.js': 'c',
      'é.js': 'e',
      'z.js': 'z'
    })
    const folder = await scanCodeFolder(root)
    // '-' (0x2d) sorts before '/' (0x2f); 'é' (0xc3 0xa9) after 'z'.
    expect(paths(folder.entries)).toEqual([
      'A.js',
      'a',
      'a-c.js',
      'a/b',
      'a/b/c.js',
      'a/z.js',
      'b.js',
      'z.js',
      'é.js'
    ])
    expect(folder.files).toBe(7)
    expect(folder.root).toBe(root)
    expect(folder.warnings).toEqual([])
  })

  it.each<[string, Tree]>([
    [
      'a .git folder at the root',
      { '.git/config': 'x', '.git/objects/a': 'y' }
    ],
    ['a .git file at the root (a worktree)', { '.git': 'gitdir: ../x' }],
    ['a .git folder one level down', { 'lib/.git/HEAD': 'ref' }],
    ['a .git file deep down', { 'node_modules/p/q/.git': 'gitdir: y' }],
    ['a .git symlink', { '.git': { symlink: 'index.js' } }]
  ])('leaves out %s', async (_name, tree) => {
    const root = await makeTree({
      'index.js': 'x',
      '.gitignore': 'keep me',
      ...tree
    })
    const folder = await scanCodeFolder(root)
    expect(
      paths(folder.entries).filter(p => p.split('/').includes('.git'))
    ).toEqual([])
    expect(paths(folder.entries)).toContain('.gitignore')
    expect(paths(folder.entries)).toContain('index.js')
  })

  it.each([0o755, 0o644, 0o600, 0o700, 0o444])(
    'keeps the file mode %o',
    async mode => {
      const root = await makeTree({ bootstrap: { content: '#!/bin/sh', mode } })
      const [entry] = (await scanCodeFolder(root)).entries
      expect(entry).toEqual({
        path: 'bootstrap',
        type: 'file',
        mode,
        size: 9
      })
    }
  )

  it('keeps folders, empty ones and their modes included', async () => {
    const root = await makeTree({
      'index.js': 'x',
      'empty/nested': { dir: true, mode: 0o750 },
      lib: { dir: true, mode: 0o700 }
    })
    const folder = await scanCodeFolder(root)
    const folders = folder.entries.filter(entry => entry.type === 'directory')
    expect(paths(folders)).toEqual(['empty', 'empty/nested', 'lib'])
    expect(folders.map(entry => [entry.mode, entry.size]).slice(1)).toEqual([
      [0o750, 0],
      [0o700, 0]
    ])
    expect(folder.files).toBe(1)
  })
})

describe('scanCodeFolder: symlinks', () => {
  it.each<[string, string, string]>([
    ['a relative file link', 'lib/index.js', 'lib/index.js'],
    ['a relative folder link', 'lib', 'lib'],
    ['a link up and back in', '../code/lib/index.js', '../code/lib/index.js'],
    ['an absolute link inside', '<root>/lib/index.js', 'lib/index.js'],
    ['an absolute link to the folder itself', '<root>', '.']
  ])('keeps %s as a link entry', async (_name, target, stored) => {
    const root = await makeTree({
      'lib/index.js': 'x',
      link: { symlink: target }
    })
    const folder = await scanCodeFolder(root)
    expect(folder.entries.find(entry => entry.path === 'link')).toEqual({
      path: 'link',
      type: 'symlink',
      mode: 0o777,
      size: Buffer.byteLength(stored),
      linkTarget: stored
    })
    expect(folder.warnings).toEqual([])
  })

  it('rewrites an absolute link relative to its own folder', async () => {
    const root = await makeTree({
      'lib/index.js': 'x',
      'a/b/link': { symlink: '<root>/lib/index.js' }
    })
    const folder = await scanCodeFolder(root)
    expect(
      folder.entries.find(entry => entry.path === 'a/b/link')?.linkTarget
    ).toBe('../../lib/index.js')
  })

  it.each<[string, string, string]>([
    ['a relative link out', 'escape', '../outside'],
    ['a relative link out of a subfolder', 'lib/escape', '../../outside'],
    ['a link in and out again', 'lib/escape', '../lib/../../etc/passwd'],
    ['an absolute link to a system file', 'escape', '/etc/hostname'],
    ['an absolute link to the parent', 'lib/escape', '<root>/..']
  ])('refuses %s', async (_name, where, target) => {
    const root = await makeTree({
      'lib/index.js': 'x',
      [where]: { symlink: target }
    })
    const error = await scanError(root)
    expect(error.entry).toBe(where)
    expect(error.message).toContain(path.join(root, where))
    expect(error.message).toContain(target.replace('<root>', root))
    expect(error.message).toContain('points outside the code folder')
  })

  it('refuses a link that only leaves through another link', async () => {
    // Lexically `self/..` is the folder; really it is its parent.
    const root = await makeTree({
      'index.js': 'x',
      self: { symlink: '.' },
      'sub/x': 'y',
      sneaky: { symlink: 'sub/../self/..' }
    })
    const error = await scanError(root)
    expect(error.entry).toBe('sneaky')
    expect(error.rule).toContain('points outside the code folder')
  })

  it('keeps a dangling link inside, with a warning', async () => {
    const root = await makeTree({
      'index.js': 'x',
      'lib/missing': { symlink: 'gone.js' }
    })
    const folder = await scanCodeFolder(root)
    expect(folder.entries.find(entry => entry.path === 'lib/missing')).toEqual({
      path: 'lib/missing',
      type: 'symlink',
      mode: 0o777,
      size: 7,
      linkTarget: 'gone.js'
    })
    expect(folder.warnings).toHaveLength(1)
    expect(folder.warnings[0]).toContain('lib/missing')
    expect(folder.warnings[0]).toContain('dangling')
  })

  it('warns about a link into the left-out .git folder', async () => {
    const root = await makeTree({
      'index.js': 'x',
      '.git/config': 'c',
      config: { symlink: '.git/config' }
    })
    const folder = await scanCodeFolder(root)
    expect(paths(folder.entries)).toEqual(['config', 'index.js'])
    expect(folder.warnings[0]).toContain('.git')
  })
})

describe('scanCodeFolder: refusals', () => {
  it('refuses a socket', async () => {
    const root = await makeTree({ 'index.js': 'x' })
    const socket = path.join(root, 'app.sock')
    const server: Server = createServer()
    await new Promise<void>(resolve => server.listen(socket, resolve))
    try {
      const error = await scanError(root)
      expect(error.entry).toBe('app.sock')
      expect(error.rule).toContain('socket')
    } finally {
      await new Promise(resolve => server.close(resolve))
    }
  })

  it('refuses a fifo', async ({ skip }) => {
    const root = await makeTree({ 'index.js': 'x' })
    try {
      execFileSync('mkfifo', [path.join(root, 'pipe')])
    } catch {
      skip('mkfifo is not available')
    }
    const error = await scanError(root)
    expect(error.entry).toBe('pipe')
    expect(error.rule).toContain('fifo')
  })

  it.each<[string, Tree, string]>([
    ['an empty folder', {}, 'holds no files'],
    ['a folder of empty folders', { 'a/b': { dir: true } }, 'holds no files'],
    ['a name with a backslash', { 'a\\b.js': 'x' }, '`\\`']
  ])('refuses %s', async (_name, tree, rule) => {
    const root = await makeTree(tree)
    const error = await scanError(root)
    expect(error.rule).toContain(rule)
  })

  it.each<[string, (base: string) => Promise<string>, string]>([
    [
      'a missing folder',
      base => Promise.resolve(path.join(base, 'nope')),
      'ENOENT'
    ],
    [
      'a file',
      async base => {
        await writeFile(path.join(base, 'file'), 'x')
        return path.join(base, 'file')
      },
      'is not a folder'
    ]
  ])('refuses %s as the code folder', async (_name, make, rule) => {
    const target = await make(await tempDir())
    const error = await scanError(target)
    expect(error.folder).toBe(target)
    expect(error.message).toContain(rule)
  })
})

describe('scanCodeFolder: fingerprint', () => {
  const base: Tree = {
    'index.js': 'exports.handler = async () => 1\n',
    bootstrap: { content: '#!/bin/sh\n', mode: 0o755 },
    'lib/util.js': 'module.exports = 2\n',
    'lib/link.js': { symlink: 'util.js' },
    'empty/': { dir: true }
  }

  it('is a hex sha256 and the same on every scan', async () => {
    const root = await makeTree(base)
    const first = await scanCodeFolder(root)
    expect(first.fingerprint).toMatch(/^[0-9a-f]{64}$/)
    expect((await scanCodeFolder(root)).fingerprint).toBe(first.fingerprint)
  })

  it.each<[string, (root: string) => Promise<unknown>]>([
    [
      'touching every file',
      async root => {
        const old = new Date('2001-02-03T04:05:06Z')
        for (const rel of ['index.js', 'bootstrap', 'lib/util.js', 'lib']) {
          await utimes(path.join(root, rel), old, old)
        }
      }
    ],
    [
      'rewriting a file with the same bytes',
      root =>
        writeFile(
          path.join(root, 'index.js'),
          'exports.handler = async () => 1\n'
        )
    ],
    [
      'adding a .git folder',
      async root => {
        await mkdir(path.join(root, '.git'))
        await writeFile(path.join(root, '.git/HEAD'), 'ref: main')
      }
    ]
  ])('does not change when %s', async (_name, change) => {
    const root = await makeTree(base)
    const before = (await scanCodeFolder(root)).fingerprint
    await change(root)
    expect((await scanCodeFolder(root)).fingerprint).toBe(before)
  })

  it('is the same for a copy at another path', async () => {
    const root = await makeTree(base)
    const copy = path.join(await tempDir(), 'elsewhere', 'copy')
    await cp(root, copy, { recursive: true, verbatimSymlinks: true })
    const original = await scanCodeFolder(root)
    const copied = await scanCodeFolder(copy)
    expect(copied.entries).toEqual(original.entries)
    expect(copied.fingerprint).toBe(original.fingerprint)
  })

  it.each<[string, (root: string) => Promise<unknown>]>([
    [
      'a byte changes',
      root =>
        writeFile(
          path.join(root, 'index.js'),
          'exports.handler = async () => 2\n'
        )
    ],
    ['a mode bit changes', root => chmod(path.join(root, 'bootstrap'), 0o744)],
    ['a folder mode changes', root => chmod(path.join(root, 'lib'), 0o700)],
    [
      'a file is renamed',
      root => rename(path.join(root, 'index.js'), path.join(root, 'main.js'))
    ],
    [
      'a file moves to another folder',
      root =>
        rename(path.join(root, 'index.js'), path.join(root, 'empty/index.js'))
    ],
    [
      'a link target changes',
      async root => {
        await unlink(path.join(root, 'lib/link.js'))
        await symlink('./util.js', path.join(root, 'lib/link.js'))
      }
    ],
    [
      'a link becomes a copy of its target',
      async root => {
        await unlink(path.join(root, 'lib/link.js'))
        await writeFile(path.join(root, 'lib/link.js'), 'util.js')
      }
    ],
    ['an empty folder is added', root => mkdir(path.join(root, 'more'))],
    ['an empty file is added', root => writeFile(path.join(root, 'e'), '')],
    [
      'bytes move from one file to the next',
      async root => {
        // Same concatenated bytes, different split: fields must be delimited.
        await writeFile(path.join(root, 'lib/util.js'), 'module.exports = 2')
        await writeFile(path.join(root, 'index.js'), 'exports.handler = ')
      }
    ]
  ])('changes when %s', async (_name, change) => {
    const root = await makeTree(base)
    const before = (await scanCodeFolder(root)).fingerprint
    await change(root)
    expect((await scanCodeFolder(root)).fingerprint).not.toBe(before)
  })

  it('hashes a streamed large file like any other', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'abc')
    const root = await makeTree({ 'big.bin': { content: big } })
    const first = await scanCodeFolder(root)
    expect(first.entries[0]?.size).toBe(big.length)
    big[big.length - 1] = 0
    await writeFile(path.join(root, 'big.bin'), big)
    expect((await scanCodeFolder(root)).fingerprint).not.toBe(first.fingerprint)
  })
})
