import { describe, expect, it } from 'vitest'
import { makeTree, type Tree } from './support/tree.js'
import { scanCodeFolder } from '../src/fingerprint/walk.js'

/** Bytes that are the same on every run, larger than any read buffer. */
function fixedBytes(length: number): Buffer {
  const bytes = Buffer.alloc(length)
  let state = 12345
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0
    bytes[i] = state >>> 24
  }
  return bytes
}

const tree: Tree = {
  'index.js': 'exports.handler = async () => "ok"\n',
  bootstrap: { content: '#!/bin/sh\nexec node index.js\n', mode: 0o755 },
  'secret.pem': { content: 'key', mode: 0o600 },
  'empty.txt': '',
  'lib/util.js': 'module.exports = 42\n',
  'lib/alias.js': { symlink: 'util.js' },
  'lib/private': { dir: true, mode: 0o700 },
  'ünïcode é.txt': 'utf-8 names',
  'big/data.bin': { content: fixedBytes(3 * 1024 * 1024 + 7) },
  '.git/HEAD': 'ref: refs/heads/main'
}

describe('the code fingerprint', () => {
  // Every deployed function stores this value in its marker: a different
  // value for the same tree would upload every function once, and needs a
  // CHANGELOG entry. This pins the definition, not just its stability.
  // (Modes come from a umask of 022, as on GitHub's runners.)
  it('is the documented hash of a fixed tree', async () => {
    const folder = await scanCodeFolder(await makeTree(tree))
    expect(folder.fingerprint).toBe(
      '12fe1f793e1871b2f6124729dd59a7cb1ffef16e55c567afbf23c4ce3d541daf'
    )
  })
})
