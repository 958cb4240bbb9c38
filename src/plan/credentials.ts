// `executionCredentials`: the role, the user and its tokens: planned from
// what is remote, then prepared and granted at the write.

import { randomBytes } from 'node:crypto'
import type {
  ExhUsersApi,
  OAuthTokens,
  RemoteRole,
  RemoteUser,
  RemoteFunction,
  StoredCredentials
} from '../exh/types.js'
import { isRefusal } from '../exh/failure.js'
import { describeError } from '../errors.js'
import {
  CREDENTIAL_VARIABLES,
  taskUserEmail,
  type TaskDefinition
} from '../task.js'

/**
 * executionCredentials, as the CLI manages them: a global role
 * `exh.tasks.<name>` holding exactly the listed permissions, a user with that
 * role, and its OAuth1 tokens injected into the function's environment.
 */
export interface CredentialPlan {
  email: string
  roleName: string
  /** The role as it is now; undefined when it will be created. */
  role?: RemoteRole
  permissionsAdded: string[]
  permissionsRemoved: string[]
  user:
    | { kind: 'create' }
    | {
        kind: 'reuse'
        user: RemoteUser
        tokens: OAuthTokens
        /** The user lacks the role (added on every run until it has it). */
        needsRole: boolean
      }
  warnings: string[]
}

/** The `credentials` key of a task's result. */
export interface CredentialSummary {
  user: 'create' | 'reuse'
  permissionsAdded: string[]
  permissionsRemoved: string[]
}

/** What the action itself connects with: injected alongside the user's tokens. */
export interface ActionConnection {
  host: string
  consumerKey: string
  consumerSecret: string
}

/** Says what went wrong and the way out; fails only its own task. */
export class CredentialsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CredentialsError'
  }
}

function userEmailOf(task: TaskDefinition): string {
  return taskUserEmail(task.name, task.config.executionCredentials?.email)
}

export function taskRoleName(name: string): string {
  return `exh.tasks.${name}`
}

export function permissionDifference(
  current: readonly string[],
  target: readonly string[]
): { added: string[]; removed: string[] } {
  return {
    added: [...new Set(target)].filter(p => !current.includes(p)),
    removed: [...new Set(current)].filter(p => !target.includes(p))
  }
}

/** Upper, lower, digit and symbol, 52 characters: fits any sane password policy. */
export function generatePassword(bytes: Buffer = randomBytes(24)): string {
  return `Aa1-${bytes.toString('hex')}`
}

/** The five variables of a stored task user, or which of them are missing. */
export function storedCredentials(
  environment: Readonly<Record<string, string>>
): StoredCredentials | { missing: string[] } {
  const missing = CREDENTIAL_VARIABLES.filter(key => !environment[key])
  if (missing.length) return { missing }
  const value = (key: (typeof CREDENTIAL_VARIABLES)[number]): string =>
    environment[key] ?? ''
  return {
    host: value('API_HOST'),
    consumerKey: value('API_OAUTH_CONSUMER_KEY'),
    consumerSecret: value('API_OAUTH_CONSUMER_SECRET'),
    token: value('API_OAUTH_TOKEN'),
    tokenSecret: value('API_OAUTH_TOKEN_SECRET')
  }
}

/** Stands in for tokens that only exist once the new user logs in (same length, for the size check). */
export const PENDING_TOKEN = '0'.repeat(40)

/**
 * Reads what exists (role, user, and the user's stored tokens, checked with
 * `users.me`) and decides what to write. Reads only: safe in a dry run.
 */
export async function planCredentials(
  users: ExhUsersApi,
  task: TaskDefinition,
  remote: RemoteFunction | undefined,
  connection: ActionConnection
): Promise<CredentialPlan> {
  const wanted = task.config.executionCredentials?.permissions ?? []
  const email = userEmailOf(task)
  const roleName = taskRoleName(task.name)
  const warnings = wanted.length
    ? []
    : [
        'executionCredentials.permissions is empty: the role gets no permissions'
      ]
  const role = await users.findRole(roleName)
  const { added, removed } = permissionDifference(
    role?.permissions ?? [],
    wanted
  )
  const base = {
    email,
    roleName,
    role,
    permissionsAdded: added,
    permissionsRemoved: removed,
    warnings
  }

  const user = await users.findUser(email)
  if (!user) return { ...base, user: { kind: 'create' } }
  const tokens = await checkStoredTokens(users, task, remote, {
    user,
    email,
    connection
  })
  return {
    ...base,
    user: {
      kind: 'reuse',
      user,
      tokens,
      needsRole: !user.roleNames.includes(roleName)
    }
  }
}

/**
 * An existing task user's tokens, as the function stores them, confirmed
 * with `users.me` to be that user's; otherwise the way out.
 */
async function checkStoredTokens(
  users: ExhUsersApi,
  task: TaskDefinition,
  remote: RemoteFunction | undefined,
  {
    user,
    email,
    connection
  }: { user: RemoteUser; email: string; connection: ActionConnection }
): Promise<OAuthTokens> {
  const way = `remove the user ${email}, or set a different executionCredentials.email`
  const stored = storedCredentials(remote?.environment ?? {})
  if ('missing' in stored) {
    throw new CredentialsError(
      `the user ${email} exists, but function ${task.name} holds no credentials for it (${remote ? `missing ${stored.missing.join(', ')}` : 'the function does not exist'}): ${way}`
    )
  }
  let owner: RemoteUser
  try {
    // Checked as they will be written: the stored tokens with this action's
    // host and consumer (the CLI checks the stored ones, which may differ).
    owner = await users.whoseCredentials({ ...stored, ...connection })
  } catch (error) {
    // Only a refusal says the tokens are bad; a 5xx or a timeout says nothing.
    if (!isRefusal(error)) throw error
    throw new CredentialsError(
      `the credentials stored on function ${task.name} are not accepted for the user ${email}: ${way}`
    )
  }
  if (owner.id !== user.id) {
    throw new CredentialsError(
      `the credentials stored on function ${task.name} belong to ${owner.email}, not to ${email}: ${way}`
    )
  }
  return { token: stored.token, tokenSecret: stored.tokenSecret }
}

/** The five variables to inject; a new user's tokens are PENDING_TOKEN until it logs in. */
export function injectedVariables(
  plan: CredentialPlan,
  connection: ActionConnection
): Record<string, string> {
  return credentialVariables(
    connection,
    plan.user.kind === 'reuse' ? plan.user.tokens : undefined
  )
}

/** The five variables, with PENDING_TOKEN for tokens not known yet. */
export function credentialVariables(
  connection: ActionConnection,
  tokens: OAuthTokens = { token: PENDING_TOKEN, tokenSecret: PENDING_TOKEN }
): Record<string, string> {
  return {
    API_HOST: connection.host,
    API_OAUTH_CONSUMER_KEY: connection.consumerKey,
    API_OAUTH_CONSUMER_SECRET: connection.consumerSecret,
    API_OAUTH_TOKEN: tokens.token,
    API_OAUTH_TOKEN_SECRET: tokens.tokenSecret
  }
}

export function summarizeCredentials(plan: CredentialPlan): CredentialSummary {
  return {
    user: plan.user.kind,
    permissionsAdded: plan.permissionsAdded,
    permissionsRemoved: plan.permissionsRemoved
  }
}

/** The role and the user's tokens, ready for the function write. */
export interface PreparedCredentials {
  tokens: OAuthTokens
  roleId: string
  /** A user registered by this run: its tokens exist nowhere else yet. */
  registered?: RemoteUser
}

/**
 * Makes the role what the plan says and gets the user's tokens (registering
 * and logging in a new user), on every run, also when the function itself
 * is unchanged. The role is given to a new user only after the function
 * holds its tokens (`grantRole`): a failure before that leaves a user the
 * next run cannot use, so it happens as late as possible.
 */
export async function prepareCredentials(
  users: ExhUsersApi,
  plan: CredentialPlan,
  taskName: string,
  mask: (secret: string) => void
): Promise<PreparedCredentials> {
  const role =
    plan.role ??
    (await users.createRole(
      plan.roleName,
      `A role created by exh-tasks-action for the execution of the task ${taskName}`
    ))
  if (plan.permissionsAdded.length) {
    await users.addPermissions(plan.roleName, plan.permissionsAdded)
  }
  if (plan.permissionsRemoved.length) {
    await users.removePermissions(plan.roleName, plan.permissionsRemoved)
  }
  if (plan.user.kind === 'reuse') {
    return { tokens: plan.user.tokens, roleId: role.id }
  }
  const password = generatePassword()
  mask(password)
  const registered = await users.register({
    email: plan.email,
    password,
    firstName: taskName,
    lastName: 'exh.tasks'
  })
  const tokens = await loginRegistered(users, plan.email, password)
  mask(tokens.token)
  mask(tokens.tokenSecret)
  return { tokens, roleId: role.id, registered }
}

/**
 * The login right after a registration: if it fails or is cancelled, the
 * user exists with a password nobody knows, and the next run finds it
 * without tokens. The error says so, and what to do.
 */
async function loginRegistered(
  users: ExhUsersApi,
  email: string,
  password: string
): Promise<OAuthTokens> {
  try {
    return await users.login(email, password)
  } catch (error) {
    throw new StrandedUserError(email, error)
  }
}

/** A user registered by this run whose tokens were never obtained. */
export class StrandedUserError extends Error {
  constructor(
    readonly email: string,
    /** Why the login failed (or that it was cancelled). */
    readonly reason: unknown
  ) {
    super(`${describeError(reason)}; ${unloggedUserAdvice(email)}`)
    this.name = 'StrandedUserError'
  }
}

/** What to do when the login right after a registration failed. */
export function unloggedUserAdvice(email: string): string {
  return `the user ${email} was registered, but the login right after did not complete, so no function holds its tokens: remove that user (or set a different executionCredentials.email) before the next run`
}

/** After the function write: the user gets its role (again, if it lacked it). */
export async function grantRole(
  users: ExhUsersApi,
  plan: CredentialPlan,
  prepared: PreparedCredentials
): Promise<void> {
  const user =
    prepared.registered ??
    (plan.user.kind === 'reuse' ? plan.user.user : undefined)
  const needsRole =
    prepared.registered !== undefined ||
    (plan.user.kind === 'reuse' && plan.user.needsRole)
  if (user && needsRole) await users.addRoleToUser(user.id, prepared.roleId)
}

/** What to do when the function write failed after a user was registered. */
export function strandedUserAdvice(email: string): string {
  return `the user ${email} was registered, but its tokens could not be stored on the function: remove that user before running again (or set a different executionCredentials.email)`
}
