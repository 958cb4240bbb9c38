import { createRequire as __createRequire } from 'node:module'
const require = __createRequire(import.meta.url)

// src/fingerprint/file-read.ts
import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { crc32, createDeflateRaw, deflateRawSync } from "node:zlib";
var STREAM_THRESHOLD = 1024 * 1024;
var CHUNK_BYTES = 256 * 1024;
var SIZE_CHANGED = "SIZE_CHANGED";
var TOO_LARGE = "TOO_LARGE";
var NOT_A_FILE = "NOT_A_FILE";
var TURN_MS = 5;
var StopPoints = class {
  constructor(signal) {
    this.signal = signal;
  }
  signal;
  last = performance.now();
  get stopped() {
    return this.signal?.aborted === true;
  }
  /** Throws once stopped; lets the loop turn after TURN_MS of work. */
  async check() {
    if (!this.signal) return;
    if (performance.now() - this.last >= TURN_MS) {
      await new Promise(setImmediate);
      this.last = performance.now();
    }
    this.signal.throwIfAborted();
  }
};
var ENTRY_OVERHEAD = 640;
var FileReader = class {
  /** `reuseBytes`: bytes of deflated contents kept for reuse. */
  constructor(reuseBytes = 16 * 1024 * 1024) {
    this.reuseBytes = reuseBytes;
  }
  reuseBytes;
  /**
   * Small files are read into one reused buffer: a fresh Buffer per file is
   * freed only when the heap is collected, and tens of MB of them piled up.
   * One byte more than the largest small file, to see one that grew.
   */
  scratch;
  kept = /* @__PURE__ */ new Map();
  keptBytes = 0;
  /** Reads a file entry; a string is a failure code. A stop throws. */
  async read(entry, job, stops = new StopPoints()) {
    const file = `${job.root}/${entry.path}`;
    let read;
    try {
      read = entry.size > STREAM_THRESHOLD ? await largeFile(file, entry.size, job, stops) : this.smallFile(file, entry.size, job);
    } catch (error) {
      if (stops.stopped) throw error;
      const code = error.code;
      return typeof code === "string" ? code : String(error);
    }
    if (typeof read !== "string" && read.size !== entry.size)
      return SIZE_CHANGED;
    return read;
  }
  /** A small file whole: sha256, crc32, deflated when that shrinks it. */
  smallFile(file, expected, job) {
    const bytes = this.readSmall(file, expected);
    const size = bytes.length;
    const level = job.level;
    if (level === void 0 && !job.hash)
      return { size, crc: 0, deflated: false };
    const digest = createHash("sha256").update(bytes).digest();
    const sha = job.hash ? digest : void 0;
    if (level === void 0) return { size, sha, crc: 0, deflated: false };
    const key = `${level}:${digest.toString("base64")}`;
    const zipped = this.kept.get(key) ?? this.deflate(bytes, level, key);
    return { size, sha, ...zipped };
  }
  /** At most `expected` + 1 bytes: a file that grew is seen, not followed. */
  readSmall(file, expected) {
    const fd = openRegular(file);
    this.scratch ??= Buffer.allocUnsafeSlow(STREAM_THRESHOLD + 1);
    try {
      const limit = expected + 1;
      let length = 0;
      for (; ; ) {
        const read = readSync(fd, this.scratch, length, limit - length, null);
        length += read;
        if (read === 0 || length === limit)
          return this.scratch.subarray(0, length);
      }
    } finally {
      closeSync(fd);
    }
  }
  /** Deflates a small file's bytes, kept under `key` while within the bound. */
  deflate(bytes, level, key) {
    const size = bytes.length;
    const crc = crc32(bytes);
    const chunkSize = Math.max(64, size + 64);
    const deflated = level > 0 && size > 0 ? deflateRawSync(bytes, { level, chunkSize }) : void 0;
    const shrinks = deflated !== void 0 && deflated.length < size;
    const zipped = {
      crc,
      data: shrinks ? deflated : Buffer.from(bytes),
      deflated: shrinks
    };
    const cost = zipped.data.length + ENTRY_OVERHEAD;
    if (this.keptBytes + cost <= this.reuseBytes) {
      const kept = Buffer.allocUnsafeSlow(zipped.data.length);
      kept.set(zipped.data);
      this.kept.set(key, { ...zipped, data: kept });
      this.keptBytes += cost;
    }
    return zipped;
  }
};
function openRegular(file) {
  let fd;
  try {
    fd = openSync(
      file,
      constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW
    );
  } catch (error) {
    if (error.code !== "ELOOP") throw error;
    throw Object.assign(new Error(NOT_A_FILE), { code: NOT_A_FILE });
  }
  if (fstatSync(fd).isFile()) return fd;
  closeSync(fd);
  throw Object.assign(new Error(NOT_A_FILE), { code: NOT_A_FILE });
}
async function largeFile(file, expected, job, stops) {
  const fd = openRegular(file);
  const hash = job.hash ? createHash("sha256") : void 0;
  const zip = job.level === void 0 ? void 0 : deflating(job.level, job.maxBytes);
  let size = 0;
  let crc = 0;
  const chunk = Buffer.allocUnsafeSlow(CHUNK_BYTES);
  try {
    for (; ; ) {
      await stops.check();
      const read = readSync(fd, chunk, 0, CHUNK_BYTES, null);
      if (read === 0) break;
      const bytes = chunk.subarray(0, read);
      size += read;
      if (size > expected) return SIZE_CHANGED;
      hash?.update(bytes);
      if (!zip) continue;
      crc = crc32(bytes, crc);
      if (!await zip.write(bytes)) return TOO_LARGE;
    }
    const data = zip ? await zip.end() : void 0;
    if (data === null) return TOO_LARGE;
    return { size, sha: hash?.digest(), crc, data, deflated: Boolean(zip) };
  } finally {
    zip?.destroy();
    closeSync(fd);
  }
}
function deflating(level, maxBytes = Infinity) {
  const stream = createDeflateRaw({ level });
  const chunks = [];
  let total = 0;
  stream.on("data", (chunk) => {
    total += chunk.length;
    if (total <= maxBytes) chunks.push(chunk);
  });
  const ended = new Promise((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  ended.catch(() => void 0);
  return {
    /** Resolves false once the output passed `maxBytes`. */
    write: (bytes) => new Promise((resolve, reject) => {
      stream.write(bytes, (error) => {
        if (error) reject(error);
        else resolve(total <= maxBytes);
      });
    }),
    end: async () => {
      stream.end();
      await ended;
      return total <= maxBytes ? Buffer.concat(chunks) : null;
    },
    destroy: () => stream.destroy()
  };
}

// src/fingerprint/zip-records.ts
import { crc32 as crc322 } from "node:zlib";
var DOS_TIME = 0;
var DOS_DATE = 0 << 9 | 1 << 5 | 1;
var VERSION_MADE_BY = 3 << 8 | 20;
var VERSION_NEEDED = 20;
var FLAG_UTF8 = 2048;
var STORED = 0;
var DEFLATED = 8;
var S_IFDIR = 16384;
var S_IFREG = 32768;
var S_IFLNK = 40960;
var MSDOS_DIRECTORY = 16;
var LOCAL_HEADER = 30;
var CENTRAL_RECORD = 46;
function writeEntryFields(out, at, record) {
  out.writeUInt16LE(VERSION_NEEDED, at);
  out.writeUInt16LE(FLAG_UTF8, at + 2);
  out.writeUInt16LE(record.method, at + 4);
  out.writeUInt16LE(DOS_TIME, at + 6);
  out.writeUInt16LE(DOS_DATE, at + 8);
  out.writeUInt32LE(record.crc, at + 10);
  out.writeUInt32LE(record.data.length, at + 14);
  out.writeUInt32LE(record.size, at + 18);
  out.writeUInt16LE(record.name.length, at + 22);
}
function localHeader(record) {
  const header = Buffer.alloc(LOCAL_HEADER);
  header.writeUInt32LE(67324752, 0);
  writeEntryFields(header, 4, record);
  return header;
}
function centralRecord(record, offset) {
  const central = Buffer.alloc(CENTRAL_RECORD + record.name.length);
  central.writeUInt32LE(33639248, 0);
  central.writeUInt16LE(VERSION_MADE_BY, 4);
  writeEntryFields(central, 6, record);
  central.writeUInt32LE(record.attributes, 38);
  central.writeUInt32LE(offset, 42);
  record.name.copy(central, CENTRAL_RECORD);
  return central;
}
function rebaseCentral(central, base) {
  const records = Buffer.from(
    central.buffer,
    central.byteOffset,
    central.length
  );
  for (let at = 0; at < records.length; ) {
    records.writeUInt32LE(records.readUInt32LE(at + 42) + base, at + 42);
    at += CENTRAL_RECORD + records.readUInt16LE(at + 28);
  }
  return records;
}
function endRecord(entries, size, start) {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(101010256, 0);
  end.writeUInt16LE(entries, 8);
  end.writeUInt16LE(entries, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(start, 16);
  return end;
}
function attributes(mode) {
  return mode << 16 >>> 0;
}
function recordOf(entry, read) {
  if (entry.type === "directory") {
    return {
      name: Buffer.from(`${entry.path}/`),
      method: STORED,
      crc: 0,
      data: new Uint8Array(0),
      size: 0,
      attributes: attributes(S_IFDIR | entry.mode) | MSDOS_DIRECTORY
    };
  }
  if (entry.type === "symlink") {
    const data = Buffer.from(entry.linkTarget ?? "");
    return {
      name: Buffer.from(entry.path),
      method: STORED,
      crc: crc322(data),
      data,
      size: data.length,
      attributes: attributes(S_IFLNK | 511)
    };
  }
  return {
    name: Buffer.from(entry.path),
    method: read?.deflated ? DEFLATED : STORED,
    crc: read?.crc ?? 0,
    data: read?.data ?? new Uint8Array(0),
    size: entry.size,
    attributes: attributes(S_IFREG | entry.mode)
  };
}

// src/fingerprint/segment-codec.ts
function field(value) {
  const bytes = typeof value === "string" ? Buffer.from(value) : value;
  return Buffer.concat([Buffer.from(`${bytes.length}:`), bytes]);
}
function feedOf(entry, read) {
  const content = entry.type === "symlink" ? entry.linkTarget ?? "" : read?.sha ?? new Uint8Array(0);
  return Buffer.concat([
    field(entry.type),
    field(entry.path),
    field((entry.mode & 511).toString(8)),
    field(content)
  ]);
}
function joined(parts) {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = Buffer.allocUnsafeSlow(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
async function encodeSegment(job, reader, stop) {
  const feed = [];
  const local = [];
  const central = [];
  let offset = 0;
  const stops = new StopPoints(stop);
  for (const [index, entry] of job.entries.entries()) {
    await stops.check();
    const read = entry.type === "file" ? await reader.read(entry, job, stops) : void 0;
    if (typeof read === "string") return { failure: { index, code: read } };
    if (job.hash) feed.push(feedOf(entry, read));
    if (job.level === void 0) continue;
    const record = recordOf(entry, read);
    local.push(localHeader(record), record.name, record.data);
    central.push(centralRecord(record, offset));
    offset += LOCAL_HEADER + record.name.length + record.data.length;
  }
  return {
    feed: job.hash ? joined(feed) : void 0,
    local: job.level === void 0 ? void 0 : joined(local),
    central: job.level === void 0 ? void 0 : joined(central)
  };
}
function segmentEncoder(options = {}) {
  const reader = new FileReader(options.reuseBytes);
  return {
    encodeSegment: (job, stop) => encodeSegment(job, reader, stop)
  };
}

export {
  STREAM_THRESHOLD,
  SIZE_CHANGED,
  TOO_LARGE,
  NOT_A_FILE,
  rebaseCentral,
  endRecord,
  field,
  segmentEncoder
};
