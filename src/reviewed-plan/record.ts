// The plan record a pull request's comment carries (SPEC section 10): made
// from a fresh plan with the pull request's URL as salt, written as one
// hidden HTML comment line, and read back defensively (anyone can write a
// comment; only the token's own are read, and still parsed as untrusted).
// Pure.

import { isObject } from '../helpers.js'
import { saltedDigest } from './digest.js'
import type { FreshPlan } from './fresh-plan.js'

const RECORD_VERSION = 1

export interface RecordedTask {
  name: string
  action: string
  changes: string[]
  /** Salted sha256 of the desired state. */
  desired: string
  /**
   * Salted sha256 of the function's `updateTimestamp` when it was changed
   * outside since the action's last deploy; absent when it was not (and in
   * records written before the field existed).
   */
  outside?: string
}

export interface PlanRecord {
  v: number
  /** The pull request's head commit the plan was made on. */
  head: string
  label: string
  scope: string
  /** Salted sha256 of the host as given. */
  host: string
  /** Salted sha256 of the inputs that choose the tasks. */
  inputs: string
  tasks: RecordedTask[]
  /** Set once a deploy matched it: the run that deployed it. */
  applied?: { run: string }
}

const PREFIX = '<!-- exh-tasks-action plan '
const SUFFIX = ' -->'

/** A record line longer than this is not written (GitHub cuts comments at 65,536). */
export const MAX_RECORD_LINE = 40_000

/** The record of `plan`, its digests salted with the pull request's URL. */
export function makeRecord(
  plan: FreshPlan,
  about: { salt: string; head: string; label: string; scope: string }
): PlanRecord {
  const digest = (text: string): string => saltedDigest(about.salt, text)
  return {
    v: RECORD_VERSION,
    head: about.head,
    label: about.label,
    scope: about.scope,
    host: digest(plan.host),
    inputs: digest(plan.inputs),
    tasks: plan.tasks.map(task => ({
      name: task.name,
      action: task.action,
      changes: task.changes,
      desired: digest(task.desired),
      ...(task.outside ? { outside: digest(task.outside) } : {})
    }))
  }
}

/**
 * The hidden line: `-`, `<` and `>` as JSON escapes, so no value (a label, a
 * scope, a name) can end the HTML comment or open a tag.
 */
export function recordLine(record: PlanRecord): string {
  const json = JSON.stringify(record).replace(
    /[-<>&]/g,
    char => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
  return `${PREFIX}${json}${SUFFIX}`
}

/** The record in a comment body: its second line (the first is the comment's marker). */
export function findRecord(body: string): PlanRecord | undefined {
  const [, line = ''] = body.slice(0, MAX_RECORD_LINE + 1024).split('\n', 2)
  return parseRecordLine(line)
}

/** The body with its record line replaced (to mark it applied). */
export function replaceRecord(body: string, record: PlanRecord): string {
  const lines = body.split('\n')
  if (!parseRecordLine(lines[1] ?? '')) return body
  lines[1] = recordLine(record)
  return lines.join('\n')
}

export function parseRecordLine(line: string): PlanRecord | undefined {
  if (line.length > MAX_RECORD_LINE) return undefined
  if (!line.startsWith(PREFIX) || !line.endsWith(SUFFIX)) return undefined
  let value: unknown
  try {
    value = JSON.parse(line.slice(PREFIX.length, -SUFFIX.length))
  } catch {
    return undefined
  }
  return asRecord(value)
}

const HEX64 = /^[0-9a-f]{64}$/
const ACTIONS = ['create', 'update', 'unchanged', 'delete', 'refused']

const isText = (value: unknown, max = 1000): value is string =>
  typeof value === 'string' && value.length <= max

/** The record's shape checked field by field; anything else is no record. */
function asRecord(value: unknown): PlanRecord | undefined {
  if (!isObject(value) || value.v !== RECORD_VERSION) return undefined
  const { head, label, scope, host, inputs, tasks, applied } = value
  if (!isText(head, 64) || !/^[0-9a-f]{7,64}$/.test(head)) return undefined
  if (!isText(label) || !isText(scope)) return undefined
  if (!isText(host) || !HEX64.test(host)) return undefined
  if (!isText(inputs) || !HEX64.test(inputs)) return undefined
  if (!Array.isArray(tasks)) return undefined
  const parsed = tasks.map(asTask)
  if (parsed.some(task => task === undefined)) return undefined
  const record: PlanRecord = {
    v: RECORD_VERSION,
    head,
    label,
    scope,
    host,
    inputs,
    tasks: parsed as RecordedTask[]
  }
  if (applied !== undefined) {
    if (!isObject(applied) || !isText(applied.run, 40)) return undefined
    record.applied = { run: applied.run }
  }
  return record
}

function asTask(value: unknown): RecordedTask | undefined {
  if (!isObject(value)) return undefined
  const { name, action, changes, desired, outside } = value
  if (!isText(name, 300) || !isText(action) || !ACTIONS.includes(action)) {
    return undefined
  }
  if (!isText(desired) || !HEX64.test(desired)) return undefined
  if (!Array.isArray(changes) || !changes.every(c => isText(c, 300))) {
    return undefined
  }
  if (outside === undefined) return { name, action, changes, desired }
  if (!isText(outside) || !HEX64.test(outside)) return undefined
  return { name, action, changes, desired, outside }
}
