// The contract suite (SPEC section 14): what the fake API assumes of Extra
// Horizon, one test per assumption, through the action's own modules (the
// client, its functions and verify calls, the zip writer, the size checks).
// `test/live/live.test.ts` runs it against a real account
// (`npm run test:live`), `test/live-contract.test.ts` against the fake in
// `npm test`: the fake and the suite cannot drift apart.
//
// It writes only functions named `exh-tasks-action-live-<run>-<role>` and
// deletes them in afterAll, failed or not, with any such function untouched
// for a day (left by an interrupted run).

import { isDeepStrictEqual } from 'node:util'
import { afterAll, beforeAll, describe, it } from 'vitest'
import { connectExh } from '../../src/exh/client.js'
import { ExhApiError, isRefusal } from '../../src/exh/failure.js'
import type { ExhClient } from '../../src/exh/types.js'
import { closeFileWorkers } from '../../src/fingerprint/file-workers.js'
import type { FunctionBody } from '../../src/exh/types.js'
import {
  MAX_ENVIRONMENT_BYTES,
  MAX_REQUEST_BYTES,
  checkRequestSize,
  environmentBytes
} from '../../src/package/zip.js'
import { functionRequestBody } from '../../src/exh/function-body.js'
import { MARKER_VARIABLE } from '../../src/task.js'
import { expectContract, isIsoTime, kindOf } from './expect-contract.js'
import {
  HANDLERS,
  LIVE_PREFIX,
  LIVE_RUNTIME,
  LOG_LINES,
  THROWN_MESSAGE,
  Zips,
  bodyAtRequestLimit,
  environment,
  isLeftover,
  isLiveName,
  liveMarker,
  liveRun
} from './fixtures.js'
import type { LiveTarget } from './target.js'

export interface ContractOptions {
  /** How long to keep reading a task's log for lines that come late. */
  logWaitMs?: number
  /** Where the action's own retry lines go. */
  log?: (line: string) => void
}

/** The time limit of the functions the suite executes (at most 30 s). */
const TIME_LIMIT = 10
/** Drift allows 10 minutes between the marker's time and the API's. */
const CLOCK_TOLERANCE_MS = 10 * 60 * 1000

/** What the tests share: the client, this run's names, what each step left. */
interface Run {
  client: ExhClient
  target: LiveTarget
  zips: Zips
  names: { echo: string; throws: string; slow: string; size: string }
  /** Every name this run may have written, deleted in afterAll. */
  written: Set<string>
  options: ContractOptions
  /** The echo function as created: what read-back and update compare with. */
  created?: { body: FunctionBody; updateTimestamp?: string }
  /** The echo handler's version after the update test (2 when it ran). */
  echoVersion: number
  echoValue: string
  /** Whether the throwing function was created (two tests execute it). */
  throwsCreated?: boolean
}

export function contractSuite(
  connect: () => LiveTarget | Promise<LiveTarget>,
  options: ContractOptions = {}
): void {
  describe('Extra Horizon as the fake assumes it (SPEC 14)', () => {
    let run: Run | undefined
    const current = (): Run => {
      if (!run) throw new Error('the suite did not connect (see beforeAll)')
      return run
    }

    beforeAll(async () => {
      const target = await connect()
      const id = liveRun()
      const name = (role: string) => `${LIVE_PREFIX}${id}-${role}`
      run = {
        client: await connectExh(clientOptions(target, options)),
        target,
        zips: await Zips.open(),
        names: {
          echo: name('echo'),
          throws: name('throws'),
          slow: name('slow'),
          size: name('size')
        },
        written: new Set(),
        options,
        echoVersion: 1,
        echoValue: 'one'
      }
    })

    afterAll(async () => {
      if (!run) return
      try {
        await cleanUp(run)
      } finally {
        await run.zips.close()
        await closeFileWorkers()
      }
    })

    it('the token check: users.me answers for the token and refuses an unknown one', async () => {
      await checkToken(current())
    })
    it('create: a function is created and read back as written, marker included', async () => {
      await createAndReadBack(current())
    })
    it('the listing: one page, every item with its name, description and updateTimestamp', async () => {
      await checkListing(current())
    })
    it('update: an environment write replaces the whole set (marker included), code with it, the rest kept', async () => {
      await updateAndReadBack(current())
    })
    it(`the environment limit: ${MAX_ENVIRONMENT_BYTES} bytes of keys and values are taken, one more refused`, async () => {
      await checkEnvironmentLimit(current())
    })
    it(`the request-size limit: a body of ${MAX_REQUEST_BYTES} bytes is taken`, async () => {
      await checkRequestLimit(current())
    })
    it('direct execution: a returning handler gives status complete and its result', async () => {
      await executeReturning(current())
    })
    it('direct execution: a throwing handler gives 1406 with taskId and runtimeError', async () => {
      await executeThrowing(current())
    })
    it('direct execution: a timeLimit over 30 s is refused with 1404', async () => {
      await executeSlowLimit(current())
    })
    it(`the execution's log: all ${LOG_LINES} lines, in order, in one read right after`, async () => {
      await readLogLines(current())
    })
    it('the listings a delete reads (SPEC 12): schedules, dispatchers and data schemas, each read whole', async () => {
      await readReferenceLists(current())
    })
    it('delete: a function is deleted, and a second delete answers not found', async () => {
      await deleteTwice(current())
    })
  })
}

function clientOptions(target: LiveTarget, options: ContractOptions) {
  return {
    host: target.host,
    credentials: {
      kind: 'token' as const,
      consumerKey: target.consumerKey,
      consumerSecret: target.consumerSecret,
      token: target.token,
      tokenSecret: target.tokenSecret
    },
    requestTimeoutMs: 60_000,
    signal: new AbortController().signal,
    mask: () => undefined,
    log: options.log ?? (() => undefined)
  }
}

/** A write the suite makes: only ever to one of its own names. */
function own(run: Run, name: string): string {
  if (!isLiveName(name)) throw new Error(`refusing to write ${name}`)
  run.written.add(name)
  return name
}

/** What an API error says, for the side-by-side message. */
function answerOf(error: unknown): { status?: number; apiCode?: number } {
  if (!(error instanceof ExhApiError)) throw error
  return { status: error.failure.status, apiCode: error.failure.apiCode }
}

async function refusal<T>(
  promise: Promise<T>
): Promise<{ status?: number; apiCode?: number } | 'taken'> {
  try {
    await promise
    return 'taken'
  } catch (error) {
    return answerOf(error)
  }
}

async function checkToken(run: Run): Promise<void> {
  // connectExh in beforeAll made the check once already; again, on its own.
  await connectExh(clientOptions(run.target, run.options))
  const unknown = { ...run.target, token: '0'.repeat(40) }
  let refused: unknown = 'taken'
  try {
    await connectExh(clientOptions(unknown, run.options))
  } catch (error) {
    refused = isRefusal(error) ? 'refused (401)' : answerOf(error)
  }
  expectContract('an unknown token is refused', 'refused (401)', refused)
}

function echoBody(run: Run): FunctionBody {
  return {
    name: run.names.echo,
    description: 'exh-tasks-action live contract: echo',
    entryPoint: 'index.handler',
    runtime: LIVE_RUNTIME,
    timeLimit: TIME_LIMIT,
    memoryLimit: 128,
    environmentVariables: environment({
      [MARKER_VARIABLE]: liveMarker(run.names.echo),
      LIVE_VALUE: 'one',
      LIVE_GONE: 'removed by the update'
    })
  }
}

/** The fields a plan compares, as the action reads them back. */
async function readBack(run: Run, name: string) {
  const fn = await run.client.getFunction(name)
  if (!fn) return undefined
  return {
    name: fn.name,
    description: fn.description,
    entryPoint: fn.entryPoint,
    runtime: fn.runtime,
    timeLimit: fn.timeLimit,
    memoryLimit: fn.memoryLimit,
    environment: fn.environment,
    permissionMode: fn.executionOptions?.permissionMode,
    enabled: fn.enabled,
    markerRead: fn.marker !== undefined,
    updateTimestamp: fn.updateTimestamp
  }
}

function expectedReadBack(body: FunctionBody) {
  return {
    name: body.name,
    description: body.description,
    entryPoint: body.entryPoint,
    runtime: body.runtime,
    timeLimit: body.timeLimit,
    memoryLimit: body.memoryLimit,
    environment: Object.fromEntries(
      Object.entries(body.environmentVariables ?? {}).map(([k, v]) => [
        k,
        v.value
      ])
    ),
    // The API's default, which a plan compares an unset field with.
    permissionMode: 'permissionRequired',
    // A new function is enabled; `list` and the plan read it (SPEC 12).
    enabled: true,
    markerRead: true
  }
}

/** An updateTimestamp the drift check can use: ISO, near this clock. */
function checkTimestamp(contract: string, value: string | undefined): void {
  const near =
    value !== undefined &&
    isIsoTime(value) &&
    Math.abs(Date.parse(value) - Date.now()) <= CLOCK_TOLERANCE_MS
  expectContract(
    contract,
    'an ISO time within 10 minutes of this clock',
    near
      ? 'an ISO time within 10 minutes of this clock'
      : `${String(value)} (this clock: ${new Date().toISOString()})`
  )
}

async function createAndReadBack(run: Run): Promise<void> {
  const body = echoBody(run)
  const zip = await run.zips.zip({ 'index.js': HANDLERS.echo(1) })
  own(run, run.names.echo)
  await run.client.createFunction(body, zip)
  const read = await readBack(run, run.names.echo)
  const { updateTimestamp, ...fields } = read ?? {}
  run.created = { body, updateTimestamp }
  expectContract(
    'a created function reads back as written',
    expectedReadBack(body),
    read ? fields : 'not found'
  )
  checkTimestamp(
    'a created function has a current updateTimestamp',
    updateTimestamp
  )
}

async function checkListing(run: Run): Promise<void> {
  // listFunctions itself fails when the page holds fewer than `total`.
  const listing = await run.client.listFunctions()
  const odd = listing
    .map(fn => ({
      name: fn.name,
      description: kindOf(fn.description),
      updateTimestamp: kindOf(fn.updateTimestamp)
    }))
    .filter(
      fn =>
        !['string', 'absent'].includes(fn.description) ||
        fn.updateTimestamp !== 'ISO time'
    )
  expectContract(
    'every listed function has a name, a description and an ISO updateTimestamp',
    [],
    odd.slice(0, 5)
  )
  const ours = listing.find(fn => fn.name === run.names.echo)
  expectContract(
    'the listing holds a created function with the fields read back',
    {
      name: run.names.echo,
      description: run.created?.body.description,
      updateTimestamp: run.created?.updateTimestamp
    },
    ours ?? 'not listed'
  )
}

async function updateAndReadBack(run: Run): Promise<void> {
  const before = await run.client.getFunction(run.names.echo)
  const update: FunctionBody = {
    description: 'exh-tasks-action live contract: echo, updated',
    environmentVariables: environment({
      [MARKER_VARIABLE]: liveMarker(run.names.echo),
      LIVE_VALUE: 'two'
    })
  }
  const zip = await run.zips.zip({ 'index.js': HANDLERS.echo(2) })
  await run.client.updateFunction(own(run, run.names.echo), update, zip)
  const read = await readBack(run, run.names.echo)
  const { updateTimestamp, ...fields } = read ?? {}
  expectContract(
    'an update replaces the fields it sends (the environment whole) and keeps the others',
    expectedReadBack({ ...echoBody(run), ...update }),
    read ? fields : 'not found'
  )
  run.echoVersion = 2
  run.echoValue = 'two'
  const later =
    updateTimestamp !== undefined &&
    before?.updateTimestamp !== undefined &&
    Date.parse(updateTimestamp) > Date.parse(before.updateTimestamp)
  expectContract(
    'an update moves updateTimestamp forward',
    'later than before',
    later
      ? 'later than before'
      : { before: before?.updateTimestamp, after: updateTimestamp }
  )
}

/** An environment of `bytes` as the action counts them: marker, value, padding. */
function environmentOf(run: Run, bytes: number): Record<string, string> {
  const values: Record<string, string> = {
    [MARKER_VARIABLE]: liveMarker(run.names.echo),
    LIVE_VALUE: run.echoValue,
    LIVE_PAD: ''
  }
  values.LIVE_PAD = 'p'.repeat(bytes - environmentBytes(values))
  return values
}

async function checkEnvironmentLimit(run: Run): Promise<void> {
  const atLimit = environmentOf(run, MAX_ENVIRONMENT_BYTES)
  const over = environmentOf(run, MAX_ENVIRONMENT_BYTES + 1)
  // The action's own rule: the first taken, the second refused before a write.
  if (environmentBytes(atLimit) !== MAX_ENVIRONMENT_BYTES) {
    throw new Error('internal: the environment is not at the limit')
  }
  const name = own(run, run.names.echo)
  const taken = await refusal(
    run.client.updateFunction(name, {
      environmentVariables: environment(atLimit)
    })
  )
  const read = (await run.client.getFunction(name))?.environment ?? {}
  expectContract(
    `an environment of ${MAX_ENVIRONMENT_BYTES} bytes (keys and values, UTF-8) is taken and read back`,
    { answer: 'taken', readBack: 'as sent' },
    {
      answer: taken,
      readBack: isDeepStrictEqual(read, atLimit)
        ? 'as sent'
        : `${Object.keys(read).join(', ')}: ${environmentBytes(read)} bytes`
    }
  )
  const refused = await refusal(
    run.client.updateFunction(name, { environmentVariables: environment(over) })
  )
  expectContract(
    `an environment of ${MAX_ENVIRONMENT_BYTES + 1} bytes is refused (1402)`,
    { status: 400, apiCode: 1402 },
    refused
  )
}

async function checkRequestLimit(run: Run): Promise<void> {
  const name = own(run, run.names.size)
  const { body, zip } = await bodyAtRequestLimit(run.zips, {
    name,
    description: 'exh-tasks-action live contract: request size',
    entryPoint: 'index.handler',
    runtime: LIVE_RUNTIME,
    timeLimit: TIME_LIMIT,
    environmentVariables: environment({
      [MARKER_VARIABLE]: liveMarker(name)
    })
  })
  const length = functionRequestBody(body, zip).length
  // The action's rule: this body is the largest it sends.
  if (length !== MAX_REQUEST_BYTES || checkRequestSize(body, zip.bytes)) {
    throw new Error(`internal: the body is ${length} bytes`)
  }
  const answer = await refusal(run.client.createFunction(body, zip))
  const read = await run.client.getFunction(name)
  expectContract(
    `a create of ${MAX_REQUEST_BYTES} bytes (a ${zip.bytes}-byte zip) is taken`,
    { answer: 'taken', created: true },
    { answer, created: read !== undefined }
  )
}

async function executeReturning(run: Run): Promise<void> {
  const data = { live: 'data', nested: { n: 1, list: [true, null] } }
  const execution = await run.client.verify.execute(
    run.names.echo,
    data,
    TIME_LIMIT
  )
  expectContract(
    'a returning handler: 200, the Task complete, result the returned value (the task as its argument)',
    {
      taskId: 'string',
      status: 'complete',
      result: {
        version: run.echoVersion,
        functionName: run.names.echo,
        data,
        value: run.echoValue
      }
    },
    { ...execution, taskId: kindOf(execution.taskId) }
  )
}

async function createThrowing(run: Run): Promise<string> {
  const name = run.names.throws
  if (run.throwsCreated) return name
  const zip = await run.zips.zip({ 'index.js': HANDLERS.throws })
  await run.client.createFunction(
    {
      name: own(run, name),
      description: 'exh-tasks-action live contract: throws',
      entryPoint: 'index.handler',
      runtime: LIVE_RUNTIME,
      timeLimit: TIME_LIMIT,
      environmentVariables: environment({
        [MARKER_VARIABLE]: liveMarker(name)
      })
    },
    zip
  )
  run.throwsCreated = true
  return name
}

async function executeThrowing(run: Run): Promise<void> {
  const name = await createThrowing(run)
  const execution = await run.client.verify.execute(name, {}, TIME_LIMIT)
  expectContract(
    'a throwing handler: 400 1406 with taskId and runtimeError {name, message}',
    {
      taskId: 'string',
      runtimeError: { name: 'Error', message: THROWN_MESSAGE }
    },
    { ...execution, taskId: kindOf(execution.taskId) }
  )
}

async function executeSlowLimit(run: Run): Promise<void> {
  const name = own(run, run.names.slow)
  const zip = await run.zips.zip({ 'index.js': HANDLERS.echo(1) })
  await run.client.createFunction(
    {
      name,
      description: 'exh-tasks-action live contract: timeLimit 31',
      entryPoint: 'index.handler',
      runtime: LIVE_RUNTIME,
      timeLimit: 31,
      environmentVariables: environment({
        [MARKER_VARIABLE]: liveMarker(name)
      })
    },
    zip
  )
  const answer = await refusal(run.client.verify.execute(name, {}, 31))
  expectContract(
    'a direct execution of a function with timeLimit 31 is refused',
    { status: 400, apiCode: 1404 },
    answer
  )
}

/** The log as the action reads it (one read), and later reads for lines that come late. */
async function readLogLines(run: Run): Promise<void> {
  const name = await createThrowing(run)
  const execution = await run.client.verify.execute(name, {}, TIME_LIMIT)
  const taskId = execution.taskId
  if (!taskId)
    throw new Error('the execution gave no taskId (see the test before)')
  const wanted = Array.from(
    { length: LOG_LINES },
    (_, i) => `live log line ${i + 1}`
  )
  const found = (lines: string[]) => linesInOrder(wanted, lines)
  const first = await readLog(run, taskId)
  let later = first
  const deadline = Date.now() + (run.options.logWaitMs ?? 30_000)
  while (found(later.lines) < LOG_LINES && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 2_000))
    later = await readLog(run, taskId)
  }
  expectContract(
    `a task's log, read once right after its execution, holds every line printed, in order (no paging)`,
    { rightAfter: LOG_LINES, afterWaiting: LOG_LINES },
    {
      rightAfter: first.error ?? found(first.lines),
      afterWaiting: later.error ?? found(later.lines)
    },
    {
      linesRead: later.lines.length,
      firstLines: later.lines.slice(0, 3),
      lastLines: later.lines.slice(-3)
    }
  )
}

async function readLog(
  run: Run,
  taskId: string
): Promise<{ lines: string[]; error?: unknown }> {
  try {
    return { lines: await run.client.verify.taskLog(taskId) }
  } catch (error) {
    return { lines: [], error: answerOf(error) }
  }
}

/** How many of `wanted` appear in `lines` in order, each within a line (the runtime may prefix it). */
function linesInOrder(wanted: string[], lines: string[]): number {
  let at = 0
  for (const line of lines) {
    const next = wanted[at]
    if (
      next !== undefined &&
      (line === next || line.endsWith(`\t${next}`) || line.endsWith(` ${next}`))
    )
      at++
  }
  return at
}

/**
 * The three lists the delete guard reads, through its own module: each
 * readable with the permissions CONTRIBUTING names, paged to the end, and
 * every task action found naming what holds it. Nothing is written: a
 * schedule or dispatcher of the suite's own would touch more than its
 * functions.
 */
async function readReferenceLists(run: Run): Promise<void> {
  const { uses, unreadable } = await run.client.references.readUses()
  expectContract(
    'the schedules, dispatchers and data-schema listings are read whole',
    [],
    unreadable
  )
  const unnamed = uses.filter(
    ({ by }) =>
      (by.kind === 'schedule' && by.id === '?') ||
      (by.kind === 'dispatcher' && by.name === '?') ||
      (by.kind === 'schema' && (by.schema === '?' || by.transition === '?'))
  )
  expectContract(
    'every task action found names its schedule (id), dispatcher (name or id), schema and transition (name or id)',
    [],
    unnamed.slice(0, 5)
  )
}

async function deleteTwice(run: Run): Promise<void> {
  const name = own(run, run.names.echo)
  const first = await refusal(run.client.deleteFunction(name))
  const gone = (await run.client.getFunction(name)) === undefined
  const listed = (await run.client.listFunctions()).some(fn => fn.name === name)
  const second = await refusal(run.client.deleteFunction(name))
  expectContract(
    'a delete is taken, the function is gone, and a second delete answers 404 (16)',
    {
      first: 'taken',
      gone: true,
      listed: false,
      second: { status: 404, apiCode: 16 }
    },
    { first, gone, listed, second }
  )
}

/** This run's functions, and any live function untouched for a day. */
async function cleanUp(run: Run): Promise<void> {
  const failures: string[] = []
  const remove = async (name: string) => {
    if (!isLiveName(name)) return
    try {
      await run.client.deleteFunction(name)
    } catch (error) {
      if (error instanceof ExhApiError && error.failure.status === 404) return
      failures.push(`${name}: ${String(error)}`)
    }
  }
  for (const name of run.written) await remove(name)
  const now = new Date()
  for (const fn of await run.client.listFunctions()) {
    if (isLeftover(fn, now)) await remove(fn.name)
  }
  if (failures.length) {
    throw new Error(
      `the live functions could not all be deleted:\n${failures.join('\n')}`
    )
  }
}
