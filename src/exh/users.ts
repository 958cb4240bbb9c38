// The users service, for executionCredentials: global roles, task users,
// their logins. Bodies are snake_cased by the SDK; RQL values are
// double-encoded by rqlBuilder.

import { rqlBuilder, type OAuth1Client } from '@extrahorizon/javascript-sdk'
import { ExhApiError } from './failure.js'
import { sdkClient, withDeadline, type Call } from './request.js'
import type {
  ExhClientOptions,
  ExhUsersApi,
  RemoteRole,
  RemoteUser
} from './types.js'

export function usersApi(
  sdk: OAuth1Client,
  call: Call,
  options: ExhClientOptions
): ExhUsersApi {
  const findUser = async (email: string): Promise<RemoteUser | undefined> => {
    const user = await call(`finding user ${email}`, o =>
      sdk.users.findFirst({
        ...o,
        rql: rqlBuilder().eq('email', email).build()
      })
    )
    return user ? toUser(user) : undefined
  }
  return {
    ...rolesApi(sdk, call),
    findUser,
    register: user => register(sdk, call, user, findUser),
    async addRoleToUser(userId, roleId) {
      await call(`adding role to user ${userId}`, o =>
        sdk.users.globalRoles.addToUsers(
          rqlBuilder().eq('id', userId).build(),
          { roles: [roleId] },
          o
        )
      )
    },
    login: (email, password) => login(call, options, email, password),
    async whoseCredentials(stored) {
      const client = sdkClient(stored)
      return toUser(
        await call('checking the stored task credentials (users.me)', o =>
          client.users.me(o)
        )
      )
    }
  }
}

type RolesApi = Pick<
  ExhUsersApi,
  'findRole' | 'createRole' | 'addPermissions' | 'removePermissions'
>

function rolesApi(sdk: OAuth1Client, call: Call): RolesApi {
  const roles = sdk.users.globalRoles
  const byName = (name: string) => rqlBuilder().eq('name', name).build()
  const findRole = async (name: string): Promise<RemoteRole | undefined> => {
    const role = await call(`finding role ${name}`, o =>
      roles.findByName(name, o)
    )
    return role ? toRole(role) : undefined
  }
  return {
    findRole,
    createRole: (name, description) =>
      call(
        `creating role ${name}`,
        async o => toRole(await roles.create({ name, description }, o)),
        // A lost answer may hide a role that now exists.
        () => findRole(name)
      ),
    async addPermissions(roleName, permissions) {
      await call(`adding permissions to role ${roleName}`, o =>
        roles.addPermissions(byName(roleName), { permissions }, o)
      )
    },
    async removePermissions(roleName, permissions) {
      await call(`removing permissions from role ${roleName}`, o =>
        roles.removePermissions(byName(roleName), { permissions }, o)
      )
    }
  }
}

/** Manual activation; a lost answer then "email taken" means it worked. */
async function register(
  sdk: OAuth1Client,
  call: Call,
  user: Parameters<ExhUsersApi['register']>[0],
  findUser: ExhUsersApi['findUser']
): Promise<RemoteUser> {
  let attempts = 0
  try {
    return await call(
      `registering user ${user.email}`,
      async o => {
        attempts++
        const created = await sdk.users.createAccount(
          {
            ...user,
            activationMode: 'manual',
            phoneNumber: '0000000000',
            language: 'EN'
          },
          o
        )
        return toUser(created)
      },
      // A lost answer may hide a registration that happened.
      () => findUser(user.email)
    )
  } catch (error) {
    // "Email taken" on a retry: the first try worked after all, with the
    // password just sent, so the caller can log in with it.
    const emailUsed =
      error instanceof ExhApiError && error.failure.apiCode === 203
    const found = emailUsed && attempts > 1 && (await findUser(user.email))
    if (found) return found
    throw error
  }
}

/** Logs in as a task user with the action's consumer; the tokens are secrets. */
async function login(
  call: Call,
  options: ExhClientOptions,
  email: string,
  password: string
): Promise<{ token: string; tokenSecret: string }> {
  const client = sdkClient({
    host: options.host,
    consumerKey: options.credentials.consumerKey,
    consumerSecret: options.credentials.consumerSecret
  })
  const tokens = await call(`logging in as ${email}`, () =>
    withDeadline(
      client.auth.authenticate({ email, password }),
      options.requestTimeoutMs,
      options.signal
    )
  )
  // The answer is untrusted: no tokens is a failed login, not empty ones.
  const { key, secret } = tokens as { key?: unknown; secret?: unknown }
  if (
    typeof key !== 'string' ||
    !key ||
    typeof secret !== 'string' ||
    !secret
  ) {
    throw new Error(`logging in as ${email}: the answer held no tokens`)
  }
  options.mask(key)
  options.mask(secret)
  return { token: key, tokenSecret: secret }
}

function toRole(role: {
  id: string
  name: string
  permissions?: { name: string }[]
}): RemoteRole {
  return {
    id: role.id,
    name: role.name,
    permissions: (role.permissions ?? []).map(p => p.name)
  }
}

function toUser(user: {
  id: string
  email: string
  roles?: { name: string }[]
}): RemoteUser {
  return {
    id: user.id,
    email: user.email,
    roleNames: (user.roles ?? []).map(r => r.name)
  }
}
