import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { FakeReferences } from './references.js'

export type PermissionMode = 'permissionRequired' | 'allUsers' | 'public'

/** A function as `GET /tasks/v1/functions/{name}` returns it. */
export interface FunctionDetails {
  name: string
  description?: string
  entryPoint: string
  runtime: string
  timeLimit: number
  memoryLimit: number
  environmentVariables: Record<string, { value: string }>
  executionOptions: { permissionMode: PermissionMode; defaultPriority?: number }
  retryPolicy: { enabled: boolean; errorsToRetry: string[] }
  enabled: boolean
  /** ISO 8601. */
  updateTimestamp: string
}

/** The stored function: its details plus the decoded zip bytes. */
export interface StoredFunction extends FunctionDetails {
  code: Buffer
}

export interface FakeUser {
  id: string
  /** Stored lower-cased, as the user service does. */
  email: string
  password: string
  firstName: string
  lastName: string
  phoneNumber: string
  language: string
  timeZone: string
  activation: boolean
  roleIds: string[]
  /** Login answers 403 / 129 until the MFA step is done with `mfaCode`. */
  mfaRequired: boolean
  mfaCode: string
  /** Epoch ms, as the users service answers. */
  creationTimestamp: number
  updateTimestamp: number
}

export interface FakeRole {
  id: string
  name: string
  description: string
  permissions: string[]
  creationTimestamp: number
  updateTimestamp: number
}

/** An OAuth1 token record as `POST /auth/v2/oauth1/tokens` returns it. */
export interface FakeToken {
  id: string
  userId: string
  applicationId: string
  token: string
  tokenSecret: string
  creationTimestamp: string
  lastUsedTimestamp: string
}

export interface NewUser {
  email: string
  password: string
  firstName?: string
  lastName?: string
  phoneNumber?: string
  language?: string
  activation?: boolean
  /** Role ids or names of existing roles. */
  roles?: string[]
  mfaRequired?: boolean
  mfaCode?: string
}

export const hexId = (bytes = 12): string => randomBytes(bytes).toString('hex')

/** The mutable world of the fake; routes read and change it. */
export type ZipCheck = 'entries' | 'directory'

export class FakeState {
  readonly applicationId = hexId()
  readonly functions = new Map<string, StoredFunction>()
  /** By id. */
  readonly users = new Map<string, FakeUser>()
  /** By id. */
  readonly roles = new Map<string, FakeRole>()
  /** By token. */
  readonly tokens = new Map<string, FakeToken>()
  /** Pending MFA logins: MFA token → user id. */
  readonly mfaTokens = new Map<string, string>()
  /** Handlers running now (direct executions), killed when the fake closes. */
  readonly executions = new Set<ChildProcess>()
  /** Schedules, dispatchers and data schemas: what may run a function. */
  readonly references = new FakeReferences()
  /** Log lines of each directly executed task, by task id. */
  readonly taskLogs = new Map<string, string[]>()
  /** Successful logins (tokens minted by the login endpoints). */
  loginCount = 0
  /**
   * How uploaded zips are checked: 'entries' inflates every entry (the
   * default, catches corrupt data); 'directory' reads only the end of the
   * central directory, so a benchmark measures the action, not the fake.
   */
  zipCheck: ZipCheck = 'entries'

  userByEmail(email: string): FakeUser | undefined {
    const wanted = email.toLowerCase()
    return [...this.users.values()].find(u => u.email === wanted)
  }

  roleByName(name: string): FakeRole | undefined {
    return [...this.roles.values()].find(r => r.name === name)
  }

  addUser(input: NewUser): FakeUser {
    const now = Date.now()
    const user: FakeUser = {
      id: hexId(),
      email: input.email.toLowerCase(),
      password: input.password,
      firstName: input.firstName ?? 'Fake',
      lastName: input.lastName ?? 'User',
      phoneNumber: input.phoneNumber ?? '0000000000',
      language: input.language ?? 'EN',
      timeZone: 'Europe/Brussels',
      activation: input.activation ?? true,
      roleIds: (input.roles ?? []).map(r => this.requireRole(r).id),
      mfaRequired: input.mfaRequired ?? false,
      mfaCode: input.mfaCode ?? '123456',
      creationTimestamp: now,
      updateTimestamp: now
    }
    this.users.set(user.id, user)
    return user
  }

  addRole(name: string, description = '', permissions: string[] = []) {
    const now = Date.now()
    const role: FakeRole = {
      id: hexId(),
      name,
      description,
      permissions: [...permissions],
      creationTimestamp: now,
      updateTimestamp: now
    }
    this.roles.set(role.id, role)
    return role
  }

  private requireRole(idOrName: string): FakeRole {
    const role = this.roles.get(idOrName) ?? this.roleByName(idOrName)
    if (!role) throw new Error(`fake-exh: unknown role ${idOrName}`)
    return role
  }

  /** Mints a fresh token pair for a user (hex40, as the real service). */
  mintToken(userId: string): FakeToken {
    const now = new Date().toISOString()
    const token: FakeToken = {
      id: hexId(),
      userId,
      applicationId: this.applicationId,
      token: hexId(20),
      tokenSecret: hexId(20),
      creationTimestamp: now,
      lastUsedTimestamp: now
    }
    this.tokens.set(token.token, token)
    return token
  }
}
