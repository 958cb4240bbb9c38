// How a run of a code folder's entries becomes bytes: the fingerprint's input
// and the zip's records. It is one self-contained function (no imports, no
// outer names) because its source text also runs in the file workers
// (file-workers.ts), which cannot load a module from the single-file bundle;
// one definition keeps the zip format and the fingerprint in one place.
// The main thread uses the same function through `codec` below.

import * as fs from 'node:fs'
import * as crypto from 'node:crypto'
import * as zlib from 'node:zlib'
import type { CodeEntry } from './code-folder.js'

/** A contiguous run of a folder's entries, encoded by one worker. */
export interface SegmentJob {
  /** Absolute path of the code folder. */
  root: string
  entries: CodeEntry[]
  /** Produce the fingerprint's input for these entries. */
  hash: boolean
  /** Produce zip records, deflating at this level. */
  level?: number
  /** A single file deflating past this many bytes fails with `tooLarge`. */
  maxBytes?: number
}

export interface EncodedSegment {
  /** What the fingerprint hashes for these entries, in order. */
  feed?: Uint8Array
  /** Local headers and data, offsets counted from the segment's start. */
  local?: Uint8Array
  /** Central directory records, offsets counted from the segment's start. */
  central?: Uint8Array
  /** The first entry that could not be encoded; the rest are left out. */
  failure?: { index: number; code: string }
}

export interface CodecModules {
  fs: Pick<
    typeof fs,
    'openSync' | 'readSync' | 'closeSync' | 'fstatSync' | 'constants'
  >
  crypto: Pick<typeof crypto, 'createHash'>
  zlib: Pick<typeof zlib, 'crc32' | 'deflateRawSync' | 'createDeflateRaw'>
}

export type SegmentCodec = ReturnType<typeof segmentCodec>

export interface CodecOptions {
  /** Bytes of deflated contents kept for reuse (default 16 MiB). */
  reuseBytes?: number
}

export function segmentCodec(
  modules: CodecModules,
  options: CodecOptions = {}
) {
  const { fs, crypto, zlib } = modules
  /** Files above this are read and deflated in chunks, never whole. */
  const STREAM_THRESHOLD = 1024 * 1024
  const CHUNK_BYTES = 256 * 1024
  /** Failure codes besides a read's errno. */
  const SIZE_CHANGED = 'SIZE_CHANGED'
  const TOO_LARGE = 'TOO_LARGE'
  const NOT_A_FILE = 'NOT_A_FILE'

  // Zip: 1980-01-01 00:00 (any fixed time makes zips reproducible), made by
  // Unix (so readers apply the modes), version 2.0, UTF-8 names.
  const DOS_TIME = 0
  const DOS_DATE = (0 << 9) | (1 << 5) | 1
  const VERSION_MADE_BY = (3 << 8) | 20
  const VERSION_NEEDED = 20
  const FLAG_UTF8 = 0x0800
  const STORED = 0
  const DEFLATED = 8
  const S_IFDIR = 0o040000
  const S_IFREG = 0o100000
  const S_IFLNK = 0o120000
  const MSDOS_DIRECTORY = 0x10
  const LOCAL_HEADER = 30
  const CENTRAL_RECORD = 46

  /** A length-prefixed field, so no two entry lists hash the same stream. */
  function field(value: string | Uint8Array): Buffer {
    const bytes = typeof value === 'string' ? Buffer.from(value) : value
    return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes])
  }

  /**
   * The fingerprint's input for one entry: type, path, permission bits
   * (only `0o777`: setuid/setgid/sticky were never hashed) and content (a
   * file's own sha256, a link's target, nothing for a folder).
   */
  function feedOf(entry: CodeEntry, content: string | Uint8Array): Buffer {
    return Buffer.concat([
      field(entry.type),
      field(entry.path),
      field((entry.mode & 0o777).toString(8)),
      field(content)
    ])
  }

  interface ZipRecord {
    name: Buffer
    method: number
    crc: number
    data: Uint8Array
    size: number
    /** Unix mode in the high 16 bits, as Info-ZIP writes it. */
    attributes: number
  }

  /**
   * The fields a local header and a central record share, in the same
   * order (version needed … name length), written from `at`.
   */
  function writeEntryFields(out: Buffer, at: number, record: ZipRecord): void {
    out.writeUInt16LE(VERSION_NEEDED, at)
    out.writeUInt16LE(FLAG_UTF8, at + 2)
    out.writeUInt16LE(record.method, at + 4)
    out.writeUInt16LE(DOS_TIME, at + 6)
    out.writeUInt16LE(DOS_DATE, at + 8)
    out.writeUInt32LE(record.crc, at + 10)
    out.writeUInt32LE(record.data.length, at + 14)
    out.writeUInt32LE(record.size, at + 18)
    out.writeUInt16LE(record.name.length, at + 22)
  }

  function localHeader(record: ZipRecord): Buffer {
    const header = Buffer.alloc(LOCAL_HEADER)
    header.writeUInt32LE(0x04034b50, 0)
    writeEntryFields(header, 4, record)
    return header
  }

  function centralRecord(record: ZipRecord, offset: number): Buffer {
    const central = Buffer.alloc(CENTRAL_RECORD + record.name.length)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(VERSION_MADE_BY, 4)
    writeEntryFields(central, 6, record)
    // Extra field, comment, disk number, internal attributes: all zero.
    central.writeUInt32LE(record.attributes, 38)
    central.writeUInt32LE(offset, 42)
    record.name.copy(central, CENTRAL_RECORD)
    return central
  }

  /** Adds `base` to the offset of every record of a segment's central bytes. */
  function rebaseCentral(central: Uint8Array, base: number): Buffer {
    const records = Buffer.from(
      central.buffer,
      central.byteOffset,
      central.length
    )
    for (let at = 0; at < records.length;) {
      records.writeUInt32LE(records.readUInt32LE(at + 42) + base, at + 42)
      at += CENTRAL_RECORD + records.readUInt16LE(at + 28)
    }
    return records
  }

  /** The end-of-central-directory record of a zip without ZIP64. */
  function endRecord(entries: number, size: number, start: number): Buffer {
    const end = Buffer.alloc(22)
    end.writeUInt32LE(0x06054b50, 0)
    end.writeUInt16LE(entries, 8)
    end.writeUInt16LE(entries, 10)
    end.writeUInt32LE(size, 12)
    end.writeUInt32LE(start, 16)
    return end
  }

  function attributes(mode: number): number {
    return (mode << 16) >>> 0
  }

  /**
   * Opens a file that must still be a regular file. Non-blocking: a file
   * swapped for a named pipe after the walk would otherwise block the
   * worker in `open` where no cancel can reach it.
   */
  function openRegular(file: string): number {
    const { O_RDONLY, O_NONBLOCK } = fs.constants
    const fd = fs.openSync(file, O_RDONLY | O_NONBLOCK)
    if (fs.fstatSync(fd).isFile()) return fd
    fs.closeSync(fd)
    throw Object.assign(new Error(NOT_A_FILE), { code: NOT_A_FILE })
  }

  // Small files are read into one reused buffer: a fresh Buffer per file is
  // freed only when the heap is collected, and tens of MB of them piled up.
  // One byte more than the largest small file, to see one that grew.
  // Made on first use: the main thread's codec never reads a file.
  let scratch: Buffer | undefined

  /** At most `expected` + 1 bytes: a file that grew is seen, not followed. */
  function readSmall(file: string, expected: number): Buffer {
    const fd = openRegular(file)
    scratch ??= Buffer.allocUnsafeSlow(STREAM_THRESHOLD + 1)
    try {
      const limit = expected + 1
      let length = 0
      for (;;) {
        const read = fs.readSync(fd, scratch, length, limit - length, null)
        length += read
        if (read === 0 || length === limit) return scratch.subarray(0, length)
      }
    } finally {
      fs.closeSync(fd)
    }
  }

  interface FileRead {
    size: number
    sha?: Buffer
    crc: number
    data?: Uint8Array
    deflated: boolean
  }

  // Tasks of one repository share much of their code (the same packages in
  // each task's node_modules): a content already deflated here is reused,
  // byte for byte what deflating it again would give. Bounded, so memory
  // stays flat whatever the files; past the bound, contents are not kept.
  const REUSE_BYTES = options.reuseBytes ?? 16 * 1024 * 1024
  /** What a kept content costs besides its bytes (key, slot, object), measured. */
  const ENTRY_OVERHEAD = 640
  const deflatedContents = new Map<
    string,
    Pick<FileRead, 'crc' | 'data' | 'deflated'>
  >()
  let reusedBytes = 0

  /** A small file whole: sha256, crc32, deflated when that shrinks it. */
  function smallFile(
    file: string,
    expected: number,
    job: SegmentJob
  ): FileRead {
    const bytes = readSmall(file, expected)
    const size = bytes.length
    const level = job.level
    if (level === undefined && !job.hash)
      return { size, crc: 0, deflated: false }
    const digest = crypto.createHash('sha256').update(bytes).digest()
    const sha = job.hash ? digest : undefined
    if (level === undefined) return { size, sha, crc: 0, deflated: false }
    const key = `${level}:${digest.toString('base64')}`
    const known = deflatedContents.get(key)
    if (known) return { size, sha, ...known }
    const crc = zlib.crc32(bytes)
    // Output chunks sized to the input: the default 16 KiB chunk would be
    // allocated for every small file, and held by the view returned.
    const chunkSize = Math.max(64, size + 64)
    const deflated =
      level > 0 && size > 0
        ? zlib.deflateRawSync(bytes, { level, chunkSize })
        : undefined
    const shrinks = deflated !== undefined && deflated.length < size
    // `bytes` is the scratch buffer: keep a copy, not a view.
    const zipped = {
      crc,
      data: shrinks ? deflated : Buffer.from(bytes),
      deflated: shrinks
    }
    const cost = zipped.data.length + ENTRY_OVERHEAD
    if (reusedBytes + cost <= REUSE_BYTES) {
      // An exact copy: a view would keep its whole underlying buffer.
      const kept = Buffer.allocUnsafeSlow(zipped.data.length)
      kept.set(zipped.data)
      deflatedContents.set(key, { ...zipped, data: kept })
      reusedBytes += cost
    }
    return { size, sha, ...zipped }
  }

  /**
   * A large file in chunks; always deflated; stops once past `maxBytes`,
   * or once past `expected` bytes (a file that keeps growing).
   */
  async function largeFile(
    file: string,
    expected: number,
    job: SegmentJob
  ): Promise<FileRead | string> {
    const fd = openRegular(file)
    const hash = job.hash ? crypto.createHash('sha256') : undefined
    const zip =
      job.level === undefined ? undefined : deflating(job.level, job.maxBytes)
    let size = 0
    let crc = 0
    // One chunk buffer, reused: each write is consumed before the next read.
    const chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES)
    try {
      for (;;) {
        const read = fs.readSync(fd, chunk, 0, CHUNK_BYTES, null)
        if (read === 0) break
        const bytes = chunk.subarray(0, read)
        size += read
        if (size > expected) return SIZE_CHANGED
        hash?.update(bytes)
        if (!zip) continue
        crc = zlib.crc32(bytes, crc)
        if (!(await zip.write(bytes))) return TOO_LARGE
      }
      const data = zip ? await zip.end() : undefined
      if (data === null) return TOO_LARGE
      return { size, sha: hash?.digest(), crc, data, deflated: Boolean(zip) }
    } finally {
      zip?.destroy()
      fs.closeSync(fd)
    }
  }

  /** A raw deflate stream whose output is kept while within `maxBytes`. */
  function deflating(level: number, maxBytes = Infinity) {
    const stream = zlib.createDeflateRaw({ level })
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

  /** One entry's zip record (name, method, data) from what was read. */
  function recordOf(entry: CodeEntry, read?: FileRead): ZipRecord {
    if (entry.type === 'directory') {
      return {
        name: Buffer.from(`${entry.path}/`),
        method: STORED,
        crc: 0,
        data: new Uint8Array(0),
        size: 0,
        attributes: attributes(S_IFDIR | entry.mode) | MSDOS_DIRECTORY
      }
    }
    if (entry.type === 'symlink') {
      // Zip readers take a link's data as its target; stored, not deflated.
      const data = Buffer.from(entry.linkTarget ?? '')
      return {
        name: Buffer.from(entry.path),
        method: STORED,
        crc: zlib.crc32(data),
        data,
        size: data.length,
        attributes: attributes(S_IFLNK | 0o777)
      }
    }
    return {
      name: Buffer.from(entry.path),
      method: read?.deflated ? DEFLATED : STORED,
      crc: read?.crc ?? 0,
      data: read?.data ?? new Uint8Array(0),
      size: entry.size,
      attributes: attributes(S_IFREG | entry.mode)
    }
  }

  /** Reads a file entry; a string is a failure code. */
  async function readEntry(
    entry: CodeEntry,
    job: SegmentJob
  ): Promise<FileRead | string> {
    const file = `${job.root}/${entry.path}`
    let read: FileRead | string
    try {
      read =
        entry.size > STREAM_THRESHOLD
          ? await largeFile(file, entry.size, job)
          : smallFile(file, entry.size, job)
    } catch (error) {
      const code = (error as { code?: unknown }).code
      return typeof code === 'string' ? code : String(error)
    }
    if (typeof read !== 'string' && read.size !== entry.size)
      return SIZE_CHANGED
    return read
  }

  /** One exact-size buffer of `parts`, so it can be transferred whole. */
  function joined(parts: Uint8Array[]): Uint8Array {
    const total = parts.reduce((sum, part) => sum + part.length, 0)
    const out = Buffer.allocUnsafeSlow(total)
    let at = 0
    for (const part of parts) {
      out.set(part, at)
      at += part.length
    }
    return out
  }

  /** Encodes `job.entries` in order: fingerprint input and zip records. */
  async function encodeSegment(job: SegmentJob): Promise<EncodedSegment> {
    const feed: Uint8Array[] = []
    const local: Uint8Array[] = []
    const central: Uint8Array[] = []
    let offset = 0
    for (const [index, entry] of job.entries.entries()) {
      const read =
        entry.type === 'file' ? await readEntry(entry, job) : undefined
      if (typeof read === 'string') return { failure: { index, code: read } }
      if (job.hash) {
        const content =
          entry.type === 'symlink'
            ? (entry.linkTarget ?? '')
            : (read?.sha ?? new Uint8Array(0))
        feed.push(feedOf(entry, content))
      }
      if (job.level === undefined) continue
      const record = recordOf(entry, read)
      local.push(localHeader(record), record.name, record.data)
      central.push(centralRecord(record, offset))
      offset += LOCAL_HEADER + record.name.length + record.data.length
    }
    return {
      feed: job.hash ? joined(feed) : undefined,
      local: job.level === undefined ? undefined : joined(local),
      central: job.level === undefined ? undefined : joined(central)
    }
  }

  return {
    STREAM_THRESHOLD,
    SIZE_CHANGED,
    TOO_LARGE,
    NOT_A_FILE,
    field,
    encodeSegment,
    rebaseCentral,
    endRecord
  }
}

/** The codec on this thread. */
export const codec = segmentCodec({ fs, crypto, zlib })
