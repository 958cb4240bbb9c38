// Stage 4: read a task's code folder and fingerprint it. The scan keeps only
// metadata (never file contents), so a large node_modules tree costs a read
// and a hash, not memory.

import { createHash, type Hash } from 'node:crypto'
import { createReadStream, readFileSync, type Stats } from 'node:fs'
import { lstat, readdir, readlink, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { mapPool } from './pool.js'
import { isInside } from './paths.js'

export interface CodeEntry {
  /** POSIX path relative to the code folder, without a trailing `/`. */
  path: string
  type: 'file' | 'directory' | 'symlink'
  /** Permission bits (`0o755`); always `0o777` for a symlink. */
  mode: number
  /** Bytes of a file, of a link's target; 0 for a directory. */
  size: number
  /** A symlink's target as stored in the zip: relative, or as read when it already was. */
  linkTarget?: string
}

export interface CodeFolder {
  /** Absolute path of the code folder. */
  root: string
  /** Sorted by the UTF-8 bytes of `path`; a folder comes before its contents. */
  entries: CodeEntry[]
  /** Hex sha256 of paths, types, modes, file bytes and link targets. */
  fingerprint: string
  /** Files and symlinks (what the zip holds besides folders). */
  files: number
  warnings: string[]
}

/** A code folder that cannot be packaged; the message names the entry and the rule. */
export class CodeFolderError extends Error {
  constructor(
    readonly folder: string,
    readonly entry: string | undefined,
    readonly rule: string
  ) {
    super(`${entry ? path.join(folder, entry) : folder}: ${rule}`)
    this.name = 'CodeFolderError'
  }
}

/** Left out at any depth: never part of the code, and often large. */
const EXCLUDED_NAME = '.git'

/**
 * readdir/lstat/readlink calls at once. Unbounded fan-out over a large tree
 * was slower and stalled the event loop for 100+ ms while thousands of
 * completions were handled in one turn; 16 keeps stalls near 10 ms.
 */
const METADATA_CONCURRENCY = 16

/** Files above this are streamed, so one large file never sits in memory. */
const STREAM_THRESHOLD = 1024 * 1024

/** A zip without ZIP64 (what we write) counts entries and sizes in 16/32 bits. */
const MAX_ENTRIES = 0xffff
const MAX_FILE_BYTES = 0xfffffffe

/** Bumped whenever the hashed layout changes, so old fingerprints never match. */
const FINGERPRINT_VERSION = 'exh-tasks-action code v1'

interface Found {
  path: string
  stats: Stats
}

/** What checking a link needs: the folder as named, its real path, the warnings. */
interface ScanContext {
  root: string
  realRoot: string
  warnings: string[]
}

export async function scanCodeFolder(root: string): Promise<CodeFolder> {
  const folder = path.resolve(root)
  await checkRoot(folder)
  const found = await walk(folder)
  const context: ScanContext = {
    root: folder,
    realRoot: await realpath(folder),
    warnings: []
  }
  const entries = sortByPath(
    await mapPool(found, METADATA_CONCURRENCY, item => toEntry(context, item))
  )
  const warnings = context.warnings.sort()
  const files = entries.filter(entry => entry.type !== 'directory').length
  if (files === 0) {
    throw new CodeFolderError(
      folder,
      undefined,
      'holds no files: the API refuses a function without code'
    )
  }
  if (entries.length > MAX_ENTRIES) {
    throw new CodeFolderError(
      folder,
      undefined,
      `holds ${entries.length} files and folders, more than a zip without ZIP64 can hold (${MAX_ENTRIES})`
    )
  }
  const fingerprint = await fingerprintOf(folder, entries)
  return { root: folder, entries, fingerprint, files, warnings }
}

async function checkRoot(folder: string): Promise<void> {
  const stats = await guard(folder, undefined, () => stat(folder))
  if (!stats.isDirectory()) {
    throw new CodeFolderError(folder, undefined, 'is not a folder')
  }
}

/** Every entry below `root`, level by level; symlinks not followed, `.git` left out. */
async function walk(root: string): Promise<Found[]> {
  const found: Found[] = []
  let dirs = ['']
  while (dirs.length > 0) {
    const listed = await mapPool(dirs, METADATA_CONCURRENCY, dir =>
      list(root, dir)
    )
    const paths = listed.flat()
    const stats = await mapPool(paths, METADATA_CONCURRENCY, rel =>
      guard(root, rel, () => lstat(path.join(root, rel)))
    )
    const level = paths.map((rel, index) => ({
      path: rel,
      stats: stats[index] as Stats
    }))
    found.push(...level)
    dirs = level.filter(item => item.stats.isDirectory()).map(item => item.path)
  }
  return found
}

/** The relative paths of one folder's children, `.git` left out. */
async function list(root: string, dir: string): Promise<string[]> {
  const names = await guard(root, dir || undefined, () =>
    readdir(path.join(root, dir))
  )
  return names
    .filter(name => name !== EXCLUDED_NAME)
    .map(name => {
      const rel = dir ? `${dir}/${name}` : name
      checkName(root, rel, name)
      return rel
    })
}

function checkName(root: string, rel: string, name: string): void {
  // Zip readers (adm-zip, Windows tools) take `\` for a folder separator:
  // the unpacked code would not be what was fingerprinted.
  if (name.includes('\\')) {
    throw new CodeFolderError(
      root,
      rel,
      'has a `\\` in its name, which zip tools read as a folder separator'
    )
  }
}

async function toEntry(
  context: ScanContext,
  { path: rel, stats }: Found
): Promise<CodeEntry> {
  const { root } = context
  const mode = stats.mode & 0o777
  if (stats.isFile()) {
    if (stats.size > MAX_FILE_BYTES) {
      throw new CodeFolderError(
        root,
        rel,
        'is larger than a zip without ZIP64 can hold (4 GiB)'
      )
    }
    return { path: rel, type: 'file', mode, size: stats.size }
  }
  if (stats.isDirectory())
    return { path: rel, type: 'directory', mode, size: 0 }
  if (stats.isSymbolicLink()) {
    const linkTarget = await checkLink(context, rel)
    return {
      path: rel,
      type: 'symlink',
      mode: 0o777,
      size: Buffer.byteLength(linkTarget),
      linkTarget
    }
  }
  throw new CodeFolderError(
    root,
    rel,
    `is a ${specialKind(stats)}; only files, folders and symlinks can be packaged`
  )
}

function specialKind(stats: Stats): string {
  if (stats.isFIFO()) return 'named pipe (fifo)'
  if (stats.isSocket()) return 'socket'
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device'
  return 'special file'
}

/**
 * Returns the target to store for the link at `rel`: relative, as the CLI
 * stores it. A target outside the folder is an error (it would not exist
 * where the function runs, or would read the runner's files); a missing one
 * is kept with a warning, as the CLI keeps it.
 */
async function checkLink(context: ScanContext, rel: string): Promise<string> {
  const { root, realRoot, warnings } = context
  const target = await guard(root, rel, () => readlink(path.join(root, rel)))
  const outside = (): CodeFolderError =>
    new CodeFolderError(
      root,
      rel,
      `is a symlink to ${target}, which points outside the code folder`
    )
  const parent = path.dirname(rel)
  const stored = path.isAbsolute(target)
    ? relativeInside([root, realRoot], parent, path.normalize(target))
    : isInside(root, path.resolve(root, parent, target))
      ? target
      : undefined
  if (stored === undefined) throw outside()
  // The lexical check above can be fooled by `..` after another link
  // (`self -> .`, `x -> self/..`): where the target exists, also check
  // where it really leads.
  const real = await realTarget(path.join(root, rel))
  if (real === undefined) {
    warnings.push(
      `${path.join(root, rel)}: symlink to ${target} is dangling (its target does not exist); kept as a link`
    )
  } else {
    if (!isInside(realRoot, real)) throw outside()
    if (path.relative(realRoot, real).split(path.sep).includes(EXCLUDED_NAME)) {
      warnings.push(
        `${path.join(root, rel)}: symlink to ${target} points into ${EXCLUDED_NAME}, which is left out; it will dangle`
      )
    }
  }
  return stored
}

/**
 * An absolute `target` inside the folder, made relative to the link's own
 * folder. The folder may be named through a symlink (macOS's /tmp), so its
 * real path counts as inside too.
 */
function relativeInside(
  bases: string[],
  parent: string,
  target: string
): string | undefined {
  for (const base of bases) {
    if (isInside(base, target)) {
      return toPosix(path.relative(path.join(base, parent), target)) || '.'
    }
  }
  return undefined
}

async function realTarget(link: string): Promise<string | undefined> {
  try {
    await stat(link)
    return await realpath(link)
  } catch {
    // Missing, a loop, or unreadable: all dangling as far as the zip goes.
    return undefined
  }
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/')
}

/** Byte-wise on UTF-8, so the order never depends on locale or readdir. */
function sortByPath(entries: CodeEntry[]): CodeEntry[] {
  return entries
    .map(entry => ({ entry, key: Buffer.from(entry.path) }))
    .sort((a, b) => Buffer.compare(a.key, b.key))
    .map(({ entry }) => entry)
}

/**
 * sha256 over every entry's type, path, mode and content (a file's own
 * sha256, a link's target), each field length-prefixed so no two folders
 * hash the same stream. Entries are hashed in sorted order: deterministic,
 * one file in memory at a time.
 */
async function fingerprintOf(
  root: string,
  entries: CodeEntry[]
): Promise<string> {
  const hash = createHash('sha256')
  field(hash, FINGERPRINT_VERSION)
  let sliceStart = performance.now()
  for (const entry of entries) {
    field(hash, entry.type)
    field(hash, entry.path)
    field(hash, entry.mode.toString(8))
    field(hash, await contentOf(root, entry))
    if (performance.now() - sliceStart > SYNC_SLICE_MS) {
      await yieldToEventLoop()
      sliceStart = performance.now()
    }
  }
  return hash.digest('hex')
}

/**
 * Small files are read synchronously: an async readFile costs four thread
 * pool round trips, which made hashing a node_modules tree about five times
 * slower (benchmark: ~100 µs a file). Yielding every few milliseconds keeps
 * the event loop responsive (signals, timers).
 */
const SYNC_SLICE_MS = 8

function yieldToEventLoop(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}

function field(hash: Hash, value: string | Buffer): void {
  const bytes = typeof value === 'string' ? Buffer.from(value) : value
  hash.update(`${bytes.length}:`)
  hash.update(bytes)
}

async function contentOf(
  root: string,
  entry: CodeEntry
): Promise<string | Buffer> {
  if (entry.type === 'symlink') return entry.linkTarget ?? ''
  if (entry.type === 'directory') return ''
  const file = path.join(root, entry.path)
  return guard(root, entry.path, async () => {
    const hash = createHash('sha256')
    if (entry.size <= STREAM_THRESHOLD) {
      hash.update(readFileSync(file))
    } else {
      for await (const chunk of createReadStream(file)) {
        hash.update(chunk as Buffer)
      }
    }
    return hash.digest()
  })
}

/** Runs a file-system call, turning its failure into a CodeFolderError for `entry`. */
async function guard<T>(
  root: string,
  entry: string | undefined,
  call: () => Promise<T>
): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (error instanceof CodeFolderError) throw error
    throw new CodeFolderError(root, entry, `cannot be read (${codeOf(error)})`)
  }
}

function codeOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    return code ?? error.message
  }
  return String(error)
}
