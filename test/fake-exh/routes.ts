import type { FakeState, FakeUser } from './state.js'

/** What a route needs of the caller: a user token, the app, or nothing. */
export type RouteAuth = 'user' | 'consumer' | 'none'

export interface RouteContext {
  state: FakeState
  /** Path params captured by the route pattern, percent-decoded once. */
  params: string[]
  /** Raw query text after `?` ('' when none). */
  query: string
  /** Parsed JSON body; undefined when the body was empty. */
  body: unknown
  /** The signed-in user; always set on `user` routes. */
  user: FakeUser | undefined
}

export interface RouteResult {
  status: number
  body: unknown
}

export interface Route {
  method: string
  pattern: RegExp
  auth: RouteAuth
  handle(ctx: RouteContext): RouteResult | Promise<RouteResult>
}

export const ok = (body: unknown, status = 200): RouteResult => ({
  status,
  body
})

/** `{ page, data }` with everything in one page, as the services answer. */
export function paged<T>(items: T[], offset = 0, limit = items.length) {
  return {
    page: { total: items.length, offset, limit },
    data: items.slice(offset, offset + limit)
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The signed-in user of a `user` route (the server guarantees it). */
export function currentUser(ctx: RouteContext): FakeUser {
  if (!ctx.user) throw new Error('fake-exh: user route without a user')
  return ctx.user
}
