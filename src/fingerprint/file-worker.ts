// A file worker (started by file-workers.ts): encodes the segments it is
// sent and transfers the bytes back. Its own entry in the bundle
// (dist/file-worker.js), importing the codec like any module.

import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { segmentEncoder, type SegmentJob } from './segment-codec.js'

export interface WorkerData {
  /** Bytes of deflated contents this worker keeps for reuse. */
  reuseBytes: number
}

const port = parentPort
if (!port) throw new Error('file-worker.ts runs only as a worker thread')
const encoder = segmentEncoder(workerData as WorkerData)

/** The job running, to stop when asked (one at a time per worker). */
const running = new Map<number, AbortController>()

/**
 * Encodes one job and transfers its bytes back to the pool; a job stopped
 * by the pool answers with its id alone.
 */
async function encode(port: MessagePort, id: number, job: SegmentJob) {
  const stop = new AbortController()
  running.set(id, stop)
  try {
    const result = await encoder.encodeSegment(job, stop.signal)
    const transfer = [result.feed, result.local, result.central]
      .filter(bytes => bytes !== undefined)
      .map(bytes => bytes.buffer as ArrayBuffer)
    port.postMessage({ id, result }, transfer)
  } catch (error) {
    // A failed encode (never expected) fails the worker, and so its job.
    if (!stop.signal.aborted) throw error
    port.postMessage({ id })
  } finally {
    running.delete(id)
  }
}

port.on(
  'message',
  ({ id, job, stop }: { id: number; job?: SegmentJob; stop?: number }) => {
    // Buffers handed back (releaseToWorkers) just become garbage here.
    if (stop !== undefined) running.get(stop)?.abort()
    else if (job) void encode(port, id, job)
  }
)
