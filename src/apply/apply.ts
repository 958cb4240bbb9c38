import type { ExhClient } from '../exh/types.js'
import { ExhApiError } from '../exh/failure.js'
import { describeError } from '../errors.js'
import { taskResult, type TaskResult } from '../report/result.js'
import type { ReadyTask } from '../package/stage.js'
import { mapPool } from '../pool.js'
import { changeText } from '../report/summary.js'
import {
  grantRole,
  prepareCredentials,
  strandedUserAdvice,
  StrandedUserError,
  unloggedUserAdvice,
  type PreparedCredentials
} from '../plan/credentials.js'
import type { OAuthTokens } from '../exh/types.js'
import {
  writesFunction,
  type FunctionBody,
  type TaskPlan
} from '../plan/decide.js'
import { restampMarker } from '../plan/marker.js'
import { MARKER_VARIABLE } from '../task.js'
import { plural } from '../words.js'
import type { VerifyMode } from '../inputs.js'
import { executionTimeLimit, shouldVerify, verifyTask } from '../verify/run.js'

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
      const written = await applyTask(client, item, options.mask)
      const result = await verifyApplied(client, item, written, options)
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

/** The commit of the deploy a write replaced, from the function's marker. */
function previousCommit(item: ReadyTask): string | undefined {
  if (item.outcome !== 'planned' || !item.remote) return undefined
  return item.remote.marker?.commit
}

/** `verify`: a done task with a task-verify.json executed once, when asked for. */
async function verifyApplied(
  client: ExhClient,
  item: ReadyTask,
  result: TaskResult,
  options: ApplyOptions
): Promise<TaskResult> {
  const spec = item.task.verify
  if (result.status !== 'done' || options.signal.aborted) return result
  if (!shouldVerify(options.verify, result.action, spec)) return result
  const started = performance.now()
  const written = item.outcome === 'planned' && writesFunction(item.plan)
  const outcome = await verifyTask(client.verify, {
    name: item.task.name,
    timeLimit: executionTimeLimit(
      item.task.config.timeLimit,
      item.outcome === 'planned' ? item.remote?.timeLimit : undefined
    ),
    spec,
    written,
    // The deploy this write replaced: what to redeploy to roll back.
    previousCommit: written ? previousCommit(item) : undefined
  })
  return {
    ...result,
    status: outcome.verified ? 'done' : 'failed',
    verified: outcome.verified,
    verifyMs: outcome.verifyMs,
    error: outcome.error,
    verifyLog: outcome.log,
    durationMs:
      (result.durationMs ?? 0) + Math.round(performance.now() - started)
  }
}

/** One task's log group: its plan or outcome, before → after, why it failed. */
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
  mask: (secret: string) => void
): Promise<TaskResult> {
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
    return finish({ status: 'failed', error: item.error })
  }
  const { plan } = item
  let prepared: PreparedCredentials | undefined
  try {
    if (item.credentials) {
      prepared = await prepareCredentials(
        client.users,
        item.credentials,
        item.task.name,
        mask
      )
    }
    await writeFunction(client, item, plan, prepared?.tokens)
  } catch (error) {
    return finish({ status: 'failed', error: writeFailure(error, prepared) })
  }
  try {
    if (item.credentials && prepared) {
      await grantRole(client.users, item.credentials, prepared)
    }
    return finish({ status: 'done' })
  } catch (error) {
    // The function holds the tokens: the next run gives the role again.
    return finish({
      status: 'failed',
      error: `${failureMessage(error)} (the function was written; the next run adds the role)`
    })
  }
}

/** Creates or updates the function as planned, with the task user's tokens. */
async function writeFunction(
  client: ExhClient,
  item: ReadyTask,
  plan: TaskPlan,
  tokens: OAuthTokens | undefined
): Promise<void> {
  if (plan.action === 'unchanged' || !writesFunction(plan)) return
  const body = withWriteTime(
    tokens ? withTokens(plan.body, tokens) : plan.body,
    new Date()
  )
  if (plan.action === 'create') {
    if (!item.pkg) throw new Error('internal: create without code')
    await client.createFunction(body, item.pkg)
    return
  }
  const code = plan.uploadCode ? item.pkg : undefined
  await client.updateFunction(item.task.name, body, code)
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
function withWriteTime(body: FunctionBody, now: Date): FunctionBody {
  const marker = body.environmentVariables?.[MARKER_VARIABLE]
  if (!body.environmentVariables || !marker) return body
  return {
    ...body,
    environmentVariables: {
      ...body.environmentVariables,
      [MARKER_VARIABLE]: { value: restampMarker(marker.value, now) }
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
  if (result.disabled) {
    lines.push('note: the function is disabled (the action never enables it)')
  }
  if (result.driftNote) lines.push(`note: ${result.driftNote}`)
  for (const warning of item.folder.warnings) lines.push(`warning: ${warning}`)
  // A failed verify's log starts with its error, then the function's lines.
  if (result.verifyLog) lines.push(...result.verifyLog)
  else if (result.error) lines.push(`error: ${result.error}`)
  return lines
}
