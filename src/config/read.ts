// A config file read within bounds (a regular file, at most 1 MB) and parsed
// with the positions of its nodes, or the problem that stops it.

import { constants, type Stats } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { posixRelative } from '../paths.js'
import { parseJson, type JsonDocument } from './json-locations.js'
import { MAX_CONFIG_BYTES, type ConfigProblem } from '../task.js'

/** Opened without blocking: a file swapped for a FIFO after the check never hangs. */
const NONBLOCK = constants.O_NONBLOCK

/** A config read and parsed, as the checks see it. */
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

/** A task-config.json found on disk, with the searched folder it was found under. */
export interface FoundConfig {
  /** Absolute path of the task-config.json file. */
  file: string
  /** Absolute path of the folder that was searched (the file's own folder when a file was named). */
  root: string
  /** The file read and parsed by discovery; validation reads it when absent. */
  read?: ConfigRead
}

/**
 * A config file read once: its parsed document, or why it is not one (with
 * the position of a JSON error). Discovery reads each config it finds (it
 * needs `path` to leave the code folder out) and hands this on.
 */
export type ConfigRead =
  | { ok: true; document: JsonDocument }
  | { ok: false; rule: string; line?: number; column?: number }

/** Reads and parses a config within the bounds (SPEC section 8). */
export async function readConfigFile(
  file: string,
  signal?: AbortSignal
): Promise<ConfigRead> {
  const read = await readBounded(file, signal)
  if (typeof read !== 'string') return { ok: false, rule: read.rule }
  let parsed: ReturnType<typeof parseJson>
  try {
    parsed = parseJson(read)
  } catch (error) {
    // A backstop: whatever the text, its own task fails, never the run.
    const why = error instanceof RangeError ? 'nested too deeply' : 'error'
    return { ok: false, rule: `invalid JSON: could not be parsed (${why})` }
  }
  if (!parsed.ok) {
    return {
      ok: false,
      ...parsed.position,
      rule: `invalid JSON: ${parsed.message}`
    }
  }
  return { ok: true, document: parsed.document }
}

/** A found config as validation sees it, read now unless discovery read it. */
export async function readConfig(
  found: FoundConfig,
  workspace: string,
  signal?: AbortSignal
): Promise<ParsedConfig | ConfigProblem> {
  const file = posixRelative(workspace, found.file)
  const read = found.read ?? (await readConfigFile(found.file, signal))
  if (!read.ok) {
    return {
      file,
      line: read.line,
      column: read.column,
      field: 'JSON',
      rule: read.rule
    }
  }
  return { found, file, document: read.document }
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
