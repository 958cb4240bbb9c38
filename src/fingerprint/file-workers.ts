// Reading, hashing and deflating off the main thread. A worker
// (file-worker.ts) takes a segment (a run of a folder's entries, see
// segment-codec.ts) and returns its fingerprint input and zip records as a
// few transferred buffers, so the main thread handles a segment, not a
// file. One worker per core keeps every core busy while the main thread
// walks folders and writes zips. A run's first megabyte is encoded on the
// main thread instead: most tasks' code is smaller than what starting a
// worker costs.

import { createRequire } from 'node:module'
import { availableParallelism } from 'node:os'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import {
  segmentEncoder,
  type EncodedSegment,
  type SegmentJob
} from './segment-codec.js'
import type { WorkerData } from './file-worker.js'

/**
 * The worker's module. In the bundle: file-worker.js, its own entry, beside
 * the chunk holding this code. Run from source (vitest, tsx): file-worker.ts
 * bundled by scripts/worker-from-source.cjs, as the build bundles it (Node
 * 20 applies no loader hooks to a worker's first module).
 */
function workerModule(): URL {
  if (!import.meta.url.endsWith('.ts')) {
    return new URL('./file-worker.js', import.meta.url)
  }
  const load = createRequire(import.meta.url)
  const { workerFromSource } = load('../../scripts/worker-from-source.cjs') as {
    workerFromSource: (entry: string) => string
  }
  const entry = fileURLToPath(new URL('./file-worker.ts', import.meta.url))
  return pathToFileURL(workerFromSource(entry))
}

interface Queued {
  id: number
  job: SegmentJob
  resolve: (result: EncodedSegment) => void
  reject: (error: Error) => void
  signal?: AbortSignal
}

/** Why `signal` was aborted, as an Error (a DOMException unless told). */
function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason
  return reason instanceof Error ? reason : new Error('aborted')
}

interface Slot {
  worker: Worker
  busy?: Queued
}

class FileWorkers {
  private readonly slots: Slot[] = []
  private readonly queue: Queued[] = []
  private nextId = 0

  constructor(private readonly size: number) {}

  /** Whether a worker is running (started and not yet closed). */
  get started(): boolean {
    return this.slots.length > 0
  }

  /** The workers' thread ids: a cancel keeps its worker (see abort). */
  get threadIds(): number[] {
    return this.slots.map(slot => slot.worker.threadId)
  }

  /**
   * Encodes a segment. Aborting `signal` drops a queued job, and fails a
   * running one at once: its worker stops at its next entry, then serves
   * the next job.
   */
  run(job: SegmentJob, signal?: AbortSignal): Promise<EncodedSegment> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(abortReason(signal))
        return
      }
      const queued: Queued = { id: this.nextId++, job, signal, resolve, reject }
      const abort = (): void => {
        this.abort(queued)
      }
      signal?.addEventListener('abort', abort, { once: true })
      const settle = (): void => signal?.removeEventListener('abort', abort)
      queued.resolve = result => {
        settle()
        resolve(result)
      }
      queued.reject = error => {
        settle()
        reject(error)
      }
      this.queue.push(queued)
      this.dispatch()
    })
  }

  /** Stops the idle workers; a busy one may serve another run in this process. */
  async close(): Promise<void> {
    const idle = this.slots.filter(slot => !slot.busy)
    this.slots.splice(0, this.slots.length, ...this.slots.filter(s => s.busy))
    await Promise.all(idle.map(slot => slot.worker.terminate()))
  }

  private abort(queued: Queued): void {
    const reason = abortReason(queued.signal)
    const waiting = this.queue.indexOf(queued)
    if (waiting >= 0) {
      this.queue.splice(waiting, 1)
      queued.reject(reason)
      return
    }
    const slot = this.slots.find(s => s.busy === queued)
    if (!slot) return
    // Not terminate(): a worker ended while it starts a deflate stream
    // aborts the whole process (Node 20: zlib's "close before init"). The
    // slot stays busy, its answer ignored, until the worker has stopped.
    slot.busy = { ...queued, resolve: () => undefined, reject: () => undefined }
    slot.worker.postMessage({ stop: queued.id })
    queued.reject(reason)
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find(s => !s.busy) ?? this.spawn()
      if (!slot) return
      const next = this.queue.shift() as Queued
      slot.busy = next
      // Referenced only while busy: an idle pool never keeps the process up.
      slot.worker.ref()
      slot.worker.postMessage({ id: next.id, job: next.job })
    }
  }

  private spawn(): Slot | undefined {
    if (this.slots.length >= this.size) return undefined
    const workerData: WorkerData = {
      reuseBytes: reuseBytesPerWorker(this.size)
    }
    const slot: Slot = {
      worker: new Worker(workerModule(), {
        workerData,
        // File bytes live outside the heap; a small young generation keeps
        // each worker's resident memory small.
        resourceLimits: { maxYoungGenerationSizeMb: 4 }
      })
    }
    slot.worker.on('message', ({ result }: { result?: EncodedSegment }) => {
      for (const bytes of [result?.feed, result?.local, result?.central]) {
        if (bytes) fromWorkers.add(bytes.buffer)
      }
      const done = slot.busy
      slot.busy = undefined
      slot.worker.unref()
      // No result: the job was stopped, and has failed already.
      if (result) done?.resolve(result)
      this.dispatch()
    })
    slot.worker.on('error', error => {
      this.fail(slot, error)
    })
    slot.worker.on('exit', () => {
      this.fail(slot, new Error('worker exited'))
    })
    this.slots.push(slot)
    return slot
  }

  /** Hands buffers a worker sent back to one (see releaseToWorkers). */
  release(buffers: ArrayBuffer[]): void {
    const worker = this.slots[0]?.worker
    if (worker && buffers.length) worker.postMessage({ release: true }, buffers)
  }

  private remove(slot: Slot): void {
    const index = this.slots.indexOf(slot)
    if (index >= 0) this.slots.splice(index, 1)
  }

  private fail(slot: Slot, error: Error): void {
    this.remove(slot)
    const busy = slot.busy
    slot.busy = undefined
    busy?.reject(error)
    this.dispatch()
  }
}

/**
 * Each worker's reuse cache: 8 MiB holds the deflated contents tasks share
 * (the bench's 20 tasks share 4 MB), more only held a run with no shared
 * contents at its peak. All workers together keep at most 64 MiB (4 MiB
 * each at least), so a runner with many cores does not multiply it.
 */
const REUSE_BYTES = 8 * 1024 * 1024
const REUSE_BYTES_TOTAL = 64 * 1024 * 1024

export function reuseBytesPerWorker(workers: number): number {
  const share = Math.floor(REUSE_BYTES_TOTAL / workers)
  return Math.min(REUSE_BYTES, Math.max(4 * 1024 * 1024, share))
}

/** ArrayBuffers the workers sent: the only ones ever handed back. */
const fromWorkers = new WeakSet<ArrayBufferLike>()

/**
 * Gives the workers back the buffers of `parts` that came from them, once
 * written: the transfer frees them here at once. Left to the main thread's
 * collector, V8 counts them as external memory and collects them only once
 * tens of MB have built up. Other buffers (a Buffer pool slab) are kept.
 */
export function releaseToWorkers(parts: readonly Uint8Array[]): void {
  const buffers = new Set<ArrayBuffer>()
  for (const part of parts) {
    const { buffer } = part
    if (fromWorkers.has(buffer) && buffer instanceof ArrayBuffer) {
      fromWorkers.delete(buffer)
      buffers.add(buffer)
    }
  }
  shared?.release([...buffers])
}

let shared: FileWorkers | undefined

/**
 * Work a run does on the main thread before its first worker starts, in
 * file bytes plus INLINE_ENTRY_COST per entry. A worker costs about 75 ms
 * of CPU and 30 ms to start (measured on the bundle), more than reading,
 * hashing and deflating this much here; past it, or once a worker runs,
 * every segment goes to the pool.
 */
export const INLINE_BYTES = 1024 * 1024
/**
 * An entry's open, stat, read and hash, as bytes of the budget: a folder
 * of thousands of empty files spends it too (at most 256 entries inline).
 */
export const INLINE_ENTRY_COST = 4096

let inlineLeft = INLINE_BYTES
let inlineEncoder: ReturnType<typeof segmentEncoder> | undefined

/**
 * Encodes `job` on this thread while the run's small start allows (see
 * INLINE_BYTES), else on the pool. Either gives the same bytes: both run
 * segment-codec.ts. An inline segment first lets the event loop turn (a
 * cancel, an API answer) and is then a few milliseconds of work.
 */
export async function encodeSegmentJob(
  job: SegmentJob,
  signal?: AbortSignal
): Promise<EncodedSegment> {
  const cost = job.entries.reduce(
    (sum, entry) => sum + entry.size + INLINE_ENTRY_COST,
    0
  )
  if (shared?.started || cost > inlineLeft) {
    return fileWorkers().run(job, signal)
  }
  inlineLeft -= cost
  await new Promise(setImmediate)
  signal?.throwIfAborted()
  inlineEncoder ??= segmentEncoder({ reuseBytes: INLINE_BYTES })
  return inlineEncoder.encodeSegment(job)
}

/** The run's pool, started on first use: one worker per core. */
export function fileWorkers(): FileWorkers {
  shared ??= new FileWorkers(Math.max(1, availableParallelism()))
  return shared
}

/**
 * Ends a run's use of the pool: stops its idle workers (started again if
 * needed) and gives the next run its inline start again.
 */
export async function closeFileWorkers(): Promise<void> {
  inlineLeft = INLINE_BYTES
  await shared?.close()
}
