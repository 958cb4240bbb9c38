// Stage 6: zip a walked code folder deterministically, and the size checks
// the API would otherwise fail a write on.
//
// The zip is written here rather than with a library: runs of entries are
// read, deflated and encoded on one worker per core (see read-pass.ts and
// segment-codec.ts) and written in sorted order as they finish, which no
// zip library does (yazl deflates one entry at a time; adm-zip's async
// writer overflows the stack on ~2,000 stored entries in a row and its sync
// writer blocks the event loop). The format is defined once, in
// fingerprint/zip-records.ts. adm-zip still reads zips back in the tests
// and the fake API.

import { createHash } from 'node:crypto'
import { open, rm, type FileHandle } from 'node:fs/promises'
import {
  readFolder,
  type SegmentSink,
  type WalkedFolder
} from '../fingerprint/walk.js'
import { releaseToWorkers } from '../fingerprint/file-workers.js'
import type { ReadOptions } from '../fingerprint/read-pass.js'
import type { EncodedSegment } from '../fingerprint/segment-codec.js'
import { endRecord, rebaseCentral } from '../fingerprint/zip-records.js'

export interface TaskPackage {
  /** The zip itself, when no `file` was given. */
  zip?: Buffer
  bytes: number
  /** Files and symlinks in the zip (folders not counted). */
  files: number
  /** The code fingerprint, when asked for (`hash`): from the same read. */
  fingerprint?: string
  /** sha256 (hex) of the zip's bytes, hashed as they were written. */
  sha256: string
}

export interface PackageOptions {
  /** Write the zip here (created 0600) instead of returning it. */
  file?: string
  /** Give up as soon as the zip passes this many bytes. */
  maxBytes?: number
  /** Also compute the fingerprint from the same read of each file. */
  hash?: boolean
  signal?: AbortSignal
  /** How the reads are split (tests only; the bytes never depend on it). */
  split?: ReadOptions['split']
}

/** A zip waiting for its upload, on disk so memory does not grow with the tasks. */
export interface SpooledPackage {
  file: string
  bytes: number
  files: number
  /** sha256 (hex) of the file's bytes: what an upload sends (report, marker). */
  sha256: string
}

/** The zip passed `maxBytes` and was abandoned (nothing left on disk). */
export class ZipTooLarge extends Error {
  constructor(readonly passed: number) {
    super(`the zip passed ${passed} bytes`)
    this.name = 'ZipTooLarge'
  }
}

/** The API gateway's limit on one request body. */
export const MAX_REQUEST_BYTES = 10_000_000

/** The largest zip whose base64 alone fits one request. */
export const MAX_ZIP_BYTES = Math.floor(MAX_REQUEST_BYTES / 4) * 3

/** The API's limit on a function's environment: keys and values, UTF-8. */
export const MAX_ENVIRONMENT_BYTES = 4096

/**
 * zlib's default. Level 9 took twice the CPU on the benchmark's node_modules
 * trees for zips 0.5% smaller (docs/benchmark.md): not worth half the speed.
 */
export const COMPRESSION_LEVEL = 6

export async function packageCodeFolder(
  folder: WalkedFolder,
  options: PackageOptions = {}
): Promise<TaskPackage> {
  const sink = options.file
    ? await FileSink.open(options.file)
    : new MemorySink()
  try {
    const zip = new ZipWriter(sink, options.maxBytes ?? Infinity)
    const fingerprint = await writeEntries(folder, zip, options)
    const bytes = await zip.finish(folder.entries.length)
    return {
      zip: await sink.close(),
      bytes,
      files: folder.files,
      fingerprint,
      sha256: zip.sha256()
    }
  } catch (error) {
    await sink.abandon()
    throw error
  }
}

/** Every entry in sorted order, a segment at a time; the fingerprint if asked. */
function writeEntries(
  folder: WalkedFolder,
  zip: ZipWriter,
  options: PackageOptions
): Promise<string | undefined> {
  const read = {
    hash: Boolean(options.hash),
    level: COMPRESSION_LEVEL,
    signal: options.signal,
    maxBytes: options.maxBytes,
    split: options.split
  }
  return readFolder(folder, read, zip)
}

/**
 * Local records as the segments come, the central directory last; the
 * records themselves are encoded by the workers (segment-codec.ts). The
 * bytes are hashed on their way to the sink: the zip's sha256 costs no
 * second read of the spool file (the upload sends the file as written).
 */
class ZipWriter implements SegmentSink {
  private readonly central: Buffer[] = []
  private readonly hash = createHash('sha256')
  private offset = 0

  constructor(
    private readonly sink: Sink,
    readonly maxBytes: number
  ) {}

  async add(segment: EncodedSegment): Promise<void> {
    if (segment.central) {
      this.central.push(rebaseCentral(segment.central, this.offset))
    }
    if (segment.local) await this.write([toBuffer(segment.local)])
  }

  tooLarge(): Error {
    return new ZipTooLarge(this.maxBytes)
  }

  /** Writes the central directory; returns the zip's size. */
  async finish(entries: number): Promise<number> {
    const start = this.offset
    await this.write(this.central)
    await this.write([endRecord(entries, this.offset - start, start)])
    return this.offset
  }

  /** The hex sha256 of every byte written; once, after `finish`. */
  sha256(): string {
    return this.hash.digest('hex')
  }

  private async write(parts: Buffer[]): Promise<void> {
    for (const part of parts) this.offset += part.length
    if (this.offset > this.maxBytes) throw new ZipTooLarge(this.maxBytes)
    // Before the sink: a flushed buffer goes back to the workers for reuse.
    for (const part of parts) this.hash.update(part)
    await this.sink.write(parts)
  }
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

interface Sink {
  write(parts: Buffer[]): Promise<void>
  /** The zip when kept in memory. */
  close(): Promise<Buffer | undefined>
  /** Drops whatever was written. */
  abandon(): Promise<void>
}

class MemorySink implements Sink {
  private readonly parts: Buffer[] = []
  write(parts: Buffer[]): Promise<void> {
    this.parts.push(...parts)
    return Promise.resolve()
  }
  close(): Promise<Buffer> {
    return Promise.resolve(Buffer.concat(this.parts))
  }
  abandon(): Promise<void> {
    this.parts.length = 0
    return Promise.resolve()
  }
}

/** Writes about 1 MiB at a time: few system calls, no joined copies. */
class FileSink implements Sink {
  private pending: Buffer[] = []
  private pendingBytes = 0

  private constructor(
    private readonly file: string,
    private readonly handle: FileHandle
  ) {}

  static async open(file: string): Promise<FileSink> {
    return new FileSink(file, await open(file, 'wx', 0o600))
  }

  async write(parts: Buffer[]): Promise<void> {
    for (const part of parts) {
      this.pending.push(part)
      this.pendingBytes += part.length
    }
    if (this.pendingBytes >= 1024 * 1024) await this.flush()
  }

  async close(): Promise<undefined> {
    await this.flush()
    await this.handle.close()
    return undefined
  }

  async abandon(): Promise<void> {
    this.pending = []
    await this.handle.close().catch(() => undefined)
    await rm(this.file, { force: true })
  }

  private async flush(): Promise<void> {
    const parts = this.pending
    this.pending = []
    this.pendingBytes = 0
    if (!parts.length) return
    // One vectored write, no joined copy. libuv writes every buffer, but a
    // full disk (or a file size limit) ends it short without an error.
    const { bytesWritten } = await this.handle.writev(parts)
    const expected = parts.reduce((sum, part) => sum + part.length, 0)
    if (bytesWritten !== expected) {
      throw new Error(
        `${this.file}: wrote ${bytesWritten} of ${expected} bytes; is the runner's disk full?`
      )
    }
    releaseToWorkers(parts)
  }
}

/** UTF-8 bytes of `JSON.stringify(body)`: what goes over the wire. */
export function requestBodyBytes(body: unknown): number {
  const text = JSON.stringify(body) as string | undefined
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8')
}

/**
 * The create/update body once the zip is in it as base64 `code`, checked
 * against the gateway's limit before any write. Counted without building the
 * base64 string: its characters need no JSON escaping.
 */
export function checkRequestSize(
  body: unknown,
  zipBytes: number
): string | undefined {
  const others = requestBodyBytes(withEmptyCode(body))
  const total = others + 4 * Math.ceil(zipBytes / 3)
  if (total <= MAX_REQUEST_BYTES) return undefined
  const maxZip = Math.max(0, Math.floor((MAX_REQUEST_BYTES - others) / 4) * 3)
  return `the request would be ${count(total)} bytes (a ${count(zipBytes)}-byte zip, base64-encoded, plus the other fields), over the API's limit of ${count(MAX_REQUEST_BYTES)} bytes per request; with this config the zip may be at most ${count(maxZip)} bytes`
}

/** The largest zip that keeps this body within the request limit. */
export function maxZipBytes(body: unknown): number {
  const others = requestBodyBytes(withEmptyCode(body))
  return Math.max(0, Math.floor((MAX_REQUEST_BYTES - others) / 4) * 3)
}

/**
 * Why a zip abandoned at `passed` bytes cannot be sent with `body` (its
 * other fields; unknown before planning, then counted as none). The zip
 * is one byte more at least: `passed` itself may just fit, when it was
 * the largest zip this body allows.
 */
export function abandonedZipMessage(body: unknown, passed: number): string {
  const tooLarge = checkRequestSize(body ?? {}, passed + 1) ?? ''
  return `${tooLarge}; the zip was abandoned as it passed ${count(passed)} bytes, so the whole zip is larger still`
}

function withEmptyCode(body: unknown): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? { ...body, code: '' }
    : body
}

function count(value: number): string {
  return value.toLocaleString('en-US')
}

/** UTF-8 bytes of every key and value, as the API counts its 4 KB limit. */
export function environmentBytes(env: Record<string, string>): number {
  return Object.entries(env).reduce(
    (sum, [key, value]) =>
      sum + Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8'),
    0
  )
}
