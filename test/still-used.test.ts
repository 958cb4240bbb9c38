// The judgement before a delete and its words (plan/still-used.ts).

import { describe, expect, it } from 'vitest'
import {
  deleteDetail,
  deleteWarning,
  judgeDelete,
  stillUsedText,
  userText
} from '../src/plan/still-used.js'
import type {
  FunctionUse,
  FunctionUses,
  UnreadableList
} from '../src/exh/types.js'

const schedule = (functionName: string, id: string): FunctionUse => ({
  functionName,
  by: { kind: 'schedule', id }
})
const dispatcher = (functionName: string, name: string): FunctionUse => ({
  functionName,
  by: { kind: 'dispatcher', name }
})
const transition = (
  functionName: string,
  schema: string,
  name: string
): FunctionUse => ({
  functionName,
  by: { kind: 'schema', schema, transition: name }
})
const found = (
  uses: FunctionUse[],
  unreadable: UnreadableList[] = []
): FunctionUses => ({ uses, unreadable })
const noSchedules: UnreadableList = {
  list: 'schedules',
  permission: 'VIEW_TASK_SCHEDULES',
  error: 'HTTP 401, API error 10 NO_PERMISSION_EXCEPTION: Permission denied'
}
const dispatchersDown: UnreadableList = {
  list: 'dispatchers',
  error: 'listing dispatchers failed: HTTP 503 (gave up after 4 attempts)'
}

describe('judgeDelete', () => {
  it.each([
    ['nothing uses it', found([]), false, { verdict: 'free' }],
    [
      'another function is used',
      found([schedule('other', 's1'), dispatcher('other', 'd')]),
      false,
      { verdict: 'free' }
    ],
    [
      'a schedule',
      found([schedule('fn', 's1')]),
      false,
      { verdict: 'blocked', why: 'still used by schedule s1' }
    ],
    [
      'a dispatcher',
      found([dispatcher('fn', 'on-register')]),
      false,
      { verdict: 'blocked', why: 'still used by dispatcher on-register' }
    ],
    [
      'a transition',
      found([transition('fn', 'measurement', 'analyze')]),
      false,
      {
        verdict: 'blocked',
        why: 'still used by schema measurement transition analyze'
      }
    ],
    [
      'every kind, in the order read',
      found([
        schedule('fn', 's1'),
        dispatcher('fn', 'd1'),
        { functionName: 'fn', by: { kind: 'schema', schema: 'm' } }
      ]),
      false,
      {
        verdict: 'blocked',
        why: 'still used by schedule s1, dispatcher d1, schema m creation transition'
      }
    ],
    [
      'force-delete',
      found([schedule('fn', 's1')]),
      true,
      { verdict: 'forced', why: 'still used by schedule s1' }
    ],
    [
      'a list the token may not read',
      found([], [noSchedules]),
      false,
      {
        verdict: 'blocked',
        why: 'could not check what still uses it: the token lacks VIEW_TASK_SCHEDULES to list schedules (NO_PERMISSION_EXCEPTION)'
      }
    ],
    [
      'a list that failed otherwise, with force-delete',
      found([], [dispatchersDown]),
      true,
      {
        verdict: 'forced',
        why: 'could not check what still uses it: listing dispatchers failed: HTTP 503 (gave up after 4 attempts)'
      }
    ],
    [
      'a use found and a list unread',
      found([dispatcher('fn', 'd')], [noSchedules]),
      false,
      {
        verdict: 'blocked',
        why: 'still used by dispatcher d; could not check what still uses it: the token lacks VIEW_TASK_SCHEDULES to list schedules (NO_PERMISSION_EXCEPTION)'
      }
    ]
  ])('%s', (_, lookup, force, verdict) => {
    expect(judgeDelete('fn', lookup, force)).toEqual(verdict)
  })
})

describe('stillUsedText', () => {
  it.each([
    [['schedule a'], 'still used by schedule a'],
    [['a', 'b', 'c', 'd', 'e'], 'still used by a, b, c, d, e'],
    [['a', 'b', 'c', 'd', 'e', 'f'], 'still used by a, b, c, d, e and 1 more'],
    [
      ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      'still used by a, b, c, d, e and 3 more'
    ],
    // A dispatcher with two task actions for it is named once.
    [['dispatcher d', 'dispatcher d'], 'still used by dispatcher d']
  ])('%j → %s', (users, text) => {
    expect(stillUsedText(users)).toBe(text)
  })
})

describe('userText', () => {
  it.each([
    [{ kind: 'schedule' as const, id: '64ab' }, 'schedule 64ab'],
    [{ kind: 'dispatcher' as const, name: 'x' }, 'dispatcher x'],
    [
      { kind: 'schema' as const, schema: 's', transition: 't' },
      'schema s transition t'
    ],
    [{ kind: 'schema' as const, schema: 's' }, 'schema s creation transition'],
    // A transition may be named `creation`: still a transition of that name.
    [
      { kind: 'schema' as const, schema: 's', transition: 'creation' },
      'schema s transition creation'
    ]
  ])('%j → %s', (user, text) => {
    expect(userText(user)).toBe(text)
  })
})

describe('the row detail and the warning', () => {
  const blocked = {
    verdict: 'blocked' as const,
    why: 'still used by schedule a'
  }
  const forced = { verdict: 'forced' as const, why: 'still used by schedule a' }
  it.each([
    [{ verdict: 'free' as const }, false, undefined, undefined],
    [
      blocked,
      false,
      { field: 'blocked', note: 'still used by schedule a' },
      undefined
    ],
    [
      blocked,
      true,
      { field: 'blocked', note: 'still used by schedule a' },
      'fn: the delete is blocked: still used by schedule a (force-delete: true deletes it anyway)'
    ],
    [
      forced,
      false,
      { field: 'force-delete', note: 'still used by schedule a' },
      'fn: deleted with force-delete (still used by schedule a)'
    ],
    [
      forced,
      true,
      { field: 'force-delete', note: 'still used by schedule a' },
      'fn: would be deleted with force-delete (still used by schedule a)'
    ]
  ])('%j (dry run %s)', (verdict, dryRun, note, warning) => {
    expect(deleteDetail(verdict)).toEqual(note)
    expect(deleteWarning('fn', verdict, dryRun)).toBe(warning)
  })
})
