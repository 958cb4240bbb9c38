// The code-folder rules: relative to the config's folder, existing, a
// folder, really inside the workspace or the searched folder, never in .git.

import { realpath, stat } from 'node:fs/promises'
import * as path from 'node:path'
import { isInside, posixRelative } from '../paths.js'
import type { ConfigProblem, TaskDefinition, TaskOverrides } from '../task.js'
import type { ParsedConfig } from './read.js'
import { fileProblem, knownName } from './problems.js'

/**
 * The code folder, checked: relative to the config's folder (or the `code`
 * input), existing, a folder, and really inside the workspace or the searched
 * folder.
 */
export async function codeFolderOf(
  config: ParsedConfig,
  value: Record<string, unknown>,
  overrides: TaskOverrides | undefined,
  context: {
    unresolved: Set<string>
    allowed: string[]
    workspace: string
    builtLater: boolean
  }
): Promise<{ codeDir?: string; problems: ConfigProblem[] }> {
  const { unresolved, allowed, workspace, builtLater } = context
  if (overrides?.code !== undefined) {
    const codeDir = overrides.code
    const rule = await checkCodeFolder(codeDir, workspace, allowed)
    const problems = rule
      ? [{ field: 'code', rule, task: knownName(config) }]
      : []
    return { codeDir, problems }
  }
  if (typeof value.path !== 'string' || unresolved.has('path')) {
    return { problems: [] } // reported by the schema or as an unset variable
  }
  const codeDir = codeFolderPath(config.found.file, value.path)
  if (codeDir === undefined) {
    const rule =
      "must be relative to the config's folder, not absolute (the CLI would silently join it under that folder)"
    return { problems: [{ ...fileProblem(config, ['path']), rule }] }
  }
  if (builtLater && !(await exists(codeDir))) return { codeDir, problems: [] }
  const rule = await checkCodeFolder(codeDir, workspace, allowed)
  const problems = rule ? [{ ...fileProblem(config, ['path']), rule }] : []
  return { codeDir, problems }
}

/**
 * The `path` rule, for discovery and validation alike: relative to the
 * config's own folder; undefined when absolute (refused: the CLI would
 * silently join it under that folder).
 */
export function codeFolderPath(
  configFile: string,
  value: string
): string | undefined {
  if (path.isAbsolute(value)) return undefined
  return path.resolve(path.dirname(configFile), value)
}

/** Why `dir` cannot be a code folder, or undefined when it can. */
export async function checkCodeFolder(
  dir: string,
  workspace: string,
  allowed: string[]
): Promise<string | undefined> {
  const shown = `code folder ${displayPath(workspace, dir)}`
  let real: string
  try {
    if (!(await stat(dir)).isDirectory()) return `${shown} points to a file`
    // The real path, so a symlinked folder cannot reach outside.
    real = await realpath(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `${shown} not found`
      : `${shown} cannot be read (${code ?? String(error)})`
  }
  const root = allowed.find(dir => isInside(dir, real))
  if (root === undefined) {
    return `${shown} must be inside the workspace (its real path is ${real})`
  }
  if (inGitFolder(root, real)) {
    return `${shown} is or lies inside a .git folder (its real path is ${displayPath(workspace, real)}): .git holds the checkout's credentials and is never packaged`
  }
  return undefined
}

/**
 * Whether `real` is a `.git` folder or lies inside one, below `root` (a
 * link such as `build -> ../../.git` included: `real` is resolved). Any
 * case: on a case-insensitive file system `.GIT` is the same folder.
 */
export function inGitFolder(root: string, real: string): boolean {
  return path
    .relative(root, real)
    .split(path.sep)
    .some(segment => segment.toLowerCase() === '.git')
}

/** After a build: the code folder exists, is a folder, and stays inside. */
export async function checkTaskCodeFolder(
  task: TaskDefinition,
  workspace: string
): Promise<ConfigProblem | undefined> {
  const allowed = await Promise.all(
    [workspace, task.searchRoot ?? workspace].map(realOrSame)
  )
  const rule = await checkCodeFolder(task.codeDir, workspace, allowed)
  if (!rule) return undefined
  return {
    file: task.configFile,
    ...task.locations?.path,
    field: task.configFile ? 'path' : 'code',
    rule,
    task: task.name
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false
  )
}

/** The real paths of the workspace and of a searched folder, each resolved once. */
export function rootResolver(
  workspace: string
): (root: string) => Promise<string[]> {
  const cache = new Map<string, Promise<string>>()
  const real = (dir: string) => {
    let resolved = cache.get(dir)
    if (!resolved) {
      resolved = realOrSame(dir)
      cache.set(dir, resolved)
    }
    return resolved
  }
  return root => Promise.all([real(workspace), real(root)])
}

export async function realOrSame(dir: string): Promise<string> {
  return realpath(dir).catch(() => path.resolve(dir))
}

/** Relative to the workspace when inside it, else absolute. */
function displayPath(workspace: string, target: string): string {
  return isInside(workspace, target) ? posixRelative(workspace, target) : target
}
