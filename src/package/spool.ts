// Zipping a task to its spool file, where the zip waits for its upload:
// during the scan (a task that will certainly be uploaded, one read for the
// fingerprint and the zip) or at stage 6. A folder that cannot be zipped
// becomes the task's `path` problem, worded the same either way.

import { createHash } from 'node:crypto'
import * as path from 'node:path'
import type { ConfigProblem, TaskDefinition } from '../task.js'
import { CodeFolderError, type WalkedFolder } from '../fingerprint/walk.js'
import {
  MAX_ZIP_BYTES,
  ZipTooLarge,
  abandonedZipMessage,
  maxZipBytes,
  packageCodeFolder,
  type SpooledPackage
} from './zip.js'

export interface SpoolOptions {
  spoolDir: string
  /**
   * The create/update body the zip goes into; its other fields bound the
   * zip. Unknown before planning: then the zip alone must fit a request.
   */
  body?: unknown
  /** Also compute the fingerprint from the same read. */
  hash?: boolean
  signal?: AbortSignal
}

export type Spooled =
  | { pkg: SpooledPackage; fingerprint?: string }
  | { problem: ConfigProblem }

/** Zips `folder` to the task's spool file, or says why it cannot be sent. */
export async function spoolZip(
  task: TaskDefinition,
  folder: WalkedFolder,
  options: SpoolOptions
): Promise<Spooled> {
  const { body } = options
  const file = spoolFile(options.spoolDir, task.name)
  try {
    const { bytes, files, fingerprint, sha256 } = await packageCodeFolder(
      folder,
      {
        file,
        hash: options.hash,
        maxBytes: body === undefined ? MAX_ZIP_BYTES : maxZipBytes(body),
        signal: options.signal
      }
    )
    return { pkg: { file, bytes, files, sha256 }, fingerprint }
  } catch (error) {
    if (error instanceof ZipTooLarge) {
      const rule = abandonedZipMessage(body, error.passed)
      return { problem: pathProblem(task, rule) }
    }
    if (!(error instanceof CodeFolderError)) throw error
    return { problem: codeFolderProblem(task, error) }
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

/** A problem with the task's code, pointing at its `path` field. */
export function pathProblem(task: TaskDefinition, rule: string): ConfigProblem {
  return {
    file: task.configFile,
    ...task.locations?.path,
    field: 'path',
    rule,
    task: task.name
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
  return pathProblem(task, entry ? `${entry}: ${error.rule}` : error.rule)
}
