// The judgement before a delete, and its words: a function that a schedule,
// a dispatcher or a schema transition still runs is not deleted (unless
// `force-delete`), and neither is one whose users could not be looked up.
// Pure: the lookup itself is exh/references.ts.

import type {
  FunctionUser,
  FunctionUses,
  UnreadableList
} from '../exh/types.js'

/** At most this many users are named; the rest are counted. */
const MAX_NAMED_USERS = 5

/** What to do with one delete, and why. */
export type DeleteVerdict =
  | { verdict: 'free' }
  /** Not deleted: `why` is the task's error (and the plan's note). */
  | { verdict: 'blocked'; why: string }
  /** Deleted anyway (`force-delete`): `why` is what it overrode. */
  | { verdict: 'forced'; why: string }

export function judgeDelete(
  name: string,
  found: FunctionUses,
  forceDelete: boolean
): DeleteVerdict {
  const users = found.uses
    .filter(use => use.functionName === name)
    .map(use => userText(use.by))
  const reasons = [
    ...(users.length ? [stillUsedText(users)] : []),
    ...(found.unreadable.length ? [uncheckedText(found.unreadable)] : [])
  ]
  if (!reasons.length) return { verdict: 'free' }
  const why = reasons.join('; ')
  return forceDelete ? { verdict: 'forced', why } : { verdict: 'blocked', why }
}

/** `schedule 64ab…`, `dispatcher user-registered`, `schema sample transition analyze`. */
export function userText(user: FunctionUser): string {
  switch (user.kind) {
    case 'schedule':
      return `schedule ${user.id}`
    case 'dispatcher':
      return `dispatcher ${user.name}`
    case 'schema':
      // The creation transition has no name of its own.
      return user.transition === undefined
        ? `schema ${user.schema} creation transition`
        : `schema ${user.schema} transition ${user.transition}`
  }
}

/** `still used by a, b, c, d, e and 2 more`: each user once. */
export function stillUsedText(users: readonly string[]): string {
  const distinct = [...new Set(users)]
  const named = distinct.slice(0, MAX_NAMED_USERS).join(', ')
  const more = distinct.length - MAX_NAMED_USERS
  return `still used by ${named}${more > 0 ? ` and ${more} more` : ''}`
}

/**
 * `could not check what still uses it: the token lacks VIEW_TASK_SCHEDULES
 * to list schedules (NO_PERMISSION_EXCEPTION)`: the permission when the API
 * answered that one is missing, the failure otherwise.
 */
function uncheckedText(unreadable: readonly UnreadableList[]): string {
  const parts = unreadable.map(list =>
    list.permission
      ? `the token lacks ${list.permission} to list ${list.list} (NO_PERMISSION_EXCEPTION)`
      : list.error
  )
  return `could not check what still uses it: ${parts.join('; ')}`
}

/**
 * The detail a delete's row carries (the plan's, or a forced delete's):
 * `blocked` or `force-delete`, and why.
 */
export function deleteDetail(
  verdict: DeleteVerdict
): { field: string; note: string } | undefined {
  if (verdict.verdict === 'free') return undefined
  return {
    field: verdict.verdict === 'blocked' ? 'blocked' : 'force-delete',
    note: verdict.why
  }
}

/** The warning for a delete `force-delete` let through, or a dry run's block. */
export function deleteWarning(
  name: string,
  verdict: DeleteVerdict,
  dryRun: boolean
): string | undefined {
  if (verdict.verdict === 'free') return undefined
  if (verdict.verdict === 'blocked') {
    return dryRun
      ? `${name}: the delete is blocked: ${verdict.why} (force-delete: true deletes it anyway)`
      : undefined
  }
  return `${name}: ${dryRun ? 'would be deleted' : 'deleted'} with force-delete (${verdict.why})`
}
