// What runs a function besides a direct execution: the task service's
// schedules, the dispatchers service and the data service's schemas, served
// read-only at the SDK's paths with the services' paging and permissions.

import { randomBytes } from 'node:crypto'
import { exhError } from './errors.js'
import { parseRql } from './rql.js'
import {
  currentUser,
  ok,
  paged,
  type Route,
  type RouteContext
} from './routes.js'
import type { FakeState } from './state.js'

// Not state.ts's hexId: state.ts holds these lists, so no import back.
const hexId = (): string => randomBytes(12).toString('hex')

/** A task action, as a dispatcher or a transition holds it. */
export interface FakeTaskAction {
  type: 'task'
  functionName: string
  data?: Record<string, unknown>
}

/** Any other action (`mail`, `set`, …): never a reference. */
export interface FakeOtherAction {
  type: string
  [field: string]: unknown
}

export type FakeAction = FakeTaskAction | FakeOtherAction

export interface FakeSchedule {
  id: string
  functionName: string
  interval: number
  data: Record<string, unknown>
  priority: number
  startTimestamp: string
  nextTimestamp: string
  creationTimestamp: string
  updateTimestamp: string
}

export interface FakeDispatcher {
  id: string
  name?: string
  description?: string
  eventType: string
  actions: (FakeAction & { id: string })[]
  tags: string[]
  creationTimestamp: number
  updateTimestamp: number
}

export interface FakeTransition {
  id: string
  name?: string
  type: 'manual' | 'automatic'
  fromStatuses: string[]
  toStatus: string
  actions: FakeAction[]
  afterActions: FakeAction[]
}

export interface FakeSchema {
  id: string
  name: string
  description: string
  /** Listed only to a user with DISABLE_SCHEMAS, as the data service does. */
  disabled: boolean
  statuses: Record<string, Record<string, string>>
  properties: Record<string, unknown>
  creationTransition: Omit<FakeTransition, 'id' | 'name' | 'fromStatuses'>
  transitions: FakeTransition[]
  creationTimestamp: number
  updateTimestamp: number
}

/** What the seeding helpers take: everything but the names optional. */
export interface NewSchedule {
  functionName: string
  interval?: number
}
export interface NewDispatcher {
  name?: string
  eventType?: string
  actions: FakeAction[]
}
export interface NewSchema {
  name: string
  disabled?: boolean
  creationActions?: FakeAction[]
  creationAfterActions?: FakeAction[]
  transitions?: {
    name?: string
    actions?: FakeAction[]
    afterActions?: FakeAction[]
  }[]
}

/** The three lists, kept beside the functions in the fake's state. */
export class FakeReferences {
  readonly schedules: FakeSchedule[] = []
  readonly dispatchers: FakeDispatcher[] = []
  readonly schemas: FakeSchema[] = []

  addSchedule(input: NewSchedule): FakeSchedule {
    const now = new Date().toISOString()
    const schedule: FakeSchedule = {
      id: hexId(),
      functionName: input.functionName,
      interval: input.interval ?? 3600,
      data: {},
      priority: 1,
      startTimestamp: now,
      nextTimestamp: now,
      creationTimestamp: now,
      updateTimestamp: now
    }
    this.schedules.push(schedule)
    return schedule
  }

  addDispatcher(input: NewDispatcher): FakeDispatcher {
    const now = Date.now()
    const dispatcher: FakeDispatcher = {
      id: hexId(),
      ...(input.name === undefined ? {} : { name: input.name }),
      eventType: input.eventType ?? 'user_created',
      actions: input.actions.map(action => ({ ...action, id: hexId() })),
      tags: [],
      creationTimestamp: now,
      updateTimestamp: now
    }
    this.dispatchers.push(dispatcher)
    return dispatcher
  }

  addSchema(input: NewSchema): FakeSchema {
    const now = Date.now()
    const schema: FakeSchema = {
      id: hexId(),
      name: input.name,
      description: `Schema ${input.name}`,
      disabled: input.disabled ?? false,
      statuses: { start: {}, done: {} },
      properties: {},
      creationTransition: {
        type: 'manual',
        toStatus: 'start',
        actions: input.creationActions ?? [],
        afterActions: input.creationAfterActions ?? []
      },
      transitions: (input.transitions ?? []).map(transition => ({
        id: hexId(),
        ...(transition.name === undefined ? {} : { name: transition.name }),
        type: 'manual',
        fromStatuses: ['start'],
        toStatus: 'done',
        actions: transition.actions ?? [],
        afterActions: transition.afterActions ?? []
      })),
      creationTimestamp: now,
      updateTimestamp: now
    }
    this.schemas.push(schema)
    return schema
  }
}

/** The signed-in user's global permissions, by their roles. */
function permissionsOf(ctx: RouteContext): Set<string> {
  const user = currentUser(ctx)
  return new Set(
    user.roleIds.flatMap(id => ctx.state.roles.get(id)?.permissions ?? [])
  )
}

/** NO_PERMISSION_EXCEPTION, as the services answer a missing permission. */
function requirePermission(ctx: RouteContext, permission: string): void {
  if (!permissionsOf(ctx).has(permission)) throw exhError(10)
}

/** One page as the services answer it: RQL `limit(n,offset)`, at most 50. */
function page<T>(ctx: RouteContext, items: T[]) {
  const { limit, offset } = parseRql(ctx.query)
  return paged(items, offset, Math.min(limit, MAX_LIMIT))
}

const MAX_LIMIT = 50

const referencesOf = (state: FakeState): FakeReferences => state.references

export const referenceRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/tasks\/v1\/schedules\/?$/,
    auth: 'user',
    handle: ctx => {
      requirePermission(ctx, 'VIEW_TASK_SCHEDULES')
      return ok(page(ctx, referencesOf(ctx.state).schedules))
    }
  },
  {
    method: 'GET',
    pattern: /^\/dispatchers\/v1\/?$/,
    auth: 'user',
    handle: ctx => {
      requirePermission(ctx, 'VIEW_DISPATCHERS')
      return ok(page(ctx, referencesOf(ctx.state).dispatchers))
    }
  },
  {
    method: 'GET',
    pattern: /^\/data\/v1\/?$/,
    auth: 'user',
    handle: ctx => {
      // Everyone may list schemas; only DISABLE_SCHEMAS sees disabled ones.
      const all = permissionsOf(ctx).has('DISABLE_SCHEMAS')
      const schemas = referencesOf(ctx.state).schemas.filter(
        schema => all || !schema.disabled
      )
      return ok(page(ctx, schemas))
    }
  }
]
