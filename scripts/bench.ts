// `npm run bench`: measures the bundled action (dist/index.js, run as the
// GitHub runner runs it) on many realistic tasks against the local fake Extra
// Horizon API with a per-request latency, in three scenarios: first sync (all
// create), re-sync with nothing changed, re-sync after one file of one task
// changed. Reports wall time, peak memory of the action process, and the
// stage times it logs (`Stages: ...`): zipping is the package stage, waiting
// on the API is plan + apply.
//
//   npm run bench -- [--tasks 20] [--latency-ms 50] [--concurrency 4]
//                    [--runs 1] [--json] [--regenerate]
//                    [--big-file] [--plan-tasks 300] [--distinct]
//
// Beside the scenarios it prints, on the same bytes, the bounds the action is
// measured against (deflate once on all cores; walk, lstat, read and sha256
// once on one thread) and their ratios, start-up time, and a SIGINT during
// packaging (see bench-extra.ts). docs/benchmark.md has the latest figures.
//
// `--concurrency` also takes a list (`1,4,8`) to compare values in one go.
// The workspace is generated once under .bench/ (git-ignored) from packages
// in this repository's node_modules, so no network is needed.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import {
  copyFile,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  readdir,
  rm,
  symlink,
  writeFile
} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import {
  startFakeExh,
  type FakeExh,
  type FakeExhOptions
} from '../test/fake-exh/server.js'
import { DIST, runAction } from '../test/support/run-action.js'
import { COMPRESSION_LEVEL } from '../src/package/zip.js'
import { measureBigFile, measureExtras, measurePlan } from './bench-extra.js'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const NODE_MODULES = path.join(REPO, 'node_modules')
const BENCH_DIR = path.join(REPO, '.bench')
/** Bump when the generated layout changes: older caches are rebuilt. */
const LAYOUT_VERSION = 1
const MANIFEST = 'bench-manifest.json'
const TASKS_FOLDER = 'tasks'

// ── Options ─────────────────────────────────────────────────────────────────

interface Options {
  tasks: number
  latencyMs: number
  concurrency: number[]
  runs: number
  json: boolean
  regenerate: boolean
  bigFile: boolean
  planTasks: number
  distinct: boolean
  /** A git revision whose committed `dist/` runs the same rounds, interleaved. */
  baseline?: string
}

const USAGE = `Usage: npm run bench -- [options]
  --tasks N          tasks in the generated workspace (default 20)
  --latency-ms N     delay the fake API adds to every request (default 50)
  --concurrency N    the action's concurrency input; a list (1,4,8) compares
                     several (default 4, the action's default)
  --runs N           repeat each scenario N times, report the median (default 1)
  --json             print the results as JSON instead of a table
  --regenerate       rebuild the cached workspace under .bench/
  --big-file         also run one task holding a 2 GB random file
  --plan-tasks N     also run N one-file tasks twice and report the plan stage
  --distinct         every task's files differ from every other task's (a
                     line naming the task is appended to each), so nothing
                     is deflated once for several tasks
  --baseline REV     also run the committed dist/ of git revision REV (the
                     previous commit: HEAD~1), round by round in turns with
                     this bundle, and print both side by side`

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      tasks: { type: 'string', default: '20' },
      'big-file': { type: 'boolean', default: false },
      'plan-tasks': { type: 'string', default: '0' },
      'latency-ms': { type: 'string', default: '50' },
      concurrency: { type: 'string', default: '4' },
      runs: { type: 'string', default: '1' },
      json: { type: 'boolean', default: false },
      regenerate: { type: 'boolean', default: false },
      distinct: { type: 'boolean', default: false },
      baseline: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help) {
    console.log(USAGE)
    process.exit(0)
  }
  return {
    tasks: integer('--tasks', values.tasks, 1),
    latencyMs: integer('--latency-ms', values['latency-ms'], 0),
    concurrency: values.concurrency
      .split(',')
      .map(value => integer('--concurrency', value.trim(), 1)),
    runs: integer('--runs', values.runs, 1),
    json: values.json,
    regenerate: values.regenerate,
    bigFile: values['big-file'],
    planTasks: integer('--plan-tasks', values['plan-tasks'], 0),
    distinct: values.distinct,
    baseline: values.baseline
  }
}

function integer(flag: string, value: string, min: number): number {
  const number = Number(value)
  if (!/^\d+$/.test(value) || number < min) {
    console.error(`${flag} must be a whole number >= ${min}, got "${value}"`)
    console.error(USAGE)
    process.exit(2)
  }
  return number
}

function progress(message: string): void {
  process.stderr.write(`${message}\n`)
}

// ── Workspace generation ────────────────────────────────────────────────────

/**
 * What every task ships: the Extra Horizon SDK and its production
 * dependencies (a task that talks to the platform needs it).
 */
const CORE_PACKAGES = [
  '@extrahorizon/javascript-sdk',
  'axios',
  'asynckit',
  'base64-js',
  'buffer',
  'call-bind-apply-helpers',
  'call-bound',
  'combined-stream',
  'delayed-stream',
  'dunder-proto',
  'es-define-property',
  'es-errors',
  'es-object-atoms',
  'es-set-tostringtag',
  'fflate',
  'follow-redirects',
  'form-data',
  'function-bind',
  'get-intrinsic',
  'get-proto',
  'gopd',
  'has-symbols',
  'has-tostringtag',
  'hasown',
  'ieee754',
  'math-intrinsics',
  'mime-db',
  'mime-types',
  'object-inspect',
  'platform-specific',
  'proxy-from-env',
  'qs',
  'side-channel',
  'side-channel-list',
  'side-channel-map',
  'side-channel-weakmap',
  'typescript-json-decoder'
]

/** Optional groups of pure-JS packages, each taken by a share of the tasks. */
const FEATURES: { packages: string[]; chance: number }[] = [
  {
    packages: [
      'ajv',
      'fast-deep-equal',
      'fast-uri',
      'json-schema-traverse',
      'require-from-string'
    ],
    chance: 0.6
  },
  { packages: ['uri-js', 'punycode'], chance: 0.4 },
  { packages: ['undici', 'tunnel', '@actions/http-client'], chance: 0.5 },
  {
    packages: [
      '@actions/core',
      '@actions/exec',
      '@actions/io',
      '@actions/github',
      '@octokit/auth-token',
      '@octokit/core',
      '@octokit/endpoint',
      '@octokit/graphql',
      '@octokit/request',
      '@octokit/request-error',
      '@octokit/types',
      'before-after-hook',
      'universal-user-agent',
      'json-with-bigint'
    ],
    chance: 0.3
  },
  { packages: ['adm-zip'], chance: 0.3 },
  { packages: ['jsonc-parser', 'semver'], chance: 0.5 },
  {
    packages: ['minimatch', 'brace-expansion', 'balanced-match', 'picomatch'],
    chance: 0.4
  },
  { packages: ['debug', 'ms', 'nanoid'], chance: 0.5 }
]

/** Packages that often end up twice (another version nested under a dependent). */
const DUPLICATED = ['ajv', 'axios', 'undici', 'semver', 'qs', 'uri-js']

interface TreeStats {
  files: number
  folders: number
  symlinks: number
  bytes: number
}

interface TaskStats extends TreeStats {
  name: string
  packages: number
}

interface Manifest {
  version: number
  tasks: number
  generatedMs: number
  total: TreeStats
  perTask: TaskStats[]
}

/** A small seeded generator, so the same task count gives the same workspace. */
function random(seed: number): () => number {
  let state = (seed * 2654435761 + 0x9e3779b9) >>> 0
  return () => {
    state ^= state << 13
    state >>>= 0
    state ^= state >>> 17
    state ^= state << 5
    state >>>= 0
    return state / 0x100000000
  }
}

function taskName(index: number): string {
  return `bench-task-${String(index + 1).padStart(3, '0')}`
}

async function prepareWorkspace(options: Options): Promise<{
  root: string
  manifest: Manifest
}> {
  const root = path.join(
    BENCH_DIR,
    `workspace-v${LAYOUT_VERSION}-${options.tasks}-tasks${options.distinct ? '-distinct' : ''}`
  )
  const manifestFile = path.join(root, MANIFEST)
  if (!options.regenerate && existsSync(manifestFile)) {
    const manifest = JSON.parse(
      await readFile(manifestFile, 'utf8')
    ) as Manifest
    if (manifest.version === LAYOUT_VERSION) {
      progress(`Using the cached workspace ${path.relative(REPO, root)}`)
      return { root, manifest }
    }
  }
  progress(
    `Generating ${options.tasks} tasks under ${path.relative(REPO, root)} (once)...`
  )
  const started = performance.now()
  await rm(root, { recursive: true, force: true })
  const available = (names: string[]): string[] =>
    names.filter(name =>
      existsSync(path.join(NODE_MODULES, name, 'package.json'))
    )
  const core = available(CORE_PACKAGES)
  const features = FEATURES.map(feature => available(feature.packages))
  const duplicated = available(DUPLICATED)
  const sources = await bundleSources([...core, ...features.flat()])
  const perTask: TaskStats[] = []
  for (let index = 0; index < options.tasks; index++) {
    const next = random(index + 1)
    const chosen = [...core]
    FEATURES.forEach((feature, i) => {
      if (next() < feature.chance) chosen.push(...(features[i] ?? []))
    })
    const nested: { under: string; name: string }[] = []
    for (const name of duplicated) {
      if (next() < 0.35) {
        const under = chosen[Math.floor(next() * chosen.length)] ?? 'axios'
        nested.push({ under, name })
      }
    }
    const name = taskName(index)
    const taskDir = path.join(root, TASKS_FOLDER, name)
    const build = path.join(taskDir, 'build')
    await writeTask(taskDir, name, index)
    await writeBundle(build, name, sources, next)
    await copyPackages(
      build,
      chosen,
      nested,
      options.distinct ? `\n// ${name}\n` : undefined
    )
    perTask.push({
      name,
      packages: chosen.length + nested.length,
      ...(await treeStats(build))
    })
    if ((index + 1) % 10 === 0 || index + 1 === options.tasks) {
      progress(`  ${index + 1}/${options.tasks} tasks written`)
    }
  }
  const manifest: Manifest = {
    version: LAYOUT_VERSION,
    tasks: options.tasks,
    generatedMs: Math.round(performance.now() - started),
    total: sumStats(perTask),
    perTask
  }
  // Written last: a half-generated workspace has none and is rebuilt.
  await writeFile(manifestFile, JSON.stringify(manifest, null, 2) + '\n')
  return { root, manifest }
}

async function writeTask(
  taskDir: string,
  name: string,
  index: number
): Promise<void> {
  await mkdir(path.join(taskDir, 'build'), { recursive: true })
  const config = {
    name,
    description: `Benchmark task ${index + 1}`,
    path: 'build',
    entryPoint: 'index.handler',
    runtime: 'nodejs20.x',
    timeLimit: 30 + (index % 4) * 30,
    memoryLimit: 128 * (1 + (index % 3)),
    environment: {
      LOG_LEVEL: index % 2 ? 'info' : 'debug',
      SERVICE_API_KEY: '$BENCH_SERVICE_API_KEY'
    }
  }
  await writeFile(
    path.join(taskDir, 'task-config.json'),
    JSON.stringify(config, null, 2) + '\n'
  )
  await writeFile(
    path.join(taskDir, 'build', 'package.json'),
    JSON.stringify({ name, private: true, main: 'index.js' }, null, 2) + '\n'
  )
}

/** Real JavaScript to bundle: the packages' .js/.cjs files. */
async function bundleSources(packages: string[]): Promise<string[]> {
  const files: string[] = []
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) await visit(full)
      else if (entry.isFile() && /\.c?js$/.test(entry.name)) files.push(full)
    }
  }
  for (const name of packages) await visit(path.join(NODE_MODULES, name))
  return files.sort()
}

/** A bundled `index.js` of 150-500 KB: real modules in a task-specific mix. */
async function writeBundle(
  build: string,
  name: string,
  sources: string[],
  next: () => number
): Promise<void> {
  const target = 150_000 + Math.floor(next() * 350_000)
  const parts = [
    `// ${name}: bundled for the exh-tasks-action benchmark\n'use strict'\nconst __modules = {}\n`
  ]
  let size = parts[0]?.length ?? 0
  for (let i = 0; size < target && i < 10 * sources.length; i++) {
    const file = sources[Math.floor(next() * sources.length)]
    if (file === undefined) break
    const text = await readFile(file, 'utf8')
    const id = path.relative(NODE_MODULES, file)
    const part = `__modules[${JSON.stringify(id)}] = function (module, exports, require) {\n${text}\n}\n`
    parts.push(part)
    size += part.length
  }
  parts.push(
    `exports.handler = async event => ({ task: ${JSON.stringify(name)}, modules: Object.keys(__modules).length, event })\n`
  )
  await writeFile(path.join(build, 'index.js'), parts.join(''))
}

/** `trailer`, when given, is appended to every copied file. */
async function copyPackages(
  build: string,
  chosen: string[],
  nested: { under: string; name: string }[],
  trailer?: string
): Promise<void> {
  const modules = path.join(build, 'node_modules')
  const copies = [
    ...chosen.map(name => ({ name, to: path.join(modules, name) })),
    ...nested.map(({ under, name }) => ({
      name,
      to: path.join(modules, under, 'node_modules', name)
    }))
  ]
  const jobs: { from: string; to: string }[] = []
  for (const { name, to } of copies) {
    await listCopies(path.join(NODE_MODULES, name), to, jobs)
  }
  await inPool(jobs, 32, async job => {
    await mkdir(path.dirname(job.to), { recursive: true })
    if (trailer === undefined) await copyFile(job.from, job.to)
    else
      await writeFile(
        job.to,
        Buffer.concat([await readFile(job.from), Buffer.from(trailer)])
      )
  })
  // `.bin` links, as npm makes them: relative, inside the folder.
  for (const name of chosen) {
    const manifest = JSON.parse(
      await readFile(path.join(NODE_MODULES, name, 'package.json'), 'utf8')
    ) as { bin?: string | Record<string, string> }
    const bins =
      typeof manifest.bin === 'string'
        ? { [path.basename(name)]: manifest.bin }
        : (manifest.bin ?? {})
    for (const [bin, target] of Object.entries(bins)) {
      const link = path.join(modules, '.bin', bin)
      if (!existsSync(path.join(modules, name, target))) continue
      await mkdir(path.dirname(link), { recursive: true })
      await rm(link, { force: true })
      await symlink(path.posix.join('..', name, target), link)
    }
  }
}

/** Regular files only: links inside packages are left out. */
async function listCopies(
  from: string,
  to: string,
  jobs: { from: string; to: string }[]
): Promise<void> {
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = path.join(from, entry.name)
    const target = path.join(to, entry.name)
    if (entry.isDirectory()) await listCopies(source, target, jobs)
    else if (entry.isFile()) jobs.push({ from: source, to: target })
  }
}

async function treeStats(dir: string): Promise<TreeStats> {
  const stats: TreeStats = { files: 0, folders: 0, symlinks: 0, bytes: 0 }
  const visit = async (current: string): Promise<void> => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name)
      if (entry.isDirectory()) {
        stats.folders++
        await visit(full)
      } else if (entry.isSymbolicLink()) {
        stats.symlinks++
      } else {
        stats.files++
        stats.bytes += (await lstat(full)).size
      }
    }
  }
  await visit(dir)
  return stats
}

function sumStats(items: TreeStats[]): TreeStats {
  return items.reduce(
    (sum, item) => ({
      files: sum.files + item.files,
      folders: sum.folders + item.folders,
      symlinks: sum.symlinks + item.symlinks,
      bytes: sum.bytes + item.bytes
    }),
    { files: 0, folders: 0, symlinks: 0, bytes: 0 }
  )
}

async function inPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T
      await work(item)
    }
  }
  await Promise.all(Array.from({ length: limit }, worker))
}

// ── Running the action ──────────────────────────────────────────────────────

type Scenario = 'first sync' | 'no change' | 'one changed'
const SCENARIOS: Scenario[] = ['first sync', 'no change', 'one changed']

/** How the action process's peak memory is read. */
type MemoryMethod = 'gnu-time' | 'proc-poll' | 'none'

interface Sample {
  wallMs: number
  /** Peak resident set of the action process, in MB. */
  peakRssMb?: number
  /** User + system CPU of the action process (GNU time only), in ms. */
  cpuMs?: number
  stages: Record<string, number>
  created: number
  updated: number
  unchanged: number
  failed: number
  /** Requests the fake API answered, and how many of them wrote. */
  requests: number
  writes: number
  /** Time the fake spent on requests beyond the injected latency, summed. */
  serverMs: number
  /** Total zip bytes uploaded. */
  zipBytes: number
  /** The largest zip uploaded. */
  largestZip: number
}

async function detectMemoryMethod(): Promise<MemoryMethod> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'exh-bench-'))
  try {
    const out = path.join(dir, 'time')
    await promisify(execFile)('/usr/bin/time', [
      '-f',
      '%M %U %S',
      '-o',
      out,
      process.execPath,
      '-e',
      ''
    ])
    if (/^\d+ [\d.]+ [\d.]+\s*$/.test(await readFile(out, 'utf8'))) {
      return 'gnu-time'
    }
  } catch {
    // not GNU time (or none): fall back to polling /proc
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return existsSync('/proc/self/status') ? 'proc-poll' : 'none'
}

const MEMORY_METHODS: Record<MemoryMethod, string> = {
  'gnu-time': 'max RSS from /usr/bin/time (getrusage of the action process)',
  'proc-poll': 'VmHWM of /proc/<pid>/status, polled every 20 ms',
  none: 'not measured on this platform'
}

/** One run of the bundle as the runner runs it (test support), measured. */
async function measureRun(
  fake: FakeExh,
  workspace: string,
  concurrency: number,
  memory: MemoryMethod,
  latencyMs: number,
  script: string
): Promise<Sample> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'exh-bench-'))
  const timeFile = path.join(dir, 'time')
  let polledKb = 0
  let poll: NodeJS.Timeout | undefined
  fake.clearLog()
  try {
    const run = await runAction({
      workspace,
      script,
      env: {
        GITHUB_REPOSITORY: 'org/bench-tasks',
        BENCH_SERVICE_API_KEY: 'bench-service-key-0123456789'
      },
      inputs: {
        path: TASKS_FOLDER,
        host: fake.url,
        'consumer-key': fake.consumer.key,
        'consumer-secret': fake.consumer.secret,
        token: fake.admin.token,
        'token-secret': fake.admin.tokenSecret,
        concurrency: String(concurrency)
      },
      wrap:
        memory === 'gnu-time'
          ? (node, script) => [
              '/usr/bin/time',
              ['-f', '%M %U %S', '-o', timeFile, node, script]
            ]
          : undefined,
      onStart: pid => {
        if (memory !== 'proc-poll' || pid === undefined) return
        poll = setInterval(() => {
          readFile(`/proc/${pid}/status`, 'utf8')
            .then(status => {
              const kb = Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0)
              polledKb = Math.max(polledKb, kb)
            })
            .catch(() => undefined)
        }, 20)
      }
    })
    clearInterval(poll)
    if (run.exitCode !== 0) {
      throw new Error(
        `the action exited with ${run.exitCode}:\n${tail(run.log)}`
      )
    }
    const { outputs, result } = run
    let peakRssMb = polledKb ? polledKb / 1024 : undefined
    let cpuMs: number | undefined
    if (memory === 'gnu-time') {
      const [kb = 0, user = 0, system = 0] = (await readFile(timeFile, 'utf8'))
        .trim()
        .split(' ')
        .map(Number)
      peakRssMb = kb / 1024
      cpuMs = (user + system) * 1000
    }
    return {
      wallMs: run.wallMs,
      peakRssMb,
      cpuMs,
      stages: parseStages(run.log),
      created: Number(outputs.created ?? 0),
      updated: Number(outputs.updated ?? 0),
      unchanged: Number(outputs.unchanged ?? 0),
      failed: Number(outputs.failed ?? 0),
      requests: fake.requests.length,
      writes: fake.writeRequests().length,
      serverMs: fake.requests.reduce(
        (sum, r) => sum + Math.max(0, r.endedAt - r.startedAt - latencyMs),
        0
      ),
      zipBytes: result.reduce((sum, r) => sum + (r.bytes ?? 0), 0),
      largestZip: Math.max(0, ...result.map(r => r.bytes ?? 0))
    }
  } finally {
    clearInterval(poll)
    await rm(dir, { recursive: true, force: true })
  }
}

/** `Stages: load 12 ms, fingerprint 340 ms, ...` → { load: 12, ... } */
function parseStages(log: string): Record<string, number> {
  const line = /^Stages: (.*)$/m.exec(log)?.[1]
  if (line === undefined) throw new Error(`no Stages line:\n${tail(log)}`)
  const stages: Record<string, number> = {}
  for (const match of line.matchAll(/(\w+) (\d+) ms/g)) {
    stages[match[1] ?? ''] = Number(match[2])
  }
  return stages
}

function tail(log: string): string {
  return log.split('\n').slice(-40).join('\n')
}

/** The counts each scenario must give, or the numbers mean nothing. */
function check(scenario: Scenario, sample: Sample, tasks: number): void {
  const expected: Record<Scenario, [number, number, number]> = {
    'first sync': [tasks, 0, 0],
    'no change': [0, 0, tasks],
    'one changed': [0, 1, tasks - 1]
  }
  const [created, updated, unchanged] = expected[scenario]
  if (
    sample.created !== created ||
    sample.updated !== updated ||
    sample.unchanged !== unchanged ||
    sample.failed !== 0
  ) {
    throw new Error(
      `${scenario}: expected ${created} created, ${updated} updated, ${unchanged} unchanged, 0 failed; got ${sample.created}, ${sample.updated}, ${sample.unchanged}, ${sample.failed}`
    )
  }
}

/**
 * The fake keeps no bodies and checks only each zip's end record: inflating
 * every uploaded zip cost it seconds of CPU on the action's own cores.
 */
function fakeOptions(options: Options): FakeExhOptions {
  return {
    latencyMs: options.latencyMs,
    logBodies: false,
    zipCheck: 'directory'
  }
}

/** One round: a fresh (empty) fake API, then the three scenarios in order. */
async function round(
  workspace: string,
  options: Options,
  concurrency: number,
  memory: MemoryMethod,
  script = SNAPSHOT
): Promise<Record<Scenario, Sample>> {
  const fake = await startFakeExh(fakeOptions(options))
  try {
    const first = await measureRun(
      fake,
      workspace,
      concurrency,
      memory,
      options.latencyMs,
      script
    )
    check('first sync', first, options.tasks)
    const again = await measureRun(
      fake,
      workspace,
      concurrency,
      memory,
      options.latencyMs,
      script
    )
    check('no change', again, options.tasks)
    // One rebuilt bundle in the middle task; restored afterwards so the cache
    // stays as generated.
    const changed = path.join(
      workspace,
      TASKS_FOLDER,
      taskName(Math.floor(options.tasks / 2)),
      'build',
      'index.js'
    )
    const original = await readFile(changed)
    let one: Sample
    try {
      await writeFile(
        changed,
        Buffer.concat([original, Buffer.from(`// edit ${Date.now()}\n`)])
      )
      one = await measureRun(
        fake,
        workspace,
        concurrency,
        memory,
        options.latencyMs,
        script
      )
    } finally {
      await writeFile(changed, original)
    }
    check('one changed', one, options.tasks)
    return { 'first sync': first, 'no change': again, 'one changed': one }
  } finally {
    await fake.close()
  }
}

// ── Reporting ───────────────────────────────────────────────────────────────

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2
}

function medianOf(samples: Sample[], pick: (s: Sample) => number | undefined) {
  const values = samples.map(pick).filter((v): v is number => v !== undefined)
  return values.length ? median(values) : undefined
}

interface Row {
  concurrency: number
  scenario: Scenario
  runs: number
  wallMs: number
  peakRssMb: number | undefined
  cpuMs: number | undefined
  stages: Record<string, number>
  /** package stage */
  zipMs: number
  /** plan + apply stages */
  apiMs: number
  created: number
  updated: number
  unchanged: number
  requests: number
  writes: number
  serverMs: number
  zipBytes: number
  /** Every run, for the spread behind the medians. */
  samples: Sample[]
}

function summarize(
  concurrency: number,
  scenario: Scenario,
  samples: Sample[]
): Row {
  const m = (pick: (s: Sample) => number | undefined): number =>
    medianOf(samples, pick) ?? 0
  const stageNames = [...new Set(samples.flatMap(s => Object.keys(s.stages)))]
  const stages = Object.fromEntries(
    stageNames.map(name => [name, m(s => s.stages[name])])
  )
  return {
    concurrency,
    scenario,
    runs: samples.length,
    wallMs: m(s => s.wallMs),
    peakRssMb: medianOf(samples, s => s.peakRssMb),
    cpuMs: medianOf(samples, s => s.cpuMs),
    stages,
    zipMs: m(s => s.stages.package ?? 0),
    apiMs: m(s => (s.stages.plan ?? 0) + (s.stages.apply ?? 0)),
    created: m(s => s.created),
    updated: m(s => s.updated),
    unchanged: m(s => s.unchanged),
    requests: m(s => s.requests),
    writes: m(s => s.writes),
    serverMs: m(s => s.serverMs),
    zipBytes: m(s => s.zipBytes),
    samples
  }
}

const MB = 1024 * 1024

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`
}

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US')
}

function range(values: number[], format: (n: number) => string): string {
  return `${format(Math.min(...values))}–${format(median(values))}–${format(Math.max(...values))}`
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map(row => (row[i] ?? '').length))
  )
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) =>
        i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)
      )
      .join('  ')
      .trimEnd()
  return [
    line(header),
    widths.map(w => '─'.repeat(w)).join('  '),
    ...rows.map(line)
  ].join('\n')
}

function printReport(
  options: Options,
  manifest: Manifest,
  memory: MemoryMethod,
  conditions: Conditions,
  rows: Row[]
): void {
  const { total, perTask } = manifest
  const cpu = os.cpus()
  console.log(`
exh-tasks-action benchmark (the bundled action, run as the GitHub runner runs it)
  machine     ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, Node ${process.version}
  workspace   ${manifest.tasks} tasks: ${count(total.files)} files + ${count(total.symlinks)} links in ${count(total.folders)} folders, ${mb(total.bytes)}${options.distinct ? ', no file shared between tasks (--distinct)' : ''}
              per task (min–median–max): ${range(
                perTask.map(t => t.files + t.symlinks),
                count
              )} files, ${range(
                perTask.map(t => t.bytes),
                mb
              )}, ${range(
                perTask.map(t => t.packages),
                count
              )} packages
  fake API    in this process, ${options.latencyMs} ms added to every request, zips checked by their end record only
  memory      ${MEMORY_METHODS[memory]}
  runs        ${options.runs === 1 ? '1 per scenario' : `${options.runs} per scenario, medians shown`}
  dist        index.js sha256 ${conditions.dist}… (copied at start, so a rebuild during the run does not mix builds)
  load        1-minute load average ${conditions.loadBefore.toFixed(2)} before, ${conditions.loadAfter.toFixed(2)} after${busy(conditions) ? ' (other work was competing for the CPUs: times are inflated)' : ''}
`)
  const header = [
    'scenario',
    'conc',
    'wall s',
    'peak RSS',
    'CPU s',
    'load ms',
    'fprint ms',
    'plan ms',
    'zip ms',
    'apply ms',
    'API ms',
    'fake ms',
    'new/upd/same',
    'requests',
    'writes',
    'uploaded'
  ]
  const body = rows.map(row => [
    row.scenario,
    String(row.concurrency),
    (row.wallMs / 1000).toFixed(2),
    row.peakRssMb === undefined ? 'n/a' : `${row.peakRssMb.toFixed(0)} MB`,
    row.cpuMs === undefined ? 'n/a' : (row.cpuMs / 1000).toFixed(2),
    count(row.stages.load ?? 0),
    count(row.stages.fingerprint ?? 0),
    count(row.stages.plan ?? 0),
    count(row.zipMs),
    count(row.stages.apply ?? 0),
    count(row.apiMs),
    count(row.serverMs),
    `${count(row.created)}/${count(row.updated)}/${count(row.unchanged)}`,
    count(row.requests),
    count(row.writes),
    mb(row.zipBytes)
  ])
  console.log(table(header, body))
  console.log(`
  wall      spawn to exit of \`node dist/index.js\`, Node start-up included
  CPU       user + system time of the action process (> wall: zlib threads)
  stages    from the action's \`Stages:\` log line; zip = package stage,
            API = plan + apply (plan: listing + getByName per existing task;
            apply: base64 + upload; both include the fake's own work)
  fake      time the fake API spent on requests beyond the added latency
            (reading bodies, checking zips), summed over requests
  requests  answered by the fake API; writes = POST/PUT/DELETE`)
}

/** What could make the numbers wrong without failing the run. */
interface Conditions {
  /** sha256 of dist/index.js (12 hex digits) when the bench started. */
  dist: string
  loadBefore: number
  loadAfter: number
}

/** The bundle as built now, run from .bench/dist: what is measured stays put. */
const SNAPSHOT = path.join(BENCH_DIR, 'dist', 'index.js')

async function snapshotDist(): Promise<string> {
  const dir = path.dirname(DIST)
  await rm(path.dirname(SNAPSHOT), { recursive: true, force: true })
  await mkdir(path.dirname(SNAPSHOT), { recursive: true })
  for (const name of await readdir(dir)) {
    await copyFile(
      path.join(dir, name),
      path.join(path.dirname(SNAPSHOT), name)
    )
  }
  return createHash('sha256')
    .update(await readFile(SNAPSHOT))
    .digest('hex')
    .slice(0, 12)
}

/**
 * The bundle revision `revision` committed (its `dist/` is the bundle of
 * its `src/`), under .bench/baseline-<sha>/: what the previous commit shipped.
 */
async function baselineDist(revision: string): Promise<string> {
  const run = promisify(execFile)
  const { stdout } = await run(
    'git',
    ['rev-parse', '--verify', `${revision}^{commit}`],
    { cwd: REPO }
  )
  const sha = stdout.trim()
  const dir = path.join(BENCH_DIR, `baseline-${sha.slice(0, 12)}`)
  const script = path.join(dir, 'dist', 'index.js')
  if (!existsSync(script)) {
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    // `sha` is what git printed for a commit: 40 hex digits.
    await run('sh', ['-c', `git archive ${sha} dist | tar -x -C "$0"`, dir], {
      cwd: REPO
    })
  }
  return script
}

/** This bundle beside the baseline's, scenario by scenario (same run, same bytes). */
function comparison(rows: Row[], base: Row[], revision: string): string {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
  const rss = (row: Row | undefined): string =>
    row?.peakRssMb === undefined ? 'n/a' : row.peakRssMb.toFixed(0)
  const lines = rows.map(row => {
    const before = base.find(
      b => b.scenario === row.scenario && b.concurrency === row.concurrency
    )
    return [
      `${row.scenario} (c=${row.concurrency})`,
      seconds(row.wallMs),
      before ? seconds(before.wallMs) : 'n/a',
      before ? `${(row.wallMs / before.wallMs).toFixed(2)} ×` : 'n/a',
      `${rss(row)} / ${rss(before)} MB`
    ]
  })
  return [
    `\nThis bundle against ${revision}'s (medians, rounds taken in turns):`,
    table(
      ['scenario', 'this', revision, 'ratio', 'peak RSS this / base'],
      lines
    )
  ].join('\n')
}

/** The bench alone keeps the load under ~1 per core on average. */
function busy(conditions: Conditions): boolean {
  return conditions.loadBefore > Math.max(1, os.cpus().length / 2)
}

// ── Main ────────────────────────────────────────────────────────────────────

const options = readOptions()
if (!existsSync(DIST)) {
  console.error('dist/index.js is missing: run `npm run build` first')
  process.exit(1)
}
const dist = await snapshotDist()
const { root, manifest } = await prepareWorkspace(options)
const memory = await detectMemoryMethod()
const conditions: Conditions = {
  dist,
  loadBefore: os.loadavg()[0] ?? 0,
  loadAfter: 0
}
const rows: Row[] = []
const baselineRows: Row[] = []
const baseline =
  options.baseline === undefined
    ? undefined
    : await baselineDist(options.baseline)
const started = performance.now()
for (const concurrency of options.concurrency) {
  const samples: Record<Scenario, Sample[]> = {
    'first sync': [],
    'no change': [],
    'one changed': []
  }
  const baseSamples: Record<Scenario, Sample[]> = {
    'first sync': [],
    'no change': [],
    'one changed': []
  }
  for (let run = 1; run <= options.runs; run++) {
    progress(
      `concurrency ${concurrency}, run ${run}/${options.runs}: first sync, no change, one changed...`
    )
    // In turns, the baseline first every other run: neither gets the warmer cache.
    if (baseline && run % 2 === 1) {
      await baselineRound(baseline, concurrency, baseSamples)
    }
    const result = await round(root, options, concurrency, memory)
    if (baseline && run % 2 === 0) {
      await baselineRound(baseline, concurrency, baseSamples)
    }
    for (const scenario of SCENARIOS) {
      const sample = result[scenario]
      samples[scenario].push(sample)
      progress(
        `  ${scenario.padEnd(11)} ${(sample.wallMs / 1000).toFixed(2)} s, ` +
          `peak RSS ${sample.peakRssMb?.toFixed(0) ?? 'n/a'} MB, ` +
          Object.entries(sample.stages)
            .map(([stage, ms]) => `${stage} ${ms}`)
            .join(', ')
      )
    }
  }
  for (const scenario of SCENARIOS) {
    rows.push(summarize(concurrency, scenario, samples[scenario]))
    if (baseline) {
      baselineRows.push(summarize(concurrency, scenario, baseSamples[scenario]))
    }
  }
}

async function baselineRound(
  script: string,
  concurrency: number,
  into: Record<Scenario, Sample[]>
): Promise<void> {
  const result = await round(root, options, concurrency, memory, script)
  for (const scenario of SCENARIOS) into[scenario].push(result[scenario])
  progress(
    `  baseline: ${SCENARIOS.map(s => `${s} ${(result[s].wallMs / 1000).toFixed(2)} s`).join(', ')}`
  )
}
progress(
  `Measured in ${((performance.now() - started) / 1000).toFixed(1)} s` +
    (manifest.generatedMs
      ? ` (workspace generated once in ${(manifest.generatedMs / 1000).toFixed(1)} s)`
      : '')
)
const at = (scenario: Scenario): Row | undefined =>
  rows.find(
    row =>
      row.scenario === scenario && row.concurrency === options.concurrency[0]
  )
const changedTask = manifest.perTask[Math.floor(options.tasks / 2)]
const extras = await measureExtras({
  bundle: SNAPSHOT,
  tasksRoot: path.join(root, TASKS_FOLDER),
  workspace: root,
  scratch: BENCH_DIR,
  level: COMPRESSION_LEVEL,
  progress,
  startFake: () => startFakeExh(fakeOptions(options)),
  figures: {
    firstSyncMs: at('first sync')?.wallMs ?? NaN,
    noChangeMs: at('no change')?.wallMs ?? NaN,
    oneChangedMs: at('one changed')?.wallMs ?? NaN,
    changedShare: (changedTask?.bytes ?? 0) / manifest.total.bytes,
    peakRssMb: Math.max(...rows.map(row => row.peakRssMb ?? 0)),
    largestZip: Math.max(
      ...rows.flatMap(row => row.samples.map(s => s.largestZip))
    )
  }
})
if (options.bigFile || options.planTasks) {
  const fake = await startFakeExh(fakeOptions(options))
  try {
    if (options.bigFile) {
      extras.lines.push(
        await measureBigFile(SNAPSHOT, BENCH_DIR, fake, progress)
      )
    }
    if (options.planTasks) {
      extras.lines.push(
        await measurePlan(
          SNAPSHOT,
          BENCH_DIR,
          fake,
          options.planTasks,
          options.concurrency[0] ?? 4,
          progress
        )
      )
    }
  } finally {
    await fake.close()
  }
}
conditions.loadAfter = os.loadavg()[0] ?? 0
if (options.json) {
  console.log(
    JSON.stringify(
      {
        node: process.version,
        cpus: os.cpus().length,
        latencyMs: options.latencyMs,
        runs: options.runs,
        memoryMethod: memory,
        ...conditions,
        workspace: {
          path: path.relative(REPO, root),
          tasks: manifest.tasks,
          ...manifest.total,
          perTask: manifest.perTask
        },
        results: rows,
        ...(options.baseline
          ? { baseline: { revision: options.baseline, results: baselineRows } }
          : {}),
        extras: extras.json
      },
      null,
      2
    )
  )
} else {
  printReport(options, manifest, memory, conditions, rows)
  if (options.baseline) {
    console.log(comparison(rows, baselineRows, options.baseline))
  }
  console.log(['', ...extras.lines].join('\n'))
}
