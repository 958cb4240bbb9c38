// Direct execution, as the Task Service does it: a Node.js function's code is
// unpacked into a temporary folder and its handler really runs, in a child
// process with the function's environment variables and time limit. Its
// console output becomes the task's log. Other runtimes answer `complete`
// with a null result.

import AdmZip from 'adm-zip'
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { exhError } from './errors.js'
import { isRecord, ok, paged, type Route, type RouteContext } from './routes.js'
import { hexId, type StoredFunction } from './state.js'

const RUNNER = fileURLToPath(new URL('./lambda-runner.mjs', import.meta.url))

/** What one run of a handler gave. */
interface RunOutcome {
  result?: unknown
  error?: { name: string; message: string }
  log: string[]
}

async function execute(ctx: RouteContext): Promise<ReturnType<typeof ok>> {
  const fn = ctx.state.functions.get(ctx.params[0] ?? '')
  if (!fn) throw exhError(16)
  if (fn.timeLimit > 30) throw exhError(1404)
  const now = new Date().toISOString()
  const task = {
    id: hexId(),
    status: 'inProgress',
    functionName: fn.name,
    data:
      isRecord(ctx.body) && ctx.body.data !== undefined ? ctx.body.data : {},
    tags: [],
    priority: fn.executionOptions.defaultPriority ?? 0,
    statusChangedTimestamp: now,
    startTimestamp: now,
    creationTimestamp: now,
    updateTimestamp: now,
    createdByApplicationId: ctx.state.applicationId,
    createdByUserId: ctx.user?.id
  }
  const outcome = fn.runtime.startsWith('nodejs')
    ? await runHandler(fn, task, ctx.state.executions)
    : { result: null, log: [] }
  ctx.state.taskLogs.set(task.id, outcome.log)
  if (outcome.error) {
    throw exhError(1406, { taskId: task.id, runtimeError: outcome.error })
  }
  return ok({ ...task, status: 'complete', result: outcome.result })
}

/** One child process per execution, killed at the function's time limit. */
async function runHandler(
  fn: StoredFunction,
  task: Record<string, unknown>,
  running: Set<ChildProcess>
): Promise<RunOutcome> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fake-exh-lambda-'))
  try {
    new AdmZip(fn.code).extractAllTo(dir, true)
    const env = Object.fromEntries(
      Object.entries(fn.environmentVariables).map(([k, v]) => [k, v.value])
    )
    return await new Promise<RunOutcome>(resolve => {
      const log: string[] = []
      let answer: Omit<RunOutcome, 'log'> | undefined
      const child = fork(RUNNER, [], {
        cwd: dir,
        env,
        execArgv: [],
        stdio: ['ignore', 'pipe', 'pipe', 'ipc']
      })
      running.add(child)
      const collect = (chunk: Buffer): void => {
        log.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      }
      child.stdout?.on('data', collect)
      child.stderr?.on('data', collect)
      const timer = setTimeout(() => {
        const seconds = fn.timeLimit.toFixed(2)
        answer = {
          error: {
            name: 'Sandbox.Timedout',
            message: `Task timed out after ${seconds} seconds`
          }
        }
        log.push(`Task timed out after ${seconds} seconds`)
        child.kill('SIGKILL')
      }, fn.timeLimit * 1000)
      child.on('message', message => {
        answer ??= message as Omit<RunOutcome, 'log'>
      })
      child.on('close', code => {
        clearTimeout(timer)
        running.delete(child)
        resolve({
          ...(answer ?? {
            error: {
              name: 'Runtime.ExitError',
              message: `RequestId: ${String(task.id)} Error: Runtime exited with error: exit status ${String(code)}`
            }
          }),
          log
        })
      })
      child.send({ entryPoint: fn.entryPoint, task })
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export const executeRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/tasks\/v1\/functions\/([^/]+)\/execute$/,
    auth: 'user',
    handle: execute
  },
  {
    method: 'GET',
    pattern: /^\/tasks\/v1\/([^/]+)\/logs$/,
    auth: 'user',
    handle: ctx => {
      const log = ctx.state.taskLogs.get(ctx.params[0] ?? '')
      if (!log) throw exhError(1408)
      const timestamp = new Date().toISOString()
      return ok(paged(log.map(message => ({ message, timestamp }))))
    }
  }
]
