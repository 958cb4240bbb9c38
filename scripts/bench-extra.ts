// The parts of `npm run bench` beside the three scenarios: the machine's
// bounds on the same bytes (deflate on all cores, one thread walking and
// hashing), start-up time, a cancel during packaging, one 2 GB random file,
// and a plan over many small tasks.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { lstatSync, readFileSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import type { FakeExh } from '../test/fake-exh/server.js'

/** Every file below `root` (symlinks and `.git` left out), with its size. */
function listFiles(root: string): { file: string; size: number }[] {
  const found: { file: string; size: number }[] = []
  const dirs = [root]
  for (let dir = dirs.pop(); dir !== undefined; dir = dirs.pop()) {
    for (const name of readdirSync(dir)) {
      if (name === '.git') continue
      const full = path.join(dir, name)
      const stats = lstatSync(full)
      if (stats.isDirectory()) dirs.push(full)
      else if (stats.isFile()) found.push({ file: full, size: stats.size })
    }
  }
  return found
}

// Reads its share first, then deflates it when told: only deflate is timed.
const DEFLATE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { readFileSync } = require('node:fs')
const zlib = require('node:zlib')
const bytes = workerData.files.map(file => readFileSync(file))
parentPort.postMessage('ready')
parentPort.once('message', () => {
  let out = 0
  for (const b of bytes) out += zlib.deflateRawSync(b, { level: workerData.level }).length
  parentPort.postMessage(out)
})
`

/** Seconds to deflate every file once, one file per call, on every core. */
export async function deflateBound(
  root: string,
  level: number
): Promise<{ ms: number; bytes: number; deflated: number }> {
  const files = listFiles(root).sort((a, b) => b.size - a.size)
  const cores = os.availableParallelism()
  const shares: string[][] = Array.from({ length: cores }, () => [])
  const loads = new Array<number>(cores).fill(0)
  for (const { file, size } of files) {
    const least = loads.indexOf(Math.min(...loads))
    shares[least]?.push(file)
    loads[least] = (loads[least] ?? 0) + size
  }
  const workers = shares.map(
    share =>
      new Worker(DEFLATE_WORKER, {
        eval: true,
        workerData: { files: share, level }
      })
  )
  const next = (worker: Worker): Promise<unknown> =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
  await Promise.all(workers.map(next))
  const started = performance.now()
  const done = workers.map(next)
  for (const worker of workers) worker.postMessage('go')
  const deflated = (await Promise.all(done)) as number[]
  const ms = performance.now() - started
  await Promise.all(workers.map(worker => worker.terminate()))
  return {
    ms,
    bytes: loads.reduce((a, b) => a + b, 0),
    deflated: deflated.reduce((a, b) => a + b, 0)
  }
}

/** Walk, lstat, read and sha256 every file once, on one thread. */
export function readBound(root: string): number {
  const started = performance.now()
  for (const { file } of listFiles(root)) {
    createHash('sha256').update(readFileSync(file)).digest()
  }
  return performance.now() - started
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

export interface ActionRun {
  exitCode: number | null
  wallMs: number
  /** Spawn to the fake's first request, when there was one. */
  firstRequestMs?: number
  log: string
  outputs: string
  summary: string
  peakRssMb?: number
}

/** Runs the bundle as the runner does; `during` may signal it. */
export async function spawnAction(
  bundle: string,
  fake: FakeExh,
  workspace: string,
  inputs: Record<string, string>,
  during?: (pid: number, started: number) => void
): Promise<ActionRun> {
  // GNU time ignores SIGINT while it waits: a run that is signalled is not
  // wrapped, so the signal reaches the action itself.
  const timed = during === undefined
  const dir = await mkdtemp(path.join(os.tmpdir(), 'exh-bench-'))
  const files = ['output', 'summary', 'time'].map(name => path.join(dir, name))
  const [outputFile = '', summaryFile = '', timeFile = ''] = files
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: 'org/bench-tasks',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    NO_PROXY: 'localhost,127.0.0.1',
    BENCH_SERVICE_API_KEY: 'bench-service-key-0123456789',
    INPUT_HOST: fake.url,
    'INPUT_CONSUMER-KEY': fake.consumer.key,
    'INPUT_CONSUMER-SECRET': fake.consumer.secret,
    INPUT_TOKEN: fake.admin.token,
    'INPUT_TOKEN-SECRET': fake.admin.tokenSecret,
    ...Object.fromEntries(
      Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])
    )
  }
  fake.clearLog()
  try {
    const started = performance.now()
    const child = timed
      ? spawn(
          '/usr/bin/time',
          ['-f', '%M', '-o', timeFile, process.execPath, bundle],
          { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] }
        )
      : spawn(process.execPath, [bundle], {
          cwd: workspace,
          env,
          stdio: ['ignore', 'pipe', 'pipe']
        })
    let log = ''
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
    if (child.pid !== undefined) during?.(child.pid, started)
    const exitCode = await new Promise<number | null>(resolve => {
      child.on('close', resolve)
    })
    const wallMs = performance.now() - started
    const first = fake.requests[0]?.startedAt
    const kb = Number(
      (await readFile(timeFile, 'utf8').catch(() => ''))
        .trim()
        .split('\n')
        .pop()
    )
    return {
      exitCode,
      wallMs,
      firstRequestMs: first === undefined ? undefined : first - started,
      log,
      outputs: await readFile(outputFile, 'utf8'),
      summary: await readFile(summaryFile, 'utf8'),
      peakRssMb: kb ? kb / 1024 : undefined
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Median of 5: bare `node -e ''`, and the bundle's spawn to first request. */
export async function startUp(
  bundle: string,
  fake: FakeExh,
  workspace: string
): Promise<{ nodeMs: number; actionMs: number }> {
  const bare: number[] = []
  const action: number[] = []
  for (let i = 0; i < 5; i++) {
    const started = performance.now()
    await new Promise(resolve =>
      spawn(process.execPath, ['-e', ''], { stdio: 'ignore' }).on(
        'close',
        resolve
      )
    )
    bare.push(performance.now() - started)
    // A dry run: reads only, so every run starts from the same remote state.
    const run = await spawnAction(bundle, fake, workspace, {
      path: 'tasks',
      'dry-run': 'true'
    })
    if (run.firstRequestMs !== undefined) action.push(run.firstRequestMs)
  }
  return { nodeMs: median(bare), actionMs: median(action) }
}

/** SIGINT once packaging runs (a first sync); how long the exit took. */
export async function cancelDuringPackaging(
  bundle: string,
  fake: FakeExh,
  workspace: string
): Promise<{ afterSignalMs: number; run: ActionRun }> {
  let signalled = 0
  const run = await spawnAction(
    bundle,
    fake,
    workspace,
    { path: 'tasks' },
    (pid, started) => {
      // The first request is the login: fingerprinting and packaging are
      // under way by then, and take seconds.
      const poll = setInterval(() => {
        if (fake.requests.length > 0 && performance.now() - started > 300) {
          clearInterval(poll)
          signalled = performance.now()
          process.kill(pid, 'SIGINT')
        }
      }, 10)
    }
  )
  return { afterSignalMs: performance.now() - signalled, run }
}

/** A workspace with one task whose folder holds one random file. */
export async function bigFileWorkspace(
  base: string,
  bytes: number
): Promise<string> {
  const root = path.join(base, `big-file-${bytes}`)
  const file = path.join(root, 'tasks', 'big', 'build', 'blob.bin')
  const exists = await stat(file).then(
    s => s.size === bytes,
    () => false
  )
  if (exists) return root
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(
    path.join(root, 'tasks', 'big', 'task-config.json'),
    JSON.stringify({
      name: 'big',
      path: 'build',
      entryPoint: 'index.handler',
      runtime: 'nodejs20.x'
    })
  )
  await new Promise<void>((resolve, reject) => {
    const head = spawn('sh', [
      '-c',
      `head -c ${bytes} /dev/urandom > "$0"`,
      file
    ])
    head.on('close', code => {
      if (code === 0) resolve()
      else reject(new Error(`head exited with ${String(code)}`))
    })
  })
  return root
}

/** A workspace of `count` tasks with one small file each. */
export async function smallTasksWorkspace(
  base: string,
  count: number
): Promise<string> {
  const root = path.join(base, `small-tasks-${count}`)
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, 'tasks', `small-${i}`)
    await mkdir(path.join(dir, 'build'), { recursive: true })
    await writeFile(
      path.join(dir, 'task-config.json'),
      JSON.stringify({
        name: `small-task-${i}`,
        path: 'build',
        entryPoint: 'index.handler',
        runtime: 'nodejs20.x'
      })
    )
    await writeFile(
      path.join(dir, 'build', 'index.js'),
      `exports.handler = () => ${i}\n`
    )
  }
  return root
}

/** `Stages: load 12 ms, ...` → { load: 12, ... } */
export function stagesOf(log: string): Record<string, number> {
  const line = /^Stages: (.*)$/m.exec(log)?.[1] ?? ''
  return Object.fromEntries(
    [...line.matchAll(/(\w+) (\d+) ms/g)].map(m => [m[1] ?? '', Number(m[2])])
  )
}

export interface ScenarioFigures {
  firstSyncMs: number
  noChangeMs: number
  oneChangedMs: number
  /** The changed task's share of the workspace's bytes. */
  changedShare: number
  peakRssMb: number
  largestZip: number
}

/** The bounds, ratios, start-up and cancel figures, as lines to print. */
export async function measureExtras(input: {
  bundle: string
  tasksRoot: string
  workspace: string
  scratch: string
  figures: ScenarioFigures
  startFake: () => Promise<FakeExh>
  level: number
  progress: (message: string) => void
}): Promise<{ lines: string[]; json: Record<string, unknown> }> {
  const { figures, progress } = input
  progress('bounds: deflate at level 6 on every core, one-thread read...')
  const deflate6 = await deflateBound(input.tasksRoot, 6)
  const deflateAction =
    input.level === 6
      ? deflate6
      : await deflateBound(input.tasksRoot, input.level)
  const read = readBound(input.tasksRoot)
  const fake = await input.startFake()
  try {
    progress('start-up: median of 5...')
    const small = await smallTasksWorkspace(input.scratch, 3)
    const start = await startUp(input.bundle, fake, small)
    progress('SIGINT during packaging of a first sync...')
    const cancel = await cancelDuringPackaging(
      input.bundle,
      fake,
      input.workspace
    )
    const oneChangedTarget =
      figures.noChangeMs + 1.5 * figures.changedShare * deflate6.ms + 300
    const rssTarget = (2 * figures.largestZip) / (1024 * 1024) + 150
    const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
    const json = {
      deflateBoundMs: { level6: deflate6.ms, action: deflateAction.ms },
      readBoundMs: read,
      firstSyncRatio: figures.firstSyncMs / deflate6.ms,
      noChangeRatio: figures.noChangeMs / read,
      oneChangedTargetMs: oneChangedTarget,
      peakRssTargetMb: rssTarget,
      startUp: start,
      cancel: {
        afterSignalMs: cancel.afterSignalMs,
        exitCode: cancel.run.exitCode,
        outputs: cancel.run.outputs.length > 0,
        summary: cancel.run.summary.length > 0
      }
    }
    const lines = [
      `bounds on the same bytes (${(deflate6.bytes / 2 ** 20).toFixed(1)} MB of files)`,
      `  deflate once, ${os.availableParallelism()} cores, level 6  ${s(deflate6.ms)} (→ ${(deflate6.deflated / 2 ** 20).toFixed(1)} MB)` +
        (input.level === 6
          ? ' (the action’s level)'
          : `; level ${input.level}: ${s(deflateAction.ms)}`),
      `  walk + lstat + read + sha256, one thread  ${s(read)}`,
      `ratios (issue 10 targets)`,
      `  first sync ÷ deflate bound   ${json.firstSyncRatio.toFixed(2)} (≤ 2)`,
      `  no change ÷ read bound       ${json.noChangeRatio.toFixed(2)} (≤ 2)`,
      `  one changed                  ${s(figures.oneChangedMs)} (≤ ${s(oneChangedTarget)}: no change + 1.5 × its deflate share + 0.3 s)`,
      `  peak RSS                     ${figures.peakRssMb.toFixed(0)} MB (≤ ${rssTarget.toFixed(0)} MB: 2 × largest zip + 150 MB)`,
      `start-up (median of 5)  node -e '' ${start.nodeMs.toFixed(0)} ms; action spawn → first request ${start.actionMs.toFixed(0)} ms (≤ node + 100 ms)`,
      `SIGINT during packaging  exit ${cancel.afterSignalMs.toFixed(0)} ms after the signal (≤ 5000), exit code ${cancel.run.exitCode}, outputs ${json.cancel.outputs ? 'written' : 'MISSING'}, summary ${json.cancel.summary ? 'written' : 'MISSING'}`
    ]
    return { lines, json }
  } finally {
    await fake.close()
  }
}

/** One task with a 2 GB random file: how fast and how small it fails. */
export async function measureBigFile(
  bundle: string,
  scratch: string,
  fake: FakeExh,
  progress: (message: string) => void
): Promise<string> {
  progress('a task with one 2 GB random file (generated once)...')
  const workspace = await bigFileWorkspace(scratch, 2 * 1024 ** 3)
  const run = await spawnAction(bundle, fake, workspace, { path: 'tasks' })
  const limited = /over the API's limit/.test(run.log)
  return `2 GB random file  ${(run.wallMs / 1000).toFixed(2)} s (< 10 s), peak RSS ${run.peakRssMb?.toFixed(0) ?? 'n/a'} MB (< 300 MB), exit code ${run.exitCode}, ${limited ? 'failed with the limit message' : 'NO limit message'}`
}

/** `count` one-file tasks, created then planned again: the plan stage. */
export async function measurePlan(
  bundle: string,
  scratch: string,
  fake: FakeExh,
  count: number,
  concurrency: number,
  progress: (message: string) => void
): Promise<string> {
  progress(
    `${count} small tasks: first sync, then a plan with nothing changed...`
  )
  const workspace = await smallTasksWorkspace(scratch, count)
  const inputs = { path: 'tasks', concurrency: String(concurrency) }
  const first = await spawnAction(bundle, fake, workspace, inputs)
  const again = await spawnAction(bundle, fake, workspace, inputs)
  const plan = stagesOf(again.log).plan ?? NaN
  return `${count} small tasks  first sync ${(first.wallMs / 1000).toFixed(2)} s (exit ${first.exitCode}); no change ${(again.wallMs / 1000).toFixed(2)} s, plan stage ${plan} ms, ${fake.requests.length} requests`
}
