// The deployment report (SPEC section 11): what a team files as the record
// of a run. Pure: the report as the summary shows it (redacted, names from
// `$VAR` as references) and the run's facts in, the JSON document, its
// Markdown for people and the `sha256sum` checksums out. Written by
// report-writer.ts; the JSON's shape is schema/deployment-report.schema.json.

import {
  countAction,
  countStatus,
  hasFailed,
  type RunReport
} from './summary.js'
import type { TaskResult } from './result.js'
import { isRepositoryName, serverOrigin } from './function-list.js'
import { markdownCode, markdownCodeCut, markdownText } from '../safe-text.js'
import { OUTPUT_ERROR_LIMIT, boundText } from './output-limits.js'

/** The action's version, kept equal to package.json's by a test. */
export const ACTION_VERSION = '1.0.0'
/** Bumped when a field changes meaning or goes away; added fields keep it. */
const REPORT_VERSION = 1

/** The run, from the runner's `GITHUB_*` variables. */
export interface RunFacts {
  id?: string
  attempt?: string
  url?: string
  actor?: string
  event?: string
  repository?: string
  ref?: string
  commit?: string
  startedAt: string
  endedAt: string
}

/** The pull request a deploy merged (issue 25's check finds it). */
export interface PullRequestEvidence {
  number: number
  url: string
  head: string
  approvals: { user: string; submittedAt: string; commit: string }[]
}

/** The reviewed-plan check (SPEC section 10). */
export interface ReviewedPlanEvidence {
  required: boolean
  /** Whether the fresh plan matched the reviewed one; absent when not checked. */
  matched?: boolean
  /** Output `failure-reason`: empty when the check did not fail. */
  failureReason: string
}

export interface ReportTask {
  name?: string
  config?: string
  action?: TaskResult['action']
  status: TaskResult['status']
  changes?: string[]
  fingerprint?: string
  zipSha256?: string
  verify: { executed: boolean; passed?: boolean; ms?: number }
  error?: string
}

export interface ReportDelete {
  name?: string
  status: TaskResult['status']
  error?: string
}

export interface ReportFunction {
  name: string
  repository?: string
  commit?: string
  deployedAt?: string
  zipSha256?: string
  drift: string
  /** `failed` while its last verify failed. */
  verify?: 'failed' | 'pending'
}

/** The JSON file: exh-tasks-report.json. */
export interface DeploymentReport {
  reportVersion: number
  action: { name: 'exh-tasks-action'; version: string }
  run: RunFacts
  command: RunReport['command']
  dryRun: boolean
  offline: boolean
  outcome: 'succeeded' | 'failed' | 'cancelled'
  host?: string
  label?: string
  pullRequest?: PullRequestEvidence
  reviewedPlan: ReviewedPlanEvidence
  tasks: ReportTask[]
  deletes: ReportDelete[]
  functions?: ReportFunction[]
  totals: Record<TotalKey, number>
  errors: string[]
  warnings: string[]
}

type TotalKey =
  | 'create'
  | 'update'
  | 'unchanged'
  | 'delete'
  | 'validate'
  | 'failed'
  | 'skipped'

/** What the report adds to the run's own report. */
export interface ReportContext {
  run: RunFacts
  cancelled: boolean
  /** Seam for the reviewed-plan check (issue 25): absent, none was required. */
  pullRequest?: PullRequestEvidence
  reviewedPlan?: ReviewedPlanEvidence
}

/** The run's facts from the runner's variables; the URL only when well formed. */
export function runFacts(
  env: Readonly<Record<string, string | undefined>>,
  startedAt: Date,
  endedAt: Date
): RunFacts {
  const value = (name: string): string | undefined =>
    env[name]?.trim() || undefined
  const id = value('GITHUB_RUN_ID')
  const repository = value('GITHUB_REPOSITORY')
  // Only digits and a valid `owner/name` go into the link.
  const linkable =
    id && /^[0-9]{1,20}$/.test(id) && repository && isRepositoryName(repository)
  return {
    id,
    attempt: value('GITHUB_RUN_ATTEMPT'),
    url: linkable
      ? `${serverOrigin(env.GITHUB_SERVER_URL)}/${repository}/actions/runs/${id}`
      : undefined,
    actor: value('GITHUB_ACTOR'),
    event: value('GITHUB_EVENT_NAME'),
    repository,
    ref: value('GITHUB_REF'),
    commit: value('GITHUB_SHA'),
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString()
  }
}

/**
 * The JSON document. `report` is the summary's: free texts redacted, names
 * from `$VAR` as references; the host only when the summary names it.
 */
export function buildDeploymentReport(
  report: RunReport,
  context: ReportContext
): DeploymentReport {
  const isDelete = (r: TaskResult): boolean => r.action === 'delete'
  return withoutUndefined({
    reportVersion: REPORT_VERSION,
    action: { name: 'exh-tasks-action', version: ACTION_VERSION },
    run: context.run,
    command: report.command,
    dryRun: report.dryRun,
    offline: report.offline,
    outcome: context.cancelled
      ? 'cancelled'
      : hasFailed(report)
        ? 'failed'
        : 'succeeded',
    host: report.hostMasked ? undefined : report.host,
    label: report.label,
    pullRequest: context.pullRequest,
    reviewedPlan: context.reviewedPlan ?? {
      required: false,
      failureReason: ''
    },
    tasks: report.results.filter(r => !isDelete(r)).map(reportTask),
    deletes: report.results.filter(isDelete).map(r => ({
      name: r.name,
      status: r.status,
      error: bounded(r.error)
    })),
    functions: report.functions?.map(fn => ({
      name: fn.name,
      repository: fn.repository,
      commit: fn.commit,
      deployedAt: fn.deployedAt,
      zipSha256: fn.zipSha256,
      drift: fn.drift,
      verify: fn.verify
    })),
    totals: totals(report.results),
    // A function's error or result may be megabytes: cut like the outputs.
    errors: report.errors.map(text => boundText(text, OUTPUT_ERROR_LIMIT)),
    warnings: report.warnings.map(text => boundText(text, OUTPUT_ERROR_LIMIT))
  })
}

function bounded(text: string | undefined): string | undefined {
  return text === undefined ? undefined : boundText(text, OUTPUT_ERROR_LIMIT)
}

function reportTask(result: TaskResult): ReportTask {
  return {
    name: result.name,
    config: result.config,
    action: result.action,
    status: result.status,
    changes: result.changes,
    fingerprint: result.fingerprint,
    zipSha256: result.zipSha256,
    verify: {
      executed: result.verified !== undefined,
      passed: result.verified,
      ms: result.verifyMs
    },
    error: bounded(result.error)
  }
}

function totals(results: TaskResult[]): Record<TotalKey, number> {
  return {
    create: countAction(results, 'create'),
    update: countAction(results, 'update'),
    unchanged: countAction(results, 'unchanged'),
    delete: countAction(results, 'delete'),
    validate: countAction(results, 'validate'),
    failed: countStatus(results, 'failed'),
    skipped: countStatus(results, 'skipped')
  }
}

/**
 * exh-tasks-checksums.txt: `<sha256>  <name>.zip` per zip uploaded in this
 * run, as `sha256sum` writes it; empty when none was. A name is a valid
 * function name or a `$VAR` reference, so it needs no escaping.
 */
export function checksumsText(doc: DeploymentReport): string {
  return doc.tasks
    .filter(task => task.zipSha256 !== undefined)
    .map(task => `${task.zipSha256 ?? ''}  ${task.name ?? '?'}.zip\n`)
    .join('')
}

/** Keys whose value is undefined left out (JSON drops them anyway; ajv does not). */
function withoutUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T
}

/**
 * exh-tasks-report.md: the JSON for people. Every text from the repository,
 * the runner or the API is escaped (code spans, Markdown text); the only
 * link is the run's, built from validated parts (`runFacts`).
 */
export function renderReportMarkdown(doc: DeploymentReport): string {
  const label = doc.label ? ` (${markdownText(doc.label)})` : ''
  const parts = [
    `# Extra Horizon tasks: deployment report${label}`,
    `**Outcome:** ${outcomeText(doc)} · exh-tasks-action ${markdownCode(doc.action.version)}`,
    runTable(doc),
    reviewSection(doc),
    totalsLine(doc)
  ]
  if (doc.tasks.length) parts.push(tasksTable(doc.tasks))
  if (doc.deletes.length) parts.push(deletesTable(doc.deletes))
  if (doc.functions) parts.push(functionsTable(doc.functions))
  if (doc.errors.length) parts.push(listSection('Errors', doc.errors))
  if (doc.warnings.length) parts.push(listSection('Warnings', doc.warnings))
  return parts.join('\n\n') + '\n'
}

function outcomeText(doc: DeploymentReport): string {
  const kind = doc.offline
    ? 'offline dry run'
    : doc.dryRun
      ? 'dry run'
      : `command ${doc.command}`
  return `${doc.outcome} (${kind})`
}

function runTable(doc: DeploymentReport): string {
  const { run } = doc
  const code = (text: string | undefined): string =>
    text === undefined ? '' : markdownCode(text)
  const rows: [string, string][] = [
    ['Run', run.url ? `[${code(run.id)}](<${run.url}>)` : code(run.id)],
    ['Attempt', code(run.attempt)],
    ['Repository', code(run.repository)],
    ['Ref', code(run.ref)],
    ['Commit', code(run.commit)],
    ['Event', code(run.event)],
    ['Actor', code(run.actor)],
    ['Started', code(run.startedAt)],
    ['Ended', code(run.endedAt)],
    ['Host', code(doc.host)]
  ]
  return [
    '| | |',
    '| --- | --- |',
    ...rows.map(([key, value]) => `| ${key} | ${value} |`)
  ].join('\n')
}

function reviewSection(doc: DeploymentReport): string {
  const { reviewedPlan: plan, pullRequest: pr } = doc
  const lines = [
    `**Reviewed plan:** ${plan.required ? 'required' : 'not required'}` +
      (plan.matched === undefined
        ? ''
        : plan.matched
          ? ', matched'
          : ', did not match') +
      (plan.failureReason ? ` (${markdownCode(plan.failureReason)})` : '')
  ]
  if (pr) {
    lines.push(
      `**Pull request:** ${markdownCode(`#${pr.number}`)} ${markdownCode(pr.url)}, head ${markdownCode(pr.head)}`
    )
    for (const review of pr.approvals) {
      lines.push(
        `- approved by ${markdownCode(review.user)} at ${markdownCode(review.submittedAt)} on ${markdownCode(review.commit)}`
      )
    }
  }
  return lines.join('\n\n')
}

function totalsLine(doc: DeploymentReport): string {
  const shown = Object.entries(doc.totals)
    .filter(([, count]) => count > 0)
    .map(([key, count]) => `${key} ${count}`)
  return `**Totals:** ${shown.length ? shown.join(', ') : 'nothing'}`
}

function tasksTable(tasks: ReportTask[]): string {
  return [
    '## Tasks',
    '',
    '| Task | Config | Action | Status | Changes | Fingerprint | Zip sha256 | Verify |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...tasks.map(
      task =>
        `| ${markdownCodeCut(task.name ?? '?')} | ${task.config ? markdownCodeCut(task.config) : ''} | ${task.action ?? ''} | ${task.status} | ${(task.changes ?? []).map(field => markdownCodeCut(field)).join(', ')} | ${task.fingerprint ? markdownCode(task.fingerprint) : ''} | ${task.zipSha256 ? markdownCode(task.zipSha256) : ''} | ${verifyText(task.verify)} |`
    )
  ].join('\n')
}

function verifyText(verify: ReportTask['verify']): string {
  if (!verify.executed) return 'not executed'
  return `${verify.passed ? 'passed' : 'failed'} (${verify.ms ?? 0} ms)`
}

function deletesTable(deletes: ReportDelete[]): string {
  return [
    '## Deletes',
    '',
    '| Function | Status |',
    '| --- | --- |',
    ...deletes.map(d => `| ${markdownCodeCut(d.name ?? '?')} | ${d.status} |`)
  ].join('\n')
}

function functionsTable(functions: ReportFunction[]): string {
  return [
    '## Functions',
    '',
    '| Function | Repository | Commit | Deployed | Zip sha256 | Drift | Last verify |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...functions.map(
      fn =>
        `| ${markdownCodeCut(fn.name)} | ${fn.repository ? markdownCodeCut(fn.repository) : ''} | ${fn.commit ? markdownCode(fn.commit) : ''} | ${fn.deployedAt ? markdownCode(fn.deployedAt) : ''} | ${fn.zipSha256 ? markdownCode(fn.zipSha256) : ''} | ${fn.drift} | ${fn.verify ?? ''} |`
    )
  ].join('\n')
}

/** Errors and warnings, each a code span cut to a cell's length. */
function listSection(title: string, lines: string[]): string {
  return [
    `## ${title}`,
    '',
    ...lines.map(line => `- ${markdownCodeCut(line)}`)
  ].join('\n')
}

/** Digests the action computed or validated as hex: never a secret, never redacted. */
const DIGEST_KEYS = new Set(['fingerprint', 'zipSha256', 'commit', 'head'])

/**
 * Every free text of the document through `redact` (the masked values),
 * the last guard before the files are written; digests are left whole, so
 * a short masked value can never break a checksum.
 */
export function redactReport(
  doc: DeploymentReport,
  redact: (text: string) => string
): DeploymentReport {
  return JSON.parse(JSON.stringify(doc), (key, value: unknown) =>
    typeof value === 'string' && !DIGEST_KEYS.has(key) ? redact(value) : value
  ) as DeploymentReport
}
