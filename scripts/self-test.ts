// `npm run self-test`: what the CI job `self-test` (.github/workflows/ci.yml)
// does, run locally. It starts the fake Extra Horizon API as its own process
// (test/fake-exh/cli.ts), runs the committed dist/index.js three times as the
// runner runs `uses: ./` (a sync of examples/, a re-sync, a dry run), then
// checks the outputs with the same function the workflow's last step uses.
//
//   tsx scripts/self-test.ts             the whole job, locally
//   tsx scripts/self-test.ts start-fake  (CI) start the fake in the background
//                                        and print its step outputs
//   tsx scripts/self-test.ts check       (CI) check SYNC_OUTPUTS,
//                                        RESYNC_OUTPUTS and PLAN_OUTPUTS
import { spawn } from 'node:child_process'
import { openSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { runAction } from '../test/support/run-action.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** The job's `env:`: the examples substitute `$DIGEST_MAIL_API_KEY`. */
const JOB_ENV = { DIGEST_MAIL_API_KEY: 'self-test-mail-key-0123456789' }

export interface FakeApi {
  pid: number
  url: string
  consumerKey: string
  consumerSecret: string
  token: string
  tokenSecret: string
}

export type StepOutputs = Record<string, string>

/**
 * Starts test/fake-exh/cli.ts detached, so it outlives this process (a CI
 * step ends while the job goes on), and waits for its JSON line.
 */
export async function startFake(dir: string): Promise<FakeApi> {
  const file = join(dir, 'exh-fake.json')
  const log = join(dir, 'exh-fake.log')
  // Files, not pipes: an open pipe would keep a CI step waiting for the fake.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test/fake-exh/cli.ts')],
    {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', openSync(file, 'w'), openSync(log, 'w')]
    }
  )
  child.unref()
  for (let waited = 0; waited < 30_000; waited += 100) {
    const line = (await readFile(file, 'utf8')).split('\n')[0] ?? ''
    if (line.endsWith('}')) {
      const fake = JSON.parse(line) as Omit<FakeApi, 'pid'>
      return { ...fake, pid: child.pid ?? 0 }
    }
    await sleep(100)
  }
  child.kill()
  throw new Error(
    `the fake Extra Horizon API did not start within 30 s:\n${await readFile(log, 'utf8')}`
  )
}

/** The inputs of the job's three `uses: ./` steps. */
export function selfTestSteps(
  fake: FakeApi
): { id: 'sync' | 'resync' | 'plan'; inputs: Record<string, string> }[] {
  const connection = {
    path: 'examples',
    host: fake.url,
    'consumer-key': fake.consumerKey,
    'consumer-secret': fake.consumerSecret,
    token: fake.token,
    'token-secret': fake.tokenSecret
  }
  return [
    { id: 'sync', inputs: connection },
    { id: 'resync', inputs: connection },
    { id: 'plan', inputs: { ...connection, 'dry-run': 'true' } }
  ]
}

/**
 * The defaults the runner passes for inputs a step leaves out (every
 * `default:` of action.yml that is not an expression).
 */
export function actionDefaults(actionYml: string): Record<string, string> {
  const defaults: Record<string, string> = {}
  const inputs = actionYml.split(/^outputs:/m)[0] ?? ''
  let current = ''
  for (const line of inputs.split('\n')) {
    const name = /^ {2}([a-z][a-z-]*):\s*$/.exec(line)?.[1]
    if (name) current = name
    const value = /^ {4}default:\s*(.*)$/.exec(line)?.[1]
    if (value === undefined || value.includes('${{')) continue
    defaults[current] = value.replace(/^'(.*)'$/, '$1')
  }
  return defaults
}

/** What the three runs must show; each problem is one line. */
export function checkSelfTest(runs: {
  sync: StepOutputs
  resync: StepOutputs
  plan: StepOutputs
}): string[] {
  const problems: string[] = []
  const expect = (step: string, what: string, ok: boolean): void => {
    if (!ok) problems.push(`${step}: ${what}`)
  }
  const results = {
    sync: parseResult(runs.sync.result),
    resync: parseResult(runs.resync.result),
    plan: parseResult(runs.plan.result)
  }
  const count = String(results.sync.length)
  const names = (step: keyof typeof results): string =>
    results[step].map(entry => entry.name ?? '?').join(',')

  expect('sync', 'has at least one task in `result`', results.sync.length > 0)
  for (const step of ['sync', 'resync', 'plan'] as const) {
    const outputs = runs[step]
    expect(
      step,
      `failed is 0 (got "${outputs.failed}")`,
      outputs.failed === '0'
    )
    expect(
      step,
      'reports the same tasks as the sync',
      names(step) === names('sync')
    )
  }
  expect('sync', `created is ${count}`, runs.sync.created === count)
  expect('sync', 'changed is true', runs.sync.changed === 'true')
  for (const step of ['resync', 'plan'] as const) {
    const outputs = runs[step]
    expect(
      step,
      `unchanged is ${count} (got "${outputs.unchanged}")`,
      outputs.unchanged === count
    )
    expect(
      step,
      'created and updated are 0',
      outputs.created === '0' && outputs.updated === '0'
    )
    expect(
      step,
      `changed is false (got "${outputs.changed}")`,
      outputs.changed === 'false'
    )
    expect(
      step,
      'every task is unchanged',
      results[step].every(entry => entry.action === 'unchanged')
    )
  }
  expect(
    'plan',
    'every task is planned, none done',
    results.plan.every(entry => entry.status === 'planned')
  )
  return problems
}

function parseResult(
  text: string | undefined
): { name?: string; action?: string; status?: string }[] {
  try {
    const value: unknown = JSON.parse(text ?? '')
    return Array.isArray(value) ? (value as { name?: string }[]) : []
  } catch {
    return []
  }
}

/** The whole job, locally: fake, three runs of the bundle, the check. */
export async function runSelfTest(): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'exh-self-test-'))
  const fake = await startFake(dir)
  try {
    const defaults = actionDefaults(
      readFileSync(join(ROOT, 'action.yml'), 'utf8')
    )
    const runs: Record<string, StepOutputs> = {}
    const problems: string[] = []
    for (const step of selfTestSteps(fake)) {
      const run = await runAction({
        workspace: ROOT,
        inputs: { ...defaults, ...step.inputs },
        env: JOB_ENV
      })
      console.log(`── ${step.id}: exit ${run.exitCode} ──\n${run.summary}`)
      runs[step.id] = run.outputs
      if (run.exitCode !== 0) {
        problems.push(`${step.id}: exit code ${run.exitCode}\n${run.log}`)
      }
    }
    return problems.concat(
      checkSelfTest({
        sync: runs.sync ?? {},
        resync: runs.resync ?? {},
        plan: runs.plan ?? {}
      })
    )
  } finally {
    process.kill(fake.pid, 'SIGTERM')
    await rm(dir, { recursive: true, force: true })
  }
}

function report(problems: string[]): void {
  for (const problem of problems) console.error(`self-test: ${problem}`)
  if (problems.length) process.exit(1)
  console.error('self-test: sync, re-sync (all unchanged) and dry run passed')
}

async function main(mode: string | undefined): Promise<void> {
  if (mode === 'start-fake') {
    const fake = await startFake(process.env.RUNNER_TEMP ?? tmpdir())
    console.log(`url=${fake.url}`)
    console.log(`consumer-key=${fake.consumerKey}`)
    console.log(`consumer-secret=${fake.consumerSecret}`)
    console.log(`token=${fake.token}`)
    console.log(`token-secret=${fake.tokenSecret}`)
  } else if (mode === 'check') {
    const read = (name: string): StepOutputs =>
      JSON.parse(process.env[name] || '{}') as StepOutputs
    report(
      checkSelfTest({
        sync: read('SYNC_OUTPUTS'),
        resync: read('RESYNC_OUTPUTS'),
        plan: read('PLAN_OUTPUTS')
      })
    )
  } else {
    report(await runSelfTest())
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main(process.argv[2])
}
