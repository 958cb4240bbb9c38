import { lstat, readdir, realpath } from 'node:fs/promises'
import * as path from 'node:path'
import type { FoundConfig } from './task.js'
import { ValidationError } from './errors.js'

export const CONFIG_FILE_NAME = 'task-config.json'

/**
 * Finds every task-config.json named by `paths` (files, or folders searched
 * recursively, skipping node_modules and dot-folders). Each file is found
 * once, even when paths overlap; the result is sorted by file.
 */
export async function findTaskConfigs(
  paths: string[],
  workspace: string
): Promise<FoundConfig[]> {
  const found = new Map<string, FoundConfig>()
  const problems: string[] = []
  for (const searched of paths) {
    const stats = await lstat(searched).catch(() => undefined)
    if (!stats) {
      problems.push(`${relative(workspace, searched)} does not exist`)
    } else if (stats.isDirectory()) {
      for (const file of await walk(searched)) {
        const key = await realpath(file)
        if (!found.has(key)) found.set(key, { file, root: searched })
      }
    } else if (stats.isFile() || stats.isSymbolicLink()) {
      const key = await realpath(searched)
      if (!found.has(key)) {
        found.set(key, { file: searched, root: path.dirname(searched) })
      }
    }
  }
  if (problems.length) {
    throw new ValidationError(problems.map(rule => ({ field: 'path', rule })))
  }
  if (found.size === 0) {
    const where = paths.map(p => relative(workspace, p)).join(', ')
    throw new ValidationError([
      {
        field: 'path',
        rule: `no ${CONFIG_FILE_NAME} found in ${where} (searched recursively, skipping node_modules and dot-folders)`
      }
    ])
  }
  return [...found.values()].sort((a, b) => compare(a.file, b.file))
}

async function walk(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true })
  const files: string[] = []
  for (const entry of entries) {
    const full = path.join(folder, entry.name)
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
      files.push(...(await walk(full)))
    } else if (entry.name === CONFIG_FILE_NAME && entry.isFile()) {
      files.push(full)
    }
  }
  return files
}

export function relative(workspace: string, file: string): string {
  const rel = path.relative(workspace, file).split(path.sep).join('/')
  return rel === '' ? '.' : rel
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
