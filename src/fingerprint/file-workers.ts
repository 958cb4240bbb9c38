// Reading, hashing and deflating small files off the main thread. A worker
// takes a batch of files (one message for many files, so per-file overhead
// stays small) and does the whole job synchronously: readFileSync, sha256,
// crc32, deflateRawSync. One worker per core keeps every core busy while
// the main thread walks folders and writes zips in order.

import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'

export interface FileJob {
  /** Absolute paths. */
  files: string[]
  /** Return each file's sha256 (for the fingerprint). */
  hash: boolean
  /** Deflate level for the zip; absent when no zip is made. */
  level?: number
}

export interface FileResult {
  /** Bytes read: compared with the walk's size to catch a file that changed. */
  size: number
  sha?: Buffer
  crc?: number
  /** Deflated bytes, or the file's own bytes when deflate does not shrink it. */
  data?: Buffer
  deflated?: boolean
  /** errno code of a failed read. */
  error?: string
}

// Plain CommonJS so it runs from a string in the bundle and in tests alike.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
const { closeSync, openSync, readSync } = require('node:fs')
const { createHash } = require('node:crypto')
const zlib = require('node:zlib')
// Every file is read into one reused buffer: a fresh Buffer per file is
// freed only when the heap is collected, and tens of MB of them piled up.
let scratch = Buffer.allocUnsafe(1024 * 1024)
function readAll(file) {
  const fd = openSync(file, 'r')
  try {
    let length = 0
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2)
        scratch.copy(bigger)
        scratch = bigger
      }
      const read = readSync(fd, scratch, length, scratch.length - length, null)
      if (read === 0) return scratch.subarray(0, length)
      length += read
    }
  } finally {
    closeSync(fd)
  }
}
function one(file, hash, level) {
  let bytes
  try { bytes = readAll(file) } catch (error) { return { size: 0, error: error.code || error.message } }
  const result = { size: bytes.length }
  if (hash) result.sha = createHash('sha256').update(bytes).digest()
  if (level !== undefined) {
    result.crc = zlib.crc32(bytes)
    const deflated = level > 0 && bytes.length > 0 ? zlib.deflateRawSync(bytes, { level }) : undefined
    result.deflated = deflated !== undefined && deflated.length < bytes.length
    result.data = result.deflated ? deflated : bytes
  }
  return result
}
// Own, exact-size copies, transferred: a Buffer is often a view into a
// larger pooled ArrayBuffer, which a plain postMessage would copy whole.
function own(bytes, transfer) {
  if (!bytes) return undefined
  const copy = new Uint8Array(bytes)
  transfer.push(copy.buffer)
  return copy
}
parentPort.on('message', ({ id, files, hash, level }) => {
  const transfer = []
  const results = files.map(file => {
    const result = one(file, hash, level)
    result.sha = own(result.sha, transfer)
    result.data = own(result.data, transfer)
    return result
  })
  parentPort.postMessage({ id, results }, transfer)
})
`

interface Pending {
  resolve: (results: FileResult[]) => void
  reject: (error: Error) => void
}

interface Slot {
  worker: Worker
  busy?: { id: number; pending: Pending }
}

class FileWorkers {
  private readonly slots: Slot[] = []
  private readonly queue: { id: number; job: FileJob; pending: Pending }[] = []
  private nextId = 0

  constructor(private readonly size: number) {}

  run(job: FileJob): Promise<FileResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, pending: { resolve, reject } })
      this.dispatch()
    })
  }

  /** Stops the idle workers; a busy one may serve another run in this process. */
  async close(): Promise<void> {
    const idle = this.slots.filter(slot => !slot.busy)
    this.slots.splice(0, this.slots.length, ...this.slots.filter(s => s.busy))
    await Promise.all(idle.map(slot => slot.worker.terminate()))
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find(s => !s.busy) ?? this.spawn()
      if (!slot) return
      const next = this.queue.shift()
      if (!next) return
      slot.busy = { id: next.id, pending: next.pending }
      // Referenced only while busy: an idle pool never keeps the process up.
      slot.worker.ref()
      slot.worker.postMessage({ id: next.id, ...next.job })
    }
  }

  private spawn(): Slot | undefined {
    if (this.slots.length >= this.size) return undefined
    const slot: Slot = {
      worker: new Worker(WORKER_SOURCE, {
        eval: true,
        // File bytes live outside the heap; a small young generation keeps
        // each worker's resident memory small.
        resourceLimits: { maxYoungGenerationSizeMb: 4 }
      })
    }
    slot.worker.on('message', (message: { results: WireResult[] }) => {
      const pending = slot.busy?.pending
      slot.busy = undefined
      slot.worker.unref()
      pending?.resolve(message.results.map(fromWire))
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

  private fail(slot: Slot, error: Error): void {
    const index = this.slots.indexOf(slot)
    if (index >= 0) this.slots.splice(index, 1)
    slot.busy?.pending.reject(error)
    slot.busy = undefined
    this.dispatch()
  }
}

type WireResult = Omit<FileResult, 'sha' | 'data'> & {
  sha?: Uint8Array
  data?: Uint8Array
}

/** Buffers arrive as plain Uint8Arrays; view them as Buffers without a copy. */
function fromWire(result: WireResult): FileResult {
  const view = (bytes?: Uint8Array): Buffer | undefined =>
    bytes && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  return { ...result, sha: view(result.sha), data: view(result.data) }
}

let shared: FileWorkers | undefined

/** The run's pool, started on first use: one worker per core. */
export function fileWorkers(): FileWorkers {
  shared ??= new FileWorkers(Math.max(1, availableParallelism()))
  return shared
}

/** Stops the pool's idle workers (they are started again if needed). */
export async function closeFileWorkers(): Promise<void> {
  await shared?.close()
}
