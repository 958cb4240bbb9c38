// The runner's side of a run: inputs, masks, the log, outputs, the step
// summary, annotations, the pull-request comment and the exit code.

import { setMaxListeners } from 'node:events'
import * as core from '@actions/core'
import { readInputs, type Settings } from './inputs.js'
import type { RunIo } from './run-io.js'
import { describeError } from './errors.js'
import {
  computeOutputs,
  countStatus,
  hasFailed,
  renderSummary,
  type RunReport
} from './report/summary.js'
import { unsupportedPlatform } from './platform.js'
import { SecretRegistry } from './secrets.js'
import {
  commentLinks,
  eventPayload,
  renderComment,
  upsertPullRequestComment,
  type CommentKey
} from './report/pr-comment.js'
import { forLog, forLogCut } from './safe-text.js'
import { withNameRefs, withoutHost } from './report/shown-texts.js'
import { buildEnvironment, runShell } from './build.js'
import { safeLog, withoutWorkflowCommands, type Log } from './log.js'
import { runPipeline, type Failure } from './pipeline.js'
import { plural } from './words.js'
import {
  planRecordLine,
  runnerPlanCheck,
  type RunnerPlanCheck
} from './github/reviewed-plan.js'
import type { FreshPlan } from './reviewed-plan/fresh-plan.js'
import {
  buildDeploymentReport,
  redactReport,
  runFacts,
  type ReportContext
} from './report/report-files.js'
import { writeReportFiles } from './report/report-writer.js'

/**
 * GitHub shows at most 10 error annotations per step; the run's own failure
 * message is one of them, so config errors get the other nine.
 */
const MAX_ANNOTATIONS = 9

/** An annotation's most characters (cut after redaction): a function's error may be megabytes. */
const ANNOTATION_LIMIT = 4_000

type CommentTarget =
  | ({ token: string; plan?: FreshPlan } & CommentKey)
  | undefined

/** The runner's side of a run: inputs, masks, the log, then the report. */
export async function run(): Promise<void> {
  const started = performance.now()
  const startedAt = new Date()
  const secrets = new SecretRegistry()
  const log = safeLog(secrets)
  const cancel = cancelOnSignals(log)
  const mask = (secret: string): void => {
    for (const part of secrets.add(secret)) core.setSecret(part)
  }
  const planCheck = runnerPlanCheck(process.env)
  const { report, failures, settings, plan } = await runPipeline(
    () => {
      const refusal = unsupportedPlatform(process.platform)
      if (refusal) throw new Error(refusal)
      return readInputs(name => core.getInput(name), process.env, mask)
    },
    { ...actionsIo(cancel.signal, mask, log), reviewedPlan: planCheck }
  )
  cancel.dispose()
  // Refused inputs leave no settings: the title still names the target.
  report.label ??= core.getInput('label').trim() || undefined
  report.durationMs = Math.round(performance.now() - started)
  const comment = settings && commentTarget(settings, report)
  // Only a dry run that planned without a failure records a plan to deploy.
  const recorded = settings?.dryRun && !failures.length ? plan : undefined
  const run = { startedAt, cancelled: cancel.signal.aborted }
  await publish(
    report,
    failures,
    comment && { ...comment, plan: recorded },
    log,
    run
  )
  await markDeployed(planCheck, failures.length > 0, log)
}

/** After a deploy that matched its reviewed plan, its comment says so (SPEC section 10). */
async function markDeployed(
  planCheck: RunnerPlanCheck,
  failed: boolean,
  log: Log
): Promise<void> {
  try {
    const { runUrl } = commentLinks(process.env, {})
    const done = await planCheck.markDeployed({
      runUrl,
      sha: process.env.GITHUB_SHA ?? '',
      failed
    })
    if (done) log.info(`reviewed-plan: ${done}`)
  } catch (error) {
    log.warning(
      `reviewed-plan: could not mark the plan deployed (${describeError(error)})`
    )
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
    referNames: log.referNames,
    runCommand: (command, cwd, title) =>
      log.groupAround(title, () =>
        withoutWorkflowCommands(() =>
          runShell(command, {
            cwd,
            env: buildEnvironment(process.env),
            signal
          })
        )
      )
  }
}

/**
 * Outputs and summary are written whatever happened, then the verdict. The
 * free-text parts (errors, warnings, before → after) are redacted of every
 * masked value first: the comment is posted through the API, unmasked, and
 * an output holding a masked value would be dropped. Names and keys are left
 * whole, except names from `$VAR` and the host (`report/shown-texts.ts`).
 */
async function publish(
  raw: RunReport,
  rawFailures: Failure[],
  comment: CommentTarget,
  log: Log,
  run: RunTimes
): Promise<void> {
  const { redact } = log
  const failures = rawFailures.map(failure => ({
    ...failure,
    text: redact(failure.text),
    logText: failure.logText && redact(failure.logText),
    annotation: failure.annotation && redact(failure.annotation)
  }))
  const redacted: RunReport = {
    ...raw,
    errors: failures.map(failure => failure.text),
    warnings: raw.warnings.map(redact),
    results: raw.results.map(result => redactResult(result, redact)),
    // Descriptions and markers come from the API and may hold a masked value.
    functions: raw.functions?.map(fn => ({
      ...fn,
      description: fn.description && redact(fn.description),
      repository: fn.repository && redact(fn.repository)
    }))
  }
  // A substituted name is shown as its reference in every channel.
  const report = withNameRefs(redacted)
  const outputs = computeOutputs(withoutHost(report))
  for (const [name, value] of Object.entries(outputs)) {
    core.setOutput(name, value)
  }
  await writeReport(report, run, log)
  const markdown = renderSummary(report)
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(markdown).write()
  } else {
    for (const line of markdown.split('\n')) log.info(line)
  }
  for (const warning of report.warnings) log.warning(warning)
  // The comment is public: it leaves the host out too.
  if (comment) {
    await commentOnPullRequest(comment, renderSummary(withoutHost(report)), log)
  }
  if (hasFailed(report)) annotate(report, failures, log)
}

interface RunTimes {
  startedAt: Date
  cancelled: boolean
}

/**
 * The report files (SPEC section 11) from the report the summary shows,
 * every free text redacted once more; outputs `report-path` and
 * `checksums-path`. A folder that cannot be written is a warning: the
 * run's own outcome stands.
 */
async function writeReport(
  report: RunReport,
  run: RunTimes,
  log: Log
): Promise<void> {
  try {
    const doc = buildDeploymentReport(report, {
      run: runFacts(process.env, run.startedAt, new Date()),
      cancelled: run.cancelled,
      ...reviewEvidence(report)
    })
    const written = await writeReportFiles(
      redactReport(doc, log.redact),
      process.env.RUNNER_TEMP
    )
    core.setOutput('report-path', written.folder)
    core.setOutput('checksums-path', written.checksums)
  } catch (error) {
    log.warning(
      `report: could not write the report files (${describeError(error)})`
    )
  }
}

/**
 * The reviewed-plan check's evidence (SPEC sections 10 and 11): the pull
 * request it found, its approving reviews and its verdict.
 */
function reviewEvidence(
  report: RunReport
): Pick<ReportContext, 'pullRequest' | 'reviewedPlan'> {
  const checked = report.reviewedPlan
  const pull = checked?.pullRequest
  return {
    pullRequest: pull && {
      number: pull.number,
      url: pull.url,
      head: pull.head,
      approvals: pull.approvals.map(review => ({
        user: review.user,
        submittedAt: review.submittedAt ?? '',
        commit: review.commit
      }))
    },
    reviewedPlan: {
      required: report.reviewedPlanRequired === true,
      matched: checked?.matched,
      failureReason: checked?.failureReason ?? ''
    }
  }
}

function redactResult(
  result: RunReport['results'][number],
  redact: (text: string) => string
): RunReport['results'][number] {
  return {
    ...result,
    error: result.error === undefined ? undefined : redact(result.error),
    // A permission may be substituted from `$NAME`: a secret like any.
    credentials: result.credentials && {
      ...result.credentials,
      permissionsAdded: result.credentials.permissionsAdded.map(redact),
      permissionsRemoved: result.credentials.permissionsRemoved.map(redact)
    },
    details: result.details?.map(detail => ({
      field: detail.field,
      before: detail.before === undefined ? undefined : redact(detail.before),
      after: detail.after === undefined ? undefined : redact(detail.after),
      note: detail.note === undefined ? undefined : redact(detail.note)
    }))
  }
}

/**
 * One annotation per failure, titled by what failed; the final failure line
 * only counts, and says how many the annotation limit left out. Each
 * failure is printed once in the log, in the `Errors:` list (the task
 * groups only count a config's problems).
 */
function annotate(report: RunReport, failures: Failure[], log: Log): void {
  // The log's own list, as the summary has it (plain lines, not annotations).
  log.info('Errors:')
  for (const failure of failures) {
    log.info(`  ${failure.logText ?? failure.text}`)
  }
  const shown = failures.slice(0, MAX_ANNOTATIONS)
  for (const failure of shown) {
    // `file` is a property the runner prints as it is: a name that needs
    // escaping (U+202E, a control character) is left to the message.
    const pointable =
      failure.file !== undefined && forLog(failure.file) === failure.file
    const message =
      (pointable ? failure.annotation : undefined) ??
      failure.logText ??
      failure.text
    core.error(
      forLogCut(message, ANNOTATION_LIMIT),
      pointable
        ? {
            title: failure.title,
            file: failure.file,
            startLine: failure.line,
            startColumn: failure.column
          }
        : { title: failure.title }
    )
  }
  const failed = countStatus(report.results, 'failed')
  const headline = failed
    ? `exh-tasks-action: ${failed} task(s) failed`
    : 'exh-tasks-action failed'
  const rest = failures.length - shown.length
  core.setFailed(
    rest
      ? `${headline}; ${plural(rest, 'more problem')} not annotated, listed under Errors above`
      : headline
  )
}

/** A comment that cannot be posted (a fork's read-only token) only warns. */
async function commentOnPullRequest(
  comment: NonNullable<CommentTarget>,
  summary: string,
  log: Log
): Promise<void> {
  const key = { label: comment.label, scope: comment.scope }
  try {
    const payload = await eventPayload()
    const record = planRecordLine(comment.plan, key, payload)
    if (comment.plan && payload.pull_request && !record) {
      log.warning(
        'comment-on-pr: the plan could not be recorded in the comment (too large, or the event names no pull request head); a deploy with reviewed-plan: required will not find it'
      )
    }
    const outcome = await upsertPullRequestComment(
      comment.token,
      renderComment(summary, key, commentLinks(process.env, payload), record),
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
  // Every request, folder read and build in flight listens on this one
  // signal (concurrency × a few): more than Node's default warning level.
  setMaxListeners(0, controller.signal)
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
