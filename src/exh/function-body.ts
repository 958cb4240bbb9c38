// The bytes of a function create or update. The zip goes into the JSON as
// base64 streamed from the file a chunk at a time: through the SDK's typed
// call, each upload in flight held its zip four times over (file bytes,
// base64 string, JSON string, request body), ~14 MB for a 3 MB zip.

import { open } from 'node:fs/promises'
import { Readable } from 'node:stream'
import type { FunctionBody, ZipUpload } from './types.js'

/** A write's JSON body: its length, and a new stream of it per attempt. */
export interface RequestBody {
  length: number
  open(): Readable
}

/**
 * Bytes read and encoded at a time: a multiple of 3, so the chunks' base64
 * joins without padding in between.
 */
const CHUNK_BYTES = 3 * 64 * 1024

/**
 * `JSON.stringify({ ...body, code })`, `code` the zip's base64, as UTF-8:
 * the layout `checkRequestSize` counts. Base64 needs no JSON escaping.
 */
export function functionRequestBody(
  body: FunctionBody,
  zip?: ZipUpload
): RequestBody {
  if (!zip) {
    const json = Buffer.from(JSON.stringify(body))
    return { length: json.length, open: () => Readable.from([json]) }
  }
  const json = JSON.stringify({ ...body, code: '' })
  const tail = '"}'
  // `code` is not a FunctionBody field, so it comes last.
  if (!json.endsWith(`"code":""}`)) throw new Error('internal: code not last')
  const head = Buffer.from(json.slice(0, -tail.length))
  return {
    length: head.length + 4 * Math.ceil(zip.bytes / 3) + tail.length,
    open: () => Readable.from(chunks(head, zip, Buffer.from(tail)))
  }
}

/**
 * The body's chunks: base64 goes out as strings (ASCII, written as they
 * are). The file is opened around each read, so a stream abandoned half-way
 * (a failed request) leaves no file open.
 */
async function* chunks(
  head: Buffer,
  zip: ZipUpload,
  tail: Buffer
): AsyncGenerator<Buffer | string> {
  yield head
  const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, zip.bytes))
  for (let read = 0; read < zip.bytes;) {
    const want = chunk.subarray(0, Math.min(chunk.length, zip.bytes - read))
    const filled = await readAt(zip.file, want, read)
    if (filled === 0) {
      throw new Error(`${zip.file}: shorter than when it was packaged`)
    }
    read += filled
    yield chunk.toString('base64', 0, filled)
  }
  yield tail
}

/** Reads into `target` from `position` until it is full or the file ends. */
async function readAt(
  file: string,
  target: Buffer,
  position: number
): Promise<number> {
  const handle = await open(file, 'r')
  try {
    let filled = 0
    while (filled < target.length) {
      const { bytesRead } = await handle.read(
        target,
        filled,
        target.length - filled,
        position + filled
      )
      if (bytesRead === 0) break
      filled += bytesRead
    }
    return filled
  } finally {
    await handle.close()
  }
}
