// Stage 7: the writes, with bounded concurrency (fail-fast stops new starts);
// each task's log group, and `verify` after a task's write.

import type { ExhClient } from '../exh/types.js'
import { ExhApiError } from '../exh/failure.js'
import { describeError } from '../errors.js'
import { plannedResult, taskResult, type TaskResult } from '../report/result.js'
import type { ReadyTask } from '../package/stage.js'
import { mapPool } from '../pool.js'
import {
  grantRole,
  prepareCredentials,
  strandedUserAdvice,
  StrandedUserError,
  unloggedUserAdvice,
  type PreparedCredentials
} from '../plan/credentials.js'
import type { FunctionBody, OAuthTokens } from '../exh/types.js'
import {
  changeText,
  fromVariables,
  writesFunction,
  type TaskPlan
} from '../plan/decide.js'
import {
  encodeMarker,
  readMarker,
  restampMarker,
  type Marker
} from '../marker.js'
import { MARKER_VARIABLE } from '../task.js'
import { plural } from '../words.js'
import type { VerifyMode } from '../inputs.js'
import {
  pendingMarker,
  verifiesAfterWrite,
  verifyApplied,
  type Written
} from './verify-gate.js'

export interface ApplyOptions {
  concurrency: number
  failFast: boolean
  /** The run's cancel signal: nothing new starts once it fires. */
  signal: AbortSignal
  mask: (secret: string) => void
  /** Prints one task's log as one group, when the task ends. */
  printTaskLog: (title: string, lines: string[]) => void
  /** Which written (or unchanged) tasks are executed once after their write. */
  verify: VerifyMode
}

/**
 * Stage 7: carry out the plan with bounded concurrency. One task failing does
 * not stop the others (unless fail-fast); each ends as a result.
 */
export async function applyPlans(
  client: ExhClient,
  ready: ReadyTask[],
  options: ApplyOptions
): Promise<TaskResult[]> {
  let firstFailed: string | undefined
  return mapPool(
    ready,
    options.concurrency,
    async item => {
      const pending = verifiesAfterWrite(item, options.verify)
      const written = await applyTask(client, item, options.mask, pending)
      const result = await verifyApplied(client, item, written, options).catch(
        (error: unknown): TaskResult => ({
          // Nothing one task's verify does may take the report with it.
          ...written.result,
          status: 'failed',
          verified: false,
          error: `verify: ${describeError(error)}`
        })
      )
      if (result.status === 'failed') firstFailed ??= item.task.name
      printResult(options.printTaskLog, item, result)
      return result
    },
    {
      canStart: () =>
        !options.signal.aborted &&
        !(options.failFast && firstFailed !== undefined),
      skip: item => {
        const result: TaskResult = {
          ...taskResult(item),
          status: 'skipped',
          error: options.signal.aborted
            ? 'not started: cancelled'
            : `not started: fail-fast after ${firstFailed ?? '?'} failed`
        }
        printResult(options.printTaskLog, item, result)
        return result
      }
    }
  )
}

/** A dry run: each task's plan printed and reported, nothing written. */
export function planOnly(
  ready: ReadyTask[],
  io: Pick<ApplyOptions, 'printTaskLog'> & { info: (line: string) => void }
): TaskResult[] {
  const { printTaskLog } = io
  if (ready.some(item => item.task.deployerKeys)) {
    io.info(
      'Environment values from $API_* follow the deploying credentials: this plan counts them as unchanged where the function already holds the key (a plan may run with other credentials than the deploy)'
    )
  }
  return ready.map(item => {
    const result = plannedResult(item)
    printResult(printTaskLog, item, result)
    return result
  })
}

export function printResult(
  print: (title: string, lines: string[]) => void,
  item: ReadyTask,
  result: TaskResult
): void {
  const action = result.action === undefined ? '' : ` ${result.action}`
  print(`${item.task.name}:${action} ${result.status}`, taskLog(item, result))
}

async function applyTask(
  client: ExhClient,
  item: ReadyTask,
  mask: (secret: string) => void,
  /** A verify follows the write: its marker says `pending` until it passes. */
  pending: boolean
): Promise<Written> {
  const started = performance.now()
  const base = taskResult(item)
  const finish = (result: Partial<TaskResult>): TaskResult => ({
    ...base,
    ...result,
    durationMs: Math.round(
      item.planMs + item.packageMs + performance.now() - started
    )
  })
  if (item.outcome === 'refused') {
    return { result: finish({ status: 'failed', error: item.error }) }
  }
  const { plan } = item
  let prepared: PreparedCredentials | undefined
  let environment: Record<string, string> | undefined
  try {
    if (item.credentials) {
      prepared = await prepareCredentials(
        client.users,
        item.credentials,
        item.task.name,
        mask
      )
    }
    environment = await writeFunction(client, item, prepared?.tokens, pending)
  } catch (error) {
    const failed = { status: 'failed' as const }
    return {
      result: finish({ ...failed, error: writeFailure(error, prepared) })
    }
  }
  // Counted as written whatever follows (a role, a verify): it is live.
  const wrote = environment
    ? { written: true, ...uploadedZip(item.pkg, plan) }
    : {}
  try {
    if (item.credentials && prepared) {
      await grantRole(client.users, item.credentials, prepared)
    }
    return { result: finish({ status: 'done', ...wrote }), environment }
  } catch (error) {
    // The function holds the tokens: the next run gives the role again.
    const result = finish({
      status: 'failed',
      ...wrote,
      error: `${failureMessage(error)} (the function was written; the next run adds the role)`
    })
    return { result, environment }
  }
}

/**
 * Creates or updates the function as planned, with the task user's tokens;
 * the environment it stored, or undefined when nothing was written.
 */
async function writeFunction(
  client: ExhClient,
  item: ReadyTask & { outcome: 'planned' },
  tokens: OAuthTokens | undefined,
  pending: boolean
): Promise<Record<string, string> | undefined> {
  const { plan } = item
  if (plan.action === 'unchanged' || !writesFunction(plan)) return undefined
  const body = withWriteTime(
    tokens ? withTokens(plan.body, tokens) : plan.body,
    new Date(),
    pending ? marker => pendingMarker(item, marker) : undefined
  )
  if (plan.action === 'create') {
    if (!item.pkg) throw new Error('internal: create without code')
    await client.createFunction(body, item.pkg)
  } else {
    const code = plan.uploadCode ? item.pkg : undefined
    await client.updateFunction(item.task.name, body, code)
  }
  return fromVariables(body.environmentVariables ?? {})
}

/** The digest of the zip a write that succeeded sent, when it sent one. */
function uploadedZip(
  pkg: ReadyTask['pkg'],
  plan: TaskPlan
): Pick<TaskResult, 'zipSha256'> {
  const sent =
    plan.action === 'create' || (plan.action === 'update' && plan.uploadCode)
  return sent && pkg ? { zipSha256: pkg.sha256 } : {}
}

/** Why a write failed, and what to do about a user it left registered. */
function writeFailure(
  error: unknown,
  prepared: PreparedCredentials | undefined
): string {
  if (error instanceof StrandedUserError) {
    return `${failureMessage(error.reason)}; ${unloggedUserAdvice(error.email)}`
  }
  const stranded = prepared?.registered
    ? `; ${strandedUserAdvice(prepared.registered.email)}`
    : ''
  return failureMessage(error) + stranded
}

function failureMessage(error: unknown): string {
  if (error instanceof ExhApiError && error.failure.cancelled) {
    return 'outcome unknown (cancelled)'
  }
  return describeError(error)
}

/** The body with the user's tokens in place of the placeholders the plan held. */
function withTokens(body: FunctionBody, tokens: OAuthTokens): FunctionBody {
  const variables = body.environmentVariables
  if (!variables) return body
  return {
    ...body,
    environmentVariables: {
      ...variables,
      API_OAUTH_TOKEN: { value: tokens.token },
      API_OAUTH_TOKEN_SECRET: { value: tokens.tokenSecret }
    }
  }
}

/**
 * The body with the marker stamped now: the record says when the function
 * was written, not planned (the drift check compares it with the API's
 * `updateTimestamp`).
 */
function withWriteTime(
  body: FunctionBody,
  now: Date,
  flag?: (marker: Marker) => Marker
): FunctionBody {
  const marker = body.environmentVariables?.[MARKER_VARIABLE]
  if (!body.environmentVariables || !marker) return body
  const stamped = restampMarker(marker.value, now)
  const read = flag && readMarker({ [MARKER_VARIABLE]: stamped })
  return {
    ...body,
    environmentVariables: {
      ...body.environmentVariables,
      [MARKER_VARIABLE]: { value: read ? encodeMarker(flag(read)) : stamped }
    }
  }
}

function taskLog(item: ReadyTask, result: TaskResult): string[] {
  const lines = [`config: ${item.task.configFile ?? '(inputs)'}`]
  if (result.details?.length) {
    lines.push('changes:')
    lines.push(...result.details.map(detail => `  ${changeText(detail)}`))
  } else if (result.changes?.length) {
    lines.push(`changes: ${result.changes.join(', ')}`)
  } else if (result.sets?.length) {
    lines.push(`sets: ${result.sets.join(', ')}`)
  }
  const credentials = result.credentials
  if (credentials) {
    lines.push(`executionCredentials: ${credentials.user} user`)
  }
  if (item.pkg) {
    lines.push(
      `package: ${plural(item.pkg.files, 'file')}, ${plural(item.pkg.bytes, 'byte')}`
    )
  }
  if (result.adoptedNote) lines.push(`note: ${result.adoptedNote}`)
  if (result.disabled) {
    lines.push('note: the function is disabled (the action never enables it)')
  }
  if (result.driftNote) lines.push(`note: ${result.driftNote}`)
  if (result.verifiedAgain) {
    lines.push('verify: verified again (the last verify had failed)')
  }
  for (const warning of item.folder.warnings) lines.push(`warning: ${warning}`)
  // A failed verify's log starts with its error, then the function's lines.
  if (result.verifyLog) lines.push(...result.verifyLog)
  else if (result.error) lines.push(`error: ${result.error}`)
  return lines
}
