// Stage 6: zip a walked code folder deterministically, and the size checks
// the API would otherwise fail a write on.
//
// The zip is written here rather than with a library: entries are deflated
// in batches on one worker per core (see read-pass.ts) and written in sorted
// order as they finish, which no zip library does (yazl deflates one entry at
// a time; adm-zip's async writer overflows the stack on ~2,000 stored entries
// in a row and its sync writer blocks the event loop). The format written is
// the plain one every reader takes: local headers with sizes known, a central
// directory, no ZIP64, no data descriptors. adm-zip still reads zips back in
// the tests and the fake API.

import { open, rm, type FileHandle } from 'node:fs/promises'
import { crc32 as zlibCrc32 } from 'node:zlib'
import {
  Fingerprint,
  checkRead,
  type CodeEntry,
  type WalkedFolder
} from '../fingerprint/code-folder.js'
import {
  DeflatedTooLarge,
  readFiles,
  type ReadOptions
} from '../fingerprint/read-pass.js'
import type { FileResult } from '../fingerprint/file-workers.js'

export interface TaskPackage {
  /** The zip itself, when no `file` was given. */
  zip?: Buffer
  bytes: number
  /** Files and symlinks in the zip (folders not counted). */
  files: number
  /** The code fingerprint, when asked for (`hash`): from the same read. */
  fingerprint?: string
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
    const bytes = await zip.finish()
    return { zip: await sink.close(), bytes, files: folder.files, fingerprint }
  } catch (error) {
    await sink.abandon()
    if (error instanceof DeflatedTooLarge) throw new ZipTooLarge(error.bytes)
    throw error
  }
}

/** Every entry in sorted order; the fingerprint too when asked. */
async function writeEntries(
  folder: WalkedFolder,
  zip: ZipWriter,
  options: PackageOptions
): Promise<string | undefined> {
  const { entries, root } = folder
  const fingerprint = options.hash ? new Fingerprint() : undefined
  let done = 0
  const other = async (entry: CodeEntry): Promise<void> => {
    fingerprint?.add(entry)
    await zip.add(entry, undefined)
  }
  const results = readFiles(root, entries, {
    hash: Boolean(options.hash),
    level: COMPRESSION_LEVEL,
    signal: options.signal,
    maxDeflated: options.maxBytes,
    split: options.split
  })
  for await (const { index, result } of results) {
    for (; done < index; done++) await other(entries[done] as CodeEntry)
    const entry = entries[done++] as CodeEntry
    checkRead(root, entry, result)
    fingerprint?.add(entry, result.sha)
    await zip.add(entry, result)
  }
  for (; done < entries.length; done++) await other(entries[done] as CodeEntry)
  return fingerprint?.digest()
}

/**
 * 1980-01-01 00:00, the earliest time a zip can hold: any fixed time makes
 * packages reproducible, and DOS time has no time zone to differ by.
 */
const DOS_TIME = 0
const DOS_DATE = (0 << 9) | (1 << 5) | 1

const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000
/** Made by Unix (so readers apply the modes), format version 2.0. */
const VERSION_MADE_BY = (3 << 8) | 20
const VERSION_NEEDED = 20
/** Names are UTF-8. */
const FLAG_UTF8 = 0x0800
const STORED = 0
const DEFLATED = 8
const MSDOS_DIRECTORY = 0x10

interface Written {
  name: Buffer
  method: number
  crc: number
  compressed: number
  size: number
  attributes: number
  offset: number
}

/** Local header and data per entry as it comes, the central directory last. */
class ZipWriter {
  private readonly central: Written[] = []
  private offset = 0

  constructor(
    private readonly sink: Sink,
    private readonly maxBytes: number
  ) {}

  async add(entry: CodeEntry, result: FileResult | undefined): Promise<void> {
    const { data, written } = this.describe(entry, result)
    const header = Buffer.alloc(30)
    header.writeUInt32LE(0x04034b50, 0)
    header.writeUInt16LE(VERSION_NEEDED, 4)
    header.writeUInt16LE(FLAG_UTF8, 6)
    header.writeUInt16LE(written.method, 8)
    header.writeUInt16LE(DOS_TIME, 10)
    header.writeUInt16LE(DOS_DATE, 12)
    header.writeUInt32LE(written.crc, 14)
    header.writeUInt32LE(written.compressed, 18)
    header.writeUInt32LE(written.size, 22)
    header.writeUInt16LE(written.name.length, 26)
    header.writeUInt16LE(0, 28)
    this.central.push(written)
    await this.write([header, written.name, data])
  }

  private describe(
    entry: CodeEntry,
    result: FileResult | undefined
  ): { data: Buffer; written: Written } {
    const base = { offset: this.offset }
    if (entry.type === 'directory') {
      const name = Buffer.from(`${entry.path}/`)
      const attributes = toAttributes(S_IFDIR | entry.mode) | MSDOS_DIRECTORY
      const written = {
        ...base,
        name,
        method: STORED,
        crc: 0,
        compressed: 0,
        size: 0,
        attributes
      }
      return { data: Buffer.alloc(0), written }
    }
    const name = Buffer.from(entry.path)
    if (entry.type === 'symlink') {
      // Zip readers take a link's data as its target; stored, not deflated.
      const data = Buffer.from(entry.linkTarget ?? '')
      const attributes = toAttributes(S_IFLNK | 0o777)
      const written = {
        ...base,
        name,
        method: STORED,
        crc: crc32(data),
        compressed: data.length,
        size: data.length,
        attributes
      }
      return { data, written }
    }
    const data = result?.data ?? Buffer.alloc(0)
    const written = {
      ...base,
      name,
      method: result?.deflated ? DEFLATED : STORED,
      crc: result?.crc ?? 0,
      compressed: data.length,
      size: entry.size,
      attributes: toAttributes(S_IFREG | entry.mode)
    }
    return { data, written }
  }

  /** Writes the central directory; returns the zip's size. */
  async finish(): Promise<number> {
    const start = this.offset
    const records = this.central.map(centralRecord)
    await this.write(records)
    const end = Buffer.alloc(22)
    end.writeUInt32LE(0x06054b50, 0)
    end.writeUInt16LE(this.central.length, 8)
    end.writeUInt16LE(this.central.length, 10)
    end.writeUInt32LE(this.offset - start, 12)
    end.writeUInt32LE(start, 16)
    await this.write([end])
    return this.offset
  }

  private async write(parts: Buffer[]): Promise<void> {
    for (const part of parts) this.offset += part.length
    if (this.offset > this.maxBytes) throw new ZipTooLarge(this.maxBytes)
    await this.sink.write(parts)
  }
}

function centralRecord(entry: Written): Buffer {
  const record = Buffer.alloc(46 + entry.name.length)
  record.writeUInt32LE(0x02014b50, 0)
  record.writeUInt16LE(VERSION_MADE_BY, 4)
  record.writeUInt16LE(VERSION_NEEDED, 6)
  record.writeUInt16LE(FLAG_UTF8, 8)
  record.writeUInt16LE(entry.method, 10)
  record.writeUInt16LE(DOS_TIME, 12)
  record.writeUInt16LE(DOS_DATE, 14)
  record.writeUInt32LE(entry.crc, 16)
  record.writeUInt32LE(entry.compressed, 20)
  record.writeUInt32LE(entry.size, 24)
  record.writeUInt16LE(entry.name.length, 28)
  // Extra field, comment, disk number, internal attributes: all zero.
  record.writeUInt32LE(entry.attributes, 38)
  record.writeUInt32LE(entry.offset, 42)
  entry.name.copy(record, 46)
  return record
}

/** Unix mode in the high 16 bits, as Info-ZIP writes it. */
function toAttributes(mode: number): number {
  return (mode << 16) >>> 0
}

function crc32(data: Buffer): number {
  return zlibCrc32(data)
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

/** Writes in chunks of about 1 MiB: few system calls, little memory. */
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
    if (parts.length) await this.handle.write(Buffer.concat(parts))
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
 * other fields; unknown before planning, then counted as none).
 */
export function abandonedZipMessage(body: unknown, passed: number): string {
  const tooLarge = checkRequestSize(body ?? {}, passed) ?? ''
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
