import { ExhError, exhError, exhErrorBody } from './errors.js'
import { matchesRql, parseRql } from './rql.js'
import {
  currentUser,
  isRecord,
  ok,
  paged,
  type Route,
  type RouteContext
} from './routes.js'
import {
  hexId,
  type FakeRole,
  type FakeState,
  type FakeToken,
  type FakeUser
} from './state.js'

/** A global role as the users service answers it (snake_case). */
export function roleView(role: FakeRole) {
  return {
    id: role.id,
    name: role.name,
    description: role.description,
    // Global-role permissions are objects; the CLI reads `.name`.
    permissions: role.permissions.map(name => ({
      name,
      description: `Permission ${name}`
    })),
    creation_timestamp: role.creationTimestamp,
    update_timestamp: role.updateTimestamp
  }
}

/** A user as the users service answers it (snake_case, epoch ms). */
export function userView(state: FakeState, user: FakeUser) {
  return {
    id: user.id,
    first_name: user.firstName,
    last_name: user.lastName,
    email: user.email,
    activation: user.activation,
    phone_number: user.phoneNumber,
    language: user.language,
    time_zone: user.timeZone,
    roles: user.roleIds.flatMap(id => {
      const role = state.roles.get(id)
      return role ? [roleView(role)] : []
    }),
    creation_timestamp: user.creationTimestamp,
    update_timestamp: user.updateTimestamp
  }
}

/** The default password policy: 8–128 chars, upper, lower and a digit. */
export function meetsPasswordPolicy(password: string): boolean {
  return (
    password.length >= 8 &&
    password.length <= 128 &&
    /[A-Z]/.test(password) &&
    /[a-z]/.test(password) &&
    /\d/.test(password)
  )
}

function requireRecord(ctx: RouteContext): Record<string, unknown> {
  if (ctx.body === undefined) throw exhError(13)
  if (!isRecord(ctx.body)) throw exhError(22)
  return ctx.body
}

function requireStrings(
  body: Record<string, unknown>,
  fields: readonly string[]
): Record<string, string> {
  const missing = fields.filter(f => body[f] === undefined || body[f] === null)
  if (missing.length > 0) throw exhError(14, { missingFields: missing })
  const wrong = fields.find(f => typeof body[f] !== 'string')
  if (wrong !== undefined) {
    throw exhError(15, { formatErrors: [{ field: wrong, message: 'string' }] })
  }
  return body as Record<string, string>
}

/** A non-empty string array field, else 400 / 15 (as the users service). */
function requireList(body: Record<string, unknown>, field: string): string[] {
  const value = body[field]
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every(v => typeof v === 'string' && v !== '')
  ) {
    throw exhError(15, {
      formatErrors: [{ field, message: 'must be a non-empty string array' }]
    })
  }
  return value as string[]
}

const emailField = new Set(['email'])

function findUsers(ctx: RouteContext, requireFilter = false) {
  const rql = parseRql(ctx.query)
  if (requireFilter && rql.filters.length === 0) throw exhError(20)
  const matches = [...ctx.state.users.values()].filter(user =>
    matchesRql(rql.filters, userView(ctx.state, user), emailField)
  )
  return { rql, matches }
}

function findRoles(ctx: RouteContext, requireFilter = false) {
  const rql = parseRql(ctx.query)
  if (requireFilter && rql.filters.length === 0) throw exhError(20)
  const matches = [...ctx.state.roles.values()].filter(role =>
    matchesRql(rql.filters, roleView(role))
  )
  return { rql, matches }
}

function touch(record: { updateTimestamp: number }): void {
  record.updateTimestamp = Date.now()
}

function login(state: FakeState, user: FakeUser): FakeToken {
  state.loginCount += 1
  return state.mintToken(user.id)
}

/** Changes the permissions of the roles an RQL query selects. */
function editPermissions(ctx: RouteContext, add: boolean) {
  const permissions = requireList(requireRecord(ctx), 'permissions')
  const { matches } = findRoles(ctx, true)
  if (matches.length === 0) throw exhError(16)
  for (const role of matches) {
    const kept = role.permissions.filter(p => !permissions.includes(p))
    role.permissions = add ? [...kept, ...permissions] : kept
    touch(role)
  }
  return ok({ records_affected: matches.length })
}

/** Adds or removes global roles (by id) on the users an RQL query selects. */
function editUserRoles(ctx: RouteContext, add: boolean) {
  const roleIds = requireList(requireRecord(ctx), 'roles')
  if (roleIds.some(id => !ctx.state.roles.has(id))) throw exhError(16)
  const { matches } = findUsers(ctx, true)
  for (const user of matches) {
    const kept = user.roleIds.filter(id => !roleIds.includes(id))
    user.roleIds = add ? [...kept, ...roleIds] : kept
    touch(user)
  }
  return ok({ records_affected: matches.length })
}

export const authRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/auth\/v2\/oauth1\/tokens$/,
    auth: 'consumer',
    handle: ctx => {
      const body = requireStrings(requireRecord(ctx), ['email', 'password'])
      const user = ctx.state.userByEmail(body.email ?? '')
      if (!user || user.password !== body.password) throw exhError(106)
      if (user.mfaRequired) {
        const token = hexId(20)
        ctx.state.mfaTokens.set(token, user.id)
        const mfa = {
          token,
          tokenExpiresIn: 300,
          methods: [
            { id: hexId(), type: 'totp', name: 'Authenticator', tags: [] }
          ]
        }
        throw new ExhError(403, exhErrorBody(129, { mfa }))
      }
      return ok(login(ctx.state, user))
    }
  },
  {
    method: 'POST',
    pattern: /^\/auth\/v2\/oauth1\/tokens\/mfa$/,
    auth: 'consumer',
    handle: ctx => {
      const body = requireStrings(requireRecord(ctx), ['token', 'code'])
      const userId = ctx.state.mfaTokens.get(body.token ?? '')
      const user =
        userId === undefined ? undefined : ctx.state.users.get(userId)
      if (!user) throw exhError(131)
      if (user.mfaCode !== body.code) throw exhError(130)
      ctx.state.mfaTokens.delete(body.token ?? '')
      return ok(login(ctx.state, user))
    }
  }
]

export const userRoutes: Route[] = [
  {
    method: 'GET',
    pattern: /^\/users\/v1\/me$/,
    auth: 'user',
    handle: ctx => ok(userView(ctx.state, currentUser(ctx)))
  },
  {
    method: 'POST',
    pattern: /^\/users\/v1\/register$/,
    auth: 'none',
    handle: ctx => {
      const body = requireStrings(requireRecord(ctx), [
        'first_name',
        'last_name',
        'email',
        'password',
        'phone_number',
        'language'
      ])
      const email = body.email ?? ''
      if (!/.+@.+\..+/.test(email) || email.length > 256) {
        throw exhError(15, {
          formatErrors: [{ field: 'email', message: 'not an email address' }]
        })
      }
      if (ctx.state.userByEmail(email)) throw exhError(203)
      if (!meetsPasswordPolicy(body.password ?? '')) throw exhError(208)
      const user = ctx.state.addUser({
        email,
        password: body.password ?? '',
        firstName: body.first_name ?? '',
        lastName: body.last_name ?? '',
        phoneNumber: body.phone_number ?? '',
        language: body.language ?? '',
        // Manual activation leaves the account inactive; login still works.
        activation: body.activation_mode !== 'manual'
      })
      return ok(userView(ctx.state, user))
    }
  },
  {
    method: 'GET',
    pattern: /^\/users\/v1\/?$/,
    auth: 'user',
    handle: ctx => {
      const { rql, matches } = findUsers(ctx)
      const views = matches.map(u => userView(ctx.state, u))
      return ok(paged(views, rql.offset, rql.limit))
    }
  },
  {
    method: 'GET',
    pattern: /^\/users\/v1\/roles\/?$/,
    auth: 'user',
    handle: ctx => {
      const { rql, matches } = findRoles(ctx)
      return ok(paged(matches.map(roleView), rql.offset, rql.limit))
    }
  },
  {
    method: 'POST',
    pattern: /^\/users\/v1\/roles\/?$/,
    auth: 'user',
    handle: ctx => {
      const body = requireRecord(ctx)
      const { name } = requireStrings(body, ['name'])
      const description = body.description ?? ''
      if (typeof description !== 'string') {
        throw exhError(15, {
          formatErrors: [{ field: 'description', message: 'string' }]
        })
      }
      if (ctx.state.roleByName(name ?? '')) throw exhError(17)
      return ok(roleView(ctx.state.addRole(name ?? '', description)))
    }
  },
  {
    method: 'POST',
    pattern: /^\/users\/v1\/roles\/add_permissions$/,
    auth: 'user',
    handle: ctx => editPermissions(ctx, true)
  },
  {
    method: 'POST',
    pattern: /^\/users\/v1\/roles\/remove_permissions$/,
    auth: 'user',
    handle: ctx => editPermissions(ctx, false)
  },
  {
    method: 'POST',
    pattern: /^\/users\/v1\/add_roles$/,
    auth: 'user',
    handle: ctx => editUserRoles(ctx, true)
  },
  {
    method: 'POST',
    pattern: /^\/users\/v1\/remove_roles$/,
    auth: 'user',
    handle: ctx => editUserRoles(ctx, false)
  },
  {
    method: 'GET',
    pattern: /^\/users\/v1\/([^/]+)$/,
    auth: 'user',
    handle: ctx => {
      const user = ctx.state.users.get(ctx.params[0] ?? '')
      if (!user) throw exhError(16)
      return ok(userView(ctx.state, user))
    }
  }
]
