import AdmZip from 'adm-zip'
import {
  createServer,
  type IncomingMessage,
  type ServerResponse
} from 'node:http'
import { setMaxListeners } from 'node:events'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import {
  defaultBodyForStatus,
  ExhError,
  exhError,
  exhErrorBody,
  gatewayTooLargeBody
} from './errors.js'
import { FaultRules, type FaultRule } from './faults.js'
import { functionRoutes, newStoredFunction } from './functions.js'
import { executeRoutes } from './execute.js'
import { verifyOAuth1 } from './oauth1.js'
import { percentDecode } from './query.js'
import type { Route, RouteResult } from './routes.js'
import {
  FakeState,
  hexId,
  type FakeRole,
  type FakeToken,
  type FakeUser,
  type FunctionDetails,
  type NewUser,
  type StoredFunction,
  type ZipCheck
} from './state.js'
import { authRoutes, userRoutes } from './users.js'
import {
  referenceRoutes,
  type FakeDispatcher,
  type FakeReferences,
  type FakeSchedule,
  type FakeSchema,
  type NewDispatcher,
  type NewSchedule,
  type NewSchema
} from './references.js'

export interface FakeExhOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number
  /** Bodies over this answer 413, like the 10 MB gateway limit. */
  maxBodyBytes?: number
  /** Delay added to every request (benchmarks). */
  latencyMs?: number
  /** Keep parsed bodies in `requests` (default true; off saves memory). */
  logBodies?: boolean
  /** 'directory': check only a zip's end record (benchmarks); default 'entries'. */
  zipCheck?: ZipCheck
  consumerKey?: string
  consumerSecret?: string
  /** Fixed admin token pair (random hex40 by default). */
  adminToken?: string
  adminTokenSecret?: string
}

export interface LoggedRequest {
  method: string
  /** Routing path, without the query (and without a `/localhost` prefix). */
  path: string
  /** Raw text after `?`, or ''. */
  query: string
  /** Answered status; 0 when the connection was dropped or lost. */
  status: number
  /** `performance.now()` ms (monotonic, this process's time origin). */
  startedAt: number
  endedAt: number
  /** Parsed JSON body, or undefined (empty body, or `logBodies: false`). */
  body: unknown
  /** The user whose token signed the request, if any. */
  userId: string | undefined
}

export interface FakeAdmin {
  id: string
  email: string
  password: string
  token: string
  tokenSecret: string
}

export interface FakeExh extends AsyncDisposable {
  /** `http://localhost:<port>`: the SDK uses any host with "localhost" as is. */
  url: string
  port: number
  consumer: { key: string; secret: string }
  admin: FakeAdmin
  /** Functions by name; the code is the decoded zip. */
  functions: Map<string, StoredFunction>
  /** Users by id, global roles by id, OAuth1 tokens by token. */
  users: Map<string, FakeUser>
  roles: Map<string, FakeRole>
  tokens: Map<string, FakeToken>
  /** Successful logins so far (tokens minted by the login endpoints). */
  readonly loginCount: number
  /** Every request, in the order they finished. */
  requests: LoggedRequest[]
  /** Every POST/PUT/DELETE except the login. */
  writeRequests(): LoggedRequest[]
  fault(rule: FaultRule): void
  /** Fault rules not used up yet. */
  pendingFaults(): readonly FaultRule[]
  clearFaults(): void
  seedFunction(
    details: Partial<FunctionDetails> & { name: string },
    code?: Buffer
  ): StoredFunction
  addUser(user: NewUser): FakeUser
  /** Schedules, dispatchers and data schemas (what may run a function). */
  references: FakeReferences
  seedSchedule(schedule: NewSchedule): FakeSchedule
  seedDispatcher(dispatcher: NewDispatcher): FakeDispatcher
  seedSchema(schema: NewSchema): FakeSchema
  /** Takes a permission from the admin's role (a token that may not do it). */
  revokeAdminPermission(permission: string): void
  addRole(name: string, description?: string, permissions?: string[]): FakeRole
  /** A new token pair for a user, valid for signing at once. */
  mintToken(userId: string): FakeToken
  clearLog(): void
  close(): Promise<void>
}

/** A small valid zip (one `index.js`), the default code of seeded functions. */
export function placeholderZip(): Buffer {
  const zip = new AdmZip()
  zip.addFile('index.js', Buffer.from('exports.handler = async () => ({})\n'))
  return zip.toBuffer()
}

// The task-log route after the functions', which it would otherwise shadow.
const routes: Route[] = [
  ...authRoutes,
  ...functionRoutes,
  ...executeRoutes,
  ...userRoutes,
  ...referenceRoutes
]
const adminPermissions = [
  'VIEW_TASK_FUNCTIONS',
  'VIEW_TASK_FUNCTION_DETAILS',
  'CREATE_TASK_FUNCTION',
  'UPDATE_TASK_FUNCTION',
  'DELETE_TASK_FUNCTION',
  'EXECUTE_TASK_FUNCTION',
  'VIEW_USER',
  'VIEW_ROLE',
  'CREATE_ROLE',
  'ADD_ROLE_PERMISSION',
  'REMOVE_ROLE_PERMISSION',
  'ADD_ROLE_TO_USER',
  // What still runs a function, read before a delete.
  'VIEW_TASK_SCHEDULES',
  'VIEW_DISPATCHERS'
]

export async function startFakeExh(
  options: FakeExhOptions = {}
): Promise<FakeExh> {
  const maxBodyBytes = options.maxBodyBytes ?? 10_000_000
  const latencyMs = options.latencyMs ?? 0
  const logBodies = options.logBodies ?? true
  const consumer = {
    key: options.consumerKey ?? `fake-consumer-${hexId(8)}`,
    secret: options.consumerSecret ?? hexId(20)
  }
  const state = new FakeState()
  state.zipCheck = options.zipCheck ?? 'entries'
  const faults = new FaultRules()
  const requests: LoggedRequest[] = []
  const closing = new AbortController()
  // Every request waiting out the latency listens; the action reads 16 at once.
  setMaxListeners(0, closing.signal)

  const adminRole = state.addRole(
    'fake-exh-admin',
    'Everything the action needs',
    adminPermissions
  )
  const adminUser = state.addUser({
    email: 'admin@fake-exh.localhost',
    password: 'Fake-Admin-Passw0rd',
    firstName: 'Fake',
    lastName: 'Admin',
    roles: [adminRole.id]
  })
  const adminToken = state.mintToken(adminUser.id)
  if (options.adminToken !== undefined) {
    state.tokens.delete(adminToken.token)
    adminToken.token = options.adminToken
    adminToken.tokenSecret = options.adminTokenSecret ?? adminToken.tokenSecret
    state.tokens.set(adminToken.token, adminToken)
  }

  const credentials = {
    consumerKey: consumer.key,
    consumerSecret: consumer.secret,
    tokenSecret: (token: string) => state.tokens.get(token)?.tokenSecret
  }

  /** Runs the route for a request, turning thrown EXH errors into answers. */
  async function dispatch(
    req: IncomingMessage,
    path: string,
    query: string,
    { body, badJson }: ParsedBody,
    entry: LoggedRequest
  ): Promise<RouteResult> {
    const method = req.method ?? 'GET'
    let params: string[] = []
    const route = routes.find(r => {
      if (r.method !== method) return false
      const match = r.pattern.exec(path)
      if (match) params = match.slice(1).map(p => percentDecode(p))
      return match !== null
    })
    if (!route) throw exhError(16, { path })

    let user: FakeUser | undefined
    if (route.auth !== 'none') {
      const identity = verifyOAuth1(req, credentials)
      if (identity.kind === 'none') {
        throw exhError(route.auth === 'user' ? 104 : 101)
      }
      if (identity.kind === 'token') {
        const token = state.tokens.get(identity.token)
        user = token && state.users.get(token.userId)
        if (!token || !user) throw exhError(108)
        token.lastUsedTimestamp = new Date().toISOString()
        entry.userId = user.id
      }
      if (route.auth === 'user' && !user) throw exhError(104)
    }

    if (badJson) throw exhError(22)
    return await route.handle({ state, params, query, body, user })
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? 'GET'
    const rawUrl = req.url ?? '/'
    const queryAt = rawUrl.indexOf('?')
    const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt)
    // The `http://127.0.0.1:<port>/localhost` host trick adds this prefix;
    // it stays in the signed URL, so it is only dropped for routing.
    const path = rawPath.replace(/^\/localhost(?=\/)/, '')
    const entry: LoggedRequest = {
      method,
      path,
      query: queryAt === -1 ? '' : rawUrl.slice(queryAt + 1),
      status: 0,
      startedAt: performance.now(),
      endedAt: 0,
      body: undefined,
      userId: undefined
    }
    const finish = (status: number) => {
      entry.status = status
      entry.endedAt = performance.now()
      requests.push(entry)
    }
    const drop = () => {
      finish(0)
      req.socket.destroy()
    }
    const send = (
      status: number,
      body: unknown,
      headers: Record<string, string> = {}
    ) => {
      if (req.socket.destroyed) {
        drop()
        return
      }
      const isText = typeof body === 'string'
      const payload = isText ? body : JSON.stringify(body)
      finish(status)
      res.writeHead(status, {
        'Content-Type': isText ? 'text/html' : 'application/json',
        'Content-Length': Buffer.byteLength(payload),
        ...headers
      })
      res.end(payload)
    }

    let received: Awaited<ReturnType<typeof readBody>>
    try {
      received = await readBody(req, maxBodyBytes)
    } catch {
      drop() // the client went away while sending
      return
    }
    const { bytes: rawBody, tooLarge } = received
    const parsed = parseBody(rawBody)
    // Logged before acting, so faulted and refused requests show it too.
    if (logBodies) entry.body = parsed.body
    const rule = faults.take(method, path)
    const delay = latencyMs + (rule?.delayMs ?? 0)
    if (delay > 0) {
      try {
        await sleep(delay, undefined, { signal: closing.signal })
      } catch {
        drop() // the fake is closing
        return
      }
    }
    if (rule?.hold && !(await heldUntilReleased(rule.hold, closing.signal))) {
      drop() // the fake is closing
      return
    }
    if (rule?.drop === 'before') {
      drop()
      return
    }
    if (rule?.status !== undefined) {
      const echoed = rule.echoBody
        ? {
            code: 17,
            name: 'ValidationError',
            message: `Invalid request body: ${rawBody.toString('utf8')}`
          }
        : undefined
      send(
        rule.status,
        rule.body ?? echoed ?? defaultBodyForStatus(rule.status),
        rule.headers
      )
      return
    }
    if (tooLarge) {
      send(413, gatewayTooLargeBody)
      return
    }

    let result: RouteResult
    try {
      result = await dispatch(req, path, entry.query, parsed, entry)
    } catch (error) {
      if (!(error instanceof ExhError)) console.error('fake-exh:', error)
      result =
        error instanceof ExhError
          ? { status: error.status, body: error.body }
          : { status: 500, body: exhErrorBody(1) }
    }
    if (rule?.drop === 'after') drop()
    else send(result.status, result.body, rule?.headers)
  }

  const server = createServer((req, res) => {
    onRequest(req, res).catch((error: unknown) => {
      console.error('fake-exh: request failed', error)
      req.socket.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo

  let closed: Promise<void> | undefined
  const close = () => {
    closed ??= new Promise<void>(resolve => {
      closing.abort()
      for (const child of state.executions) child.kill('SIGKILL')
      server.close(() => {
        resolve()
      })
      server.closeAllConnections()
    })
    return closed
  }

  return {
    url: `http://localhost:${port}`,
    port,
    consumer,
    admin: {
      id: adminUser.id,
      email: adminUser.email,
      password: adminUser.password,
      token: adminToken.token,
      tokenSecret: adminToken.tokenSecret
    },
    functions: state.functions,
    users: state.users,
    roles: state.roles,
    tokens: state.tokens,
    get loginCount() {
      return state.loginCount
    },
    requests,
    writeRequests: () =>
      requests.filter(
        r =>
          ['POST', 'PUT', 'DELETE'].includes(r.method) &&
          !(r.method === 'POST' && r.path === '/auth/v2/oauth1/tokens')
      ),
    fault: rule => {
      faults.add(rule)
    },
    pendingFaults: () => faults.pending,
    clearFaults: () => {
      faults.clear()
    },
    seedFunction: (details, code = placeholderZip()) => {
      const fn = newStoredFunction(structuredClone(details), code)
      state.functions.set(fn.name, fn)
      return fn
    },
    addUser: user => state.addUser(user),
    references: state.references,
    seedSchedule: schedule => state.references.addSchedule(schedule),
    seedDispatcher: dispatcher => state.references.addDispatcher(dispatcher),
    seedSchema: schema => state.references.addSchema(schema),
    revokeAdminPermission: permission => {
      adminRole.permissions = adminRole.permissions.filter(
        p => p !== permission
      )
    },
    addRole: (name, description, permissions) =>
      state.addRole(name, description, permissions),
    mintToken: userId => state.mintToken(userId),
    clearLog: () => {
      requests.length = 0
    },
    close,
    [Symbol.asyncDispose]: close
  }
}

interface ParsedBody {
  body: unknown
  badJson: boolean
}

/** JSON body; an empty one is fine anywhere (the SDK's token check). */
function parseBody(raw: Buffer): ParsedBody {
  if (raw.length === 0) return { body: undefined, badJson: false }
  try {
    return { body: JSON.parse(raw.toString('utf8')), badJson: false }
  } catch {
    return { body: undefined, badJson: true }
  }
}

/**
 * Reads the whole body. Past `limit` the bytes are drained and dropped, so
 * the client can finish sending and still read the 413.
 */
async function readBody(
  req: IncomingMessage,
  limit: number
): Promise<{ bytes: Buffer; tooLarge: boolean }> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size <= limit) chunks.push(chunk)
  }
  return { bytes: Buffer.concat(chunks), tooLarge: size > limit }
}

/** Waits for a held request's release; false when the fake closes first. */
async function heldUntilReleased(
  hold: Promise<unknown>,
  closing: AbortSignal
): Promise<boolean> {
  if (closing.aborted) return false
  let onClose = (): void => {}
  const closed = new Promise<void>(resolve => {
    onClose = resolve
    closing.addEventListener('abort', onClose, { once: true })
  })
  await Promise.race([
    hold.then(
      () => undefined,
      () => undefined
    ),
    closed
  ])
  closing.removeEventListener('abort', onClose)
  return !closing.aborted
}
