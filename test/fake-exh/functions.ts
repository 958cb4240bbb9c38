import AdmZip from 'adm-zip'
import { exhError, type ExhError } from './errors.js'
import { isRecord, ok, paged, type Route, type RouteContext } from './routes.js'
import type {
  FunctionDetails,
  PermissionMode,
  StoredFunction,
  ZipCheck
} from './state.js'

/** The CLI's runtime list (reference section 7). */
export const runtimes: readonly string[] = [
  'nodejs24.x',
  'nodejs22.x',
  'nodejs20.x',
  'nodejs18.x',
  'nodejs16.x',
  'python3.14',
  'python3.13',
  'python3.12',
  'python3.11',
  'python3.10',
  'python3.9',
  'python3.8',
  'java25',
  'java21',
  'java17',
  'java11',
  'java8.al2',
  'dotnet10',
  'dotnet9',
  'dotnet8',
  'dotnet7',
  'dotnet6',
  'ruby4.0',
  'ruby3.4',
  'ruby3.3',
  'ruby3.2',
  'provided.al2023',
  'provided.al2'
]

const permissionModes: readonly string[] = [
  'permissionRequired',
  'allUsers',
  'public'
]
export const maxEnvironmentBytes = 4096
const requiredOnCreate = ['name', 'code', 'entryPoint', 'runtime'] as const

/** The fields a create / update body may set, already validated. */
type FunctionPatch = Partial<Omit<FunctionDetails, 'enabled'>> & {
  code?: Buffer
}

const formatError = (field: string, rule: string): ExhError =>
  exhError(15, { formatErrors: [{ field, message: rule }] })

const isInteger = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max

/**
 * Validates the fields present in a create / update body (`name` only when
 * `withName`; `code` is left to decodeZip, the costly check, done last).
 * Unknown top-level fields are ignored, as the real service does since
 * task-service 1.2.0.
 */
function validateBody(
  body: Record<string, unknown>,
  withName: boolean
): FunctionPatch {
  const patch: FunctionPatch = {}
  const has = (key: string) => body[key] !== undefined && body[key] !== null

  if (withName) {
    if (typeof body.name !== 'string' || !/^[A-Za-z0-9-]+$/.test(body.name)) {
      throw formatError('name', 'must match ^[A-Za-z0-9-]+$')
    }
    patch.name = body.name
  }
  if (has('description')) {
    if (typeof body.description !== 'string') {
      throw formatError('description', 'must be a string')
    }
    patch.description = body.description
  }
  if (has('entryPoint')) {
    if (typeof body.entryPoint !== 'string' || body.entryPoint === '') {
      throw formatError('entryPoint', 'must be a non-empty string')
    }
    patch.entryPoint = body.entryPoint
  }
  if (has('runtime')) {
    if (typeof body.runtime !== 'string' || !runtimes.includes(body.runtime)) {
      throw formatError('runtime', `must be one of ${runtimes.join(', ')}`)
    }
    patch.runtime = body.runtime
  }
  if (has('timeLimit')) {
    if (!isInteger(body.timeLimit, 3, 300)) {
      throw formatError('timeLimit', 'must be an integer from 3 to 300')
    }
    patch.timeLimit = body.timeLimit
  }
  if (has('memoryLimit')) {
    if (!isInteger(body.memoryLimit, 128, 10240)) {
      throw formatError('memoryLimit', 'must be an integer from 128 to 10240')
    }
    patch.memoryLimit = body.memoryLimit
  }
  if (has('executionOptions')) {
    patch.executionOptions = validateExecutionOptions(body.executionOptions)
  }
  if (has('retryPolicy')) {
    patch.retryPolicy = validateRetryPolicy(body.retryPolicy)
  }
  if (has('environmentVariables')) {
    patch.environmentVariables = validateEnvironment(body.environmentVariables)
  }
  return patch
}

function validateExecutionOptions(
  value: unknown
): FunctionDetails['executionOptions'] {
  if (!isRecord(value)) throw formatError('executionOptions', 'not an object')
  const { permissionMode, defaultPriority, ...unknown } = value
  const extra = Object.keys(unknown)[0]
  if (extra !== undefined) {
    throw formatError(`executionOptions.${extra}`, 'is not allowed')
  }
  if (
    permissionMode !== undefined &&
    (typeof permissionMode !== 'string' ||
      !permissionModes.includes(permissionMode))
  ) {
    throw formatError(
      'executionOptions.permissionMode',
      `must be one of ${permissionModes.join(', ')}`
    )
  }
  const maxPriority = Number.MAX_SAFE_INTEGER
  if (
    defaultPriority !== undefined &&
    !isInteger(defaultPriority, -maxPriority, maxPriority)
  ) {
    throw formatError('executionOptions.defaultPriority', 'must be integer')
  }
  // Replaced as a whole object: absent keys fall back to the defaults,
  // they are not kept from the previous value.
  return {
    permissionMode: (permissionMode ?? 'permissionRequired') as PermissionMode,
    ...(defaultPriority === undefined ? {} : { defaultPriority })
  }
}

function validateRetryPolicy(value: unknown): FunctionDetails['retryPolicy'] {
  if (!isRecord(value)) throw formatError('retryPolicy', 'not an object')
  const { enabled, errorsToRetry, ...unknown } = value
  const extra = Object.keys(unknown)[0]
  if (extra !== undefined) {
    throw formatError(`retryPolicy.${extra}`, 'is not allowed')
  }
  if (enabled !== undefined && typeof enabled !== 'boolean') {
    throw formatError('retryPolicy.enabled', 'must be boolean')
  }
  if (
    errorsToRetry !== undefined &&
    (!Array.isArray(errorsToRetry) ||
      !errorsToRetry.every(e => typeof e === 'string'))
  ) {
    throw formatError('retryPolicy.errorsToRetry', 'must be string[]')
  }
  return {
    enabled: enabled ?? false,
    errorsToRetry: [...(errorsToRetry ?? [])]
  }
}

/** `{KEY: {value: string}}`, at most 4096 UTF-8 bytes of keys + values. */
function validateEnvironment(
  value: unknown
): FunctionDetails['environmentVariables'] {
  if (!isRecord(value)) throw exhError(1402)
  const env: FunctionDetails['environmentVariables'] = {}
  let bytes = 0
  for (const [key, entry] of Object.entries(value)) {
    if (
      key === '' ||
      !isRecord(entry) ||
      typeof entry.value !== 'string' ||
      Object.keys(entry).length !== 1
    ) {
      throw exhError(1402)
    }
    bytes += Buffer.byteLength(key) + Buffer.byteLength(entry.value)
    env[key] = { value: entry.value }
  }
  if (bytes > maxEnvironmentBytes) throw exhError(1402)
  return env
}

/** Base64 of a readable zip with at least one entry, else 1401. */
function decodeZip(value: unknown, check: ZipCheck): Buffer {
  if (typeof value !== 'string') throw formatError('code', 'must be a string')
  const compact = /\s/.test(value) ? value.replace(/\s/g, '') : value
  const bytes = Buffer.from(compact, 'base64')
  // Canonical base64 (what encoders write) round-trips: a third of the
  // time of the pattern below on a 4 MB body. Anything else is checked by
  // the pattern, so what is accepted does not change.
  const canonical = bytes.toString('base64') === compact
  if (
    !canonical &&
    (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact))
  ) {
    throw exhError(1401)
  }
  if (check === 'directory') {
    if (directoryEntries(bytes) === 0) throw exhError(1401)
    return bytes
  }
  try {
    const entries = new AdmZip(bytes).getEntries()
    if (entries.length === 0) throw new Error('empty zip')
    // Reading every entry catches corrupt data behind a valid directory.
    for (const entry of entries) {
      if (!entry.isDirectory) entry.getData()
    }
  } catch {
    throw exhError(1401)
  }
  return bytes
}

const END_OF_DIRECTORY = 0x06054b50
const END_OF_DIRECTORY_SIZE = 22

/**
 * Entries counted by the zip's end-of-central-directory record (searched
 * back over a comment of up to 64 KiB), or 0 when there is none.
 */
function directoryEntries(bytes: Buffer): number {
  const last = bytes.length - END_OF_DIRECTORY_SIZE
  const first = Math.max(0, last - 0xffff)
  for (let at = last; at >= first; at--) {
    if (bytes.readUInt32LE(at) !== END_OF_DIRECTORY) continue
    const commentLength = bytes.readUInt16LE(at + 20)
    if (at + END_OF_DIRECTORY_SIZE + commentLength !== bytes.length) continue
    return bytes.readUInt16LE(at + 10)
  }
  return 0
}

/** A timestamp later than `previous`, so every write visibly bumps it. */
function nextTimestamp(previous?: string): string {
  const floor = previous ? Date.parse(previous) + 1 : 0
  return new Date(Math.max(Date.now(), floor)).toISOString()
}

/** The API view of a stored function: everything but the code. */
export function functionDetails(fn: StoredFunction): FunctionDetails {
  const entries = Object.entries(fn).filter(([key]) => key !== 'code')
  return structuredClone(Object.fromEntries(entries)) as FunctionDetails
}

/** Builds a stored function with the backend's defaults. */
export function newStoredFunction(
  patch: Partial<FunctionDetails> & { name: string },
  code: Buffer
): StoredFunction {
  return {
    name: patch.name,
    ...(patch.description === undefined
      ? {}
      : { description: patch.description }),
    entryPoint: patch.entryPoint ?? 'index.handler',
    runtime: patch.runtime ?? 'nodejs20.x',
    timeLimit: patch.timeLimit ?? 30,
    memoryLimit: patch.memoryLimit ?? 128,
    environmentVariables: patch.environmentVariables ?? {},
    executionOptions: patch.executionOptions ?? {
      permissionMode: 'permissionRequired'
    },
    retryPolicy: patch.retryPolicy ?? { enabled: false, errorsToRetry: [] },
    enabled: patch.enabled ?? true,
    updateTimestamp: patch.updateTimestamp ?? nextTimestamp(),
    code
  }
}

function requireFunction(ctx: RouteContext): StoredFunction {
  const fn = ctx.state.functions.get(ctx.params[0] ?? '')
  if (!fn) throw exhError(16)
  return fn
}

function requireBody(ctx: RouteContext): Record<string, unknown> {
  if (ctx.body === undefined) throw exhError(13)
  if (!isRecord(ctx.body)) throw exhError(22)
  return ctx.body
}

const affected = { affectedRecords: 1 }
const list = '^/tasks/v1/functions/?$'
const one = '^/tasks/v1/functions/([^/]+)'

export const functionRoutes: Route[] = [
  {
    method: 'GET',
    pattern: new RegExp(list),
    auth: 'user',
    handle: ctx =>
      ok(
        paged(
          [...ctx.state.functions.values()].map(fn => ({
            name: fn.name,
            description: fn.description,
            updateTimestamp: fn.updateTimestamp
          }))
        )
      )
  },
  {
    method: 'POST',
    pattern: new RegExp(list),
    auth: 'user',
    handle: ctx => {
      const body = requireBody(ctx)
      const missing = requiredOnCreate.filter(
        key => body[key] === undefined || body[key] === null
      )
      if (missing.length > 0) throw exhError(14, { missingFields: missing })
      const patch = validateBody(body, true)
      const name = patch.name ?? ''
      if (ctx.state.functions.has(name)) throw exhError(17)
      const fn = newStoredFunction(
        { ...patch, name },
        decodeZip(body.code, ctx.state.zipCheck)
      )
      ctx.state.functions.set(name, fn)
      return ok(functionDetails(fn))
    }
  },
  {
    method: 'GET',
    pattern: new RegExp(`${one}$`),
    auth: 'user',
    handle: ctx => ok(functionDetails(requireFunction(ctx)))
  },
  {
    method: 'PUT',
    pattern: new RegExp(`${one}$`),
    auth: 'user',
    handle: ctx => {
      const fn = requireFunction(ctx)
      // `name` in the body is ignored (the CLI always sends it).
      const body = requireBody(ctx)
      const patch = validateBody(body, false)
      if (body.code !== undefined && body.code !== null) {
        patch.code = decodeZip(body.code, ctx.state.zipCheck)
      }
      // Each provided top-level field replaces the stored one whole.
      Object.assign(fn, patch, {
        updateTimestamp: nextTimestamp(fn.updateTimestamp)
      })
      return ok(affected)
    }
  },
  {
    method: 'DELETE',
    pattern: new RegExp(`${one}$`),
    auth: 'user',
    handle: ctx => {
      ctx.state.functions.delete(requireFunction(ctx).name)
      return ok(affected)
    }
  },
  {
    method: 'POST',
    pattern: new RegExp(`${one}/(enable|disable)$`),
    auth: 'user',
    handle: ctx => {
      const fn = requireFunction(ctx)
      fn.enabled = ctx.params[1] === 'enable'
      fn.updateTimestamp = nextTimestamp(fn.updateTimestamp)
      return ok(affected)
    }
  }
]
