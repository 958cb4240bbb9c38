// Stage 2: find the task-config.json files under `path` (symlinks, copies,
// unreadable folders), each read and parsed once for the stages after.

import type { Dirent } from 'node:fs'
import { readdir, realpath, stat } from 'node:fs/promises'
import * as path from 'node:path'
import type { FoundConfig } from './read.js'
import { readConfigFile } from './read.js'
import { codeFolderPath } from './code-folder-rules.js'
import { ValidationError } from '../errors.js'
import { isInside, posixRelative } from '../paths.js'

const CONFIG_FILE_NAME = 'task-config.json'

/** Reads a folder's entries; injectable so tests can simulate EACCES as root. */
export type ReadFolder = (folder: string) => Promise<Dirent[]>

/** A folder under `path` that could not be read, skipped. */
export interface UnreadableFolder {
  /** Absolute, as reached (through links). */
  folder: string
  /** The error code (`EACCES`). */
  code: string
}

export interface Discovery {
  /** Sorted by file; each real file once. */
  configs: FoundConfig[]
  unreadable: UnreadableFolder[]
  /** Symlinks skipped (their target leaves the workspace); escaped where printed. */
  warnings: string[]
}

interface WalkState {
  workspace: string
  /** The workspace's real path: links are followed only to targets below it. */
  realWorkspace: string
  /**
   * Real paths of searched folders outside the workspace (a second
   * checkout): the workflow named them, so links may lead into them too.
   */
  realRoots: string[]
  /** Real folders already searched: each once, so link cycles end. */
  visited: Set<string>
  /** Real code folders of configs found: a copy of a config there is no task. */
  codeFolders: Set<string>
  found: Map<string, FoundConfig>
  result: Discovery
  readFolder: ReadFolder
  signal?: AbortSignal
}

const defaultReadFolder: ReadFolder = folder =>
  readdir(folder, { withFileTypes: true })

/**
 * Finds every task-config.json named by `paths` (files, or folders searched
 * recursively, skipping node_modules and dot-folders). Symlinked files and
 * folders are followed as the CLI follows them, but only to targets inside
 * the workspace (or inside a searched folder outside it); each real folder is searched once and each real file found
 * once, reported by the path it was reached through. A found config's code
 * folder below its own folder is not searched (a build may copy the config
 * there). Folders that cannot be read are skipped and listed.
 */
export async function findTaskConfigs(
  paths: string[],
  workspace: string,
  readFolder: ReadFolder = defaultReadFolder,
  signal?: AbortSignal
): Promise<Discovery> {
  const state: WalkState = {
    workspace,
    realWorkspace: await realpath(workspace).catch(() => workspace),
    realRoots: [],
    visited: new Set(),
    codeFolders: new Set(),
    found: new Map(),
    result: { configs: [], unreadable: [], warnings: [] },
    readFolder,
    signal
  }
  const problems: string[] = []
  for (const searched of paths) {
    const problem = await searchPath(searched, state)
    if (problem) problems.push(problem)
  }
  if (problems.length) {
    throw new ValidationError(problems.map(rule => ({ field: 'path', rule })))
  }
  if (state.found.size === 0) {
    const where = paths.map(p => relative(workspace, p)).join(', ')
    const unread = state.result.unreadable.map(
      ({ folder, code }) => `${relative(workspace, folder)} (${code})`
    )
    const skipped = unread.length ? `; could not read ${unread.join(', ')}` : ''
    throw new ValidationError([
      {
        field: 'path',
        rule: `no ${CONFIG_FILE_NAME} found in ${where} (searched recursively, skipping node_modules and dot-folders${skipped})`
      }
    ])
  }
  const configs = [...state.found.values()].sort((a, b) =>
    compare(a.file, b.file)
  )
  return { ...state.result, configs }
}

/**
 * A `path` line holding `*` reads as a pattern (`examples/*` then `/tasks`),
 * but `path` takes files and folders: say so, and name the folder to give.
 */
function patternHint(workspace: string, searched: string): string {
  const shown = relative(workspace, searched)
  const at = shown.search(/[*?[]/)
  if (at < 0) return ''
  const folder = shown.slice(0, at).replace(/\/?[^/]*$/, '') || '.'
  return `: path takes files and folders, not patterns, and a folder is searched recursively (path: ${folder})`
}

/** One line of `path`: a config file or a folder to search. Returns a problem. */
async function searchPath(
  searched: string,
  state: WalkState
): Promise<string | undefined> {
  const shown = relative(state.workspace, searched)
  const stats = await stat(searched).catch(() => undefined)
  if (!stats)
    return `${shown} does not exist${patternHint(state.workspace, searched)}`
  const real = await realpath(searched)
  // A link inside the workspace may not lead out of it (SPEC section 8).
  if (
    isInside(state.workspace, searched) &&
    !isInside(state.realWorkspace, real)
  ) {
    return `${shown} is a symlink to a target outside the workspace`
  }
  if (!isInside(state.realWorkspace, real)) state.realRoots.push(real)
  if (stats.isDirectory()) {
    await walk(searched, real, searched, state)
  } else if (stats.isFile()) {
    await addConfig(searched, real, path.dirname(searched), state)
  } else {
    return `${shown} is neither a file nor a folder`
  }
  return undefined
}

async function walk(
  folder: string,
  real: string,
  root: string,
  state: WalkState
): Promise<void> {
  if (state.visited.has(real)) return
  // A cancel stops the search between folders (a tree may be huge).
  state.signal?.throwIfAborted()
  state.visited.add(real)
  let entries: Dirent[]
  try {
    entries = await state.readFolder(folder)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    state.result.unreadable.push({ folder, code })
    return
  }
  entries.sort((a, b) => compare(a.name, b.name))
  // The config first: its code folder below is then left out of the search.
  // One that is not a regular file (a FIFO) is found too, and fails its task.
  const config = entries.find(entry => entry.name === CONFIG_FILE_NAME)
  if (config && !config.isDirectory()) {
    const target = await followed(path.join(folder, config.name), state)
    if (target && !target.isDirectory) {
      await addConfig(path.join(folder, config.name), target.real, root, state)
    }
  }
  for (const entry of entries) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    if (entry === config) continue
    const full = path.join(folder, entry.name)
    const target = entry.isDirectory()
      ? { real: path.join(real, entry.name), isDirectory: true }
      : entry.isSymbolicLink()
        ? await followed(full, state)
        : undefined
    if (!target?.isDirectory || state.codeFolders.has(target.real)) continue
    await walk(full, target.real, root, state)
  }
}

/**
 * Where a symlink (or plain entry) leads, when it stays inside the workspace.
 * A dangling link is ignored, as the CLI ignores it; a link leaving the
 * workspace is skipped with a warning.
 */
async function followed(
  file: string,
  state: WalkState
): Promise<
  { real: string; isFile: boolean; isDirectory: boolean } | undefined
> {
  const stats = await stat(file).catch(() => undefined)
  if (!stats) return undefined
  const real = await realpath(file)
  const allowed = [state.realWorkspace, ...state.realRoots]
  if (!allowed.some(root => isInside(root, real))) {
    state.result.warnings.push(
      `skipped ${relative(state.workspace, file)}: a symlink to a target outside the workspace`
    )
    return undefined
  }
  return { real, isFile: stats.isFile(), isDirectory: stats.isDirectory() }
}

async function addConfig(
  file: string,
  real: string,
  root: string,
  state: WalkState
): Promise<void> {
  if (state.found.has(real)) return
  // Read once, within the bounds; validation takes the result as it is.
  const read = await readConfigFile(file, state.signal)
  state.found.set(real, { file, root, read })
  const codeFolder = read.ok
    ? await codeFolderBelow(file, read.document.value)
    : undefined
  if (codeFolder) state.codeFolders.add(codeFolder)
}

/**
 * The real code folder a config names, when it lies below the config's own
 * folder (`"path": "./build"`). Only a literal relative `path` counts; a bad
 * config is reported when it is validated, not here.
 */
async function codeFolderBelow(
  file: string,
  config: unknown
): Promise<string | undefined> {
  const value = (config as { path?: unknown } | null)?.path
  if (typeof value !== 'string' || value.startsWith('$')) return undefined
  const folder = path.dirname(file)
  const codeFolder = codeFolderPath(file, value)
  if (codeFolder === undefined || codeFolder === folder) return undefined
  if (!isInside(folder, codeFolder)) return undefined
  return realpath(codeFolder).catch(() => undefined)
}

/**
 * A warning for each unreadable folder, except a selected task's code folder:
 * that task fails on its own, with its config named.
 */
export function unreadableWarnings(
  unreadable: UnreadableFolder[],
  codeFolders: string[],
  workspace: string
): string[] {
  const used = new Set(codeFolders.map(folder => path.resolve(folder)))
  return unreadable
    .filter(({ folder }) => !used.has(path.resolve(folder)))
    .map(
      ({ folder, code }) =>
        `skipped folder ${relative(workspace, folder)}: it cannot be read (${code}); check its permissions, or leave it out of \`path\``
    )
}

/** A file as reports show it: relative to the workspace, `/` separators. */
export function relative(workspace: string, file: string): string {
  return posixRelative(workspace, file)
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
