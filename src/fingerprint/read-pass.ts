// One read of every file of a code folder, in the folder's sorted order:
// small files in batches on the worker pool, large ones streamed here (zlib
// deflates them on the libuv pool). A few jobs run ahead of the one being
// consumed, so reads, hashing and deflate overlap while the bytes in flight
// stay bounded whatever the files.

import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import path from 'node:path'
import { createDeflateRaw, crc32 } from 'node:zlib'
import { fileWorkers, type FileJob, type FileResult } from './file-workers.js'
import type { CodeEntry } from './code-folder.js'

/** Files above this are streamed, so one large file never sits in memory. */
export const STREAM_THRESHOLD = 1024 * 1024

/** A batch closes at this many files or bytes: few messages, small memory. */
const BATCH_FILES = 128
const BATCH_BYTES = 1024 * 1024

/**
 * Jobs of one folder in flight at once. Each is at most ~1 MiB read (or a
 * stream with 64 KiB chunks), so a task holds a few MiB whatever its files.
 */
const JOBS_AHEAD = 4

export interface ReadOptions {
  hash: boolean
  /** Deflate level when the bytes go into a zip. */
  level?: number
  signal?: AbortSignal
  /** Deflated bytes a single file may reach before the pass gives up. */
  maxDeflated?: number
  /** How work is split (tests vary it; the output never depends on it). */
  split?: { jobsAhead: number; batchFiles: number }
}

/** Thrown when one file alone deflates past `maxDeflated`. */
export class DeflatedTooLarge extends Error {
  constructor(readonly bytes: number) {
    super(`deflated past ${bytes} bytes`)
  }
}

type Job = { large: number } | { batch: number[] }

/** Groups the folder's files into jobs, in entry order. */
function planJobs(entries: CodeEntry[], batchFiles: number): Job[] {
  const jobs: Job[] = []
  let batch: number[] = []
  let bytes = 0
  const close = (): void => {
    if (batch.length) jobs.push({ batch })
    batch = []
    bytes = 0
  }
  entries.forEach((entry, index) => {
    if (entry.type !== 'file') return
    if (entry.size > STREAM_THRESHOLD) {
      close()
      jobs.push({ large: index })
      return
    }
    batch.push(index)
    bytes += entry.size
    if (batch.length >= batchFiles || bytes >= BATCH_BYTES) close()
  })
  close()
  return jobs
}

/**
 * Yields each file entry's index and result, in entry order. Stopping early
 * (a `return` or a throw in the consumer) stops the large files being read
 * ahead; batches already in a worker finish on their own, their results
 * dropped.
 */
export async function* readFiles(
  root: string,
  entries: CodeEntry[],
  options: ReadOptions
): AsyncGenerator<{ index: number; result: FileResult }> {
  const { jobsAhead, batchFiles } = options.split ?? {
    jobsAhead: JOBS_AHEAD,
    batchFiles: BATCH_FILES
  }
  const jobs = planJobs(entries, batchFiles)
  const running: Promise<FileResult[]>[] = []
  // Stops the large files already being read ahead when the reader stops
  // early (a zip abandoned past the limit, a failed read), not only on a cancel.
  const stop = new AbortController()
  const jobOptions = {
    ...options,
    signal: options.signal
      ? AbortSignal.any([options.signal, stop.signal])
      : stop.signal
  }
  let next = 0
  const launch = (): void => {
    while (next < jobs.length && running.length < jobsAhead) {
      const started = startJob(root, entries, jobs[next++] as Job, jobOptions)
      started.catch(() => undefined)
      running.push(started)
    }
  }
  try {
    for (const job of jobs) {
      options.signal?.throwIfAborted()
      launch()
      const results = await (running.shift() as Promise<FileResult[]>)
      options.signal?.throwIfAborted()
      const indexes = 'large' in job ? [job.large] : job.batch
      for (const [i, index] of indexes.entries()) {
        yield { index, result: results[i] as FileResult }
      }
    }
  } finally {
    stop.abort()
  }
}

function startJob(
  root: string,
  entries: CodeEntry[],
  job: Job,
  options: ReadOptions
): Promise<FileResult[]> {
  const file = (index: number): string =>
    path.join(root, (entries[index] as CodeEntry).path)
  if ('large' in job) return streamFile(file(job.large), options).then(r => [r])
  const work: FileJob = {
    files: job.batch.map(file),
    hash: options.hash,
    level: options.level
  }
  return fileWorkers().run(work)
}

/** One large file: sha256 and crc32 here, deflate on zlib's thread pool. */
async function streamFile(
  file: string,
  options: ReadOptions
): Promise<FileResult> {
  const hash = options.hash ? createHash('sha256') : undefined
  const zip = options.level === undefined ? undefined : deflating(options)
  let size = 0
  let crc = 0
  try {
    // The signal is checked per chunk rather than given to the stream: one
    // abort listener per open file would pile up on the run's signal.
    for await (const chunk of createReadStream(file, {
      highWaterMark: 256 * 1024
    })) {
      options.signal?.throwIfAborted()
      const bytes = chunk as Buffer
      size += bytes.length
      hash?.update(bytes)
      if (zip) {
        crc = crc32(bytes, crc)
        await zip.write(bytes)
      }
    }
  } catch (error) {
    zip?.destroy()
    if (error instanceof DeflatedTooLarge) throw error
    options.signal?.throwIfAborted()
    return {
      size,
      error: (error as NodeJS.ErrnoException).code ?? String(error)
    }
  }
  const data = zip ? await zip.end() : undefined
  return { size, sha: hash?.digest(), crc, data, deflated: Boolean(zip) }
}

/** A raw deflate stream whose output is kept (bounded by `maxDeflated`). */
function deflating(options: ReadOptions): {
  write: (bytes: Buffer) => Promise<void>
  end: () => Promise<Buffer>
  destroy: () => void
} {
  const stream = createDeflateRaw({ level: options.level })
  const chunks: Buffer[] = []
  let total = 0
  let failure: Error | undefined
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve)
    stream.on('error', reject)
  })
  ended.catch(() => undefined)
  stream.on('data', (chunk: Buffer) => {
    total += chunk.length
    if (options.maxDeflated !== undefined && total > options.maxDeflated) {
      failure ??= new DeflatedTooLarge(options.maxDeflated)
      return
    }
    chunks.push(chunk)
  })
  return {
    write: bytes =>
      new Promise<void>((resolve, reject) => {
        if (failure) {
          reject(failure)
          return
        }
        // Waiting for each chunk to be taken keeps one chunk in flight.
        stream.write(bytes, error => {
          if (error) reject(error)
          else resolve()
        })
      }).then(() => {
        if (failure) throw failure
      }),
    end: async () => {
      stream.end()
      await ended
      if (failure) throw failure
      return Buffer.concat(chunks)
    },
    destroy: () => stream.destroy()
  }
}
