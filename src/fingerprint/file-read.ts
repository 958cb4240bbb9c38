// Reading one file of a segment (in a file worker): its sha256 for the
// fingerprint and its crc32 and deflated bytes for the zip, from one read.
// Small files are read whole into a reused buffer, large ones in chunks.

import { createHash } from 'node:crypto'
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { crc32, createDeflateRaw, deflateRawSync } from 'node:zlib'
import type { CodeEntry } from './entries.js'
import type { FileData } from './zip-records.js'

/** Files above this are read and deflated in chunks, never whole. */
export const STREAM_THRESHOLD = 1024 * 1024
const CHUNK_BYTES = 256 * 1024

/** Failure codes besides a read's errno. */
export const SIZE_CHANGED = 'SIZE_CHANGED'
export const TOO_LARGE = 'TOO_LARGE'
export const NOT_A_FILE = 'NOT_A_FILE'

/** What a read of files is for. */
export interface ReadJob {
  /** Absolute path of the code folder. */
  root: string
  /** Produce the fingerprint's input (a file's sha256). */
  hash: boolean
  /** Produce zip records, deflating at this level. */
  level?: number
  /** A single file deflating past this many bytes fails with `tooLarge`. */
  maxBytes?: number
}

export interface FileRead extends FileData {
  size: number
  sha?: Buffer
}

/** The most work, in ms, between two turns of a worker's event loop. */
const TURN_MS = 5

/**
 * Where a long encode lets a stop through: a worker reads its messages
 * (a `stop`) only when its event loop turns, and reading and deflating a
 * small file never waits. Without a signal, nothing is checked.
 */
export class StopPoints {
  private last = performance.now()

  constructor(private readonly signal?: AbortSignal) {}

  get stopped(): boolean {
    return this.signal?.aborted === true
  }

  /** Throws once stopped; lets the loop turn after TURN_MS of work. */
  async check(): Promise<void> {
    if (!this.signal) return
    if (performance.now() - this.last >= TURN_MS) {
      await new Promise(setImmediate)
      this.last = performance.now()
    }
    this.signal.throwIfAborted()
  }
}

/** What a kept content costs besides its bytes (key, slot, object), measured. */
const ENTRY_OVERHEAD = 640

/**
 * Reads a worker's files. Tasks of one repository share much of their code
 * (the same packages in each task's node_modules): a content already
 * deflated here is reused, byte for byte what deflating it again would
 * give. Bounded, so memory stays flat whatever the files; past the bound,
 * contents are not kept.
 */
export class FileReader {
  /**
   * Small files are read into one reused buffer: a fresh Buffer per file is
   * freed only when the heap is collected, and tens of MB of them piled up.
   * One byte more than the largest small file, to see one that grew.
   */
  private scratch: Buffer | undefined
  private readonly kept = new Map<string, FileData>()
  private keptBytes = 0

  /** `reuseBytes`: bytes of deflated contents kept for reuse. */
  constructor(private readonly reuseBytes = 16 * 1024 * 1024) {}

  /** Reads a file entry; a string is a failure code. A stop throws. */
  async read(
    entry: CodeEntry,
    job: ReadJob,
    stops = new StopPoints()
  ): Promise<FileRead | string> {
    const file = `${job.root}/${entry.path}`
    let read: FileRead | string
    try {
      read =
        entry.size > STREAM_THRESHOLD
          ? await largeFile(file, entry.size, job, stops)
          : this.smallFile(file, entry.size, job)
    } catch (error) {
      if (stops.stopped) throw error
      const code = (error as { code?: unknown }).code
      return typeof code === 'string' ? code : String(error)
    }
    if (typeof read !== 'string' && read.size !== entry.size)
      return SIZE_CHANGED
    return read
  }

  /** A small file whole: sha256, crc32, deflated when that shrinks it. */
  private smallFile(file: string, expected: number, job: ReadJob): FileRead {
    const bytes = this.readSmall(file, expected)
    const size = bytes.length
    const level = job.level
    if (level === undefined && !job.hash)
      return { size, crc: 0, deflated: false }
    const digest = createHash('sha256').update(bytes).digest()
    const sha = job.hash ? digest : undefined
    if (level === undefined) return { size, sha, crc: 0, deflated: false }
    const key = `${level}:${digest.toString('base64')}`
    const zipped = this.kept.get(key) ?? this.deflate(bytes, level, key)
    return { size, sha, ...zipped }
  }

  /** At most `expected` + 1 bytes: a file that grew is seen, not followed. */
  private readSmall(file: string, expected: number): Buffer {
    const fd = openRegular(file)
    this.scratch ??= Buffer.allocUnsafeSlow(STREAM_THRESHOLD + 1)
    try {
      const limit = expected + 1
      let length = 0
      for (;;) {
        const read = readSync(fd, this.scratch, length, limit - length, null)
        length += read
        if (read === 0 || length === limit)
          return this.scratch.subarray(0, length)
      }
    } finally {
      closeSync(fd)
    }
  }

  /** Deflates a small file's bytes, kept under `key` while within the bound. */
  private deflate(bytes: Buffer, level: number, key: string): FileData {
    const size = bytes.length
    const crc = crc32(bytes)
    // Output chunks sized to the input: the default 16 KiB chunk would be
    // allocated for every small file, and held by the view returned.
    const chunkSize = Math.max(64, size + 64)
    const deflated =
      level > 0 && size > 0
        ? deflateRawSync(bytes, { level, chunkSize })
        : undefined
    const shrinks = deflated !== undefined && deflated.length < size
    // `bytes` is the scratch buffer: keep a copy, not a view.
    const zipped = {
      crc,
      data: shrinks ? deflated : Buffer.from(bytes),
      deflated: shrinks
    }
    const cost = zipped.data.length + ENTRY_OVERHEAD
    if (this.keptBytes + cost <= this.reuseBytes) {
      // An exact copy: a view would keep its whole underlying buffer.
      const kept = Buffer.allocUnsafeSlow(zipped.data.length)
      kept.set(zipped.data)
      this.kept.set(key, { ...zipped, data: kept })
      this.keptBytes += cost
    }
    return zipped
  }
}

/**
 * Opens a file that must still be a regular file. Non-blocking: a file
 * swapped for a named pipe after the walk would otherwise block the
 * worker in `open` where no cancel can reach it. Not through a symlink: a
 * file swapped for a link after the walk must not put the target's bytes
 * (a file outside the folder) in the zip. Only the file's own name is
 * guarded: a parent folder swapped for a link is not (that needs a walk
 * by directory handles, which Node does not offer).
 */
function openRegular(file: string): number {
  let fd: number
  try {
    fd = openSync(
      file,
      constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW
    )
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ELOOP') throw error
    throw Object.assign(new Error(NOT_A_FILE), { code: NOT_A_FILE })
  }
  if (fstatSync(fd).isFile()) return fd
  closeSync(fd)
  throw Object.assign(new Error(NOT_A_FILE), { code: NOT_A_FILE })
}

/**
 * A large file in chunks; always deflated; stops once past `maxBytes`,
 * or once past `expected` bytes (a file that keeps growing).
 */
async function largeFile(
  file: string,
  expected: number,
  job: ReadJob,
  stops: StopPoints
): Promise<FileRead | string> {
  const fd = openRegular(file)
  const hash = job.hash ? createHash('sha256') : undefined
  const zip =
    job.level === undefined ? undefined : deflating(job.level, job.maxBytes)
  let size = 0
  let crc = 0
  // One chunk buffer, reused: each write is consumed before the next read.
  const chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES)
  try {
    for (;;) {
      await stops.check()
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, null)
      if (read === 0) break
      const bytes = chunk.subarray(0, read)
      size += read
      if (size > expected) return SIZE_CHANGED
      hash?.update(bytes)
      if (!zip) continue
      crc = crc32(bytes, crc)
      if (!(await zip.write(bytes))) return TOO_LARGE
    }
    const data = zip ? await zip.end() : undefined
    if (data === null) return TOO_LARGE
    return { size, sha: hash?.digest(), crc, data, deflated: Boolean(zip) }
  } finally {
    zip?.destroy()
    closeSync(fd)
  }
}

/** A raw deflate stream whose output is kept while within `maxBytes`. */
function deflating(level: number, maxBytes = Infinity) {
  const stream = createDeflateRaw({ level })
  const chunks: Buffer[] = []
  let total = 0
  stream.on('data', (chunk: Buffer) => {
    total += chunk.length
    if (total <= maxBytes) chunks.push(chunk)
  })
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve)
    stream.on('error', reject)
  })
  // Awaited by `end`; a stream that fails before then is seen by `write`.
  ended.catch(() => undefined)
  return {
    /** Resolves false once the output passed `maxBytes`. */
    write: (bytes: Buffer) =>
      new Promise<boolean>((resolve, reject) => {
        // Waiting for each chunk to be taken keeps one chunk in flight.
        stream.write(bytes, error => {
          if (error) reject(error)
          else resolve(total <= maxBytes)
        })
      }),
    end: async () => {
      stream.end()
      await ended
      return total <= maxBytes ? Buffer.concat(chunks) : null
    },
    destroy: () => stream.destroy()
  }
}
