// How a run of a code folder's entries becomes bytes: the fingerprint's
// input and the zip's records, encoded in a file worker (file-worker.ts).
// The fingerprint's per-entry layout is defined here (`feedOf`), the zip's
// in zip-records.ts; the main thread imports the same modules.

import {
  FileReader,
  StopPoints,
  type FileRead,
  type ReadJob
} from './file-read.js'
import {
  LOCAL_HEADER,
  centralRecord,
  localHeader,
  recordOf
} from './zip-records.js'
import type { CodeEntry } from './entries.js'

/** A contiguous run of a folder's entries, encoded by one worker. */
export interface SegmentJob extends ReadJob {
  entries: CodeEntry[]
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

/** A length-prefixed field, so no two entry lists hash the same stream. */
export function field(value: string | Uint8Array): Buffer {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value
  return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes])
}

/**
 * The fingerprint's input for one entry: type, path, permission bits
 * (only `0o777`: setuid/setgid/sticky were never hashed) and content (a
 * file's own sha256, a link's target, nothing for a folder).
 */
export function feedOf(entry: CodeEntry, read?: FileRead): Buffer {
  const content =
    entry.type === 'symlink'
      ? (entry.linkTarget ?? '')
      : (read?.sha ?? new Uint8Array(0))
  return Buffer.concat([
    field(entry.type),
    field(entry.path),
    field((entry.mode & 0o777).toString(8)),
    field(content)
  ])
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

/**
 * Encodes `job.entries` in order: fingerprint input and zip records.
 * `stop` (a file worker asked to stop) ends it between files and between
 * a large file's chunks, with the signal's reason.
 */
export async function encodeSegment(
  job: SegmentJob,
  reader: FileReader,
  stop?: AbortSignal
): Promise<EncodedSegment> {
  const feed: Uint8Array[] = []
  const local: Uint8Array[] = []
  const central: Uint8Array[] = []
  let offset = 0
  const stops = new StopPoints(stop)
  for (const [index, entry] of job.entries.entries()) {
    await stops.check()
    const read =
      entry.type === 'file' ? await reader.read(entry, job, stops) : undefined
    if (typeof read === 'string') return { failure: { index, code: read } }
    if (job.hash) feed.push(feedOf(entry, read))
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

/** An encoder with its own reader (scratch buffer, reuse cache): one per worker. */
export function segmentEncoder(options: { reuseBytes?: number } = {}) {
  const reader = new FileReader(options.reuseBytes)
  return {
    encodeSegment: (job: SegmentJob, stop?: AbortSignal) =>
      encodeSegment(job, reader, stop)
  }
}
