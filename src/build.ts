// `build-command`: run in each config's folder, one shell at a time, with
// its own environment; killed on cancel, its last lines kept for the report.

import { spawn, type ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { OutputTail } from './output-tail.js'
import * as path from 'node:path'
import type { ConfigProblem, TaskDefinition } from './task.js'
import { checkTaskCodeFolder } from './config/code-folder-rules.js'
import { isCredentialVariable } from './config/substitute.js'
import { posixRelative } from './paths.js'

/** How a build ended: its exit code and the lines of its output worth quoting. */
export interface BuildExit {
  code: number
  lastLines: string[]
  /** The first line saying `error` or `ERR!`, when not among `lastLines`. */
  firstError?: string
}

/** Runs a shell command in a folder. */
export type RunCommand = (
  command: string,
  cwd: string,
  title: string
) => Promise<BuildExit>

/** After SIGTERM, how long a build may take to exit before SIGKILL. */
const KILL_GRACE_MS = 2000

/**
 * What `build-command` sees: the step's environment minus the action's
 * inputs, the API credentials and the runner's tokens (SPEC section 8), so
 * a build does not pass them on by accident. It does not stop a hostile
 * build: one running as the same user can read the action's own process
 * environment (the README says so). Anything else the user put in the
 * step's `env:` (an `NPM_TOKEN`, say) passes through.
 */
export function buildEnvironment(
  env: Record<string, string | undefined>
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined && !isCredentialVariable(entry[0])
    )
  )
}

/** The longest line of a build's output an error quotes. */
const KEPT_OUTPUT = 4096
/** Lines of it quoted in a failed build's error. */
const QUOTED_LINES = 5
/** After the shell exits, how long a process that escaped its group may hold the output open. */
const OUTPUT_GRACE_MS = 500

/**
 * `sh -c command` in its own process group; its output goes to ours and the
 * last of it is kept, so a failure can quote it (`sh: 1: yarn: not found`).
 * On `signal` the whole group (the shell and whatever it started) gets
 * SIGTERM, then SIGKILL if still running after a grace period. The code is
 * 128 + the signal's number when killed.
 */
export function runShell(
  command: string,
  options: { cwd: string; env: Record<string, string>; signal: AbortSignal }
): Promise<BuildExit> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true
    })
    const output = passThrough(child)
    let killer: NodeJS.Timeout | undefined
    const killGroup = (signal: NodeJS.Signals): void => {
      try {
        if (child.pid) process.kill(-child.pid, signal)
      } catch {
        // Already gone.
      }
    }
    const onAbort = (): void => {
      killGroup('SIGTERM')
      killer = setTimeout(() => {
        killGroup('SIGKILL')
      }, KILL_GRACE_MS)
    }
    if (options.signal.aborted) onAbort()
    else options.signal.addEventListener('abort', onAbort, { once: true })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      clearTimeout(killer)
      // A background job the build left behind would print after workflow
      // commands are back on: the build's whole process group ends with it.
      killGroup('SIGKILL')
      options.signal.removeEventListener('abort', onAbort)
      const done = (): void => {
        clearTimeout(grace)
        resolve({
          code: code ?? 128 + signalNumber(signal),
          ...output.quoted()
        })
      }
      // One that left the group (setsid) may hold the pipes: stop reading.
      const grace = setTimeout(() => {
        child.stdout.destroy()
        child.stderr.destroy()
        done()
      }, OUTPUT_GRACE_MS)
      child.once('close', done)
    })
  })
}

/**
 * A child's output, passed on to ours as it comes, its last lines kept for
 * the error (a line longer than KEPT_OUTPUT is left out).
 */
function passThrough(child: ChildProcessByStdio<null, Readable, Readable>): {
  quoted: () => Pick<BuildExit, 'lastLines' | 'firstError'>
} {
  const tail = new OutputTail(QUOTED_LINES, KEPT_OUTPUT)
  for (const [from, to] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr]
  ] as const) {
    const stream = tail.stream()
    from.on('data', (chunk: Buffer) => {
      to.write(chunk)
      stream.write(chunk)
    })
    from.on('end', stream.end)
  }
  return {
    quoted: () => ({
      lastLines: tail.lines(),
      firstError: tail.firstErrorBeforeTail()
    })
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === 'SIGKILL' ? 9 : signal === 'SIGINT' ? 2 : 15
}

/**
 * The `build-command` input, run in each selected task's config folder (the
 * workspace for a task given by inputs alone) before its code is
 * fingerprinted. One at a time, so each build's output reads as one block;
 * a failing build fails the run before any write, like a config error. After
 * a cancel no further build starts (the caller reports the cancel).
 */
export async function buildTasks(
  tasks: readonly TaskDefinition[],
  command: string,
  workspace: string,
  run: RunCommand,
  signal: AbortSignal
): Promise<ConfigProblem[]> {
  const problems: ConfigProblem[] = []
  // A call, not a property read: the abort happens during the await.
  const cancelled = (): boolean => signal.aborted
  for (const task of tasks) {
    if (cancelled()) break
    const cwd = task.configFile
      ? path.join(workspace, path.dirname(task.configFile))
      : workspace
    const exit = await run(command, cwd, `build ${task.name}`)
    if (cancelled()) break
    if (exit.code !== 0) {
      problems.push({
        file: task.configFile,
        field: 'build-command',
        rule: `exited with code ${exit.code} in ${posixRelative(workspace, cwd)}`,
        // The build's output may hold a value of the step's environment
        // that only the runner knows to mask: the log and annotations only.
        logDetail: quotedOutput(exit),
        task: task.name
      })
      continue
    }
    // The code folder may only exist now that the build has run.
    const missing = await checkTaskCodeFolder(task, workspace)
    if (missing) problems.push(missing)
  }
  return problems
}

/** A failed build's output as its error quotes it: the first error line, then the last lines. */
function quotedOutput(exit: BuildExit): string | undefined {
  const parts = [
    ...(exit.firstError ? [`its first error: ${exit.firstError}`] : []),
    ...(exit.lastLines.length
      ? [`its last output: ${exit.lastLines.join(' | ')}`]
      : [])
  ]
  return parts.length ? parts.join('; ') : undefined
}
