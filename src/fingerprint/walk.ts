// Stage 4: read a task's code folder and fingerprint it. The scan keeps only
// metadata (never file contents), so a large node_modules tree costs a read
// and a hash, not memory.

import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, type Stats } from 'node:fs'
import { readlink, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { mapPool } from '../pool.js'
import { isInside, posixRelative } from '../paths.js'
import { releaseToWorkers } from './file-workers.js'
import { NOT_A_FILE, SIZE_CHANGED, TOO_LARGE } from './file-read.js'
import { readSegments, type ReadOptions } from './read-pass.js'
import { field, type EncodedSegment } from './segment-codec.js'
import type { CodeEntry, CodeFolder, WalkedFolder } from './entries.js'

// Callers outside the read pass take the walk's types from the walk.
export type { CodeEntry, CodeFolder, WalkedFolder } from './entries.js'

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

/** Symlink checks (readlink, realpath) at once. */
const METADATA_CONCURRENCY = 16

/** A zip without ZIP64 (what we write) counts entries and sizes in 16/32 bits. */
const MAX_ENTRIES = 0xffff
const MAX_FILE_BYTES = 0xfffffffe

/** Bumped whenever the hashed layout changes, so old fingerprints never match. */
const FINGERPRINT_VERSION = 'exh-tasks-action code v1'

/**
 * What the walk keeps of an entry's `lstat`: a Stats object (and, on Node
 * 20, its four Dates) per entry, held until the folder is walked, grew the
 * main thread's heap by tens of MB on a large folder.
 */
interface Found {
  path: string
  /** A file, folder or link; otherwise the kind of special file, in words. */
  kind: CodeEntry['type'] | { special: string }
  mode: number
  size: number
}

/** What checking a link needs: the folder as named, its real path, the warnings. */
interface ScanContext {
  root: string
  realRoot: string
  warnings: string[]
}

/** Walks and fingerprints a code folder (one walk, one read of each file). */
export async function scanCodeFolder(
  root: string,
  signal?: AbortSignal
): Promise<CodeFolder> {
  const walked = await walkCodeFolder(root)
  return { ...walked, fingerprint: await fingerprintOf(walked, signal) }
}

/** Lists and checks a code folder's entries; reads no file contents. */
export async function walkCodeFolder(root: string): Promise<WalkedFolder> {
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
  return { root: folder, entries, files, warnings }
}

async function checkRoot(folder: string): Promise<void> {
  const stats = await guard(folder, undefined, () => stat(folder))
  if (!stats.isDirectory()) {
    throw new CodeFolderError(folder, undefined, 'is not a folder')
  }
}

/**
 * Every entry below `root`, folder by folder; symlinks not followed, `.git`
 * left out. Synchronous calls (a few microseconds each, where an async call
 * costs a thread-pool round trip), yielding after each folder so the event
 * loop (signals, worker messages, other tasks) keeps turning.
 */
async function walk(root: string): Promise<Found[]> {
  const found: Found[] = []
  const dirs = ['']
  for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
    for (const rel of list(root, dir)) {
      const stats = guardSync(root, rel, () => lstatSync(path.join(root, rel)))
      const { mode, size } = stats
      found.push({ path: rel, kind: kindOf(stats), mode, size })
      if (stats.isDirectory()) dirs.push(rel)
    }
    await yieldToEventLoop()
  }
  return found
}

/** The relative paths of one folder's children, `.git` left out. */
function list(root: string, dir: string): string[] {
  const names = guardSync(root, dir || undefined, () =>
    readdirSync(path.join(root, dir))
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
  { path: rel, kind, size, ...found }: Found
): Promise<CodeEntry> {
  const { root } = context
  const mode = found.mode & 0o7777
  if (kind === 'file') {
    if (size > MAX_FILE_BYTES) {
      throw new CodeFolderError(
        root,
        rel,
        'is larger than a zip without ZIP64 can hold (4 GiB)'
      )
    }
    return { path: rel, type: 'file', mode, size }
  }
  if (kind === 'directory')
    return { path: rel, type: 'directory', mode, size: 0 }
  if (kind === 'symlink') {
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
    `is a ${kind.special}; only files, folders and symlinks can be packaged`
  )
}

function kindOf(stats: Stats): Found['kind'] {
  if (stats.isFile()) return 'file'
  if (stats.isDirectory()) return 'directory'
  if (stats.isSymbolicLink()) return 'symlink'
  if (stats.isFIFO()) return { special: 'named pipe (fifo)' }
  if (stats.isSocket()) return { special: 'socket' }
  if (stats.isCharacterDevice() || stats.isBlockDevice()) {
    return { special: 'device' }
  }
  return { special: 'special file' }
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
      `${rel} (in the code folder): symlink to ${target} is dangling (its target does not exist); kept as a link`
    )
  } else {
    if (!isInside(realRoot, real)) throw outside()
    if (path.relative(realRoot, real).split(path.sep).includes(EXCLUDED_NAME)) {
      warnings.push(
        `${rel} (in the code folder): symlink to ${target} points into ${EXCLUDED_NAME}, which is left out; it will dangle`
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
      return posixRelative(path.join(base, parent), target)
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
 * hash the same stream, entries in sorted order. The workers encode each
 * entry's part (`feedOf` in segment-codec.ts); it is fed here a segment at a
 * time (`readFolder`), so packaging builds it from the same read as the zip.
 */
export class Fingerprint {
  private readonly hash = createHash('sha256')

  constructor() {
    this.hash.update(field(FINGERPRINT_VERSION))
  }

  /** Hashes a segment's feed, then hands it back to the workers (hashed: not needed here). */
  add(feed: Uint8Array | undefined): void {
    if (!feed) return
    this.hash.update(feed)
    releaseToWorkers([feed])
  }

  digest(): string {
    return this.hash.digest('hex')
  }
}

export async function fingerprintFolder(
  folder: WalkedFolder,
  signal?: AbortSignal
): Promise<CodeFolder> {
  return { ...folder, fingerprint: await fingerprintOf(folder, signal) }
}

async function fingerprintOf(
  folder: WalkedFolder,
  signal?: AbortSignal
): Promise<string> {
  return (await readFolder(folder, { hash: true, signal })) ?? ''
}

/** Where `readFolder` hands each segment: the zip writer. */
export interface SegmentSink {
  add(segment: EncodedSegment): Promise<void>
  /** The error for a file that deflated past `maxBytes`. */
  tooLarge(): Error
}

/**
 * The one pass over a walked folder that fingerprinting and zipping share:
 * every segment in order, a failed read thrown as its entry's
 * CodeFolderError, the fingerprint (when `hash`) fed as the segments come,
 * each segment then handed to `sink`. Returns the fingerprint.
 */
export async function readFolder(
  folder: WalkedFolder,
  options: ReadOptions,
  sink?: SegmentSink
): Promise<string | undefined> {
  const fingerprint = options.hash ? new Fingerprint() : undefined
  for await (const { first, segment } of readSegments(folder, options)) {
    if (sink && segment.failure?.code === TOO_LARGE) throw sink.tooLarge()
    throwFailure(folder, first, segment)
    fingerprint?.add(segment.feed)
    await sink?.add(segment)
  }
  return fingerprint?.digest()
}

/** A segment's failed read, or a file whose size changed since the walk. */
function throwFailure(
  folder: WalkedFolder,
  first: number,
  segment: EncodedSegment
): void {
  const { failure } = segment
  if (!failure) return
  const entry = folder.entries[first + failure.index] as CodeEntry
  const rule =
    failure.code === SIZE_CHANGED
      ? 'changed while it was read (its size differs from the listing); did a build run at the same time?'
      : failure.code === NOT_A_FILE
        ? 'is no longer a regular file (it was replaced after the folder was listed); did a build run at the same time?'
        : `cannot be read (${failure.code})`
  throw new CodeFolderError(folder.root, entry.path, rule)
}

function yieldToEventLoop(): Promise<void> {
  return new Promise(resolve => setImmediate(resolve))
}

function guardSync<T>(
  root: string,
  entry: string | undefined,
  call: () => T
): T {
  try {
    return call()
  } catch (error) {
    if (error instanceof CodeFolderError) throw error
    throw new CodeFolderError(root, entry, `cannot be read (${codeOf(error)})`)
  }
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
