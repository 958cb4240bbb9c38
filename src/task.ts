// Types shared by the pipeline's stages: what a task-config.json holds, and a
// task once it has been found, validated and resolved.

export type ExecutionPermission = 'permissionRequired' | 'allUsers' | 'public'

export interface RetryPolicy {
  enabled: boolean
  errorsToRetry?: string[]
}

export interface ExecutionCredentials {
  permissions: string[]
  email?: string
}

/** The fields of task-config.json, as the CLI's TaskConfig schema defines them. */
export interface TaskConfig {
  name: string
  description?: string
  path: string
  entryPoint: string
  runtime: string
  timeLimit?: number
  memoryLimit?: number
  environment?: Record<string, string>
  executionPermission?: ExecutionPermission
  defaultPriority?: number
  retryPolicy?: RetryPolicy
  executionCredentials?: ExecutionCredentials
}

/** A selected, valid task: its config after substitution and overrides, and its code folder. */
export interface TaskDefinition {
  name: string
  config: TaskConfig
  /** task-config.json relative to the workspace, POSIX separators; absent for a task given by inputs alone. */
  configFile?: string
  /** Absolute path of the code folder. */
  codeDir: string
  /** The searched folder the config was found under (code may live inside it). */
  searchRoot?: string
  /**
   * `$VAR` when the name was substituted: the config's author chose the
   * variable, so the summary and comment show this instead of the value.
   */
  nameRef?: string
  /**
   * The config's fields as written, each `$NAME` still its reference, the
   * single-task inputs applied (an `env` input's values left out: they may
   * be secrets): what a reviewed plan's digest covers (SPEC section 10).
   */
  asWritten: Record<string, unknown>
  /**
   * Environment keys set by the `env` input: their values may be secrets,
   * so a reviewed plan compares them by key, as it does a `$NAME`.
   */
  envInputKeys?: string[]
  /** Environment keys whose values are the deploying credentials (`$API_*`). */
  deployerKeys?: string[]
  /** Configured fields whose value came from `$VAR` (recorded in the marker). */
  substituted?: string[]
  /** Where these fields are in the config file, for later problems and warnings. */
  locations?: Partial<
    Record<'path' | 'environment' | 'entryPoint' | 'timeLimit', SourcePosition>
  >
  /** Its task-verify.json, when `verify` is on and the task has one. */
  verify?: VerifySpec
}

/** A task-verify.json, checked: what to send, and what the result must contain. */
export interface VerifySpec {
  /** Relative to the workspace, POSIX separators. */
  file: string
  /** Any JSON; `{}` when the file gives none. */
  data: unknown
  /** Absent: the execution only has to end `complete`. */
  expectResult?: { value: unknown }
}

export interface SourcePosition {
  line: number
  column: number
}

/** One problem with the inputs or a config, located as precisely as we can. */
export interface ConfigProblem {
  /** File relative to the workspace (POSIX separators), or absent for a problem with an input. */
  file?: string
  /** 1-based line and column of the offending JSON node, when known. */
  line?: number
  column?: number
  /** The field, dotted as in task-config.json (`timeLimit`, `environment.KEY`, `retryPolicy.errorsToRetry.0`), or the input name. */
  field?: string
  /** The rule that was broken, in words: `must be <= 300`. */
  rule: string
  /** Task name, when known. */
  task?: string
  /**
   * Words for the log and annotations only, which the runner masks: never
   * in the summary, the comment or an output (a failed build's last output).
   */
  logDetail?: string
  /** The config file a problem with an input concerns (its `file` stays unset). */
  config?: string
}

/** `file:line: field: rule`, leaving out what is unknown. */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.file
    ? problem.line
      ? `${problem.file}:${problem.line}`
      : problem.file
    : undefined
  return [where, problem.field, problem.rule]
    .filter((part): part is string => Boolean(part))
    .join(': ')
}

/**
 * The single-task inputs (`name`, `code`, `entry-point`, ...), parsed. Like the
 * CLI's flags they override one config file's fields, or describe a task that
 * has no config file.
 */
export interface TaskOverrides {
  name?: string
  /** Absolute path of the code folder (the `code` input resolved against the workspace). */
  code?: string
  entryPoint?: string
  runtime?: string
  description?: string
  timeLimit?: number
  memoryLimit?: number
  /** When given, replaces the config's whole `environment` (as the CLI's --env). */
  environment?: Record<string, string>
  executionPermission?: ExecutionPermission
  defaultPriority?: number
}

/** The largest task-config.json read: 1 MB (SPEC section 8, "Bounded input"). */
export const MAX_CONFIG_BYTES = 1_048_576

/** The reserved environment variable this action stores on every function it writes. */
export const MARKER_VARIABLE = 'EXH_TASKS_ACTION_MARKER'

/**
 * An `env` input's value in `asWritten`: it may be a secret, so only that
 * it comes from the input is digested (see `envInputKeys`).
 */
const ENV_INPUT_VALUE = '(env input)'

/** An environment's values as `asWritten` shows `env` input values. */
export function envInputValues(
  environment: Record<string, string>
): Record<string, string> {
  return Object.fromEntries(
    Object.keys(environment).map(key => [key, ENV_INPUT_VALUE])
  )
}

/** Injected by executionCredentials; a config may not set them itself then. */
export const CREDENTIAL_VARIABLES = [
  'API_HOST',
  'API_OAUTH_CONSUMER_KEY',
  'API_OAUTH_CONSUMER_SECRET',
  'API_OAUTH_TOKEN',
  'API_OAUTH_TOKEN_SECRET'
] as const

export type CredentialVariable = (typeof CREDENTIAL_VARIABLES)[number]

/** The schema's rule for a function name (the CLI's pattern). */
export function isFunctionName(name: string): boolean {
  return /^[A-Za-z0-9-]+$/.test(name)
}

/** As the CLI: the task user is the configured email or `exh.tasks+<name>@extrahorizon.com`, lower-cased. */
export function taskUserEmail(name: string, configured?: string): string {
  return (configured ?? `exh.tasks+${name}@extrahorizon.com`).toLowerCase()
}

/**
 * Problems in the tasks' order: stages that work on several tasks at once
 * collect them as tasks finish, and the report (and which problems are
 * annotated) must not depend on timing.
 */
export function inTaskOrder(
  problems: readonly ConfigProblem[],
  tasks: readonly { name: string }[]
): ConfigProblem[] {
  const order = new Map(tasks.map((task, index) => [task.name, index]))
  const rank = (problem: ConfigProblem): number =>
    order.get(problem.task ?? '') ?? tasks.length
  return [...problems].sort((a, b) => rank(a) - rank(b))
}
