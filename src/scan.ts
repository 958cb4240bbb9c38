import * as path from 'node:path'
import type { ConfigProblem, TaskDefinition } from './task.js'
import {
  CodeFolderError,
  scanCodeFolder,
  type CodeFolder
} from './code-folder.js'
import { mapPool } from './pool.js'

export interface ScannedTask {
  task: TaskDefinition
  folder: CodeFolder
}

/**
 * Stage 4: read and fingerprint every selected task's code folder. An
 * unchanged task costs exactly this: a read and a hash.
 */
export async function scanTasks(
  tasks: TaskDefinition[],
  concurrency: number
): Promise<{ scanned: ScannedTask[]; problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = []
  const scanned = await mapPool(tasks, concurrency, async task => {
    try {
      return { task, folder: await scanCodeFolder(task.codeDir) }
    } catch (error) {
      if (!(error instanceof CodeFolderError)) throw error
      problems.push(codeFolderProblem(task, error))
      return undefined
    }
  })
  return {
    scanned: scanned.filter((item): item is ScannedTask => Boolean(item)),
    problems
  }
}

/** Names the entry as the workspace sees it, never by an absolute path. */
export function codeFolderProblem(
  task: TaskDefinition,
  error: CodeFolderError
): ConfigProblem {
  const folder = task.configFile
    ? path.posix.join(path.posix.dirname(task.configFile), task.config.path)
    : undefined
  const entry =
    error.entry && folder ? path.posix.join(folder, error.entry) : error.entry
  return {
    file: task.configFile,
    ...task.locations?.path,
    field: 'path',
    rule: entry ? `${entry}: ${error.rule}` : error.rule,
    task: task.name
  }
}
