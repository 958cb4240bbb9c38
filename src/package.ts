// Stage 6: zip a scanned code folder deterministically, and the size checks
// the API would otherwise fail a write on.
//
// The zip is written with yazl rather than adm-zip (which the tests and the
// fake API still use to read zips back): adm-zip 0.6's async writer chains
// stored entries (folders, empty files, links) through synchronous callbacks
// and ~2,000 in a row overflow the stack in a zlib callback, an uncaught
// crash; its sync writer blocks the event loop. yazl deflates on zlib's
// thread pool, writes entries in the order given, and takes modes as given.

import { createReadStream } from 'node:fs'
import path from 'node:path'
import { ZipFile } from 'yazl'
import { CodeFolderError, type CodeFolder } from './code-folder.js'

export interface TaskPackage {
  zip: Buffer
  bytes: number
  /** Files and symlinks in the zip (folders not counted). */
  files: number
}

/** The API gateway's limit on one request body. */
export const MAX_REQUEST_BYTES = 10_000_000

/** The API's limit on a function's environment: keys and values, UTF-8. */
export const MAX_ENVIRONMENT_BYTES = 4096

/**
 * 1980-01-01 00:00, the earliest time a zip can hold: any fixed time makes
 * packages reproducible. Built from local fields because the zip's DOS time
 * is local too, so every runner's time zone writes the same bytes.
 */
const FIXED_TIME = new Date(1980, 0, 1, 0, 0, 0)

const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000

/** Level 9 as the CLI uses: a folder whose zip fits with the CLI fits here. */
const COMPRESSION_LEVEL = 9

export async function packageCodeFolder(
  folder: CodeFolder
): Promise<TaskPackage> {
  const zip = new ZipFile()
  const common = { mtime: FIXED_TIME, forceDosTimestamp: true }
  const reading = { path: '' }
  for (const entry of folder.entries) {
    switch (entry.type) {
      case 'directory':
        zip.addEmptyDirectory(entry.path, {
          ...common,
          mode: S_IFDIR | entry.mode
        })
        break
      case 'symlink':
        // Zip readers take a link's data as its target; stored, not deflated.
        zip.addBuffer(Buffer.from(entry.linkTarget ?? ''), entry.path, {
          ...common,
          mode: S_IFLNK | 0o777,
          compress: false
        })
        break
      case 'file':
        // Opened only when its turn comes: one file and one deflate stream in
        // flight, so memory stays flat however large the folder. `size` makes
        // yazl fail a file that changed since it was fingerprinted.
        zip.addReadStreamLazy(
          entry.path,
          {
            ...common,
            mode: S_IFREG | entry.mode,
            compressionLevel: entry.size === 0 ? 0 : COMPRESSION_LEVEL,
            size: entry.size
          },
          open => {
            reading.path = entry.path
            open(null, createReadStream(path.join(folder.root, entry.path)))
          }
        )
    }
  }
  const bytes = await collect(zip, folder.root, () => reading.path)
  return { zip: bytes, bytes: bytes.length, files: folder.files }
}

/** yazl reports a read failure (or a size that changed) on the ZipFile, not the stream. */
function collect(
  zip: ZipFile,
  root: string,
  current: () => string
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    zip.on('error', (error: Error) => {
      // Most likely the file changed since it was fingerprinted.
      reject(
        new CodeFolderError(
          root,
          current(),
          `could not be packaged (${error.message}); did it change during the run?`
        )
      )
    })
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk))
    zip.outputStream.on('end', () => {
      resolve(Buffer.concat(chunks))
    })
    zip.outputStream.on('error', reject)
    zip.end()
  })
}

/** UTF-8 bytes of `JSON.stringify(body)`: what goes over the wire. */
export function requestBodyBytes(body: unknown): number {
  const text = JSON.stringify(body) as string | undefined
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8')
}

/**
 * The create/update body once the zip is in it as base64 `code`, checked
 * against the gateway's limit before any write. Counted without building the
 * base64 string: its characters need no JSON escaping.
 */
export function checkRequestSize(
  body: unknown,
  zipBytes: number
): string | undefined {
  const others = requestBodyBytes(withEmptyCode(body))
  const total = others + 4 * Math.ceil(zipBytes / 3)
  if (total <= MAX_REQUEST_BYTES) return undefined
  const maxZip = Math.max(0, Math.floor((MAX_REQUEST_BYTES - others) / 4) * 3)
  return `the request would be ${count(total)} bytes (a ${count(zipBytes)}-byte zip, base64-encoded, plus the other fields), over the API's limit of ${count(MAX_REQUEST_BYTES)} bytes per request; with this config the zip may be at most ${count(maxZip)} bytes`
}

function withEmptyCode(body: unknown): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
    ? { ...body, code: '' }
    : body
}

function count(value: number): string {
  return value.toLocaleString('en-US')
}

/** UTF-8 bytes of every key and value, as the API counts its 4 KB limit. */
export function environmentBytes(env: Record<string, string>): number {
  return Object.entries(env).reduce(
    (sum, [key, value]) =>
      sum + Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8'),
    0
  )
}
