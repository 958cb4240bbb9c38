import * as core from '@actions/core'
import { readInputs, type Settings } from './inputs.js'
import { sync, type RunIo } from './sync.js'
import { list, remove } from './commands.js'
import { ValidationError, describeError } from './errors.js'
import {
  computeOutputs,
  countStatus,
  hasFailed,
  renderSummary,
  type RunReport
} from './report.js'
import { formatProblem, type ConfigProblem } from './task.js'
import { unsupportedPlatform } from './platform.js'
import { SecretRegistry } from './secrets.js'
import {
  commentLinks,
  renderComment,
  upsertPullRequestComment,
  type CommentKey
} from './pr-comment.js'
import { forLog } from './safe-text.js'
import { buildEnvironment, runShell } from './build.js'
import { isOfflineDryRun } from './load.js'
import { safeLog, type Log } from './log.js'

/**
 * GitHub shows at most 10 error annotations per step; the run's own failure
 * message is one of them, so config errors get the other nine.
 */
const MAX_ANNOTATIONS = 9

type CommentTarget = ({ token: string } & CommentKey) | undefined

/** What failed, as the annotation's title says it. */
type FailureTitle =
  | 'Invalid task config'
  | 'Build failed'
  | 'Invalid input'
  | 'Sync failed'
  | 'List failed'
  | 'Delete failed'

/** One problem of the run: one line in the summary, one annotation. */
interface Failure {
  text: string
  title: FailureTitle
  /** The annotation's own words, when it points at a file. */
  annotation?: string
  file?: string
  line?: number
  column?: number
}

/** inputs → discover → load → fingerprint → plan → package → apply → report */
export async function run(): Promise<void> {
  const started = performance.now()
  const secrets = new SecretRegistry()
  const log = safeLog(secrets)
  const cancel = cancelOnSignals(log)
  const mask = (secret: string): void => {
    secrets.add(secret)
    core.setSecret(secret)
  }
  const report = emptyReport()
  const failures: Failure[] = []
  let comment: CommentTarget
  try {
    const refusal = unsupportedPlatform(process.platform)
    if (refusal) throw new Error(refusal)
    const settings = readInputs(name => core.getInput(name), process.env, mask)
    Object.assign(report, describeRun(settings))
    comment = commentTarget(settings, report)
    await runCommand(
      settings,
      actionsIo(cancel.signal, mask, log),
      report,
      failures
    )
  } catch (error) {
    recordFailure(failures, error, failedTitle(report.command))
  } finally {
    cancel.dispose()
  }
  // Whatever finished, a cancelled run did not do all it was asked: fail it.
  if (cancel.signal.aborted) {
    failures.push({
      text: 'the run was cancelled (SIGINT/SIGTERM)',
      title: failedTitle(report.command)
    })
  }
  report.durationMs = Math.round(performance.now() - started)
  await publish(report, failures, comment, log)
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
  return {
    text: formatProblem(problem),
    title,
    annotation: problem.file
      ? [problem.field, problem.rule].filter(Boolean).join(': ')
      : undefined,
    file: problem.file,
    line: problem.line,
    column: problem.column
  }
}

function commentTarget(settings: Settings, report: RunReport): CommentTarget {
  if (!settings.commentOnPr) return undefined
  if (settings.githubToken) {
    return {
      token: settings.githubToken,
      label: settings.label,
      scope: settings.pruneScope
    }
  }
  report.warnings.push(
    'comment-on-pr: no github-token, so no comment is posted'
  )
  return undefined
}

async function runCommand(
  settings: Settings,
  io: RunIo,
  report: RunReport,
  failures: Failure[]
): Promise<void> {
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
  // A run that failed validation offline is still an offline run.
  report.offline ||= outcome.offline
  if (outcome.error)
    failures.push({ text: outcome.error, title: 'Sync failed' })
  report.warnings.push(...outcome.warnings)
  failures.push(...outcome.problems.map(problemFailure))
  if (!outcome.problems.length) {
    addFailedTasks(failures, outcome.results, 'Sync failed')
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
    host: settings.host ? hostName(settings.host) : undefined
  }
}

/** Only the host's name: never a path, a query or user info. */
function hostName(host: string): string {
  try {
    return new URL(/:\/\//.test(host) ? host : `https://${host}`).host
  } catch {
    return ''
  }
}

function actionsIo(
  signal: AbortSignal,
  mask: (secret: string) => void,
  log: Log
): RunIo {
  return {
    env: process.env,
    mask,
    signal,
    info: log.info,
    warning: log.warning,
    debug: log.debug,
    printTaskLog: log.group,
    runCommand: (command, cwd, title) =>
      log.groupAround(title, () =>
        runShell(command, { cwd, env: buildEnvironment(process.env), signal })
      )
  }
}

/**
 * Outputs and summary are written whatever happened, then the verdict. The
 * free-text parts (errors, warnings, before → after) are redacted of every
 * masked value first: the comment is posted through the API, unmasked, and
 * an output holding a masked value would be dropped. Names and keys are left
 * whole.
 */
async function publish(
  raw: RunReport,
  rawFailures: Failure[],
  comment: CommentTarget,
  log: Log
): Promise<void> {
  const { redact } = log
  const failures = rawFailures.map(failure => ({
    ...failure,
    text: redact(failure.text),
    annotation: failure.annotation && redact(failure.annotation)
  }))
  const report: RunReport = {
    ...raw,
    errors: failures.map(failure => failure.text),
    warnings: raw.warnings.map(redact),
    results: raw.results.map(result => redactResult(result, redact))
  }
  for (const [name, value] of Object.entries(computeOutputs(report))) {
    core.setOutput(name, value)
  }
  const markdown = renderSummary(report)
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(markdown).write()
  } else {
    for (const line of markdown.split('\n')) log.info(line)
  }
  for (const warning of report.warnings) log.warning(warning)
  // The comment is public: it leaves the host out too.
  if (comment) {
    await commentOnPullRequest(
      comment,
      renderSummary({ ...report, host: undefined }),
      log
    )
  }
  if (hasFailed(report)) annotate(report, failures, log)
}

function redactResult(
  result: RunReport['results'][number],
  redact: (text: string) => string
): RunReport['results'][number] {
  return {
    ...result,
    error: result.error === undefined ? undefined : redact(result.error),
    details: result.details?.map(detail => ({
      field: detail.field,
      before: detail.before === undefined ? undefined : redact(detail.before),
      after: detail.after === undefined ? undefined : redact(detail.after),
      note: detail.note
    }))
  }
}

/**
 * One annotation per failure, titled by what failed; the final failure line
 * only counts, and lists what the annotation limit left out.
 */
function annotate(report: RunReport, failures: Failure[], log: Log): void {
  // The log's own list, as the summary has it (plain lines, not annotations).
  log.info('Errors:')
  for (const failure of failures) log.info(`  ${failure.text}`)
  const shown = failures.slice(0, MAX_ANNOTATIONS)
  for (const failure of shown) {
    core.error(forLog(failure.annotation ?? failure.text), {
      title: failure.title,
      file: failure.file,
      startLine: failure.line,
      startColumn: failure.column
    })
  }
  const failed = countStatus(report.results, 'failed')
  const headline = failed
    ? `exh-tasks-action: ${failed} task(s) failed`
    : 'exh-tasks-action failed'
  const rest = failures.slice(MAX_ANNOTATIONS).map(f => forLog(f.text))
  core.setFailed([headline, ...rest].join('\n'))
}

/** A comment that cannot be posted (a fork's read-only token) only warns. */
async function commentOnPullRequest(
  comment: { token: string } & CommentKey,
  summary: string,
  log: Log
): Promise<void> {
  const key = { label: comment.label, scope: comment.scope }
  try {
    const outcome = await upsertPullRequestComment(
      comment.token,
      renderComment(
        summary,
        key,
        commentLinks(
          process.env,
          (await import(/* webpackMode: "eager" */ '@actions/github')).context
            .payload
        )
      ),
      key
    )
    log.info(`comment-on-pr: ${outcome}`)
  } catch (error) {
    log.warning(`comment-on-pr: could not comment (${describeError(error)})`)
  }
}

/**
 * GitHub sends SIGINT, then SIGTERM 7.5 s later: on the first, start nothing
 * new and abort what is in flight, so outputs and summary still get written.
 */
function cancelOnSignals(log: Log): {
  signal: AbortSignal
  dispose: () => void
} {
  const controller = new AbortController()
  const onSignal = (): void => {
    if (!controller.signal.aborted) {
      log.warning('Cancelled: aborting requests in flight.')
      controller.abort()
    }
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
