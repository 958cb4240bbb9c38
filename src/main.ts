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
import { buildEnvironment, runShell } from './build.js'
import { forLog } from './safe-text.js'
import { isOfflineDryRun } from './load.js'
import {
  commentMarker,
  renderComment,
  upsertPullRequestComment
} from './pr-comment.js'

/**
 * GitHub shows at most 10 error annotations per step; the run's own failure
 * message is one of them, so config errors get the other nine.
 */
const MAX_ANNOTATIONS = 9

type CommentTarget = { token: string; scope: string } | undefined

/**
 * The one way the action prints to the log: every message redacted of every
 * secret known so far, then made one safe line (`forLog`), so no config
 * path, symlink target, email or API message can form a workflow command.
 */
interface Log {
  info: (message: string) => void
  warning: (message: string) => void
  /** One log group, printed at once so concurrent tasks never interleave. */
  group: (title: string, lines: string[]) => void
  /** A group around async work (a build). */
  groupAround: <T>(title: string, work: () => Promise<T>) => Promise<T>
  /** For values the action wrote itself (errors, warnings) before publishing. */
  redact: (text: string) => string
}

function safeLog(secrets: SecretRegistry): Log {
  const line = (text: string): string => forLog(secrets.redact(text))
  return {
    info: message => {
      core.info(line(message))
    },
    warning: message => {
      core.warning(line(message))
    },
    group: (title, lines) => {
      core.startGroup(line(title))
      for (const text of lines) core.info(line(text))
      core.endGroup()
    },
    groupAround: (title, work) => core.group(line(title), work),
    redact: text => secrets.redact(text)
  }
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
  let comment: CommentTarget
  try {
    const refusal = unsupportedPlatform(process.platform)
    if (refusal) throw new Error(refusal)
    const settings = readInputs(name => core.getInput(name), process.env, mask)
    Object.assign(report, describeRun(settings))
    comment = commentTarget(settings, report)
    await runCommand(settings, actionsIo(cancel.signal, mask, log), report)
  } catch (error) {
    recordFailure(report, error)
  } finally {
    cancel.dispose()
  }
  // Whatever finished, a cancelled run did not do all it was asked: fail it.
  if (cancel.signal.aborted) {
    report.errors.push('the run was cancelled (SIGINT/SIGTERM)')
  }
  report.durationMs = Math.round(performance.now() - started)
  await publish(report, comment, log)
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

function recordFailure(report: RunReport, error: unknown): void {
  if (error instanceof ValidationError) addProblems(report, error.problems)
  else report.errors.push(describeError(error))
}

function commentTarget(settings: Settings, report: RunReport): CommentTarget {
  if (!settings.commentOnPr) return undefined
  if (settings.githubToken) {
    return { token: settings.githubToken, scope: settings.pruneScope }
  }
  report.warnings.push(
    'comment-on-pr: no github-token, so no comment is posted'
  )
  return undefined
}

async function runCommand(
  settings: Settings,
  io: RunIo,
  report: RunReport
): Promise<void> {
  if (settings.command === 'list') {
    report.functions = await list(settings, io)
    return
  }
  if (settings.command === 'delete') {
    const outcome = await remove(settings, io)
    report.results = outcome.results
    report.warnings.push(...outcome.warnings)
    return
  }
  if (report.offline) {
    report.warnings.push(
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
  report.offline = outcome.offline
  if (outcome.error) report.errors.push(outcome.error)
  report.warnings.push(...outcome.warnings)
  addProblems(report, outcome.problems)
  for (const result of outcome.results) {
    if (
      result.status === 'failed' &&
      result.error &&
      !outcome.problems.length
    ) {
      report.errors.push(`${result.name ?? '?'}: ${result.error}`)
    }
  }
}

function describeRun(settings: Settings): Partial<RunReport> {
  return {
    command: settings.command,
    dryRun: settings.dryRun,
    offline: isOfflineDryRun(settings),
    missingCredentials: settings.missingCredentials,
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

function addProblems(report: RunReport, problems: ConfigProblem[]): void {
  report.errors.push(...problems.map(formatProblem))
  let annotated = 0
  for (const problem of problems) {
    if (!problem.file || annotated >= MAX_ANNOTATIONS) continue
    annotated++
    core.error(
      forLog([problem.field, problem.rule].filter(Boolean).join(': ')),
      {
        title: 'Invalid task config',
        file: problem.file,
        startLine: problem.line,
        startColumn: problem.column
      }
    )
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
    printTaskLog: log.group,
    runCommand: (command, cwd, title) =>
      log.groupAround(title, () =>
        runShell(command, { cwd, env: buildEnvironment(process.env), signal })
      )
  }
}

/**
 * Outputs and summary are written whatever happened, then the verdict. The
 * free-text parts (errors, warnings) are redacted of every masked value
 * first: the comment is posted through the API, unmasked, and an output
 * holding a masked value would be dropped. Names and keys are left whole.
 */
async function publish(
  raw: RunReport,
  comment: CommentTarget,
  log: Log
): Promise<void> {
  const { redact } = log
  const report: RunReport = {
    ...raw,
    errors: raw.errors.map(redact),
    warnings: raw.warnings.map(redact),
    results: raw.results.map(result =>
      result.error ? { ...result, error: redact(result.error) } : result
    )
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
  if (hasFailed(report)) {
    const failed = countStatus(report.results, 'failed')
    core.setFailed(
      [
        failed
          ? `exh-tasks-action: ${failed} task(s) failed`
          : 'exh-tasks-action failed',
        ...report.errors.map(forLog)
      ].join('\n')
    )
  }
}

/** A comment that cannot be posted (a fork's read-only token) only warns. */
async function commentOnPullRequest(
  comment: { token: string; scope: string },
  summary: string,
  log: Log
): Promise<void> {
  try {
    const outcome = await upsertPullRequestComment(
      comment.token,
      renderComment(summary, comment.scope),
      commentMarker(comment.scope)
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
