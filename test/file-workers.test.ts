import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  INLINE_BYTES,
  INLINE_ENTRY_COST,
  closeFileWorkers,
  encodeSegmentJob,
  fileWorkers,
  releaseToWorkers,
  reuseBytesPerWorker
} from '../src/fingerprint/file-workers.js'
import type { EncodedSegment } from '../src/fingerprint/segment-codec.js'
import { tempDir } from './support/tree.js'

afterAll(async () => {
  await closeFileWorkers()
})

async function encodedSegment() {
  const root = await tempDir()
  await writeFile(path.join(root, 'a.js'), 'export const a = 1\n'.repeat(50))
  const entries = [
    { path: 'a.js', type: 'file' as const, mode: 0o644, size: 950 }
  ]
  return fileWorkers().run({ root, entries, hash: true, level: 6 })
}

/** A job of `count` files of `size` bytes each, and the files. */
async function filesJob(size: number, count = 1) {
  const root = await tempDir()
  const entries = Array.from({ length: count }, (_, i) => ({
    path: `f${i}.js`,
    type: 'file' as const,
    mode: 0o644,
    size
  }))
  for (const entry of entries) {
    await writeFile(path.join(root, entry.path), 'x'.repeat(size))
  }
  return { root, entries, hash: true, level: 6 }
}
const oneFileJob = (size: number) => filesJob(size)

/** Whether a segment's bytes came from a worker: only those are handed back. */
function fromAWorker(segment: EncodedSegment): boolean {
  const { local } = segment
  releaseToWorkers(local ? [local] : [])
  return local?.buffer.byteLength === 0
}

const hex = (segment: EncodedSegment) =>
  [segment.feed, segment.local, segment.central].map(bytes =>
    Buffer.from(bytes ?? []).toString('hex')
  )

describe('encodeSegmentJob', () => {
  it("encodes a run's first megabyte here, then on the pool", async () => {
    await closeFileWorkers()
    const small = await oneFileJob(INLINE_BYTES / 2 - INLINE_ENTRY_COST)
    expect(fromAWorker(await encodeSegmentJob(small))).toBe(false)
    expect(fromAWorker(await encodeSegmentJob(small))).toBe(false)
    // The run's inline bytes are spent: even a small job goes to a worker.
    expect(fromAWorker(await encodeSegmentJob(await oneFileJob(10)))).toBe(true)
    // A worker runs: everything goes to the pool until the run ends.
    expect(fromAWorker(await encodeSegmentJob(await oneFileJob(10)))).toBe(true)
    await closeFileWorkers()
    expect(fromAWorker(await encodeSegmentJob(small))).toBe(false)
    await closeFileWorkers()
  })

  it('sends a job larger than the inline start to the pool at once', async () => {
    await closeFileWorkers()
    const large = await oneFileJob(INLINE_BYTES + 1)
    expect(fromAWorker(await encodeSegmentJob(large))).toBe(true)
    await closeFileWorkers()
  })

  it('counts entries, not only bytes: many empty files go to the pool', async () => {
    await closeFileWorkers()
    const empties = await filesJob(0, INLINE_BYTES / INLINE_ENTRY_COST + 1)
    expect(fromAWorker(await encodeSegmentJob(empties))).toBe(true)
    await closeFileWorkers()
  })

  it('lets a cancel through before an inline segment', async () => {
    await closeFileWorkers()
    const stop = new AbortController()
    const encoding = encodeSegmentJob(await oneFileJob(10), stop.signal)
    stop.abort(new Error('cancelled'))
    await expect(encoding).rejects.toThrow('cancelled')
    await closeFileWorkers()
  })

  it('gives the same bytes on this thread as on a worker', async () => {
    await closeFileWorkers()
    const job = await oneFileJob(5_000)
    const here = await encodeSegmentJob(job)
    expect(fromAWorker(here)).toBe(false)
    const there = await fileWorkers().run(job)
    expect(fromAWorker(there)).toBe(true)
    expect(hex(here)).toEqual(hex(await fileWorkers().run(job)))
    await closeFileWorkers()
  })
})

describe('a cancel of a job a worker is running', () => {
  it('fails the job at once; its worker stops early, is never ended mid-deflate, and serves the next job', async () => {
    await closeFileWorkers()
    const pool = fileWorkers()
    // Still running when the cancel comes, whatever its size: it comes at once.
    const stop = new AbortController()
    const running = pool.run(await filesJob(64 * 1024, 50), stop.signal)
    const [worker] = pool.threadIds
    stop.abort(new Error('cancelled'))
    await expect(running).rejects.toThrow('cancelled')
    // Ended, it would leave the pool (and could abort this process).
    expect(pool.threadIds).toContain(worker)
    const small = await oneFileJob(10)
    const [a, b] = await Promise.all([pool.run(small), pool.run(small)])
    expect(a.local?.byteLength).toBeGreaterThan(0)
    expect(hex(b)).toEqual(hex(a))
    expect(pool.threadIds).toContain(worker)
    expect(pool.threadIds.length).toBeLessThanOrEqual(2)
    await closeFileWorkers()
  })
})

describe('releaseToWorkers', () => {
  it('hands back the buffers a worker sent, freeing them here', async () => {
    const { feed, local, central } = await encodedSegment()
    expect(local?.byteLength).toBeGreaterThan(0)
    releaseToWorkers([feed, local, central].filter(b => b !== undefined))
    // A transferred ArrayBuffer is detached on this side.
    expect(feed?.buffer.byteLength).toBe(0)
    expect(local?.buffer.byteLength).toBe(0)
    expect(central?.buffer.byteLength).toBe(0)
  })

  it('keeps every other buffer, such as a slice of the Buffer pool', () => {
    const pooled = Buffer.from('a small buffer from the shared pool')
    const neighbour = Buffer.from('another slice of the same pool')
    const own = new Uint8Array([1, 2, 3])
    releaseToWorkers([pooled, own])
    expect(pooled.toString()).toBe('a small buffer from the shared pool')
    expect(neighbour.toString()).toBe('another slice of the same pool')
    expect(own.buffer.byteLength).toBe(3)
  })

  it('hands a buffer back once: a second release is a no-op', async () => {
    const { local } = await encodedSegment()
    const part = Buffer.from(local?.buffer ?? new ArrayBuffer(0))
    releaseToWorkers([part])
    expect(() => {
      releaseToWorkers([part])
    }).not.toThrow()
  })
})

describe('reuseBytesPerWorker', () => {
  const MiB = 1024 * 1024
  it.each([
    [1, 8 * MiB],
    [2, 8 * MiB],
    [4, 8 * MiB],
    [8, 8 * MiB],
    [12, Math.floor((64 * MiB) / 12)],
    [16, 4 * MiB],
    [64, 4 * MiB]
  ])('gives each of %i workers %i bytes', (workers, bytes) => {
    expect(reuseBytesPerWorker(workers)).toBe(bytes)
  })
})
