import { MARKER_VARIABLE, inTaskOrder, type ConfigProblem } from '../task.js'
import {
  MAX_ENVIRONMENT_BYTES,
  checkRequestSize,
  environmentBytes,
  abandonedZipMessage,
  maxZipBytes,
  packageCodeFolder,
  ZipTooLarge,
  type SpooledPackage
} from './zip.js'
import type { FunctionBody } from '../plan/decide.js'
import type { PlannedTask } from '../plan/remote.js'
import { mapPool } from '../pool.js'
import { CodeFolderError } from '../fingerprint/code-folder.js'
import {
  FOLDERS_AT_ONCE,
  codeFolderProblem,
  spoolFile
} from '../fingerprint/scan.js'

export type { SpooledPackage } from './zip.js'

/** A task after stage 6: as planned, with its zip when its code is uploaded. */
export type ReadyTask = PlannedTask & {
  /** The zip, for tasks whose code is uploaded (or every task offline). */
  pkg?: SpooledPackage
  packageMs: number
}

/**
 * Stage 6: zip every task that will be uploaded and check what the API
 * would refuse (request size, environment size) before the first write.
 */
export async function packageUploads(
  planned: PlannedTask[],
  options: { concurrency: number; spoolDir: string; signal?: AbortSignal }
): Promise<{ ready: ReadyTask[]; problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = []
  const folders = Math.min(options.concurrency, FOLDERS_AT_ONCE)
  const ready = await mapPool(planned, folders, async item => {
    const started = performance.now()
    const body = bodyOf(item)
    const where = {
      file: item.task.configFile,
      task: item.task.name
    }
    const variables = body?.environmentVariables
    if (variables) {
      const bytes = environmentBytes(
        Object.fromEntries(
          Object.entries(variables).map(([key, { value }]) => [key, value])
        )
      )
      if (bytes > MAX_ENVIRONMENT_BYTES) {
        problems.push({
          ...where,
          ...item.task.locations?.environment,
          field: 'environment',
          rule: `the final environment is ${bytes} bytes (keys and values, ${MARKER_VARIABLE} included), over the API's limit of ${MAX_ENVIRONMENT_BYTES}`
        })
      }
    }
    const uploads =
      item.outcome === 'planned' &&
      (item.plan.action === 'create' ||
        (item.plan.action === 'update' && item.plan.uploadCode))
    if (!uploads) return { ...item, packageMs: 0 }
    const made = item.pkg
      ? { pkg: item.pkg }
      : await spool(item, body ?? {}, options)
    const elapsed = { packageMs: performance.now() - started }
    if ('rule' in made) {
      problems.push({
        ...where,
        ...item.task.locations?.path,
        field: 'path',
        rule: made.rule
      })
      return { ...item, ...elapsed }
    }
    const tooLarge = checkRequestSize(body ?? {}, made.pkg.bytes)
    if (tooLarge) {
      problems.push({
        ...where,
        ...item.task.locations?.path,
        field: 'path',
        rule: tooLarge
      })
    }
    return { ...item, pkg: made.pkg, ...elapsed }
  })
  return {
    ready,
    problems: inTaskOrder(
      problems,
      planned.map(item => item.task)
    )
  }
}

/**
 * Zips a task to its spool file. Every zip is made before the first write;
 * none is held in memory, as the upload streams it from this file.
 */
async function spool(
  item: PlannedTask,
  body: FunctionBody | Record<string, never>,
  options: { spoolDir: string; signal?: AbortSignal }
): Promise<{ pkg: SpooledPackage } | { rule: string }> {
  const file = spoolFile(options.spoolDir, item.task.name)
  try {
    const pkg = await packageCodeFolder(item.folder, {
      file,
      maxBytes: maxZipBytes(body),
      signal: options.signal
    })
    return { pkg: { file, bytes: pkg.bytes, files: pkg.files } }
  } catch (error) {
    if (error instanceof ZipTooLarge) {
      return { rule: abandonedZipMessage(body, error.passed) }
    }
    if (!(error instanceof CodeFolderError)) throw error
    return { rule: codeFolderProblem(item.task, error).rule }
  }
}

function bodyOf(item: PlannedTask): FunctionBody | undefined {
  return item.outcome === 'planned' && item.plan.action !== 'unchanged'
    ? item.plan.body
    : undefined
}
