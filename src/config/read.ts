// A config file read within bounds (a regular file, at most 1 MB) and parsed
// with the positions of its nodes, or the problem that stops it.

import { constants, type Stats } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { posixRelative } from '../paths.js'
import { parseJson, type JsonDocument } from './json-locations.js'
import {
  MAX_CONFIG_BYTES,
  type ConfigProblem,
  type FoundConfig
} from '../task.js'

/** Opened without blocking: a file swapped for a FIFO after the check never hangs. */
const NONBLOCK = constants.O_NONBLOCK

export interface ParsedConfig {
  found: FoundConfig
  /** Relative to the workspace, POSIX separators. */
  file: string
  document: JsonDocument
  /** The name the filter sees, when the config has one. */
  name?: string
  /** `$VAR`, when the name was substituted. */
  nameRef?: string
}

export async function readConfig(
  found: FoundConfig,
  workspace: string,
  signal?: AbortSignal
): Promise<ParsedConfig | ConfigProblem> {
  const file = posixRelative(workspace, found.file)
  const read = await readBounded(found.file, signal)
  if (typeof read !== 'string') return { file, field: 'JSON', rule: read.rule }
  const parsed = parseJson(read)
  if (!parsed.ok) {
    return {
      file,
      ...parsed.position,
      field: 'JSON',
      rule: `invalid JSON: ${parsed.message}`
    }
  }
  return { found, file, document: parsed.document }
}

/**
 * A config's text, or why it is not read: it is checked with `stat` (links
 * followed) before it is opened, so a FIFO or a device is never opened and
 * a file over the limit never read whole; the limit is checked again on
 * the open file, in case it changed in between.
 */
async function readBounded(
  file: string,
  signal?: AbortSignal
): Promise<string | { rule: string }> {
  const tooBig = (bytes: number) => ({
    rule: `is ${bytes.toLocaleString('en-US')} bytes, over the limit of ${MAX_CONFIG_BYTES.toLocaleString('en-US')} bytes (1 MB)`
  })
  try {
    const stats = await stat(file)
    if (!stats.isFile()) {
      return {
        rule: `is not a regular file (${specialKind(stats)}), so it is not read`
      }
    }
    if (stats.size > MAX_CONFIG_BYTES) return tooBig(stats.size)
    signal?.throwIfAborted()
    const text = await readAtMost(file, stats.size + 1)
    return text.bytes > MAX_CONFIG_BYTES ? tooBig(text.bytes) : text.text
  } catch (error) {
    if (signal?.aborted) throw error
    const code = (error as NodeJS.ErrnoException).code ?? String(error)
    return { rule: `cannot be read (${code})` }
  }
}

/** At most `limit` bytes of a file (one more than expected: a file that grew shows it). */
async function readAtMost(
  file: string,
  limit: number
): Promise<{ text: string; bytes: number }> {
  const handle = await open(file, constants.O_RDONLY | NONBLOCK)
  try {
    const buffer = Buffer.alloc(Math.min(limit, MAX_CONFIG_BYTES + 1))
    let bytes = 0
    while (bytes < buffer.length) {
      const { bytesRead } = await handle.read(
        buffer,
        bytes,
        buffer.length - bytes,
        bytes
      )
      if (bytesRead === 0) break
      bytes += bytesRead
    }
    return { text: buffer.subarray(0, bytes).toString('utf8'), bytes }
  } finally {
    await handle.close()
  }
}

/** What a file that is not a regular one is, in words. */
function specialKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder'
  if (stats.isFIFO()) return 'a FIFO'
  if (stats.isSocket()) return 'a socket'
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device'
  return 'not a file'
}
