import { writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import type { ConfigProblem } from './task.js'
import { MARKER_VARIABLE } from './task.js'
import {
  MAX_ENVIRONMENT_BYTES,
  checkRequestSize,
  environmentBytes,
  packageCodeFolder,
  type TaskPackage
} from './package.js'
import type { FunctionBody } from './plan.js'
import type { PlannedTask } from './remote-plan.js'
import { mapPool } from './pool.js'
import { CodeFolderError } from './code-folder.js'
import { codeFolderProblem } from './scan.js'

/** A zip waiting for its upload, on disk so memory does not grow with the tasks. */
export interface SpooledPackage {
  file: string
  bytes: number
  files: number
}

export interface ReadyTask extends PlannedTask {
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
  options: { concurrency: number; spoolDir: string }
): Promise<{ ready: ReadyTask[]; problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = []
  const ready = await mapPool(planned, options.concurrency, async item => {
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
      item.plan?.action === 'create' ||
      (item.plan?.action === 'update' && item.plan.uploadCode)
    if (!uploads) return { ...item, packageMs: 0 }
    let pkg: TaskPackage
    try {
      pkg = await packageCodeFolder(item.folder)
    } catch (error) {
      if (!(error instanceof CodeFolderError)) throw error
      problems.push(codeFolderProblem(item.task, error))
      return { ...item, packageMs: performance.now() - started }
    }
    const tooLarge = checkRequestSize(body ?? {}, pkg.bytes)
    if (tooLarge) {
      problems.push({
        ...where,
        ...item.task.locations?.path,
        field: 'path',
        rule: tooLarge
      })
    }
    // Every zip is made before the first write, but only the uploads in
    // flight need to be in memory.
    const file = path.join(options.spoolDir, `${item.task.name}.zip`)
    await writeFile(file, pkg.zip)
    return {
      ...item,
      pkg: { file, bytes: pkg.bytes, files: pkg.files },
      packageMs: performance.now() - started
    }
  })
  return { ready, problems }
}

function bodyOf(item: PlannedTask): FunctionBody | undefined {
  return item.plan && item.plan.action !== 'unchanged'
    ? item.plan.body
    : undefined
}
