// The run without the runner: inputs read, the command carried out, and
// everything the report needs collected. main.ts adds the runner's side
// (reading inputs, masking, the log, outputs, summary, annotations, the
// comment, signals); tests run this in-process against the fake API.

import type { Settings } from './inputs.js'
import { hostNameOf } from './host.js'
import type { RunIo, SyncOutcome } from './run-io.js'
import { sync } from './sync.js'
import { list, remove } from './commands.js'
import { ValidationError, describeError } from './errors.js'
import type { RunReport } from './report/summary.js'
import { formatProblem, type ConfigProblem } from './task.js'
import { isOfflineDryRun } from './config/load.js'
import type { FreshPlan } from './reviewed-plan/fresh-plan.js'

/** What failed, as the annotation's title says it. */
export type FailureTitle =
  | 'Invalid task config'
  | 'Build failed'
  | 'Invalid input'
  | 'Sync failed'
  | 'List failed'
  | 'Delete failed'

/** One problem of the run: one line in the summary, one annotation. */
export interface Failure {
  text: string
  /** The log's and annotation's fuller text (`ConfigProblem.logDetail` added). */
  logText?: string
  title: FailureTitle
  /** The annotation's own words, when it points at a file. */
  annotation?: string
  file?: string
  line?: number
  column?: number
}

/** What a run found: the report's content and the failures to annotate. */
export interface RunOutcome {
  report: RunReport
  failures: Failure[]
  /** Undefined when the inputs themselves were refused. */
  settings?: Settings
  /** The plan compared with the remote: a pull request's plan record. */
  plan?: FreshPlan
}

/**
 * inputs → discover → load → fingerprint → plan → package → apply, for one
 * command; never throws: whatever failed is in `failures`.
 */
export async function runPipeline(
  readSettings: () => Settings,
  io: RunIo
): Promise<RunOutcome> {
  const report = emptyReport()
  const failures: Failure[] = []
  let settings: Settings | undefined
  let plan: FreshPlan | undefined
  try {
    settings = readSettings()
    Object.assign(report, describeRun(settings))
    report.warnings.push(...settings.warnings)
    plan = await runCommand(
      settings,
      hostWatched(io, settings, report),
      report,
      failures
    )
  } catch (error) {
    recordFailure(failures, error, failedTitle(report.command))
  }
  // Whatever finished, a cancelled run did not do all it was asked: fail it.
  if (io.signal.aborted) {
    failures.push({
      text: 'the run was cancelled (SIGINT/SIGTERM)',
      title: failedTitle(report.command)
    })
  }
  return { report, failures, settings, plan }
}

/**
 * The report names the host only while it is no secret: `$API_HOST` hands
 * it to a function, and every substituted value is masked (SPEC section 8).
 */
function hostWatched(io: RunIo, settings: Settings, report: RunReport): RunIo {
  return {
    ...io,
    mask: secret => {
      // Still known to the report, which scrubs it from outputs and the comment.
      if (secret === settings.host) report.hostMasked = true
      io.mask(secret)
    }
  }
}

function failedTitle(command: RunReport['command']): FailureTitle {
  if (command === 'list') return 'List failed'
  if (command === 'delete') return 'Delete failed'
  return 'Sync failed'
}

function emptyReport(): RunReport {
  return {
    command: 'sync',
    dryRun: false,
    offline: false,
    missingCredentials: [],
    results: [],
    errors: [],
    warnings: [],
    durationMs: 0
  }
}

/** A thrown ValidationError comes from the inputs; anything else failed the run. */
function recordFailure(
  failures: Failure[],
  error: unknown,
  title: FailureTitle
): void {
  if (error instanceof ValidationError) {
    failures.push(...error.problems.map(problemFailure))
  } else {
    failures.push({ text: describeError(error), title })
  }
}

/** A config, build or input problem, annotated at its file when it has one. */
function problemFailure(problem: ConfigProblem): Failure {
  const title: FailureTitle =
    problem.field === 'build-command'
      ? 'Build failed'
      : problem.file || problem.config || problem.task
        ? 'Invalid task config'
        : 'Invalid input'
  const detail = problem.logDetail ? `; ${problem.logDetail}` : ''
  return {
    text: formatProblem(problem),
    logText: detail ? `${formatProblem(problem)}${detail}` : undefined,
    title,
    annotation: problem.file
      ? `${[problem.field, problem.rule].filter(Boolean).join(': ')}${detail}`
      : undefined,
    file: problem.file,
    line: problem.line,
    column: problem.column
  }
}

/** Carries out the command; a sync gives back the plan it made. */
async function runCommand(
  settings: Settings,
  io: RunIo,
  report: RunReport,
  failures: Failure[]
): Promise<FreshPlan | undefined> {
  if (settings.command === 'list') {
    report.functions = await list(settings, io)
    return
  }
  if (settings.command === 'delete') {
    const outcome = await remove(settings, io)
    report.results = outcome.results
    report.warnings.push(...outcome.warnings)
    addFailedTasks(failures, outcome.results, 'Delete failed')
    return
  }
  if (!settings.dryRun && !settings.repository) {
    // Every write stores the record of who owns the function: a marker
    // without an owner would lock the next real run out of it.
    throw new Error(
      'GITHUB_REPOSITORY is not set: the deployment record needs the repository that owns these functions (a dry run, list and command: delete work without it)'
    )
  }
  if (report.offline) {
    // Once, here: the summary has its own banner.
    io.warning(
      `Dry run without ${settings.missingCredentials.join(', ')}: validating and packaging offline; the remote functions are not compared.`
    )
  }
  const outcome = await sync(settings, io)
  io.info(
    `Stages: ${Object.entries(outcome.stages)
      .map(([stage, ms]) => `${stage} ${ms} ms`)
      .join(', ')}`
  )
  report.results = outcome.results
  report.nameRefs = outcome.nameRefs
  // A run that failed validation offline is still an offline run.
  report.offline ||= outcome.offline
  if (outcome.error)
    failures.push({ text: outcome.error, title: 'Sync failed' })
  report.warnings.push(...outcome.warnings)
  failures.push(...outcome.problems.map(problemFailure))
  if (!outcome.problems.length) {
    addFailedTasks(failures, outcome.results, 'Sync failed')
  }
  recordReviewedPlan(report, failures, outcome.reviewedPlan)
  return outcome.plan
}

/** The check's outcome in the report (its comment stays with the runner); its lines as failures. */
function recordReviewedPlan(
  report: RunReport,
  failures: Failure[],
  outcome: SyncOutcome['reviewedPlan']
): void {
  if (!outcome) return
  const { matched, failureReason, lines, pullRequest } = outcome
  report.reviewedPlan = { matched, failureReason, lines, pullRequest }
  for (const line of outcome.lines) {
    failures.push({ text: line, title: 'Sync failed' })
  }
}

/** Each failed task is one failure, annotated at its config. */
function addFailedTasks(
  failures: Failure[],
  results: RunReport['results'],
  title: FailureTitle
): void {
  for (const result of results) {
    if (result.status !== 'failed' || !result.error) continue
    failures.push({
      text: `${result.name ?? '?'}: ${result.error}`,
      title,
      file: result.config
    })
  }
}

function describeRun(settings: Settings): Partial<RunReport> {
  return {
    command: settings.command,
    dryRun: settings.dryRun,
    offline: isOfflineDryRun(settings),
    missingCredentials: settings.missingCredentials,
    label: settings.label || undefined,
    reviewedPlanRequired:
      settings.command === 'sync' &&
      !settings.dryRun &&
      settings.reviewedPlan === 'required',
    host: settings.host ? hostNameOf(settings.host) : undefined
  }
}
