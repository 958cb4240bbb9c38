// The Task Service's functions: list, read, create, update, delete.

import http, {
  type ClientRequest,
  type IncomingMessage,
  type RequestOptions
} from 'node:http'
import https from 'node:https'
import type {
  FunctionDetails,
  OAuth1Client
} from '@extrahorizon/javascript-sdk'
import { maskReadBack } from '../secrets.js'
import { MARKER_VARIABLE } from '../task.js'
import { withMarker } from '../marker.js'
import { ExhApiError } from './failure.js'
import { functionRequestBody, type RequestBody } from './function-body.js'
import type { Call, CallOptions } from './request.js'
import type {
  ExhFunctionsApi,
  FunctionBody,
  RemoteFunction,
  RemoteFunctionSummary,
  ZipUpload
} from './types.js'

/** Where the SDK's task functions live (its own `TASKS_BASE`). */
const TASKS_BASE = '/tasks/v1'

export function functionsApi(
  sdk: OAuth1Client,
  call: Call,
  mask: (secret: string) => void
): ExhFunctionsApi {
  const read = (name: string) => readFunction(sdk, call, name)
  const updateFunction: ExhFunctionsApi['updateFunction'] = (
    name,
    body,
    code
  ) => writeUpdate(sdk, call, name, { body, code })
  return {
    listFunctions: () => listFunctions(sdk, call),
    getFunction: async (name, committed = new Set()) => {
      const details = await read(name)
      return details && toRemote(details, mask, committed)
    },
    // The marker is no secret: read without masking the other values.
    stateOf: async name => {
      const details = await read(name)
      if (!details) return undefined
      const marker = details.environmentVariables?.[MARKER_VARIABLE]?.value
      return {
        ...(marker === undefined ? {} : { marker }),
        ...enabledOf(details)
      }
    },
    updateFunction,
    createFunction: (body, code) =>
      createFunction(
        sdk,
        call,
        { body, code },
        {
          exists: async name => (await read(name)) !== undefined,
          updateFunction
        }
      ),
    async deleteFunction(name) {
      await call(`deleting function ${name}`, o =>
        sdk.tasks.functions.remove(name, o)
      )
    }
  }
}

/** The function as the API holds it, unmasked: undefined when it does not exist. */
async function readFunction(
  sdk: OAuth1Client,
  call: Call,
  name: string
): Promise<FunctionDetails | undefined> {
  try {
    return await call(`reading function ${name}`, o =>
      sdk.tasks.functions.getByName(name, o)
    )
  } catch (error) {
    if (error instanceof ExhApiError && error.failure.status === 404) {
      return undefined
    }
    throw error
  }
}

/** An update that the API says changed no record failed. */
async function writeUpdate(
  sdk: OAuth1Client,
  call: Call,
  name: string,
  { body, code }: { body: FunctionBody; code?: ZipUpload }
): Promise<void> {
  const label = `updating function ${name}`
  const data = functionRequestBody(body, code)
  const result = await call(label, o =>
    sendJson(sdk, 'put', `/functions/${name}`, data, o)
  )
  if (!(result as { affectedRecords?: number } | null)?.affectedRecords) {
    throw new ExhApiError(label, 'the API reported no record updated', {
      noResponse: false
    })
  }
}

async function listFunctions(
  sdk: OAuth1Client,
  call: Call
): Promise<RemoteFunctionSummary[]> {
  const page = await call('listing functions', o => sdk.tasks.functions.find(o))
  // The API returns every function in one page; a short page would plan
  // existing functions as new.
  if (page.page.total > page.data.length) {
    throw new ExhApiError(
      'listing functions',
      `the API listed ${page.data.length} of ${page.page.total} functions`,
      { noResponse: false }
    )
  }
  return page.data.map(fn => ({
    name: fn.name,
    description: fn.description,
    updateTimestamp: toIso(fn.updateTimestamp)
  }))
}

/** A create whose answer was lost, or that finished late, becomes an update. */
async function createFunction(
  sdk: OAuth1Client,
  call: Call,
  { body, code }: { body: FunctionBody; code: ZipUpload },
  api: Pick<ExhFunctionsApi, 'updateFunction'> & {
    exists: (name: string) => Promise<boolean>
  }
): Promise<void> {
  const { name = '', ...rest } = body
  const updateInstead = async (): Promise<true | undefined> => {
    if (!(await api.exists(name))) return undefined
    await api.updateFunction(name, rest, code)
    return true
  }
  const data = functionRequestBody({ ...rest, name }, code)
  try {
    await call(
      `creating function ${name}`,
      async o => {
        await sendJson(sdk, 'post', '/functions/', data, o)
        return true as const
      },
      updateInstead
    )
  } catch (error) {
    // "Already exists" after a timed-out attempt: the first one finished
    // late. Update it rather than fail.
    const exists = error instanceof ExhApiError && error.failure.apiCode === 17
    if (!exists || !(await updateInstead())) throw error
  }
}

/**
 * The typed `functions.create` / `update` calls with the body streamed
 * (function-body.ts): the same paths, on the same authenticated axios
 * instance and error handling (`sdk.raw`). Redirects are not followed: the
 * body holds the function's environment values, and a redirect would send
 * them to wherever the answer points.
 */
async function sendJson(
  sdk: OAuth1Client,
  method: 'post' | 'put',
  path: string,
  body: RequestBody,
  options: CallOptions
): Promise<unknown> {
  const data = body.open()
  // The request itself, kept to end it when its body did not go out whole
  // (the zip could not be read, or an answer came first).
  let request: ClientRequest | undefined
  const transport = {
    request(
      requestOptions: RequestOptions,
      onResponse: (response: IncomingMessage) => void
    ): ClientRequest {
      // As axios itself tells them apart.
      const secure = /https:?/.test(requestOptions.protocol ?? '')
      const client = secure ? https : http
      request = client.request(requestOptions, onResponse)
      return request
    }
  }
  // An axios option the SDK's config type leaves out.
  const axiosOnly: Record<string, unknown> = { transport }
  try {
    const response = await sdk.raw.request({
      ...options,
      method,
      url: `${TASKS_BASE}${path}`,
      data,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': String(body.length)
      },
      maxRedirects: 0,
      ...axiosOnly
    })
    return response.data
  } catch (error) {
    // axios builds its error for a failed body without the request's
    // config, which the SDK's interceptors then trip on: the body's own
    // error (the zip unreadable) is the one to report, unless an answer came.
    const answered = (error as { response?: unknown }).response !== undefined
    throw data.errored && !answered ? data.errored : error
  } finally {
    if (!data.readableEnded) request?.destroy()
    data.destroy()
  }
}

/** An API answer: a time the SDK could not read is no time (toISOString would throw). */
function toIso(value: unknown): string | undefined {
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? undefined : value.toISOString()
  }
  return typeof value === 'string' ? value : undefined
}

/** `enabled` when the API said it (a boolean), left out otherwise. */
function enabledOf(details: FunctionDetails): { enabled?: boolean } {
  const { enabled } = details as { enabled?: unknown }
  return typeof enabled === 'boolean' ? { enabled } : {}
}

/** Environment values read back may be secrets set elsewhere: mask them. */
function toRemote(
  details: FunctionDetails,
  mask: (secret: string) => void,
  committed: ReadonlySet<string>
): RemoteFunction {
  const environment: Record<string, string> = {}
  for (const [key, variable] of Object.entries(
    details.environmentVariables ?? {}
  )) {
    environment[key] = variable.value
    // The marker is this action's own bookkeeping, not a secret.
    if (key !== MARKER_VARIABLE && maskReadBack(variable.value, committed)) {
      mask(variable.value)
    }
  }
  return withMarker({
    name: details.name,
    description: details.description,
    entryPoint: details.entryPoint,
    runtime: details.runtime,
    timeLimit: details.timeLimit,
    memoryLimit: details.memoryLimit,
    environment,
    executionOptions: details.executionOptions,
    retryPolicy: details.retryPolicy,
    updateTimestamp: toIso(details.updateTimestamp),
    ...enabledOf(details)
  })
}
