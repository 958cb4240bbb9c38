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

/** Encodes one job and transfers its bytes back to the pool. */
async function encode(port: MessagePort, id: number, job: SegmentJob) {
  const result = await encoder.encodeSegment(job)
  const transfer = [result.feed, result.local, result.central]
    .filter(bytes => bytes !== undefined)
    .map(bytes => bytes.buffer as ArrayBuffer)
  port.postMessage({ id, result }, transfer)
}

port.on('message', ({ id, job }: { id: number; job?: SegmentJob }) => {
  // Buffers handed back (releaseToWorkers) just become garbage here. A
  // failed encode (never expected) fails the worker, and so its job.
  if (job) void encode(port, id, job)
})
