import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import {
  closeFileWorkers,
  fileWorkers,
  releaseToWorkers,
  reuseBytesPerWorker
} from '../src/fingerprint/file-workers.js'
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
