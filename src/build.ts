import { spawn } from 'node:child_process'
import * as path from 'node:path'
import type { ConfigProblem, TaskDefinition } from './task.js'
import { checkTaskCodeFolder } from './config/validate.js'
import { isCredentialVariable } from './config/substitute.js'
import { posixRelative } from './paths.js'

/** Runs a shell command in a folder; resolves with its exit code. */
export type RunCommand = (
  command: string,
  cwd: string,
  title: string
) => Promise<number>

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

/**
 * `sh -c command` in its own process group, output to ours. On `signal`
 * the whole group (the shell and whatever it started) gets SIGTERM, then
 * SIGKILL if still running after a grace period. Resolves with the exit code
 * (128 + signal number when killed).
 */
export function runShell(
  command: string,
  options: { cwd: string; env: Record<string, string>; signal: AbortSignal }
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true
    })
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
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      // A background job the build left behind would print after workflow
      // commands are back on: the build's whole process group ends with it.
      killGroup('SIGKILL')
      options.signal.removeEventListener('abort', onAbort)
      resolve(code ?? 128 + signalNumber(signal))
    })
  })
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
    const code = await run(command, cwd, `build ${task.name}`)
    if (cancelled()) break
    if (code !== 0) {
      problems.push({
        file: task.configFile,
        field: 'build-command',
        rule: `exited with code ${code} in ${posixRelative(workspace, cwd)}`,
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
