import * as crypto from 'node:crypto'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeTree } from './support/tree.js'
import type { CodeEntry } from '../src/fingerprint/walk.js'
import { planSegments } from '../src/fingerprint/read-pass.js'
import { segmentEncoder } from '../src/fingerprint/segment-codec.js'

const MiB = 1024 * 1024

function file(path: string, size: number): CodeEntry {
  return { type: 'file', path, size, mode: 0o644 }
}

describe('planSegments', () => {
  const cases: {
    name: string
    sizes: number[]
    maxEntries?: number
    ranges: [number, number][]
  }[] = [
    { name: 'no entries', sizes: [], ranges: [] },
    { name: 'a few small files', sizes: [1, 2, 3], ranges: [[0, 3]] },
    {
      name: 'closes at the entry count',
      sizes: [1, 1, 1, 1, 1],
      maxEntries: 2,
      ranges: [
        [0, 2],
        [2, 4],
        [4, 5]
      ]
    },
    {
      name: 'closes once 1 MiB of bytes is reached',
      sizes: [MiB / 2, MiB / 2, 10],
      ranges: [
        [0, 2],
        [2, 3]
      ]
    },
    {
      name: 'a file above the streaming threshold is alone',
      sizes: [10, MiB + 1, 10, 10],
      ranges: [
        [0, 1],
        [1, 2],
        [2, 4]
      ]
    },
    {
      name: 'two large files in a row',
      sizes: [2 * MiB, 3 * MiB],
      ranges: [
        [0, 1],
        [1, 2]
      ]
    }
  ]
  it.each(cases)('$name', ({ sizes, maxEntries, ranges }) => {
    const entries = sizes.map((size, i) => file(`f${i}`, size))
    expect(planSegments(entries, maxEntries)).toEqual(ranges)
  })
})

describe('encodeSegment', () => {
  const fresh = () => segmentEncoder()

  it.each([
    {
      name: 'a missing file',
      entries: [file('a.js', 3), file('gone.js', 3)],
      failure: { index: 1, code: 'ENOENT' }
    },
    {
      name: 'a file whose size differs from the listing',
      entries: [file('a.js', 4)],
      failure: { index: 0, code: 'SIZE_CHANGED' }
    },
    {
      name: 'a file that grew since the listing',
      entries: [file('a.js', 2)],
      failure: { index: 0, code: 'SIZE_CHANGED' }
    },
    {
      name: 'a large file that grew since the listing',
      entries: [file('random.bin', MiB + 10)],
      failure: { index: 0, code: 'SIZE_CHANGED' }
    },
    {
      name: 'a file replaced by a named pipe (read without blocking)',
      entries: [file('pipe', 3)],
      failure: { index: 0, code: 'NOT_A_FILE' }
    },
    {
      name: 'a file replaced by a symlink (its target is not read)',
      entries: [file('swapped.js', 3)],
      failure: { index: 0, code: 'NOT_A_FILE' }
    },
    {
      name: 'a large file replaced by a symlink',
      entries: [file('swapped.bin', 2 * MiB)],
      failure: { index: 0, code: 'NOT_A_FILE' }
    },
    {
      name: 'a large file deflating past the limit',
      entries: [file('random.bin', 2 * MiB)],
      maxBytes: 100_000,
      failure: { index: 0, code: 'TOO_LARGE' }
    }
  ])('reports $name', async ({ entries, maxBytes, failure }) => {
    const root = await makeTree({
      'a.js': 'abc',
      'random.bin': { content: crypto.randomBytes(2 * MiB) },
      // Listed as files of the target's size, then swapped for links.
      'swapped.js': { symlink: 'a.js' },
      'swapped.bin': { symlink: 'random.bin' }
    })
    execFileSync('mkfifo', [path.join(root, 'pipe')])
    const encoded = await fresh().encodeSegment({
      root,
      entries,
      hash: true,
      level: 6,
      maxBytes
    })
    expect(encoded.failure).toEqual(failure)
  })

  // Random bytes deflate slowly: each encode takes far longer than the
  // 5 ms between two turns of the event loop, on any machine.
  it.each([
    {
      name: 'between small files (read and deflated without waiting)',
      tree: Object.fromEntries(
        Array.from({ length: 100 }, (_, i) => [
          `f${i}.bin`,
          { content: crypto.randomBytes(32 * 1024) }
        ])
      ),
      entries: Array.from({ length: 100 }, (_, i) =>
        file(`f${i}.bin`, 32 * 1024)
      ),
      level: 6
    },
    {
      name: 'inside a large file, between its chunks',
      tree: { 'big.bin': { content: crypto.randomBytes(4 * MiB) } },
      entries: [file('big.bin', 4 * MiB)],
      level: 6
    },
    {
      name: 'inside a large file only hashed (no deflate to wait for)',
      tree: { 'big.bin': { content: Buffer.alloc(24 * MiB, 1) } },
      entries: [file('big.bin', 24 * MiB)],
      level: undefined
    }
  ])('lets a stop end it $name', async ({ tree, entries, level }) => {
    const root = await makeTree(tree)
    const stop = new AbortController()
    const encoding = fresh().encodeSegment(
      { root, entries, hash: true, level },
      stop.signal
    )
    // As a worker's message would: only once its event loop turns.
    setImmediate(() => {
      stop.abort(new Error('stopped'))
    })
    await expect(encoding).rejects.toThrow('stopped')
  })

  it('gives the same bytes for a content met again as for its first time', async () => {
    const same = 'module.exports = 1\n'.repeat(200)
    const root = await makeTree({ 'a.js': same, 'b.js': same, 'c.txt': 'x' })
    const b = file('b.js', same.length)
    const entries = [file('a.js', same.length), b, file('c.txt', 1)]
    const job = { root, entries, hash: true, level: 6 }
    const codec = fresh()
    const bytes = (part?: Uint8Array): Buffer => Buffer.from(part ?? [])
    const once = await codec.encodeSegment(job)
    // The same codec has now seen every content; a new one has seen none.
    const again = await codec.encodeSegment(job)
    const alone = await fresh().encodeSegment({ ...job, entries: [b] })
    expect(bytes(once.local).length).toBeGreaterThan(0)
    expect(bytes(again.local)).toEqual(bytes(once.local))
    expect(bytes(again.feed)).toEqual(bytes(once.feed))
    // b.js's record (the second) holds exactly what b.js alone deflates to.
    expect(bytes(once.local).includes(bytes(alone.local))).toBe(true)
  })

  it('stores a file that deflate would not shrink, and deflates one it does', async () => {
    const random = crypto.randomBytes(5000)
    const text = 'a'.repeat(5000)
    const root = await makeTree({ 'r.bin': { content: random }, 't.txt': text })
    const { central } = await fresh().encodeSegment({
      root,
      entries: [file('r.bin', 5000), file('t.txt', 5000)],
      hash: false,
      level: 6
    })
    const records = Buffer.from(central ?? [])
    const methodAt = (record: number): number => {
      let at = 0
      for (let i = 0; i < record; i++) at += 46 + records.readUInt16LE(at + 28)
      return records.readUInt16LE(at + 10)
    }
    expect([methodAt(0), methodAt(1)]).toEqual([0, 8])
  })
})
