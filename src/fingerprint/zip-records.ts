// The zip format, defined once: the records the workers encode for each
// entry (segment-codec.ts) and the parts the zip writer adds around them
// (package/zip.ts). The plain format every reader takes: local headers with
// sizes known, a central directory, no ZIP64, no data descriptors.

import { crc32 } from 'node:zlib'
import type { CodeEntry } from './entries.js'

// 1980-01-01 00:00 (any fixed time makes zips reproducible), made by Unix
// (so readers apply the modes), version 2.0, UTF-8 names.
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
export const LOCAL_HEADER = 30
const CENTRAL_RECORD = 46

export interface ZipRecord {
  name: Buffer
  method: number
  crc: number
  data: Uint8Array
  size: number
  /** Unix mode in the high 16 bits, as Info-ZIP writes it. */
  attributes: number
}

/** What was read of a file, as its record needs it. */
export interface FileData {
  crc: number
  data?: Uint8Array
  deflated: boolean
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

export function localHeader(record: ZipRecord): Buffer {
  const header = Buffer.alloc(LOCAL_HEADER)
  header.writeUInt32LE(0x04034b50, 0)
  writeEntryFields(header, 4, record)
  return header
}

export function centralRecord(record: ZipRecord, offset: number): Buffer {
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
export function rebaseCentral(central: Uint8Array, base: number): Buffer {
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
export function endRecord(
  entries: number,
  size: number,
  start: number
): Buffer {
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

/** One entry's zip record (name, method, data) from what was read. */
export function recordOf(entry: CodeEntry, read?: FileData): ZipRecord {
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
      crc: crc32(data),
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
