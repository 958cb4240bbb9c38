import * as path from 'node:path'
import {
  inTaskOrder,
  type ConfigProblem,
  type TaskDefinition
} from '../task.js'
import { createHash } from 'node:crypto'
import {
  CodeFolderError,
  fingerprintFolder,
  walkCodeFolder,
  type CodeFolder
} from './code-folder.js'
import {
  MAX_ZIP_BYTES,
  ZipTooLarge,
  abandonedZipMessage,
  packageCodeFolder,
  type SpooledPackage
} from '../package/zip.js'
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
      return await scanTask(task, options)
    } catch (error) {
      if (error instanceof ZipTooLarge) {
        problems.push({
          file: task.configFile,
          ...task.locations?.path,
          field: 'path',
          rule: abandonedZipMessage(undefined, error.passed),
          task: task.name
        })
        return undefined
      }
      if (!(error instanceof CodeFolderError)) throw error
      problems.push(codeFolderProblem(task, error))
      return undefined
    }
  })
  return {
    scanned: scanned.filter((item): item is ScannedTask => Boolean(item)),
    problems: inTaskOrder(problems, tasks)
  }
}

async function scanTask(
  task: TaskDefinition,
  options: ScanOptions
): Promise<ScannedTask> {
  const walked = await walkCodeFolder(task.codeDir)
  options.signal?.throwIfAborted()
  if (!(await options.certainUpload(task))) {
    return { task, folder: await fingerprintFolder(walked, options.signal) }
  }
  const file = spoolFile(options.spoolDir, task.name)
  const pkg = await packageCodeFolder(walked, {
    file,
    hash: true,
    maxBytes: MAX_ZIP_BYTES,
    signal: options.signal
  })
  return {
    task,
    folder: { ...walked, fingerprint: pkg.fingerprint ?? '' },
    pkg: { file, bytes: pkg.bytes, files: pkg.files }
  }
}

/**
 * The task's spool file: a hash of its name, so `Report` and `report` get
 * files whose names differ on a case-insensitive file system too.
 */
export function spoolFile(spoolDir: string, taskName: string): string {
  const digest = createHash('sha256').update(taskName).digest('hex')
  return path.join(spoolDir, `${digest.slice(0, 32)}.zip`)
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
