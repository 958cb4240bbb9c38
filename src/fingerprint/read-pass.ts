// One read of every entry of a code folder, in the folder's sorted order:
// runs of entries (segments) encoded on the worker pool (a run's first
// megabyte on this thread), a few ahead of the one being consumed, so
// reads, hashing and deflate overlap on every core while the bytes in
// flight stay bounded whatever the files.

import { encodeSegmentJob } from './file-workers.js'
import { STREAM_THRESHOLD } from './file-read.js'
import type { EncodedSegment } from './segment-codec.js'
import type { CodeEntry, WalkedFolder } from './entries.js'

/** A segment closes at this many entries or file bytes: few messages, small memory. */
const SEGMENT_ENTRIES = 128
const SEGMENT_BYTES = 1024 * 1024

/**
 * Segments of one folder in flight at once. Each reads at most ~1 MiB (a
 * large file is read in chunks), so a folder holds a few MiB in flight.
 */
const SEGMENTS_AHEAD = 4

export interface ReadOptions {
  hash: boolean
  /** Deflate level when the bytes go into a zip. */
  level?: number
  signal?: AbortSignal
  /** Deflated bytes a single file may reach before it fails (TOO_LARGE). */
  maxBytes?: number
  /** How work is split (tests vary it; the output never depends on it). */
  split?: { jobsAhead: number; segmentEntries: number }
}

/** Entry ranges `[start, end)`, in order; a large file is a range alone. */
export function planSegments(
  entries: CodeEntry[],
  maxEntries = SEGMENT_ENTRIES
): [number, number][] {
  const ranges: [number, number][] = []
  let start = 0
  let bytes = 0
  const close = (end: number): void => {
    if (end > start) ranges.push([start, end])
    start = end
    bytes = 0
  }
  entries.forEach((entry, index) => {
    if (entry.type === 'file' && entry.size > STREAM_THRESHOLD) {
      close(index)
      close(index + 1)
      return
    }
    bytes += entry.size
    if (index + 1 - start >= maxEntries || bytes >= SEGMENT_BYTES) {
      close(index + 1)
    }
  })
  close(entries.length)
  return ranges
}

/**
 * Yields each segment with the index of its first entry, in order.
 * Stopping early (a `return` or a throw in the consumer) or a cancel stops
 * the segments still queued or running for this folder.
 */
export async function* readSegments(
  folder: WalkedFolder,
  options: ReadOptions
): AsyncGenerator<{ first: number; segment: EncodedSegment }> {
  const { jobsAhead, segmentEntries } = options.split ?? {
    jobsAhead: SEGMENTS_AHEAD,
    segmentEntries: SEGMENT_ENTRIES
  }
  const ranges = planSegments(folder.entries, segmentEntries)
  // One listener on the run's signal per folder, not one per segment.
  const stop = new AbortController()
  const cancel = (): void => {
    stop.abort(options.signal?.reason)
  }
  options.signal?.addEventListener('abort', cancel, { once: true })
  const running: Promise<EncodedSegment>[] = []
  let next = 0
  const launch = (): void => {
    while (next < ranges.length && running.length < jobsAhead) {
      const [start, end] = ranges[next++] as [number, number]
      const job = {
        root: folder.root,
        entries: folder.entries.slice(start, end),
        hash: options.hash,
        level: options.level,
        maxBytes: options.maxBytes
      }
      const started = encodeSegmentJob(job, stop.signal)
      started.catch(() => undefined)
      running.push(started)
    }
  }
  try {
    for (const [first] of ranges) {
      options.signal?.throwIfAborted()
      launch()
      const segment = await (running.shift() as Promise<EncodedSegment>)
      options.signal?.throwIfAborted()
      yield { first, segment }
    }
  } finally {
    options.signal?.removeEventListener('abort', cancel)
    stop.abort()
  }
}
