// How a sync run that stops before its writes says so: a run that failed
// validation, and tasks that did not start (a failed login or listing, a
// cancel). Nothing was written in any of them.

import { relative } from './config/discover.js'
import type { LoadedTasks } from './config/load.js'
import { describeError } from './errors.js'
import type { Settings } from './inputs.js'
import {
  invalidConfigResult,
  notStartedResult,
  type TaskResult
} from './report/result.js'
import type { RunIo, StageClock, SyncOutcome } from './run-io.js'
import type { ConfigProblem, TaskDefinition } from './task.js'
import { plural } from './words.js'

/** A stage's answer: carry on with its result, or stop with the run's outcome. */
export type Step<T> = { next: T } | { stop: SyncOutcome }

/** What every stop needs: the run as far as it got. */
export interface StopContext {
  settings: Settings
  io: RunIo
  clock: StageClock
  loaded: LoadedTasks
}

/**
 * A run that failed validation: each config with a problem is `failed`,
 * every other one `skipped`, and nothing was written.
 */
export function invalidRun(
  run: StopContext,
  problems: ConfigProblem[]
): SyncOutcome {
  const { settings, loaded } = run
  const names = new Map(
    loaded.tasks.map(task => [task.configFile ?? '', task.name])
  )
  const buildFailed = problems.some(p => p.field === 'build-command')
  const results: TaskResult[] = loaded.found.map(found => {
    const config = relative(settings.workspace, found.file)
    const own = problems.filter(
      problem =>
        (problem.file ?? problem.config) === config || problem.config === config
    )
    const name = names.get(config) ?? own.find(p => p.task)?.task
    return own.length
      ? invalidConfigResult({ name, config }, own)
      : notStartedResult(
          { name, configFile: config },
          buildFailed
            ? "another task's build failed"
            : 'another config is invalid'
        )
  })
  if (!loaded.found.length && settings.overrides?.name) {
    results.push({
      name: settings.overrides.name,
      status: 'failed',
      error: problems.map(p => `${p.field ?? ''}: ${p.rule}`).join('; ')
    })
  }
  printUnplanned(run.io, results)
  return {
    results,
    problems,
    warnings: loaded.warnings,
    offline: false,
    stages: run.clock.stages,
    nameRefs: loaded.nameRefs
  }
}

/** Cancelled during the builds: no task started. A cancel is reported once, by main. */
export function cancelledBeforeSync(run: StopContext): SyncOutcome {
  return {
    results: run.loaded.tasks.map(task => notStartedResult(task, 'cancelled')),
    problems: [],
    warnings: run.loaded.warnings,
    offline: false,
    stages: run.clock.stages,
    nameRefs: run.loaded.nameRefs
  }
}

/**
 * Nothing was written: every task says why it did not start (`login
 * failed`, `cancelled`); the run's error says what happened.
 */
export function notStarted(
  run: StopContext & { warnings: string[] },
  tasks: TaskDefinition[],
  why: string,
  error?: unknown
): SyncOutcome {
  const cancelled = run.io.signal.aborted
  const reason = cancelled ? 'cancelled' : why
  const results = tasks.map(task => notStartedResult(task, reason))
  printUnplanned(run.io, results)
  return {
    results,
    problems: [],
    warnings: run.warnings,
    offline: false,
    stages: run.clock.stages,
    nameRefs: run.loaded.nameRefs,
    // A cancel is reported once, by main.
    error: cancelled || error === undefined ? undefined : describeError(error)
  }
}

/** A group per task that was never planned: why it failed or did not start. */
function printUnplanned(io: RunIo, results: TaskResult[]): void {
  for (const result of results) {
    io.printTaskLog(
      `${result.name ?? result.config ?? '?'}: ${result.status}`,
      [
        ...(result.config ? [`config: ${result.config}`] : []),
        // Each problem is printed once, in the run's closing error list.
        result.problems
          ? `error: ${plural(result.problems, 'problem')}, listed under Errors below`
          : `error: ${result.error ?? ''}`
      ]
    )
  }
}
