// A check that needs no execution: does a Node.js entry point name a module
// that is in the code folder, and an export? A warning, not an error: the
// CLI deploys such a function, which then fails on its first task.

import { stat } from 'node:fs/promises'
import * as path from 'node:path'
import { posixRelative } from '../paths.js'
import type { TaskDefinition } from '../task.js'

/** The module files Node.js on Extra Horizon (AWS Lambda) loads for a module name. */
const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs']

export type EntryPointCheck =
  | { kind: 'no-export' }
  /** Relative to the code folder, POSIX separators. */
  | { kind: 'module'; files: string[] }

/** `index.handler` → look for index.js, index.mjs, index.cjs; `build/index` → no export. */
export function entryPointFiles(entryPoint: string): EntryPointCheck {
  const dot = entryPoint.lastIndexOf('.')
  // A dot inside the folder part (`./build/index`) is no export either.
  if (dot <= 0 || entryPoint.slice(dot).includes('/')) {
    return { kind: 'no-export' }
  }
  const module = entryPoint.slice(0, dot)
  return { kind: 'module', files: MODULE_EXTENSIONS.map(ext => module + ext) }
}

/** The warning for one task, given which files exist in its code folder. */
export function entryPointWarning(
  task: Pick<TaskDefinition, 'config' | 'configFile' | 'locations'>,
  codeFolder: string,
  exists: (file: string) => boolean
): string | undefined {
  if (!task.config.runtime.startsWith('nodejs')) return undefined
  const { entryPoint } = task.config
  const where = task.configFile
    ? `${task.configFile}${task.locations?.entryPoint ? `:${task.locations.entryPoint.line}` : ''}: entryPoint`
    : 'entry-point'
  const check = entryPointFiles(entryPoint)
  if (check.kind === 'no-export') {
    return `${where}: \`${entryPoint}\` names no export (write <module>.<export>, like index.handler): the function will fail to start`
  }
  if (check.files.some(exists)) return undefined
  return `${where}: \`${entryPoint}\` needs one of ${check.files.join(', ')} in the code folder ${codeFolder}, and none is there: the function will fail to load`
}

/** The warnings for every selected Node.js task, after its build. */
export async function entryPointWarnings(
  tasks: TaskDefinition[],
  workspace: string
): Promise<string[]> {
  const warnings = await Promise.all(
    tasks.map(async task => {
      const check = entryPointFiles(task.config.entryPoint)
      const files = check.kind === 'module' ? check.files : []
      const found = new Set(
        (
          await Promise.all(
            files.map(async file =>
              (await isFile(path.join(task.codeDir, file))) ? [file] : []
            )
          )
        ).flat()
      )
      const shown = posixRelative(workspace, task.codeDir) || '.'
      return entryPointWarning(task, shown, file => found.has(file)) ?? []
    })
  )
  return warnings.flat()
}

async function isFile(file: string): Promise<boolean> {
  return stat(file).then(
    stats => stats.isFile(),
    () => false
  )
}
