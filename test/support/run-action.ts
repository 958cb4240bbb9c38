import { spawn } from 'node:child_process'
import {
  mkdtemp,
  readFile,
  readdir,
  rm,
  stat,
  writeFile
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'

export const DIST = fileURLToPath(
  new URL('../../dist/index.js', import.meta.url)
)

export interface ActionRun {
  exitCode: number | null
  stdout: string
  stderr: string
  /** Everything the action printed, for searching secrets. */
  log: string
  outputs: Record<string, string>
  summary: string
  /** Parsed `result` output. */
  result: ResultEntry[]
  /** Time from the SIGINT to the process closing, when one was sent. */
  exitAfterSignalMs?: number
  /** Spawn to close of the process. */
  wallMs: number
  /** The folder of output `report-path`, read before RUNNER_TEMP is removed. */
  report?: ReportFolder
}

/** The deployment report's folder: its mode and every file in it. */
export interface ReportFolder {
  folder: string
  /** Permission bits (`0o700`). */
  mode: number
  files: Record<string, { text: string; mode: number }>
}

export interface ResultEntry {
  name?: string
  config?: string
  action?: string
  status: string
  changes?: string[]
  bytes?: number
  files?: number
  fingerprint?: string
  durationMs?: number
  verified?: boolean
  verifyMs?: number
  error?: string
}

export interface RunOptions {
  workspace: string
  /** Action inputs by their action.yml names (`consumer-key`). */
  inputs: Record<string, string>
  env?: Record<string, string>
  /** Send SIGINT after this many ms. */
  interruptAfterMs?: number
  /** Send SIGINT as soon as this returns true (polled every 10 ms). */
  interruptWhen?: () => boolean
  /** The signal the interrupt sends: SIGKILL for a runner that dies. */
  interruptSignal?: NodeJS.Signals
  /** The bundle to run; `dist/index.js` by default. */
  script?: string
  /** Wraps the node command (the benchmark runs it under /usr/bin/time). */
  wrap?: (node: string, script: string) => [string, string[]]
  /** Called with the child's pid as it starts (to sample its memory). */
  onStart?: (pid: number | undefined) => void
}

/**
 * Runs the bundled action exactly as the GitHub runner does: `node
 * dist/index.js` with INPUT_* variables and GITHUB_OUTPUT /
 * GITHUB_STEP_SUMMARY files.
 */
export async function runAction(options: RunOptions): Promise<ActionRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'exh-run-'))
  const outputFile = path.join(dir, 'output')
  const summaryFile = path.join(dir, 'summary')
  await writeFile(outputFile, '')
  await writeFile(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_REPOSITORY: 'org/tasks-repo',
    GITHUB_ACTIONS: 'true',
    RUNNER_TEMP: dir,
    NO_PROXY: 'localhost,127.0.0.1',
    ...options.env
  }
  for (const [name, value] of Object.entries(options.inputs)) {
    env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  try {
    const [command, args] = (
      options.wrap ?? ((node, script) => [node, [script]])
    )(process.execPath, options.script ?? DIST)
    const started = performance.now()
    const child = spawn(command, args, {
      cwd: options.workspace,
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    options.onStart?.(child.pid)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    let signalledAt: number | undefined
    const interrupt = (): void => {
      signalledAt ??= performance.now()
      child.kill(options.interruptSignal ?? 'SIGINT')
    }
    const timers: NodeJS.Timeout[] = []
    if (options.interruptAfterMs !== undefined) {
      timers.push(setTimeout(interrupt, options.interruptAfterMs))
    }
    const { interruptWhen } = options
    if (interruptWhen) {
      const poll = setInterval(() => {
        if (!interruptWhen()) return
        clearInterval(poll)
        interrupt()
      }, 10)
      timers.push(poll)
    }
    const exitCode = await new Promise<number | null>(resolve => {
      child.on('close', code => {
        resolve(code)
      })
    })
    const closedAt = performance.now()
    for (const timer of timers) clearTimeout(timer)
    const outputs = parseOutputs(await readFile(outputFile, 'utf8'))
    return {
      exitCode,
      stdout,
      stderr,
      log: stdout + stderr,
      outputs,
      summary: await readFile(summaryFile, 'utf8'),
      result: outputs.result
        ? (JSON.parse(outputs.result) as ResultEntry[])
        : [],
      exitAfterSignalMs:
        signalledAt === undefined ? undefined : closedAt - signalledAt,
      wallMs: closedAt - started,
      report: await readReportFolder(outputs['report-path'])
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Every file of the report folder, when the run named one. */
async function readReportFolder(
  folder: string | undefined
): Promise<ReportFolder | undefined> {
  if (!folder) return undefined
  const files: ReportFolder['files'] = {}
  for (const name of await readdir(folder)) {
    const file = path.join(folder, name)
    files[name] = {
      text: await readFile(file, 'utf8'),
      mode: (await stat(file)).mode & 0o777
    }
  }
  return { folder, mode: (await stat(folder)).mode & 0o777, files }
}

/** The `name<<delimiter` format that @actions/core writes to GITHUB_OUTPUT. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match) continue
    const [, name, delimiter] = match as unknown as [string, string, string]
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) {
      value.push(lines[i] ?? '')
    }
    outputs[name] = value.join('\n')
  }
  return outputs
}
