// The pipeline run in this process, as main.ts runs it but without the
// runner: inputs read from a map, the log captured, the report computed.
// The SDK talks to the fake API over HTTP as always; only the runner's
// protocol (stdout commands, files, signals, exit codes) is left to the
// bundle runs in test/e2e.

import { setMaxListeners } from 'node:events'
import { expect } from 'vitest'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { readInputs } from '../../src/inputs.js'
import { runPipeline, type Failure } from '../../src/pipeline.js'
import {
  computeOutputs,
  hasFailed,
  renderSummary,
  type RunReport
} from '../../src/report/summary.js'
import { buildEnvironment, runShell } from '../../src/build.js'
import type { RunIo } from '../../src/run-io.js'
import { DEFAULT_RETRY, type RetryOptions } from '../../src/retry.js'
import type { ResultEntry } from './run-action.js'
import type { FakeExh } from '../fake-exh/index.js'
import { credentialInputs } from './with-fake.js'

export interface PipelineRun {
  /** 1 when the run failed, as the bundle would exit. */
  exitCode: number
  report: RunReport
  failures: Failure[]
  outputs: Record<string, string>
  summary: string
  /** Every line printed (info, warnings, task groups), in order. */
  log: string
  /** The run's failures, one line each, as the log's `Errors:` list has them. */
  errors: string
  /** Values handed to `mask`. */
  masked: string[]
  /** Parsed `result` output. */
  result: ResultEntry[]
  /** Time from the cancel to the pipeline's end, when one was sent. */
  endAfterCancelMs?: number
}

export interface PipelineOptions {
  workspace: string
  /** Action inputs by their action.yml names (`consumer-key`). */
  inputs: Record<string, string>
  env?: Record<string, string>
  /** Cancel the run (as a SIGINT would) as soon as this returns true. */
  interruptWhen?: () => boolean
  /** Cancel before the run starts: each stage must stop at its first check. */
  cancelledBeforeStart?: boolean
  /** The action's own back-off, waited for real (the timing project only). */
  realWaits?: boolean
  /** The GitHub side of `reviewed-plan: required`, as main.ts passes it. */
  reviewedPlan?: RunIo['reviewedPlan']
}

/**
 * The action's retry policy with its back-off cut to milliseconds: as many
 * attempts and the same decisions, without the seconds of waiting (the
 * timing project measures those).
 */
const QUICK_RETRY: RetryOptions = {
  ...DEFAULT_RETRY,
  baseDelayMs: 1,
  maxDelayMs: 8
}

export async function runInProcess(
  options: PipelineOptions
): Promise<PipelineRun> {
  const temp = await mkdtemp(path.join(tmpdir(), 'exh-pipeline-'))
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_REPOSITORY: 'org/tasks-repo',
    RUNNER_TEMP: temp,
    ...options.env
  }
  const lines: string[] = []
  const masked: string[] = []
  const mask = (value: string): void => {
    masked.push(value)
  }
  const cancel = new AbortController()
  const { signal } = cancel
  // As main.ts does: every request and folder read in flight listens.
  setMaxListeners(0, signal)
  const { interruptWhen } = options
  let cancelledAt: number | undefined
  if (options.cancelledBeforeStart) {
    cancelledAt = performance.now()
    cancel.abort()
  }
  const poll = setInterval(() => {
    if (cancelledAt !== undefined || !interruptWhen?.()) return
    cancelledAt = performance.now()
    cancel.abort()
  }, 10)
  const io: RunIo = {
    env,
    mask,
    signal,
    info: line => lines.push(line),
    warning: line => lines.push(`warning: ${line}`),
    printTaskLog: (title, group) => lines.push(title, ...group),
    runCommand: (command, cwd) =>
      runShell(command, { cwd, env: buildEnvironment(env), signal }),
    retry: options.realWaits ? undefined : QUICK_RETRY,
    reviewedPlan: options.reviewedPlan
  }
  try {
    const { report, failures } = await runPipeline(
      () => readInputs(name => options.inputs[name] ?? '', env, mask),
      io
    )
    report.errors = failures.map(failure => failure.text)
    // The warnings main prints after the run, as the bundle's log has them.
    lines.push(...report.warnings.map(warning => `warning: ${warning}`))
    const outputs = computeOutputs(report)
    return {
      exitCode: hasFailed(report) ? 1 : 0,
      report,
      failures,
      outputs,
      summary: renderSummary(report),
      log: lines.join('\n'),
      errors: report.errors.join('\n'),
      masked,
      result: outputs.result
        ? (JSON.parse(outputs.result) as ResultEntry[])
        : [],
      endAfterCancelMs:
        cancelledAt === undefined ? undefined : performance.now() - cancelledAt
    }
  } finally {
    clearInterval(poll)
    await rm(temp, { recursive: true, force: true })
  }
}

/** Runs the pipeline against the fake, as a push would. */
export function syncInProcess(
  fake: FakeExh,
  workspace: string,
  inputs: Record<string, string> = {},
  extra: Partial<PipelineOptions> = {}
): Promise<PipelineRun> {
  return runInProcess({
    workspace,
    inputs: { ...credentialInputs(fake), ...inputs },
    ...extra
  })
}

/**
 * The shape many tests end with: run again with nothing changed and check
 * that it wrote nothing (exit 0, each of `tasks` tasks unchanged, no write
 * request since the log was cleared). The run is returned for the checks a
 * test adds.
 */
export async function expectNothingWritten(
  fake: FakeExh,
  tasks: number,
  runAgain: () => Promise<PipelineRun>
): Promise<PipelineRun> {
  fake.clearLog()
  const run = await runAgain()
  expect(run.exitCode, run.log).toBe(0)
  expect(run.result.map(r => r.action)).toEqual(
    Array.from({ length: tasks }, () => 'unchanged')
  )
  expect(fake.writeRequests()).toEqual([])
  return run
}
