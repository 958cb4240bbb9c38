// What still runs a function: schedules, dispatchers' task actions and data
// schemas' task (after-)actions, each list read whole through the SDK's
// paging, once per run, and only when something is about to be deleted.

import { isObject } from '../helpers.js'
import type { OAuth1Client } from '@extrahorizon/javascript-sdk'
import { describeError } from '../errors.js'
import { ExhApiError } from './failure.js'
import type { Call } from './request.js'
import type {
  ExhReferencesApi,
  FunctionUse,
  FunctionUser,
  FunctionUses,
  UnreadableList
} from './types.js'

/** NO_PERMISSION_EXCEPTION. */
const NO_PERMISSION = 10

/**
 * The permission each list needs (the SDK's doc comments). Listing schemas
 * needs none; only `DISABLE_SCHEMAS` adds the disabled ones.
 */
const PERMISSIONS: Record<UnreadableList['list'], string | undefined> = {
  schedules: 'VIEW_TASK_SCHEDULES',
  dispatchers: 'VIEW_DISPATCHERS',
  schemas: undefined
}

export function referencesApi(sdk: OAuth1Client, call: Call): ExhReferencesApi {
  let read: Promise<FunctionUses> | undefined
  return {
    readUses: () => (read ??= readAll(sdk, call))
  }
}

async function readAll(sdk: OAuth1Client, call: Call): Promise<FunctionUses> {
  const lists = [
    {
      list: 'schedules' as const,
      read: () =>
        call('listing schedules', o => sdk.tasks.schedules.findAll(o)).then(
          answer => schedulesUses(wholeList(answer))
        )
    },
    {
      list: 'dispatchers' as const,
      read: () =>
        call('listing dispatchers', o => sdk.dispatchers.findAll(o)).then(
          answer => dispatcherUses(wholeList(answer))
        )
    },
    {
      list: 'schemas' as const,
      read: () =>
        call('listing data schemas', o => sdk.data.schemas.findAll(o)).then(
          answer => schemaUses(wholeList(answer))
        )
    }
  ]
  const settled = await Promise.allSettled(lists.map(({ read }) => read()))
  const found: FunctionUses = { uses: [], unreadable: [] }
  settled.forEach((outcome, i) => {
    const { list } = lists[i] as (typeof lists)[number]
    if (outcome.status === 'fulfilled') found.uses.push(...outcome.value)
    else found.unreadable.push(unreadable(list, outcome.reason))
  })
  return found
}

function unreadable(
  list: UnreadableList['list'],
  error: unknown
): UnreadableList {
  const denied =
    error instanceof ExhApiError && error.failure.apiCode === NO_PERMISSION
  const permission = denied ? PERMISSIONS[list] : undefined
  return {
    list,
    ...(permission ? { permission } : {}),
    error: describeError(error)
  }
}

/**
 * The listing as a list: any other answer cannot say that nothing uses a
 * function, so it fails the lookup (the delete then fails, unless forced).
 */
function wholeList(answer: unknown): unknown[] {
  if (!Array.isArray(answer)) {
    throw new Error('the API did not answer with a list')
  }
  return answer
}

// The readers below take API answers without trusting their shape: a
// field that is not what the typings say is skipped, never a crash.

type Loose = Record<string, unknown>

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined

const records = (value: unknown): Loose[] =>
  Array.isArray(value) ? value.filter(isObject) : []

function schedulesUses(schedules: unknown): FunctionUse[] {
  return records(schedules).flatMap(schedule => {
    const functionName = text(schedule.functionName)
    const id = text(schedule.id) ?? '?'
    const by: FunctionUser = { kind: 'schedule', id }
    return functionName ? [{ functionName, by }] : []
  })
}

/** The function names of an action list's `task` actions. */
function taskFunctions(actions: unknown): string[] {
  return records(actions).flatMap(action => {
    const functionName = text(action.functionName)
    return action.type === 'task' && functionName ? [functionName] : []
  })
}

function dispatcherUses(dispatchers: unknown): FunctionUse[] {
  return records(dispatchers).flatMap(dispatcher => {
    const name = text(dispatcher.name) || text(dispatcher.id) || '?'
    return unique(taskFunctions(dispatcher.actions)).map(functionName => ({
      functionName,
      by: { kind: 'dispatcher' as const, name }
    }))
  })
}

function schemaUses(schemas: unknown): FunctionUse[] {
  return records(schemas).flatMap(schema => {
    const name = text(schema.name) || text(schema.id) || '?'
    const transitions = [
      { label: undefined, transition: schema.creationTransition },
      ...records(schema.transitions).map(transition => ({
        label: text(transition.name) || text(transition.id) || '?',
        transition
      }))
    ]
    return transitions.flatMap(({ label, transition }) => {
      const fields = (transition ?? {}) as Loose
      const names = unique([
        ...taskFunctions(fields.actions),
        ...taskFunctions(fields.afterActions)
      ])
      return names.map(functionName => ({
        functionName,
        by: { kind: 'schema' as const, schema: name, transition: label }
      }))
    })
  })
}

const unique = (names: string[]): string[] => [...new Set(names)]
