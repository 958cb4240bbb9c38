// Stage 1: the action's inputs (`INPUT_*`) and `API_*` → Settings, checked
// and with every secret masked as it is read.

import * as path from 'node:path'
import { hostProblem } from './host.js'
import type {
  ConfigProblem,
  CredentialVariable,
  TaskOverrides
} from './task.js'
import { ValidationError } from './errors.js'
import type { Credentials } from './exh/types.js'
import { RUNTIMES } from './runtimes.js'
import {
  recordFromEnv,
  type DeploymentRecord,
  type Repository
} from './marker.js'

export type Command = 'sync' | 'list' | 'delete'

/** `verify`: execute nothing, the created and updated tasks, or every selected one. */
export type VerifyMode = 'false' | 'true' | 'all'

/** What one run does, read and checked from the action's inputs. */
export interface Settings {
  command: Command
  workspace: string
  /** Absolute paths to search; the workspace when the input was not given. */
  paths: string[]
  /** The `path` input's lines as given (empty when not given). */
  pathInput: string[]
  /** `tasks` filter: names or `*` patterns. */
  tasks: string[]
  host?: string
  credentials?: Credentials
  /** Names of the credential inputs that are missing (empty when complete). */
  missingCredentials: string[]
  dryRun: boolean
  concurrency: number
  failFast: boolean
  skipUnchanged: boolean
  prune: boolean
  pruneScope: string
  /** Delete (prune or `command: delete`) a function something still runs. */
  forceDelete: boolean
  requestTimeoutMs: number
  buildCommand?: string
  githubToken?: string
  commentOnPr: boolean
  /** A name for this deployment (`staging`), for the summary and comment; '' when not given. */
  label: string
  /** Which tasks with a task-verify.json are executed after the sync. */
  verify: VerifyMode
  /** `GITHUB_REPOSITORY`: owner/name. */
  repository: string
  /** `GITHUB_REPOSITORY_ID`: survives a rename or a transfer. */
  repositoryId?: string
  /** The commit, ref and run this run deploys from, for the marker. */
  record: DeploymentRecord
  /** Function names or `*` patterns this run may take over from another repository. */
  adopt: string[]
  overrides?: TaskOverrides
  /** About inputs that work but not as they may look (a token and a password). */
  warnings: string[]
  /** `reviewed-plan`: deploy only the plan a pull request's comment recorded (SPEC section 10). */
  reviewedPlan: 'off' | 'required'
  /** `require-approval`: the reviewed plan also needs an approval on its head. */
  requireApproval: boolean
  /** The inputs that choose what is deployed, as written (`PLAN_INPUTS`). */
  planInputs: Record<string, string>
}

/**
 * The inputs that choose what is deployed: a plan reviewed with other
 * values is not the plan deployed. Adding an input is adding its name.
 */
const PLAN_INPUTS = [
  'tasks',
  'prune',
  'prune-scope',
  'adopt',
  'force-delete'
] as const

/** Reads one input: `(name) => value`, '' when unset (as `core.getInput`). */
export type InputGetter = (name: string) => string
type Env = Record<string, string | undefined>

const DEFAULT_CONCURRENCY = 4

/** The raw inputs, read one way: trimmed, secrets masked, problems collected. */
interface InputReader {
  get: InputGetter
  env: Env
  input: (name: string) => string
  /** The input, else the environment variable; masked the moment it is read. */
  secret: (name: string, envName?: string) => string | undefined
  flag: (name: string, fallback: boolean) => boolean
  fail: (field: string, rule: string) => undefined
}

function inputReader(
  get: InputGetter,
  env: Env,
  mask: (secret: string) => void,
  problems: ConfigProblem[]
): InputReader {
  const fail = (field: string, rule: string): undefined => {
    problems.push({ field, rule })
    return undefined
  }
  const input = (name: string): string => get(name).trim()
  return {
    get,
    env,
    input,
    fail,
    secret: (name, envName) => {
      const value = input(name) || (envName ? env[envName]?.trim() : '') || ''
      if (value) mask(value)
      return value || undefined
    },
    flag: (name, fallback) => parseBoolean(name, get(name), fallback, fail)
  }
}

/**
 * Turns the raw inputs into Settings, collecting every problem. Pure: the
 * getter and environment are passed in, secrets are handed to `mask` as soon
 * as they are read.
 */
export function readInputs(
  get: InputGetter,
  env: Env,
  mask: (secret: string) => void
): Settings {
  const problems: ConfigProblem[] = []
  const read = inputReader(get, env, mask, problems)
  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd())
  const pathInput = lines(get('path'))
  const command = oneOf(read.input('command') || 'sync', [
    'sync',
    'list',
    'delete'
  ] as const)
  if (!command) read.fail('command', 'must be one of: sync, list, delete')
  const settings: Settings = {
    command: command ?? 'sync',
    workspace,
    paths: pathInput.length
      ? pathInput.map(p => path.resolve(workspace, p))
      : [workspace],
    pathInput,
    tasks: lines(get('tasks')),
    ...readConnection(read),
    ...readRunOptions(read, pathInput),
    repository: env.GITHUB_REPOSITORY ?? '',
    repositoryId: env.GITHUB_REPOSITORY_ID?.trim() || undefined,
    record: recordFromEnv(env),
    adopt: lines(get('adopt')),
    overrides: readOverrides(get, workspace, read.fail),
    ...readReviewedPlan(read, command)
  }
  const missing = settings.missingCredentials
  // A dry-run of sync can still validate and package offline; nothing else can.
  if (!settings.dryRun || settings.command !== 'sync') {
    // Named with the variable the CLI reads, which a CLI user already has.
    const when =
      settings.command === 'sync'
        ? 'outside a dry run'
        : `for command: ${settings.command}`
    for (const name of missing) {
      const fallback = CREDENTIAL_FALLBACKS[name]
      const input = fallback ? `${name} (or ${fallback})` : name
      problems.push({ rule: `${input} is required ${when}` })
    }
  }
  if (problems.length) throw new ValidationError(problems)
  return settings
}

/** Each credential input's environment fallback, as the CLI names it. */
const CREDENTIAL_FALLBACKS: Readonly<Record<string, CredentialVariable>> = {
  host: 'API_HOST',
  'consumer-key': 'API_OAUTH_CONSUMER_KEY',
  'consumer-secret': 'API_OAUTH_CONSUMER_SECRET',
  token: 'API_OAUTH_TOKEN',
  'token-secret': 'API_OAUTH_TOKEN_SECRET'
}

/** Where to connect and as whom. */
function readConnection(
  read: InputReader
): Pick<Settings, 'host' | 'credentials' | 'missingCredentials' | 'warnings'> {
  const rawHost =
    read.input('host') ||
    read.env[CREDENTIAL_FALLBACKS['host'] as string]?.trim() ||
    ''
  const host = parseHost(rawHost, read.fail)
  const consumerKey = read.secret(
    'consumer-key',
    CREDENTIAL_FALLBACKS['consumer-key']
  )
  const consumerSecret = read.secret(
    'consumer-secret',
    CREDENTIAL_FALLBACKS['consumer-secret']
  )
  const token = read.secret('token', CREDENTIAL_FALLBACKS['token'])
  const tokenSecret = read.secret(
    'token-secret',
    CREDENTIAL_FALLBACKS['token-secret']
  )
  const email = read.input('email') || undefined
  const password = read.secret('password')
  const { credentials, missing } = pickCredentials({
    // A host given but refused is reported once, by parseHost, not as missing.
    hostGiven: rawHost !== '',
    consumerKey,
    consumerSecret,
    token,
    tokenSecret,
    email,
    password
  })
  // As the CLI would, the token wins; say so, since the step reads otherwise.
  const warnings =
    token && (email || password)
      ? [
          'Both a token and email/password are given: the token is used and no login is made; remove email and password from this step'
        ]
      : []
  return { host, credentials, missingCredentials: missing, warnings }
}

/** How the run behaves: the switches, limits and reporting inputs. */
function readRunOptions(
  read: InputReader,
  pathInput: string[]
): Pick<
  Settings,
  | 'dryRun'
  | 'concurrency'
  | 'failFast'
  | 'skipUnchanged'
  | 'prune'
  | 'pruneScope'
  | 'forceDelete'
  | 'requestTimeoutMs'
  | 'buildCommand'
  | 'githubToken'
  | 'commentOnPr'
  | 'label'
  | 'verify'
> {
  const { input, get, fail } = read
  return {
    dryRun: read.flag('dry-run', false),
    concurrency:
      parsePositiveInteger('concurrency', get('concurrency'), fail) ??
      DEFAULT_CONCURRENCY,
    failFast: read.flag('fail-fast', false),
    skipUnchanged: read.flag('skip-unchanged', true),
    prune: read.flag('prune', false),
    pruneScope: input('prune-scope') || defaultScope(pathInput, input('code')),
    forceDelete: read.flag('force-delete', false),
    requestTimeoutMs: readTimeout(get('request-timeout'), fail) * 1000,
    buildCommand: input('build-command') || undefined,
    githubToken: read.secret('github-token'),
    commentOnPr: read.flag('comment-on-pr', false),
    label: input('label'),
    verify: readVerify(input('verify'), fail)
  }
}

/** SPEC section 10's inputs, and what they are checked against. */
function readReviewedPlan(
  read: InputReader,
  command: Settings['command'] | undefined
): Pick<Settings, 'reviewedPlan' | 'requireApproval' | 'planInputs'> {
  const raw = read.input('reviewed-plan')
  const mode = oneOf(raw || 'off', ['off', 'required'] as const)
  if (!mode) read.fail('reviewed-plan', `must be off or required, not "${raw}"`)
  // The check compares a sync's plan; a delete has none, and would
  // otherwise delete unchecked under a setting that promises a check.
  if (mode === 'required' && command === 'delete') {
    read.fail(
      'reviewed-plan',
      'required checks the plan of command: sync; command: delete has no reviewed plan (set reviewed-plan: off for it)'
    )
  }
  return {
    reviewedPlan: mode ?? 'off',
    requireApproval: read.flag('require-approval', false),
    planInputs: Object.fromEntries(
      PLAN_INPUTS.map(name => [name, lines(read.get(name)).join('\n')])
    )
  }
}

function readVerify(
  raw: string,
  fail: (field: string, rule: string) => undefined
): VerifyMode {
  const mode = oneOf(raw || 'false', ['false', 'true', 'all'] as const)
  if (mode) return mode
  fail('verify', `must be false, true or all, not "${raw}"`)
  return 'false'
}

function pickCredentials(given: {
  hostGiven: boolean
  consumerKey?: string
  consumerSecret?: string
  token?: string
  tokenSecret?: string
  email?: string
  password?: string
}): { credentials?: Credentials; missing: string[] } {
  const missing: string[] = []
  if (!given.hostGiven) missing.push('host')
  if (!given.consumerKey) missing.push('consumer-key')
  if (!given.consumerSecret) missing.push('consumer-secret')
  const usesPassword = Boolean(given.email || given.password) && !given.token
  if (usesPassword) {
    if (!given.email) missing.push('email')
    if (!given.password) missing.push('password')
  } else {
    if (!given.token) missing.push('token')
    if (!given.tokenSecret) missing.push('token-secret')
  }
  if (missing.length || !given.consumerKey || !given.consumerSecret) {
    return { missing }
  }
  const consumer = {
    consumerKey: given.consumerKey,
    consumerSecret: given.consumerSecret
  }
  if (usesPassword && given.email && given.password) {
    return {
      credentials: {
        kind: 'password',
        email: given.email,
        password: given.password,
        ...consumer
      },
      missing
    }
  }
  if (given.token && given.tokenSecret) {
    return {
      credentials: {
        kind: 'token',
        token: given.token,
        tokenSecret: given.tokenSecret,
        ...consumer
      },
      missing
    }
  }
  return { missing }
}

/** The `host` input, or undefined (reported by `fail`) when it is refused. */
function parseHost(
  raw: string,
  fail: (field: string, rule: string) => undefined
): string | undefined {
  if (!raw) return undefined
  const problem = hostProblem(raw)
  if (problem) {
    fail('host', problem)
    return undefined
  }
  // As given: `$API_HOST` and executionCredentials store it so, as the
  // CLI does; the SDK client takes it without a trailing `/`.
  return raw
}

function parseBoolean(
  name: string,
  raw: string,
  fallback: boolean,
  fail: (field: string, rule: string) => undefined
): boolean {
  const value = raw.trim()
  if (value === '') return fallback
  if (value === 'true') return true
  if (value === 'false') return false
  fail(name, `must be true or false, not "${value}"`)
  return fallback
}

function parsePositiveInteger(
  name: string,
  raw: string,
  fail: (field: string, rule: string) => undefined
): number | undefined {
  return parseInteger(name, raw, fail, 1)
}

/** A whole number (at least `min`), or undefined when the input is empty. */
function parseInteger(
  name: string,
  raw: string,
  fail: (field: string, rule: string) => undefined,
  min?: number
): number | undefined {
  const value = raw.trim()
  if (value === '') return undefined
  const number = /^-?\d+$/.test(value) ? Number(value) : NaN
  if (!Number.isNaN(number) && (min === undefined || number >= min)) {
    return number
  }
  const rule =
    min === undefined ? 'a whole number' : `a whole number of ${min} or more`
  fail(name, `must be ${rule}, not "${value}"`)
  return undefined
}

/** Seconds; the API cuts a call at 60 s, so an hour is more than enough. */
const MAX_REQUEST_TIMEOUT = 3600

function readTimeout(
  raw: string,
  fail: (field: string, rule: string) => undefined
): number {
  const seconds = parsePositiveInteger('request-timeout', raw, fail) ?? 60
  if (seconds <= MAX_REQUEST_TIMEOUT) return seconds
  fail('request-timeout', `must be at most ${MAX_REQUEST_TIMEOUT} seconds`)
  return 60
}

/** The single-task inputs, which act as the CLI's flags. */
function readOverrides(
  get: InputGetter,
  workspace: string,
  fail: (field: string, rule: string) => undefined
): TaskOverrides | undefined {
  const text = (name: string): string | undefined =>
    get(name).trim() || undefined
  const overrides: TaskOverrides = {}
  const assign = <K extends keyof TaskOverrides>(
    key: K,
    value: TaskOverrides[K] | undefined
  ): void => {
    if (value !== undefined) overrides[key] = value
  }
  assign('name', text('name'))
  const code = text('code')
  assign('code', code && path.resolve(workspace, code))
  assign('entryPoint', text('entry-point'))
  const runtime = text('runtime')
  if (runtime && !RUNTIMES.includes(runtime)) {
    fail('runtime', `must be one of the runtimes: ${RUNTIMES.join(', ')}`)
  } else {
    assign('runtime', runtime)
  }
  assign('description', text('description'))
  assign('timeLimit', parseInteger('time-limit', get('time-limit'), fail))
  assign('memoryLimit', parseInteger('memory-limit', get('memory-limit'), fail))
  assign('environment', parseEnvLines(get('env'), fail))
  const permission = text('execution-permission')
  if (permission) {
    const mode = oneOf(permission, [
      'permissionRequired',
      'allUsers',
      'public'
    ] as const)
    if (!mode) {
      fail(
        'execution-permission',
        'must be one of: permissionRequired, allUsers, public'
      )
    }
    assign('executionPermission', mode)
  }
  assign(
    'defaultPriority',
    parseInteger('default-priority', get('default-priority'), fail)
  )
  return Object.keys(overrides).length ? overrides : undefined
}

/** KEY=value lines, split at the first `=` (unlike the CLI, a value may hold `=`). */
function parseEnvLines(
  raw: string,
  fail: (field: string, rule: string) => undefined
): Record<string, string> | undefined {
  const entries = lines(raw)
  if (!entries.length) return undefined
  const environment: Record<string, string> = {}
  for (const [index, entry] of entries.entries()) {
    const at = entry.indexOf('=')
    if (at < 1) {
      // The line is not echoed: it may hold a secret.
      fail('env', `line ${index + 1} must be KEY=value`)
      continue
    }
    environment[entry.slice(0, at).trim()] = entry.slice(at + 1)
  }
  return environment
}

/**
 * `tasks`, `./tasks/` and `tasks/.` name one scope. A task given by inputs
 * alone gets a scope of its own, so a whole-workspace run that prunes never
 * takes it for one of its own.
 */
function defaultScope(pathInput: string[], code: string): string {
  const normal = (p: string): string =>
    path.posix.normalize(p.replace(/\\/g, '/')).replace(/(.)\/$/, '$1')
  if (pathInput.length) return pathInput.map(normal).sort().join(',')
  return code ? `code:${normal(code)}` : '.'
}

function lines(raw: string): string[] {
  return raw
    .split(/\r?\n/)
    .map(line => line.trim())
    .filter(Boolean)
}

function oneOf<T extends string>(
  value: string,
  allowed: readonly T[]
): T | undefined {
  return allowed.find(option => option === value)
}

/** This run's repository, as markers name it. */
export function repositoryOf(settings: Settings): Repository {
  return { id: settings.repositoryId, name: settings.repository }
}
