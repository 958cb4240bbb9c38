// What a run is handed (RunIo: the runner's side effects, passed in so the
// pipeline runs without @actions/*) and what `command: sync` hands back.

import type { RunCommand } from './build.js'
import type { RetryOptions } from './retry.js'
import type { TaskResult } from './report/result.js'
import type { ConfigProblem } from './task.js'
import type { ReviewedPlanCheck } from './reviewed-plan/gate.js'
import type { FreshPlan } from './reviewed-plan/fresh-plan.js'
import type { ReviewedPlanOutcome } from './reviewed-plan/check.js'

/** The side effects the pipeline needs, passed in so it runs without @actions/*. */
export interface RunIo {
  env: Record<string, string | undefined>
  mask: (secret: string) => void
  signal: AbortSignal
  info: (message: string) => void
  warning: (message: string) => void
  /** Step debugging only (undefined otherwise): API calls, stage decisions. */
  debug?: (message: string) => void
  printTaskLog: (title: string, lines: string[]) => void
  /** Runs `build-command` (a shell command) in a folder. */
  runCommand: RunCommand
  /** Names substituted from `$VAR` (value → `$VAR`): the log shows the reference. */
  referNames?: (refs: Readonly<Record<string, string>>) => void
  /**
   * The API client's retry policy: the action's own (retry.ts) unless a
   * test in-process shortens its back-off (real waits are the timing
   * tests' business).
   */
  retry?: RetryOptions
  /** `reviewed-plan: required`: the GitHub side of the check (SPEC section 10). */
  reviewedPlan?: ReviewedPlanCheck
}

export interface SyncOutcome {
  results: TaskResult[]
  problems: ConfigProblem[]
  warnings: string[]
  offline: boolean
  /** A failure of the whole run (login, listing, cancellation). */
  error?: string
  /** Wall time per stage, in ms (for the log and the benchmark). */
  stages: Partial<Record<Stage, number>>
  /** Names substituted from `$VAR`: value → `$VAR`, for the report's edge. */
  nameRefs?: Record<string, string>
  /** The plan compared with the remote, for a pull request's plan record. */
  plan?: FreshPlan
  /** The reviewed-plan check, when it ran. */
  reviewedPlan?: ReviewedPlanOutcome
}

export type Stage =
  | 'load'
  | 'build'
  | 'fingerprint'
  | 'plan'
  | 'package'
  | 'apply'

/** Wall time per stage, for the log line and the benchmark. */
export class StageClock {
  readonly stages: SyncOutcome['stages'] = {}

  async time<T>(stage: Stage, work: Promise<T>): Promise<T> {
    const started = performance.now()
    try {
      return await work
    } finally {
      this.stages[stage] = Math.round(performance.now() - started)
    }
  }
}
