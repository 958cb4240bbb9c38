// Stage 4: every selected task's code folder walked and fingerprinted; the
// zip made in the same read when the task is certainly uploaded.

import {
  inTaskOrder,
  type ConfigProblem,
  type TaskDefinition
} from '../task.js'
import {
  CodeFolderError,
  fingerprintFolder,
  walkCodeFolder,
  type CodeFolder
} from './walk.js'
import type { SpooledPackage } from '../package/zip.js'
import { codeFolderProblem, spoolZip } from '../package/spool.js'
import { mapPool } from '../pool.js'

export interface ScannedTask {
  task: TaskDefinition
  folder: CodeFolder
  /** The zip, when it was made with the fingerprint (one read for both). */
  pkg?: SpooledPackage
}

export interface ScanOptions {
  concurrency: number
  signal?: AbortSignal
  /** Where zips made during the scan wait for their upload. */
  spoolDir: string
  /**
   * Whether the task will certainly be uploaded (it does not exist
   * remotely, or `skip-unchanged` is off): then one read of each file feeds
   * both the fingerprint and the zip. Asked after the task's walk, so a
   * remote listing can run meanwhile.
   */
  certainUpload: (task: TaskDefinition) => Promise<boolean>
}

/**
 * Code folders read at once, whatever `concurrency`: the worker pool is the
 * parallelism (one per core). Two keep it fed while the next folder is
 * walked; more only held more bytes in flight (~13 MB each on the
 * benchmark) for no gain in speed.
 */
export const FOLDERS_AT_ONCE = 2

/**
 * Stage 4: walk every selected task's code folder once and fingerprint it.
 * An unchanged task costs exactly this: a walk, a read and a hash.
 */
export async function scanTasks(
  tasks: TaskDefinition[],
  options: ScanOptions
): Promise<{ scanned: ScannedTask[]; problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = []
  const folders = Math.min(options.concurrency, FOLDERS_AT_ONCE)
  const scanned = await mapPool(tasks, folders, async task => {
    try {
      const scan = await scanTask(task, options)
      if ('task' in scan) return scan
      problems.push(scan.problem)
    } catch (error) {
      if (!(error instanceof CodeFolderError)) throw error
      problems.push(codeFolderProblem(task, error))
    }
    return undefined
  })
  return {
    scanned: scanned.filter((item): item is ScannedTask => Boolean(item)),
    problems: inTaskOrder(problems, tasks)
  }
}

async function scanTask(
  task: TaskDefinition,
  options: ScanOptions
): Promise<ScannedTask | { problem: ConfigProblem }> {
  const walked = await walkCodeFolder(task.codeDir)
  options.signal?.throwIfAborted()
  if (!(await options.certainUpload(task))) {
    return { task, folder: await fingerprintFolder(walked, options.signal) }
  }
  const spooled = await spoolZip(task, walked, {
    spoolDir: options.spoolDir,
    hash: true,
    signal: options.signal
  })
  if ('problem' in spooled) return spooled
  const fingerprint = spooled.fingerprint ?? ''
  return { task, folder: { ...walked, fingerprint }, pkg: spooled.pkg }
}
