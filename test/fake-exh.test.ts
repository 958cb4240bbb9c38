import {
  AuthenticationError,
  createOAuth1Client,
  EmailUsedError,
  FieldFormatError,
  FunctionPermissionMode,
  LoginTimeoutError,
  MfaRequiredError,
  OauthKeyError,
  OauthSignatureError,
  OauthTokenError,
  PasswordError,
  ResourceUnknownError,
  rqlBuilder,
  ServerError,
  UserNotAuthenticatedError
} from '@extrahorizon/javascript-sdk'
import AdmZip from 'adm-zip'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from './fake-exh/index.js'

// The fake is on localhost; a proxy configured on a runner must not see it.
process.env.NO_PROXY = [process.env.NO_PROXY, 'localhost', '127.0.0.1']
  .filter(Boolean)
  .join(',')

type ClientOptions = Partial<Parameters<typeof createOAuth1Client>[0]>

/** An SDK client bound to the fake, signed with the admin token by default. */
function client(fake: FakeExh, overrides: ClientOptions = {}) {
  return createOAuth1Client({
    host: fake.url,
    consumerKey: fake.consumer.key,
    consumerSecret: fake.consumer.secret,
    token: fake.admin.token,
    tokenSecret: fake.admin.tokenSecret,
    ...overrides
  })
}

/** A client with the consumer only (as before a login). */
function consumerClient(fake: FakeExh) {
  return createOAuth1Client({
    host: fake.url,
    consumerKey: fake.consumer.key,
    consumerSecret: fake.consumer.secret
  })
}

function zipBase64(files: Record<string, string> = { 'index.js': 'x' }) {
  const zip = new AdmZip()
  for (const [name, text] of Object.entries(files)) {
    zip.addFile(name, Buffer.from(text))
  }
  return zip.toBuffer().toString('base64')
}

const validCreation = () => ({
  name: 'my-fn',
  description: 'A function',
  code: zipBase64({ 'index.js': 'exports.handler = 1' }),
  entryPoint: 'index.handler',
  runtime: 'nodejs20.x'
})

/** The rejection of a promise (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected the call to fail')
}

/** The EXH code of an SDK error's response body. */
function codeOf(error: unknown): unknown {
  return (error as { response?: { code?: unknown } }).response?.code
}

const lastRequest = (fake: FakeExh) => fake.requests.at(-1)

// Typed as unknown: the matchers are `any`, which strict lint refuses.
const anyString: unknown = expect.any(String)
const anyDate: unknown = expect.any(Date)
const hex40: unknown = expect.stringMatching(/^[0-9a-f]{40}$/)

describe('fake EXH: OAuth1', () => {
  it('accepts the admin token: users.me() and authenticate({token})', async () => {
    await using fake = await startFakeExh()
    const sdk = client(fake)
    const me = await sdk.users.me()
    expect(me.id).toBe(fake.admin.id)
    expect(me.email).toBe(fake.admin.email)
    expect(me.roles?.[0]?.permissions?.[0]).toEqual({
      name: 'VIEW_TASK_FUNCTIONS',
      description: anyString
    })

    const fresh = consumerClient(fake)
    const auth = await fresh.auth.authenticate({
      token: fake.admin.token,
      tokenSecret: fake.admin.tokenSecret
    })
    expect(auth).toMatchObject({ userId: fake.admin.id })
    expect(lastRequest(fake)).toMatchObject({
      method: 'GET',
      path: '/users/v1/me',
      status: 200,
      userId: fake.admin.id
    })
  })

  it.each([
    {
      what: 'a wrong consumer secret',
      options: { consumerSecret: 'wrong' },
      errorClass: OauthSignatureError,
      code: 109
    },
    {
      what: 'a wrong token secret',
      options: { tokenSecret: 'wrong' },
      errorClass: OauthSignatureError,
      code: 109
    },
    {
      what: 'an unknown consumer key',
      options: { consumerKey: 'nobody' },
      errorClass: OauthKeyError,
      code: 107
    },
    {
      what: 'an unknown token',
      options: { token: 'f'.repeat(40) },
      errorClass: OauthTokenError,
      code: 108
    }
  ])('rejects $what with code $code', async ({ options, errorClass, code }) => {
    await using fake = await startFakeExh()
    const error = await rejection(client(fake, options).users.me())
    expect(error).toBeInstanceOf(errorClass)
    // OauthTokenError keeps no response; the body is checked on the wire.
    if (code !== 108) expect(codeOf(error)).toBe(code)
    expect(lastRequest(fake)).toMatchObject({ status: 401, userId: undefined })
  })

  it('answers 104 to a consumer-only signature on a user route', async () => {
    await using fake = await startFakeExh()
    const error = await rejection(consumerClient(fake).tasks.functions.find())
    expect(error).toBeInstanceOf(UserNotAuthenticatedError)
    expect(lastRequest(fake)?.status).toBe(401)
  })

  it('answers 104 without an Authorization header, as JSON', async () => {
    await using fake = await startFakeExh()
    const answer = await rawRequest(fake, 'GET', '/tasks/v1/functions/')
    expect(answer.status).toBe(401)
    expect(answer.contentType).toBe('application/json')
    expect(JSON.parse(answer.body)).toEqual({
      code: 104,
      name: 'USER_NOT_AUTHENTICATED_EXCEPTION',
      message: anyString
    })
  })

  it('verifies signatures over qs-parsed queries (+, nested, repeated)', async () => {
    await using fake = await startFakeExh()
    const sdk = client(fake)
    const queries = [
      'q=a+b%20c',
      'a[b]=c&a[d]=e',
      'x=1&x=2&x=0',
      'list[]=2&list[]=1',
      'eq(name,a%252Eb)&limit(5,10)',
      "select(a,b)&sort(-name)&q=it's(*)!",
      'flag&empty=&%7Ekey=%7E'
    ]
    for (const query of queries) {
      const response = await sdk.raw.get(`/tasks/v1/functions/?${query}`)
      expect(response.status, query).toBe(200)
      expect(lastRequest(fake)?.query).toBe(
        new URL(`http://h/?${query}`).search.slice(1)
      )
    }
  })

  it('supports the /localhost path-prefix host trick', async () => {
    await using fake = await startFakeExh()
    const sdk = client(fake, {
      host: `http://127.0.0.1:${fake.port}/localhost`
    })
    const me = await sdk.users.me()
    expect(me.id).toBe(fake.admin.id)
    expect(lastRequest(fake)?.path).toBe('/users/v1/me')
  })
})

describe('fake EXH: login', () => {
  it('mints a token on authenticate({email, password}) that signs later calls', async () => {
    await using fake = await startFakeExh()
    const token = await consumerClient(fake).auth.authenticate({
      email: fake.admin.email.toUpperCase(),
      password: fake.admin.password
    })
    expect(token).toMatchObject({
      userId: fake.admin.id,
      applicationId: anyString,
      token: hex40,
      tokenSecret: hex40,
      creationTimestamp: anyDate,
      lastUsedTimestamp: anyDate
    })
    expect(token.token).not.toBe(fake.admin.token)
    expect(fake.loginCount).toBe(1)
    expect(fake.writeRequests()).toEqual([])

    const me = await client(fake, {
      token: token.token,
      tokenSecret: token.tokenSecret
    }).users.me()
    expect(me.id).toBe(fake.admin.id)
  })

  it('answers 106 to a wrong password or an unknown email', async () => {
    await using fake = await startFakeExh()
    for (const [email, password] of [
      [fake.admin.email, 'Wrong-passw0rd'],
      ['nobody@example.com', fake.admin.password]
    ] as const) {
      const error = await rejection(
        consumerClient(fake).auth.authenticate({ email, password })
      )
      expect(error).toBeInstanceOf(AuthenticationError)
      expect(error).toMatchObject({
        status: 401,
        message: 'This password email combination is unknown'
      })
    }
    expect(fake.loginCount).toBe(0)
  })

  it('asks for MFA (403 / 129) and logs in after confirmMfa', async () => {
    await using fake = await startFakeExh()
    const user = fake.addUser({
      email: 'mfa@example.com',
      password: 'Passw0rd-mfa',
      mfaRequired: true,
      mfaCode: '424242'
    })
    const sdk = consumerClient(fake)
    const error = await rejection(
      sdk.auth.authenticate({ email: user.email, password: 'Passw0rd-mfa' })
    )
    expect(error).toBeInstanceOf(MfaRequiredError)
    const { mfa } = error as MfaRequiredError
    expect(lastRequest(fake)?.status).toBe(403)
    const methodId = mfa.methods[0]?.id ?? ''
    const token = await sdk.auth.confirmMfa({
      token: mfa.token,
      methodId,
      code: '424242'
    })
    expect(token).toMatchObject({ userId: user.id })
  })

  it('answers login throttling through a fault rule with its body', async () => {
    await using fake = await startFakeExh()
    fake.fault({
      method: 'POST',
      path: '/auth/v2/oauth1/tokens',
      status: 401,
      body: {
        code: 211,
        name: 'LOGIN_TIMEOUT_EXCEPTION',
        message: 'Logging in again too quickly'
      }
    })
    const sdk = consumerClient(fake)
    const credentials = {
      email: fake.admin.email,
      password: fake.admin.password
    }
    const error = await rejection(sdk.auth.authenticate(credentials))
    expect(error).toBeInstanceOf(LoginTimeoutError)
    await expect(sdk.auth.authenticate(credentials)).resolves.toMatchObject({
      userId: fake.admin.id
    })
    expect(fake.loginCount).toBe(1)
  })
})

describe('fake EXH: functions', () => {
  it('round-trips create / find / getByName / update / remove', async () => {
    await using fake = await startFakeExh()
    const sdk = client(fake)
    const creation = {
      ...validCreation(),
      timeLimit: 60,
      memoryLimit: 256,
      executionOptions: {
        permissionMode: FunctionPermissionMode.ALL_USERS,
        defaultPriority: 5
      },
      retryPolicy: { enabled: true, errorsToRetry: ['CONNECTION_ERROR'] },
      environmentVariables: {
        API_HOST: { value: fake.url },
        my_var: { value: 'x' },
        camelCaseVar: { value: 'y' }
      }
    }
    const created = await sdk.tasks.functions.create(creation)
    expect(created).toEqual({
      ...creation,
      code: undefined,
      enabled: true,
      updateTimestamp: anyDate
    })
    expect(fake.functions.get('my-fn')?.code).toEqual(
      Buffer.from(creation.code, 'base64')
    )

    expect(await sdk.tasks.functions.find()).toEqual({
      page: { total: 1, offset: 0, limit: 1 },
      data: [
        {
          name: 'my-fn',
          description: 'A function',
          updateTimestamp: created.updateTimestamp
        }
      ]
    })
    expect(await sdk.tasks.functions.getByName('my-fn')).toEqual(created)

    const update = await sdk.tasks.functions.update('my-fn', {
      name: 'my-fn',
      description: 'Changed',
      environmentVariables: { ONLY: { value: '1' } }
    })
    expect(update).toEqual({ affectedRecords: 1 })
    const updated = await sdk.tasks.functions.getByName('my-fn')
    expect(updated).toEqual({
      ...created,
      description: 'Changed',
      environmentVariables: { ONLY: { value: '1' } },
      updateTimestamp: anyDate
    })
    expect(updated.updateTimestamp.getTime()).toBeGreaterThan(
      created.updateTimestamp.getTime()
    )

    expect(await sdk.tasks.functions.disable('my-fn')).toEqual({
      affectedRecords: 1
    })
    expect(fake.functions.get('my-fn')?.enabled).toBe(false)
    expect(await sdk.tasks.functions.enable('my-fn')).toEqual({
      affectedRecords: 1
    })
    expect(fake.functions.get('my-fn')?.enabled).toBe(true)

    expect(await sdk.tasks.functions.remove('my-fn')).toEqual({
      affectedRecords: 1
    })
    expect(fake.functions.size).toBe(0)
    expect(fake.writeRequests().map(r => `${r.method} ${r.path}`)).toEqual([
      'POST /tasks/v1/functions/',
      'PUT /tasks/v1/functions/my-fn',
      'POST /tasks/v1/functions/my-fn/disable',
      'POST /tasks/v1/functions/my-fn/enable',
      'DELETE /tasks/v1/functions/my-fn'
    ])
  })

  it('fills the backend defaults on create', async () => {
    await using fake = await startFakeExh()
    const created = await client(fake).tasks.functions.create(validCreation())
    expect(created).toMatchObject({
      timeLimit: 30,
      memoryLimit: 128,
      enabled: true,
      environmentVariables: {},
      executionOptions: { permissionMode: 'permissionRequired' },
      retryPolicy: { enabled: false, errorsToRetry: [] }
    })
  })

  it('replaces executionOptions as a whole on update', async () => {
    await using fake = await startFakeExh()
    fake.seedFunction({
      name: 'my-fn',
      executionOptions: { permissionMode: 'public', defaultPriority: 3 }
    })
    await client(fake).tasks.functions.update('my-fn', {
      executionOptions: { defaultPriority: 7 }
    })
    expect(fake.functions.get('my-fn')?.executionOptions).toEqual({
      permissionMode: 'permissionRequired',
      defaultPriority: 7
    })
  })

  it('answers 404 / 16 for a missing function on every route', async () => {
    await using fake = await startFakeExh()
    const fns = client(fake).tasks.functions
    const calls = [
      () => fns.getByName('nope', { shouldRetry: false }),
      () => fns.update('nope', { description: 'x' }),
      () => fns.remove('nope'),
      () => fns.enable('nope'),
      () => fns.disable('nope')
    ]
    for (const call of calls) {
      const error = await rejection(call())
      expect(error).toBeInstanceOf(ResourceUnknownError)
      expect(error).toMatchObject({
        status: 404,
        response: {
          code: 16,
          name: 'RESOURCE_UNKNOWN_EXCEPTION',
          message: 'Requested resource is unknown'
        }
      })
    }
  })

  const emptyZip = new AdmZip().toBuffer().toString('base64')
  const env = (bytes: number, char = 'x') => ({
    A: { value: char.repeat(bytes - 1) }
  })
  it.each([
    { what: 'no name', change: { name: undefined }, code: 14 },
    { what: 'no code', change: { code: undefined }, code: 14 },
    { what: 'no entryPoint', change: { entryPoint: undefined }, code: 14 },
    { what: 'no runtime', change: { runtime: undefined }, code: 14 },
    { what: 'an underscore in name', change: { name: 'my_fn' }, code: 15 },
    { what: 'timeLimit 2', change: { timeLimit: 2 }, code: 15 },
    { what: 'timeLimit 301', change: { timeLimit: 301 }, code: 15 },
    { what: 'timeLimit 30.5', change: { timeLimit: 30.5 }, code: 15 },
    { what: 'memoryLimit 127', change: { memoryLimit: 127 }, code: 15 },
    { what: 'memoryLimit 10241', change: { memoryLimit: 10241 }, code: 15 },
    { what: 'runtime nodejs8.x', change: { runtime: 'nodejs8.x' }, code: 15 },
    {
      what: 'an unknown permissionMode',
      change: { executionOptions: { permissionMode: 'everyone' } },
      code: 15
    },
    {
      what: 'a fractional defaultPriority',
      change: { executionOptions: { defaultPriority: 1.5 } },
      code: 15
    },
    {
      what: 'a non-boolean retryPolicy.enabled',
      change: { retryPolicy: { enabled: 'yes' } },
      code: 15
    },
    {
      what: 'env of 4097 bytes',
      change: { environmentVariables: env(4097) },
      code: 1402
    },
    {
      what: 'env of 4097 UTF-8 bytes in fewer chars',
      change: { environmentVariables: { A: { value: 'é'.repeat(2048) } } },
      code: 1402
    },
    {
      what: 'an env value that is not a string',
      change: { environmentVariables: { A: { value: 1 } } },
      code: 1402
    },
    {
      what: 'an env entry that is not {value}',
      change: { environmentVariables: { A: 'x' } },
      code: 1402
    },
    {
      what: 'code that is not base64',
      change: { code: 'not base64!' },
      code: 1401
    },
    {
      what: 'code that is not a zip',
      change: { code: Buffer.from('hello').toString('base64') },
      code: 1401
    },
    { what: 'an empty zip', change: { code: emptyZip }, code: 1401 }
  ])('rejects a create with $what (code $code)', async ({ change, code }) => {
    await using fake = await startFakeExh()
    const body = { ...validCreation(), ...change }
    const error = await rejection(
      client(fake).tasks.functions.create(body as never)
    )
    expect(codeOf(error)).toBe(code)
    expect(error).toMatchObject({ status: 400 })
    expect(fake.functions.size).toBe(0)
  })

  it.each([
    { what: 'code that is not a zip', code: Buffer.from('hello') },
    { what: 'an empty zip', code: new AdmZip().toBuffer() }
  ])(
    'checking only the zip directory still rejects $what',
    async ({ code }) => {
      await using fake = await startFakeExh({ zipCheck: 'directory' })
      const body = { ...validCreation(), code: code.toString('base64') }
      const error = await rejection(client(fake).tasks.functions.create(body))
      expect(codeOf(error)).toBe(1401)
    }
  )

  it('checking only the zip directory accepts a zip with corrupt data', async () => {
    const zip = new AdmZip()
    zip.addFile('index.js', Buffer.from('x'.repeat(1000)))
    const bytes = zip.toBuffer()
    bytes.fill(0xff, 40, 60) // inside the deflated data, before the directory
    await using strict = await startFakeExh()
    await using cheap = await startFakeExh({ zipCheck: 'directory' })
    const body = { ...validCreation(), code: bytes.toString('base64') }
    const error = await rejection(client(strict).tasks.functions.create(body))
    expect(codeOf(error)).toBe(1401)
    await client(cheap).tasks.functions.create(body)
    expect(cheap.functions.get('my-fn')?.code).toEqual(bytes)
  })

  it('accepts environment variables of exactly 4096 bytes', async () => {
    await using fake = await startFakeExh()
    await client(fake).tasks.functions.create({
      ...validCreation(),
      environmentVariables: env(4096)
    })
    expect(fake.functions.has('my-fn')).toBe(true)
  })

  it('answers 17 when the name is taken', async () => {
    await using fake = await startFakeExh()
    fake.seedFunction({ name: 'my-fn' })
    const error = await rejection(
      client(fake).tasks.functions.create(validCreation())
    )
    expect(codeOf(error)).toBe(17)
  })

  it('validates update fields and leaves the function unchanged', async () => {
    await using fake = await startFakeExh()
    const snapshot = () => JSON.stringify(fake.functions.get('my-fn'))
    fake.seedFunction({ name: 'my-fn' })
    const seeded = snapshot()
    const fns = client(fake).tasks.functions
    const cases = [
      [{ timeLimit: 301 }, 15],
      [{ runtime: 'cobol' }, 15],
      [{ code: emptyZip }, 1401],
      [{ environmentVariables: env(5000) }, 1402]
    ] as const
    for (const [change, code] of cases) {
      const error = await rejection(fns.update('my-fn', change))
      expect(codeOf(error), JSON.stringify(change)).toBe(code)
    }
    expect(snapshot()).toBe(seeded)
  })

  it('answers 413 like the gateway above maxBodyBytes', async () => {
    await using fake = await startFakeExh({ maxBodyBytes: 2000 })
    const error = await rejection(
      client(fake).tasks.functions.create({
        ...validCreation(),
        description: 'd'.repeat(3000)
      })
    )
    expect(error).toMatchObject({ status: 413 })
    expect(fake.functions.size).toBe(0)
  })
})

describe('fake EXH: direct execution runs Node.js handlers', () => {
  const zip = (files: Record<string, string>) =>
    Buffer.from(zipBase64(files), 'base64')

  it('answers complete with the result, the data and environment seen, and keeps the console as the log', async () => {
    await using fake = await startFakeExh()
    fake.seedFunction(
      { name: 'ok', environmentVariables: { GREETING: { value: 'hi' } } },
      zip({
        'index.js':
          "exports.handler = async task => { console.log('got', task.data.n); return { greeting: process.env.GREETING, n: task.data.n, fn: task.functionName } }"
      })
    )
    const sdk = client(fake)
    const task = await sdk.tasks.functions.execute('ok', { n: 2 })
    expect(task).toMatchObject({
      status: 'complete',
      functionName: 'ok',
      data: { n: 2 },
      result: { greeting: 'hi', n: 2, fn: 'ok' }
    })
    const log = await sdk.tasks.logs.find(task.id as string)
    expect(log.map(line => line.message)).toEqual(['got 2'])
  })

  it('fails as the runtime does: a throwing handler, a missing dependency, a wrong entry point, no export', async () => {
    await using fake = await startFakeExh()
    const cases: {
      name: string
      files: Record<string, string>
      entryPoint?: string
      runtimeError: { name: string; message: string }
    }[] = [
      {
        name: 'throws',
        files: {
          'index.mjs':
            "export const handler = () => { throw new TypeError('boom') }"
        },
        runtimeError: { name: 'TypeError', message: 'boom' }
      },
      {
        name: 'missing',
        files: { 'index.js': "require('left-pad'); exports.handler = () => 1" },
        runtimeError: {
          name: 'Runtime.ImportModuleError',
          message: "Error: Cannot find module 'left-pad'"
        }
      },
      {
        name: 'wrong',
        entryPoint: 'build/index.handler',
        files: { 'index.js': 'exports.handler = () => 1' },
        runtimeError: {
          name: 'Runtime.ImportModuleError',
          message: "Error: Cannot find module 'build/index'"
        }
      },
      {
        name: 'noexport',
        entryPoint: 'index.main',
        files: { 'index.cjs': 'exports.handler = () => 1' },
        runtimeError: {
          name: 'Runtime.HandlerNotFound',
          message: 'index.main is undefined or not exported'
        }
      }
    ]
    for (const { name, files, entryPoint } of cases) {
      fake.seedFunction({ name, entryPoint }, zip(files))
    }
    const sdk = client(fake)
    await Promise.all(
      cases.map(async ({ name, runtimeError }) => {
        const error = await rejection(sdk.tasks.functions.execute(name, {}))
        expect(error, name).toMatchObject({
          status: 400,
          response: {
            code: 1406,
            name: 'LAMBDA_RUNTIME_EXCEPTION',
            runtimeError
          }
        })
        const { taskId } = (error as { response: { taskId: string } }).response
        const log = await sdk.tasks.logs.find(taskId)
        expect(log.map(line => line.message).join('\n'), name).toContain(
          runtimeError.message
        )
      })
    )
  })

  it('answers complete with a null result for other runtimes, 1404 over 30 s, 1408 for an unknown task log', async () => {
    await using fake = await startFakeExh()
    fake.seedFunction({
      name: 'py',
      runtime: 'python3.12',
      entryPoint: 'main.handler'
    })
    fake.seedFunction({ name: 'long', timeLimit: 60 })
    const sdk = client(fake)
    expect(await sdk.tasks.functions.execute('py')).toMatchObject({
      status: 'complete',
      result: null
    })
    expect(await rejection(sdk.tasks.functions.execute('long'))).toMatchObject({
      response: { code: 1404 }
    })
    expect(
      await rejection(sdk.tasks.logs.find('0123456789abcdef01234567'))
    ).toMatchObject({ response: { code: 1408 } })
  })
})

describe('fake EXH: users and global roles', () => {
  it('runs the executionCredentials flow of the CLI', async () => {
    await using fake = await startFakeExh()
    const sdk = client(fake)
    const email = 'exh.tasks+my-fn@extrahorizon.com'
    const password = '0Oo-0123456789abcdef0123456789abcdef'
    const byEmail = rqlBuilder().eq('email', email).build()
    expect(await sdk.users.findFirst({ rql: byEmail })).toBeUndefined()

    const roleName = 'exh.tasks.my-fn'
    expect(await sdk.users.globalRoles.findByName(roleName)).toBeUndefined()
    const role = await sdk.users.globalRoles.create({
      name: roleName,
      description: 'A role created by the CLI for the execution of the task'
    })
    expect(role).toMatchObject({ id: anyString, permissions: [] })
    const byName = rqlBuilder().eq('name', roleName).build()
    expect(
      await sdk.users.globalRoles.addPermissions(byName, {
        permissions: ['VIEW_DOCUMENTS:{schemaName}', 'X']
      })
    ).toEqual({ affectedRecords: 1 })
    expect(
      await sdk.users.globalRoles.removePermissions(byName, {
        permissions: ['X']
      })
    ).toEqual({ affectedRecords: 1 })
    const found = await sdk.users.globalRoles.findByName(roleName)
    expect(found?.permissions).toEqual([
      { name: 'VIEW_DOCUMENTS:{schemaName}', description: anyString }
    ])

    const user = await sdk.users.createAccount({
      activationMode: 'manual',
      firstName: 'my-fn',
      lastName: 'exh.tasks',
      email,
      password,
      phoneNumber: '0000000000',
      language: 'EN'
    })
    expect(user).toMatchObject({ id: anyString, email, roles: [] })
    const register = fake.requests.find(r => r.path === '/users/v1/register')
    expect(register?.body).toMatchObject({ first_name: 'my-fn' })

    const byId = rqlBuilder().eq('id', user.id).build()
    expect(
      await sdk.users.globalRoles.addToUsers(byId, { roles: [role.id] })
    ).toEqual({ affectedRecords: 1 })
    const again = await sdk.users.findFirst({
      rql: rqlBuilder().eq('email', email.toUpperCase()).build()
    })
    expect(again?.roles?.map(r => r.name)).toEqual([roleName])

    const login = await consumerClient(fake).auth.authenticate({
      email,
      password
    })
    const me = await client(fake, {
      token: login.token,
      tokenSecret: login.tokenSecret
    }).users.me()
    expect(me).toMatchObject({ id: user.id, email })
  })

  it.each([
    {
      what: 'a used email (any case)',
      email: 'ADMIN@fake-exh.localhost',
      password: 'Passw0rd-ok',
      errorClass: EmailUsedError,
      code: 203
    },
    {
      what: 'a password without a digit',
      email: 'new@example.com',
      password: 'Password-only',
      errorClass: PasswordError,
      code: 208
    },
    {
      what: 'a short password',
      email: 'new@example.com',
      password: 'Pa0',
      errorClass: PasswordError,
      code: 208
    }
  ])(
    'refuses to register $what',
    async ({ email, password, errorClass, code }) => {
      await using fake = await startFakeExh()
      const error = await rejection(
        consumerClient(fake).users.createAccount({
          firstName: 'a',
          lastName: 'b',
          email,
          password,
          phoneNumber: '0',
          language: 'EN'
        })
      )
      expect(error).toBeInstanceOf(errorClass)
      expect(codeOf(error)).toBe(code)
    }
  )

  it('answers 15 to empty permissions and 16 to an unknown role', async () => {
    await using fake = await startFakeExh()
    const roles = client(fake).users.globalRoles
    const admin = rqlBuilder().eq('name', 'fake-exh-admin').build()
    const empty = await rejection(
      roles.addPermissions(admin, { permissions: [] })
    )
    expect(empty).toBeInstanceOf(FieldFormatError)
    const unknown = await rejection(
      roles.removePermissions(rqlBuilder().eq('name', 'nope').build(), {
        permissions: ['X']
      })
    )
    expect(unknown).toBeInstanceOf(ResourceUnknownError)
  })
})

describe('fake EXH: faults', () => {
  it('answers a status twice, then succeeds (the SDK retries GETs)', async () => {
    await using fake = await startFakeExh()
    fake.seedFunction({ name: 'my-fn' })
    const path = '/tasks/v1/functions/my-fn'
    fake.fault({ method: 'GET', path, status: 503, times: 2 })
    const fn = await client(fake).tasks.functions.getByName('my-fn')
    expect(fn.name).toBe('my-fn')
    expect(fake.requests.map(r => r.status)).toEqual([503, 503, 200])
    expect(fake.pendingFaults()).toEqual([])

    fake.fault({ path: /^\/tasks\/v1\/functions\//, status: 500 })
    const error = await rejection(
      client(fake).tasks.functions.getByName('my-fn', { shouldRetry: false })
    )
    expect(error).toBeInstanceOf(ServerError)
    expect(codeOf(error)).toBe(1)
  })

  it.each([
    { drop: 'before' as const, stored: false },
    { drop: 'after' as const, stored: true }
  ])('drops the connection $drop a create', async ({ drop, stored }) => {
    await using fake = await startFakeExh()
    fake.fault({ method: 'POST', path: '/tasks/v1/functions/', drop })
    const error = await rejection(
      client(fake).tasks.functions.create(validCreation())
    )
    expect(error).toMatchObject({ code: 'ECONNRESET' })
    expect(fake.functions.has('my-fn')).toBe(stored)
    expect(lastRequest(fake)).toMatchObject({
      method: 'POST',
      status: 0,
      body: { name: 'my-fn' }
    })
  })

  it('delays a request and then handles it', async () => {
    await using fake = await startFakeExh()
    fake.fault({ method: 'GET', path: '/tasks/v1/functions/', delayMs: 150 })
    const started = performance.now()
    const list = await client(fake).tasks.functions.find()
    expect(list.data).toEqual([])
    expect(performance.now() - started).toBeGreaterThanOrEqual(140)
    const entry = lastRequest(fake)
    expect(entry?.status).toBe(200)
    expect((entry?.endedAt ?? 0) - (entry?.startedAt ?? 0)).toBeGreaterThan(140)
  })

  it('sends Retry-After on a 429, readable through responseLogger', async () => {
    await using fake = await startFakeExh()
    fake.fault({ status: 429, headers: { 'Retry-After': '7' } })
    const seen: unknown[] = []
    const sdk = client(fake, {
      responseLogger: response => {
        const raw = response as { response?: { headers?: unknown } }
        seen.push(raw.response?.headers)
      }
    })
    const error = await rejection(sdk.tasks.functions.find())
    expect(error).toMatchObject({ status: 429 })
    expect(codeOf(error)).toBeUndefined()
    expect(seen).toEqual([expect.objectContaining({ 'retry-after': '7' })])
  })

  it('keeps rules with times: Infinity and sends string bodies as is', async () => {
    await using fake = await startFakeExh()
    fake.fault({
      path: '/users/v1/me',
      status: 502,
      body: '<html>Bad Gateway</html>',
      times: Infinity
    })
    for (let i = 0; i < 3; i++) {
      const answer = await rawRequest(fake, 'GET', '/users/v1/me')
      expect(answer).toMatchObject({ status: 502, contentType: 'text/html' })
    }
    expect(fake.pendingFaults()).toHaveLength(1)
    fake.clearFaults()
    expect((await rawRequest(fake, 'GET', '/users/v1/me')).status).toBe(401)
  })

  it('applies latencyMs to every request and closes with open sockets', async () => {
    const fake = await startFakeExh({ latencyMs: 50 })
    const started = performance.now()
    await client(fake).users.me()
    expect(performance.now() - started).toBeGreaterThanOrEqual(45)
    fake.fault({ delayMs: 60_000 })
    const hanging = rejection(client(fake).users.me())
    await new Promise(resolve => setTimeout(resolve, 50))
    await fake.close()
    expect(await hanging).toMatchObject({ code: 'ECONNRESET' })
  })
})

describe('fake EXH: CLI', () => {
  it('prints its credentials as one JSON line and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fake-exh/cli.ts', '--latency-ms', '1'],
      { stdio: ['ignore', 'pipe', 'inherit'] }
    )
    const exited = once(child, 'exit')
    try {
      const [line] = (await once(
        createInterface({ input: child.stdout }),
        'line'
      )) as [string]
      const info = JSON.parse(line) as Record<string, string>
      expect(Object.keys(info)).toEqual([
        'url',
        'consumerKey',
        'consumerSecret',
        'token',
        'tokenSecret'
      ])
      const sdk = createOAuth1Client({
        host: info.url ?? '',
        consumerKey: info.consumerKey ?? '',
        consumerSecret: info.consumerSecret ?? '',
        token: info.token ?? '',
        tokenSecret: info.tokenSecret ?? ''
      })
      expect((await sdk.tasks.functions.find()).data).toEqual([])
    } finally {
      child.kill('SIGTERM')
    }
    const [code] = (await exited) as [number | null]
    expect(code).toBe(0)
  })
})

interface RawAnswer {
  status: number
  contentType: string | undefined
  body: string
}

/** A bare HTTP request (no SDK, no Authorization header). */
function rawRequest(
  fake: FakeExh,
  method: string,
  path: string
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: fake.port, method, path },
      res => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => {
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            body
          })
        })
      }
    )
    req.on('error', reject)
    req.end()
  })
}
