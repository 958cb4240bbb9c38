// The reviewed plan against the fresh one, task by task, and each
// difference in words (SPEC section 10). Pure.

import type { PlanRecord, RecordedTask } from './record.js'

/** `update [code, timeLimit]`, `unchanged`. */
function describe(task: Pick<RecordedTask, 'action' | 'changes'>): string {
  return task.changes.length
    ? `${task.action} [${task.changes.join(', ')}]`
    : task.action
}

/**
 * What is compared of a task: its action and changed fields, leaving out
 * fields whose value is a `$NAME` reference (a rotated secret changes the
 * value only; the desired digest, made with the reference, still matches).
 * An update left with no change is `unchanged`.
 */
function compared(
  task: RecordedTask,
  referenced: ReadonlySet<string>
): { action: string; changes: string[] } {
  const changes = task.changes.filter(field => !referenced.has(field))
  const action =
    task.action === 'update' && task.changes.length && !changes.length
      ? 'unchanged'
      : task.action
  return { action, changes: [...changes].sort() }
}

/**
 * One line per difference, empty when the plans match. Both records must
 * have been made with the same salt. `referenced` gives, per task name, the
 * fields whose configured value is a `$NAME` reference (from the config as
 * it is now: when it differs, so does the desired digest).
 */
export function comparePlans(
  reviewed: PlanRecord,
  fresh: PlanRecord,
  referenced: ReadonlyMap<string, readonly string[]>,
  /**
   * A re-run of the run that applied this plan: what that run already
   * wrote (a create or update now unchanged with the same desired state, a
   * delete done) is no difference.
   */
  resumed = false
): string[] {
  const lines: string[] = []
  if (reviewed.host !== fresh.host) {
    lines.push("the host differs from the reviewed plan's")
  }
  if (reviewed.inputs !== fresh.inputs) {
    lines.push('the inputs that choose the tasks differ')
  }
  const before = new Map(reviewed.tasks.map(task => [task.name, task]))
  for (const task of fresh.tasks) {
    const old = before.get(task.name)
    before.delete(task.name)
    if (!old) {
      lines.push(`${task.name}: not in the reviewed plan`)
      continue
    }
    // Before the re-run's leniency: a function this run wrote is no longer
    // changed outside, so only someone else's change is caught here.
    if (changedOutsideSince(old, task)) {
      lines.push(`${task.name}: changed outside since the review`)
      continue
    }
    if (resumed && alreadyWritten(old, task)) continue
    const line = taskDifference(
      old,
      task,
      new Set(referenced.get(task.name) ?? [])
    )
    if (line) lines.push(`${task.name}: ${line}`)
  }
  for (const old of before.values()) {
    if (resumed && old.action === 'delete') continue
    lines.push(`${old.name}: reviewed ${describe(old)}; now not in the plan`)
  }
  return lines
}

/**
 * A function changed outside now, and not (or at another time) when the
 * plan was reviewed. A code-only write keeps the marker and its
 * fingerprint, so the steps and the desired digest alone would match.
 */
function changedOutsideSince(old: RecordedTask, now: RecordedTask): boolean {
  return now.outside !== undefined && now.outside !== old.outside
}

function alreadyWritten(old: RecordedTask, now: RecordedTask): boolean {
  return (
    (old.action === 'create' || old.action === 'update') &&
    now.action === 'unchanged' &&
    old.desired === now.desired
  )
}

function taskDifference(
  old: RecordedTask,
  now: RecordedTask,
  referenced: ReadonlySet<string>
): string | undefined {
  const a = compared(old, referenced)
  const b = compared(now, referenced)
  const sameSteps =
    a.action === b.action && a.changes.join('\n') === b.changes.join('\n')
  if (sameSteps && old.desired === now.desired) return undefined
  const words = `reviewed ${describe(old)}; now ${describe(now)}`
  return old.desired === now.desired
    ? words
    : `${words} (its config or code is not the one reviewed)`
}
