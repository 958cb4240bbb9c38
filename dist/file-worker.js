import { createRequire as __createRequire } from 'node:module'
const require = __createRequire(import.meta.url)
import {
  segmentEncoder
} from "./chunk-TYXKQS37.js";
import "./chunk-YVJ3UYDI.js";

// src/fingerprint/file-worker.ts
import { parentPort, workerData } from "node:worker_threads";
var port = parentPort;
if (!port) throw new Error("file-worker.ts runs only as a worker thread");
var encoder = segmentEncoder(workerData);
async function encode(port2, id, job) {
  const result = await encoder.encodeSegment(job);
  const transfer = [result.feed, result.local, result.central].filter((bytes) => bytes !== void 0).map((bytes) => bytes.buffer);
  port2.postMessage({ id, result }, transfer);
}
port.on("message", ({ id, job }) => {
  if (job) void encode(port, id, job);
});
