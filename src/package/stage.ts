// Stage 6: zips for the tasks that will be uploaded, and the request-size
// checks made before the first write.

import { MARKER_VARIABLE, inTaskOrder, type ConfigProblem } from '../task.js'
import {
  MAX_ENVIRONMENT_BYTES,
  checkRequestSize,
  environmentBytes,
  type SpooledPackage
} from './zip.js'
import type { FunctionBody } from '../exh/types.js'
import type { PlannedTask } from '../plan/remote.js'
import { mapPool } from '../pool.js'
import { FOLDERS_AT_ONCE } from '../fingerprint/scan.js'
import { pathProblem, spoolZip } from './spool.js'
import { VERIFY_FLAG_BYTES, withZipDigest } from '../marker.js'
import { fromVariables } from '../plan/decide.js'

export type { SpooledPackage } from './zip.js'

/** A task after stage 6: as planned, with its zip when its code is uploaded. */
export type ReadyTask = PlannedTask & {
  /** The zip, for tasks whose code is uploaded (or every task offline). */
  pkg?: SpooledPackage
  packageMs: number
}

interface StageOptions {
  concurrency: number
  spoolDir: string
  signal?: AbortSignal
}

/**
 * Stage 6: zip every task that will be uploaded and check what the API
 * would refuse (request size, environment size) before the first write.
 */
export async function packageUploads(
  planned: PlannedTask[],
  options: StageOptions
): Promise<{ ready: ReadyTask[]; problems: ConfigProblem[] }> {
  const problems: ConfigProblem[] = []
  const folders = Math.min(options.concurrency, FOLDERS_AT_ONCE)
  const ready = await mapPool(planned, folders, item =>
    packageTask(item, options, problems)
  )
  return {
    ready,
    problems: inTaskOrder(
      problems,
      planned.map(item => item.task)
    )
  }
}

/**
 * One task: its zip made (or reused) and checked, its digest recorded in
 * the marker, then the final environment checked.
 */
async function packageTask(
  item: PlannedTask,
  options: StageOptions,
  problems: ConfigProblem[]
): Promise<ReadyTask> {
  const started = performance.now()
  const body = bodyOf(item)
  const uploads =
    item.outcome === 'planned' &&
    (item.plan.action === 'create' ||
      (item.plan.action === 'update' && item.plan.uploadCode))
  if (!uploads) {
    addEnvironmentProblem(problems, item, body)
    return { ...item, packageMs: 0 }
  }
  // Every zip is made before the first write; none is held in memory, as
  // the upload streams it from its spool file.
  const made = item.pkg
    ? { pkg: item.pkg }
    : await spoolZip(item.task, item.folder, { ...options, body: body ?? {} })
  const elapsed = { packageMs: performance.now() - started }
  if ('problem' in made) {
    addEnvironmentProblem(problems, item, body)
    problems.push(made.problem)
    return { ...item, ...elapsed }
  }
  const stamped = withZipInMarker(item, made.pkg.sha256)
  addEnvironmentProblem(problems, stamped, bodyOf(stamped))
  const tooLarge = checkRequestSize(bodyOf(stamped) ?? {}, made.pkg.bytes)
  if (tooLarge) problems.push(pathProblem(item.task, tooLarge))
  return { ...stamped, pkg: made.pkg, ...elapsed }
}

/** The plan's marker records the digest of the zip it uploads. */
function withZipInMarker(item: PlannedTask, sha256: string): PlannedTask {
  if (item.outcome !== 'planned' || item.plan.action === 'unchanged') {
    return item
  }
  const variables = item.plan.body.environmentVariables
  const marker = variables?.[MARKER_VARIABLE]
  if (!variables || !marker) return item
  const value = withZipDigest(marker.value, sha256)
  const environmentVariables = { ...variables, [MARKER_VARIABLE]: { value } }
  const body = { ...item.plan.body, environmentVariables }
  return { ...item, plan: { ...item.plan, body } }
}

function addEnvironmentProblem(
  problems: ConfigProblem[],
  item: PlannedTask,
  body: FunctionBody | undefined
): void {
  const problem = environmentProblem(item, body)
  if (problem) problems.push(problem)
}

/** The final environment over the API's size limit, marker included. */
function environmentProblem(
  item: PlannedTask,
  body: FunctionBody | undefined
): ConfigProblem | undefined {
  const variables = body?.environmentVariables
  if (!variables) return undefined
  const bytes =
    environmentBytes(fromVariables(variables)) +
    (item.task.verify ? VERIFY_FLAG_BYTES : 0)
  if (bytes <= MAX_ENVIRONMENT_BYTES) return undefined
  return {
    file: item.task.configFile,
    task: item.task.name,
    ...item.task.locations?.environment,
    field: 'environment',
    rule: `the final environment is ${bytes} bytes (keys and values, ${MARKER_VARIABLE} included${item.task.verify ? ', with the verify flag it may carry' : ''}), over the API's limit of ${MAX_ENVIRONMENT_BYTES}`
  }
}

function bodyOf(item: PlannedTask): FunctionBody | undefined {
  return item.outcome === 'planned' && item.plan.action !== 'unchanged'
    ? item.plan.body
    : undefined
}
