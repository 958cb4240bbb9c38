// The Task Service calls of `verify`: execute a function once, read a task's
// log. An execution is never retried once it may have started.

import type { OAuth1Client } from '@extrahorizon/javascript-sdk'
import { apiErrorFacts } from '../errors.js'
import type { Call } from './request.js'
import type { Execution, ExhVerifyApi } from './types.js'

/** LAMBDA_RUNTIME_EXCEPTION: the function ran and failed (threw, did not load, timed out). */
const LAMBDA_RUNTIME = 1406

export function verifyApi(
  sdk: OAuth1Client,
  call: Call,
  requestTimeoutMs: number
): ExhVerifyApi {
  return {
    execute: (name, data, timeLimitSeconds) =>
      call(
        `executing function ${name}`,
        async o => {
          try {
            const task = await sdk.tasks.functions.execute(name, data, o)
            return executionOf(task as unknown as Record<string, unknown>)
          } catch (error) {
            // The function ran and failed: an answer to judge, not to retry.
            const failure = runtimeFailure(error)
            if (failure) return failure
            throw error
          }
        },
        undefined,
        {
          // The function runs before the API answers.
          timeoutMs: timeLimitSeconds * 1000 + requestTimeoutMs,
          // A 429 was refused before anything ran; anything else may have run.
          retryable: failure => failure.status === 429
        }
      ),
    taskLog: async taskId => {
      const lines = await call(`reading the log of task ${taskId}`, o =>
        sdk.tasks.logs.find(taskId, o)
      )
      // An API answer: read without trusting its shape.
      const read = lines as unknown as { message?: unknown }[] | undefined
      return (Array.isArray(read) ? read : []).map(line =>
        typeof line.message === 'string' ? line.message : ''
      )
    }
  }
}

function executionOf(task: Record<string, unknown>): Execution {
  return {
    taskId: typeof task.id === 'string' ? task.id : undefined,
    status: typeof task.status === 'string' ? task.status : undefined,
    result: task.result
  }
}

/** A 1406 answer's task id and runtime error, read without trusting it. */
function runtimeFailure(error: unknown): Execution | undefined {
  if (apiErrorFacts(error).apiCode !== LAMBDA_RUNTIME) return undefined
  const body = ((error as { response?: unknown }).response ?? {}) as {
    taskId?: unknown
    runtimeError?: { name?: unknown; message?: unknown }
  }
  const runtime = body.runtimeError ?? {}
  return {
    taskId: typeof body.taskId === 'string' ? body.taskId : undefined,
    runtimeError: {
      name: typeof runtime.name === 'string' ? runtime.name : undefined,
      message: typeof runtime.message === 'string' ? runtime.message : undefined
    }
  }
}
