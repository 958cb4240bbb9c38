// Stage 8: the action's outputs and the step summary.

import { shortCommit } from '../helpers.js'
import type { TaskAction, TaskResult } from './result.js'
import { functionsOutput, resultOutput } from './output-limits.js'
import { changeText, type ChangeDetail } from '../plan/decide.js'
import {
  CELL_LIMIT,
  markdownCode,
  markdownCodeCut,
  markdownText,
  markdownTextCut
} from '../safe-text.js'
import { plural } from '../words.js'
import { shortZip, type ListedFunction } from './function-list.js'
import {
  FUTURE_RECORD_NOTE,
  isFutureRecord,
  type Drift
} from '../plan/drift.js'
import type { ReviewedPlanOutcome } from '../reviewed-plan/check.js'

/** Everything the report stage needs: pure data, no secrets. */
export interface RunReport {
  command: 'sync' | 'list' | 'delete'
  dryRun: boolean
  /** The `label` input (`staging`, `production`), for the title. */
  label?: string
  /** A dry-run without credentials: validated and packaged, remote not read. */
  offline: boolean
  missingCredentials: string[]
  /** Shown by name only (never a path, credentials or query). */
  host?: string
  /** The host became a secret (`$API_HOST`): the summary does not name it. */
  hostMasked?: boolean
  results: TaskResult[]
  /** Every problem and failure, one line each. */
  errors: string[]
  warnings: string[]
  durationMs: number
  /** For `command: list`. */
  functions?: RemoteFunctionRow[]
  /** Names substituted from `$VAR`: value → `$VAR` (see `report/shown-texts.ts`). */
  nameRefs?: Record<string, string>
  /** `reviewed-plan: required` on a sync that writes: the check is due. */
  reviewedPlanRequired?: boolean
  /** `reviewed-plan: required` on a deploy: the check's outcome (SPEC section 10). */
  reviewedPlan?: Omit<ReviewedPlanOutcome, 'comment'>
}

/** One remote function, as `command: list` reports it. */
export type RemoteFunctionRow = ListedFunction

/**
 * Whether a task's action counts: done or planned, or written and then
 * failed (a verify, a role): counts count what was written.
 */
function counts(result: TaskResult): boolean {
  return (
    result.status === 'done' ||
    result.status === 'planned' ||
    (result.status === 'failed' && result.written === true)
  )
}

/** Tasks with this action that count (see `counts`). */
export function countAction(results: TaskResult[], action: TaskAction): number {
  return results.filter(r => r.action === action && counts(r)).length
}

/** Failed tasks whose verify failed (the rest failed otherwise). */
function countFailedVerify(results: TaskResult[]): number {
  return results.filter(r => r.status === 'failed' && r.verified === false)
    .length
}

export function countStatus(
  results: TaskResult[],
  status: TaskResult['status']
): number {
  return results.filter(r => r.status === status).length
}

/** The action's outputs. The host is left out (it may be a secret). */
export function computeOutputs(report: RunReport): Record<string, string> {
  const counted = (action: TaskAction): number =>
    countAction(report.results, action)
  const outputs: Record<string, string> = {
    result: resultOutput(report.results),
    created: String(counted('create')),
    updated: String(counted('update')),
    unchanged: String(counted('unchanged')),
    deleted: String(counted('delete')),
    failed: String(countStatus(report.results, 'failed')),
    changed: report.offline ? '' : String(isChanged(report.results)),
    'failure-reason': report.reviewedPlan?.failureReason ?? ''
  }
  if (report.functions) outputs.functions = functionsOutput(report.functions)
  return outputs
}

function isChanged(results: TaskResult[]): boolean {
  return results.some(
    r =>
      counts(r) &&
      (r.action === 'create' ||
        r.action === 'delete' ||
        (r.action === 'update' && (r.changes?.length ?? 0) > 0))
  )
}

export function hasFailed(report: RunReport): boolean {
  return (
    report.errors.length > 0 || report.results.some(r => r.status === 'failed')
  )
}

/** Above this many tasks, unchanged rows collapse into one line. */
const MAX_TASK_ROWS = 50
/** The runner's limit is 1 MiB (bytes, not characters); stay well below it. */
const SUMMARY_LIMIT = 900_000

/** The step summary, as markdown: outcome, totals, one row per task, errors. */
export function renderSummary(report: RunReport): string {
  const label = report.label ? ` (${markdownText(report.label)})` : ''
  const parts = [
    `## Extra Horizon tasks${label}: ${outcome(report)}`,
    totalsLine(report)
  ]
  if (report.offline) {
    parts.push(
      `> [!WARNING]\n> No request was made: ${report.missingCredentials.join(', ')} missing, so the remote functions were not compared. The configs were validated and packaged offline.`
    )
  }
  if (report.reviewedPlan) parts.push(reviewedPlanLine(report.reviewedPlan))
  if (report.functions) parts.push(functionsTable(report.functions))
  if (report.results.length) parts.push(resultsTable(report.results))
  if (report.errors.length) {
    parts.push(
      '### Errors\n\n' +
        limitPerSource(report.errors)
          .map(line => `- ${line}`)
          .join('\n')
    )
  }
  if (report.warnings.length) {
    parts.push(
      '### Warnings\n\n' +
        report.warnings.map(line => `- ${markdownTextCut(line)}`).join('\n')
    )
  }
  if (report.results.some(result => result.action === 'delete')) {
    parts.push(
      '<sub>Only functions are written or deleted; users and roles are never removed.</sub>'
    )
  }
  const markdown = parts.join('\n\n') + '\n'
  return Buffer.byteLength(markdown) > SUMMARY_LIMIT
    ? cutToBytes(markdown, SUMMARY_LIMIT) +
        '\n\n… (summary cut at the size limit)\n'
    : markdown
}

/**
 * At most `bytes` UTF-8 bytes, cut after a whole line: a line cut in half
 * could leave a code span open.
 */
function cutToBytes(text: string, bytes: number): string {
  const head = Buffer.from(text).subarray(0, bytes).toString('utf8')
  return head.slice(0, Math.max(0, head.lastIndexOf('\n')))
}

function outcome(report: RunReport): string {
  const failed = countStatus(report.results, 'failed')
  if (hasFailed(report)) {
    return failed
      ? `❌ failed (${failed} of ${report.results.length} tasks)`
      : '❌ failed'
  }
  if (report.offline) return '🔍 validated offline'
  if (report.dryRun) return '📝 plan (dry run)'
  if (report.command === 'list') return '📋 functions'
  return '✅ done'
}

/** What the reviewed-plan check found (SPEC section 10); its lines are under Errors. */
function reviewedPlanLine(
  outcome: NonNullable<RunReport['reviewedPlan']>
): string {
  const pull = outcome.pullRequest
  const where = pull
    ? ` on pull request #${pull.number} at ${markdownCode(shortCommit(pull.head))}`
    : ''
  if (!outcome.matched) {
    const reason = outcome.failureReason
      ? ` (${markdownCode(outcome.failureReason)})`
      : ''
    return `Reviewed plan${where}: not deployed${reason}; nothing was written.`
  }
  const approvers = (pull?.approvals ?? []).map(review =>
    markdownCode(review.user)
  )
  const approved = approvers.length
    ? `, approved by ${approvers.join(', ')}`
    : ''
  return `Reviewed plan: deploys the plan reviewed${where}${approved}.`
}

function totalsLine(report: RunReport): string {
  const count = (action: TaskAction): number =>
    countAction(report.results, action)
  const failed = countStatus(report.results, 'failed')
  const skipped = countStatus(report.results, 'skipped')
  const seconds = `${(report.durationMs / 1000).toFixed(1)} s`
  const shown = report.hostMasked ? undefined : report.host
  const host = shown ? ` on ${markdownCode(shown)}` : ''
  if (report.command === 'list') {
    return `${plural(report.functions?.length ?? 0, 'function')}${host}.`
  }
  if (report.offline) {
    return `${count('validate')} valid, ${failed} invalid, ${skipped} skipped (${seconds}).`
  }
  const pieces = report.dryRun
    ? [
        `${count('create')} to create`,
        `${count('update')} to update`,
        `${count('unchanged')} unchanged`,
        ...(count('delete') ? [`${count('delete')} to delete`] : [])
      ]
    : [
        `${count('create')} created`,
        `${count('update')} updated`,
        `${count('unchanged')} unchanged`,
        ...(count('delete') ? [`${count('delete')} deleted`] : [])
      ]
  const failedVerify = countFailedVerify(report.results)
  if (failed > failedVerify) pieces.push(`${failed - failedVerify} failed`)
  if (failedVerify) pieces.push(`${failedVerify} failed verify`)
  if (skipped) pieces.push(`${skipped} skipped`)
  return `**${report.dryRun ? 'Plan' : 'Totals'}**${host}: ${pieces.join(', ')} (${seconds}).`
}

function resultsTable(results: TaskResult[]): string {
  const unchanged = results.filter(
    r => r.action === 'unchanged' && r.status !== 'failed'
  )
  const collapse = results.length > MAX_TASK_ROWS && unchanged.length > 0
  const rows = collapse ? results.filter(r => !unchanged.includes(r)) : results
  // The column is there only when `verify` executed something.
  const verify = results.some(r => r.verified !== undefined)
  const lines = [
    `| Task | Action | Status | Details | Code | Time |${verify ? ' Verify |' : ''}`,
    `| --- | --- | --- | --- | --- | --- |${verify ? ' --- |' : ''}`,
    ...rows.map(
      r =>
        `| ${markdownCodeCut(r.name ?? r.config ?? '?')} | ${r.action ?? ''} | ${statusLabel(r.status)} | ${detailsCell(r)} | ${codeCell(r)} | ${seconds(r.durationMs)} |${verify ? ` ${verifyCell(r)} |` : ''}`
    )
  ]
  if (collapse) {
    lines.push(`\n…and ${plural(unchanged.length, 'unchanged task')}.`)
  }
  return lines.join('\n')
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '' : `${(ms / 1000).toFixed(1)} s`
}

/** `✅ 0.4 s` passed, `❌ 0.4 s` failed (the error is in Details), empty when not executed. */
function verifyCell(result: TaskResult): string {
  if (result.verified === undefined) return ''
  return `${result.verified ? '✅' : '❌'} ${seconds(result.verifyMs)}`
}

/**
 * Before → after of each change, what a create sets, or why the task failed
 * or did not start. Each validation problem is listed once, under Errors:
 * the row only counts them.
 */
function detailsCell(result: TaskResult): string {
  if (result.status === 'failed' || result.status === 'skipped') {
    if (result.problems) {
      return `error: ${plural(result.problems, 'problem')} (under Errors)`
    }
    return result.error ? `error: ${markdownCodeCut(result.error)}` : ''
  }
  const note = [
    ...(result.adoptedNote ? [markdownText(result.adoptedNote)] : []),
    ...(result.disabled ? ['⏸️ disabled'] : []),
    ...(result.driftNote ? [`⚠️ ${markdownText(result.driftNote)}`] : []),
    ...(result.verifiedAgain ? ['✅ verified again'] : [])
  ]
  if (result.details?.length) {
    const changes = withinCell(
      result.details,
      changeText,
      markdownChange,
      '<br>'
    )
    return [...note, changes].join('<br>')
  }
  if (result.sets?.length) {
    const sets = withinCell(result.sets, field => field, markdownCode, ', ')
    return [...note, `sets ${sets}`].join('<br>')
  }
  const changes = withinCell(
    result.changes ?? [],
    field => field,
    markdownCode,
    ', '
  )
  return [...note, ...(changes ? [changes] : [])].join('<br>')
}

/**
 * As many items as fit in a cell's CELL_LIMIT raw characters (at least
 * one, itself cut), then `… and N more`.
 */
function withinCell<T>(
  items: T[],
  raw: (item: T) => string,
  render: (item: T) => string,
  separator: string
): string {
  const shown: string[] = []
  let used = 0
  for (const item of items) {
    const length = raw(item).length
    if (shown.length && used + length > CELL_LIMIT) break
    used += length
    shown.push(shown.length ? render(item) : renderFirst(item, raw, render))
  }
  const more = items.length - shown.length
  return shown.join(separator) + (more ? ` … and ${more} more` : '')
}

/** The first item alone may be over the limit: its raw text is cut. */
function renderFirst<T>(
  item: T,
  raw: (item: T) => string,
  render: (item: T) => string
): string {
  if (raw(item).length <= CELL_LIMIT) return render(item)
  return markdownCodeCut(raw(item))
}

function markdownChange(change: ChangeDetail): string {
  const field = markdownCodeCut(change.field)
  if (change.note !== undefined) {
    return `${field} ${markdownTextCut(change.note)}`
  }
  return `${field}: ${markdownCode(short(change.before ?? ''))} → ${markdownCode(short(change.after ?? ''))}`
}

/** Above this many, a source's further errors are counted, not listed. */
const MAX_ERRORS_PER_SOURCE = 10

/**
 * The error lines, each cut to a cell's length, at most ten per source
 * (the config file or task a line starts with, up to its first `:`), so
 * one noisy config never pushes the others out of the comment.
 */
function limitPerSource(errors: string[]): string[] {
  const sourceOf = (error: string): string => error.split(':', 1)[0] ?? ''
  const totals = new Map<string, number>()
  for (const error of errors) {
    const source = sourceOf(error)
    totals.set(source, (totals.get(source) ?? 0) + 1)
  }
  const seen = new Map<string, number>()
  const lines: string[] = []
  for (const error of errors) {
    const source = sourceOf(error)
    const count = (seen.get(source) ?? 0) + 1
    seen.set(source, count)
    if (count <= MAX_ERRORS_PER_SOURCE) lines.push(markdownCodeCut(error))
    const more = (totals.get(source) ?? 0) - MAX_ERRORS_PER_SOURCE
    // The count stands where the source's eleventh line would be.
    if (count === MAX_ERRORS_PER_SOURCE && more > 0) {
      lines.push(`… and ${more} more (the log has them all)`)
    }
  }
  return lines
}

/** A long value (a description) cut for a table cell; redacted before this. */
function short(value: string): string {
  return value.length > 80 ? `${value.slice(0, 79)}…` : value
}

function functionsTable(functions: RemoteFunctionRow[]): string {
  return [
    '| Function | Description | Last updated | Repository | Commit | Zip | Deployed | Drift |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...functions.map(
      f =>
        `| ${markdownCodeCut(f.name)}${f.enabled === false ? ' ⏸️ disabled' : ''} | ${markdownTextCut(f.description ?? '')} | ${markdownTextCut(f.updateTimestamp ?? '')} | ${f.repository === undefined ? '' : markdownCodeCut(f.repository)} | ${f.commit ? markdownCode(shortCommit(f.commit)) : ''} | ${f.zipSha256 ? markdownCode(shortZip(f.zipSha256)) : ''} | ${deployedCell(f)} | ${driftCell(f)} |`
    )
  ].join('\n')
}

/**
 * When, and a link to the run. The link is built only from a validated
 * `owner/name`, a run id of digits and the server's origin
 * (function-list.ts), so it cannot point anywhere else.
 */
function deployedCell(f: RemoteFunctionRow): string {
  const at = markdownText(f.deployedAt ?? '')
  return f.run ? `${at} ([run](${f.run}))`.trim() : at
}

/** The drift, why it is unknown when the record lies, and a failed verify. */
function driftCell(f: RemoteFunctionRow): string {
  const future =
    f.drift === 'unknown' && isFutureRecord(f.deployedAt, f.updateTimestamp)
  return [
    driftLabel(f.drift) + (future ? ` (${FUTURE_RECORD_NOTE})` : ''),
    ...(f.verify ? [`❌ verify: ${f.verify}`] : [])
  ].join('<br>')
}

function driftLabel(drift: Drift): string {
  const icons: Record<Drift, string> = {
    none: '✅',
    'changed outside': '⚠️',
    unmanaged: '➖',
    unknown: '❔'
  }
  return `${icons[drift]} ${drift}`
}

function statusLabel(status: TaskResult['status']): string {
  const icons = { done: '✅', planned: '📝', failed: '❌', skipped: '⏭️' }
  return `${icons[status]} ${status}`
}

function codeCell(result: TaskResult): string {
  if (result.bytes === undefined) return ''
  const size =
    result.bytes >= 1024 * 1024
      ? `${(result.bytes / 1024 / 1024).toFixed(1)} MiB`
      : `${(result.bytes / 1024).toFixed(1)} KiB`
  const files = result.files ?? 0
  return `${size} (${plural(files, 'file')})`
}
