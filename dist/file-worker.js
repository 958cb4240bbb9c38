import { createRequire as __createRequire } from 'node:module'
const require = __createRequire(import.meta.url)
import {
  segmentEncoder
} from "./chunk-SHKQIFSB.js";
import "./chunk-YVJ3UYDI.js";

// src/fingerprint/file-worker.ts
import { parentPort, workerData } from "node:worker_threads";
var port = parentPort;
if (!port) throw new Error("file-worker.ts runs only as a worker thread");
var encoder = segmentEncoder(workerData);
var running = /* @__PURE__ */ new Map();
async function encode(port2, id, job) {
  const stop = new AbortController();
  running.set(id, stop);
  try {
    const result = await encoder.encodeSegment(job, stop.signal);
    const transfer = [result.feed, result.local, result.central].filter((bytes) => bytes !== void 0).map((bytes) => bytes.buffer);
    port2.postMessage({ id, result }, transfer);
  } catch (error) {
    if (!stop.signal.aborted) throw error;
    port2.postMessage({ id });
  } finally {
    running.delete(id);
  }
}
port.on(
  "message",
  ({ id, job, stop }) => {
    if (stop !== void 0) running.get(stop)?.abort();
    else if (job) void encode(port, id, job);
  }
);
