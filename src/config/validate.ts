// Stage 3, load and validate: parse every task-config.json, check it against
// the schema, substitute `$NAME` values of the selected ones, apply the
// single-task inputs, and resolve each code folder. Every problem is collected.

import { constants, type Stats } from 'node:fs'
import { open, realpath, stat } from 'node:fs/promises'
import * as path from 'node:path'
import { worthMasking } from '../secrets.js'
import { isInside, posixRelative } from '../paths.js'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import schema from '../../schema/task-config.schema.json' with { type: 'json' }
import {
  parseJson,
  type JsonDocument,
  type JsonPath
} from './json-locations.js'
import {
  isObject,
  placeholderName,
  deniedPlaceholders,
  substitute,
  substituteLeniently,
  type DeployerCredentials,
  type SubstitutionResult,
  type Environment
} from './substitute.js'
import {
  CREDENTIAL_VARIABLES,
  MARKER_VARIABLE,
  formatProblem,
  isFunctionName,
  MAX_CONFIG_BYTES,
  type ConfigProblem,
  type FoundConfig,
  type TaskConfig,
  type TaskDefinition,
  type TaskOverrides,
  taskUserEmail
} from '../task.js'

export interface LoadOptions {
  /** Absolute. */
  workspace: string
  /** For `$NAME` substitution. */
  env: Environment
  /** The `tasks` filter. */
  isSelected: (name: string) => boolean
  /** The single-task inputs; applied only when exactly one config file is loaded. */
  overrides?: TaskOverrides
  /** Called with every value substituted from `$NAME`, the moment it is known. */
  mask?: (secret: string) => void
  /**
   * A `build-command` will create the code folders: a missing one is checked
   * after the build (`checkTaskCodeFolder`) instead of now.
   */
  codeFoldersBuiltLater?: boolean
  /**
   * An offline dry run (a fork's pull request has no secrets): an unset
   * `$NAME` is a warning and counts as empty, instead of an error.
   */
  unsetVariablesWarn?: boolean
  /** For `$API_*` environment values; all unknown when absent. */
  deployer?: Deployer
  /** The run's cancel: stops reading configs (SPEC section 8). */
  signal?: AbortSignal
}

/** The deploying credentials, and what it means when one is unknown. */
export interface Deployer {
  /** A token is left out when the run logs in with email and password. */
  values: DeployerCredentials
  /** A plan: an unknown token is a warning, not an error. */
  dryRun: boolean
}

export interface LoadResult {
  /** The selected, valid tasks, in the order of `found`. */
  tasks: TaskDefinition[]
  /** Sorted by file, then line; problems with inputs (no file) first. */
  problems: ConfigProblem[]
  /** Every config's name as the filter sees it, for the filter's error. */
  names: string[]
  /** Each name substituted from `$VAR`: value → `$VAR`, for the report's edge. */
  nameRefs: Record<string, string>
  /** Unset `$NAME` values of an offline dry run. */
  warnings: string[]
}

export interface InputTaskOptions {
  /** Absolute. */
  workspace: string
}

/** Opened without blocking: a file swapped for a FIFO after the check never hangs. */
const NONBLOCK = constants.O_NONBLOCK

/** A schema's errors for a value (none when it is valid). */
export type SchemaValidator = (value: unknown) => readonly ErrorObject[]

/**
 * A schema's validator, compiled on first use: compiling is most of the
 * action's start-up otherwise. The shipped schemas are not checked against
 * the meta-schema at run time (`validateSchema`, `meta`): a test does that.
 * verbose: an error then carries its schema, whose known property names
 * give "did you mean" for an unknown one.
 */
export function schemaValidator(shipped: object): SchemaValidator {
  let compiled: ValidateFunction | undefined
  return value => {
    compiled ??= new Ajv({
      allErrors: true,
      verbose: true,
      validateSchema: false,
      meta: false
    }).compile(shipped)
    return compiled(value) ? [] : (compiled.errors ?? [])
  }
}

const validateSchema = schemaValidator(schema)

/** The schema's patterns, said in words (its file is not in the user's repository). */
const PATTERN_RULES: Record<string, string> = {
  '^[A-Za-z0-9-]+$': 'must be one or more letters, digits or -',
  '^[A-Za-z_][A-Za-z0-9_]*$':
    'must start with a letter or _ and hold only letters, digits and _'
}

/** The single-task input that sets each config field, for problems with inputs. */
const INPUT_NAMES: Record<string, string> = {
  name: 'name',
  path: 'code',
  entryPoint: 'entry-point',
  runtime: 'runtime',
  description: 'description',
  timeLimit: 'time-limit',
  memoryLimit: 'memory-limit',
  environment: 'env',
  executionPermission: 'execution-permission',
  defaultPriority: 'default-priority'
}

interface ParsedConfig {
  found: FoundConfig
  /** Relative to the workspace, POSIX separators. */
  file: string
  document: JsonDocument
  /** The name the filter sees, when the config has one. */
  name?: string
  /** `$VAR`, when the name was substituted. */
  nameRef?: string
}

interface Checked {
  problems: ConfigProblem[]
  warnings?: string[]
  task?: TaskDefinition
}

export async function loadTaskConfigs(
  found: FoundConfig[],
  options: LoadOptions
): Promise<LoadResult> {
  const problems: ConfigProblem[] = []
  // The caller refuses overrides with several files; never apply them to many.
  const overrides = found.length === 1 ? options.overrides : undefined
  const parsed: ParsedConfig[] = []
  const reads = await Promise.all(
    found.map(config => readConfig(config, options.workspace, options.signal))
  )
  for (const read of reads) {
    if ('rule' in read) problems.push(read)
    else parsed.push(read)
  }
  for (const config of parsed) {
    config.name = overrides?.name ?? nameOf(config.document.value, options.env)
    config.nameRef = overrides?.name ? undefined : nameRefOf(config)
  }
  problems.push(...duplicateNames(parsed), ...sharedEmails(parsed, options.env))
  // Every config, selected or not: its name is shown in the failed row too.
  problems.push(...parsed.flatMap(deniedVariables))

  const roots = rootResolver(options.workspace)
  const checks = await Promise.all(
    parsed.map(async (config): Promise<Checked> => {
      const selected =
        config.name !== undefined && options.isSelected(config.name)
      return selected
        ? checkSelected(config, options, overrides, roots)
        : { problems: checkUnselected(config) }
    })
  )
  problems.push(...checks.flatMap(checked => checked.problems))
  // A task with a problem anywhere in its file (a duplicate name) is not kept.
  const failed = new Set(problems.map(problem => problem.file))
  const tasks = checks.flatMap(({ task }) =>
    task && !failed.has(task.configFile) ? [task] : []
  )
  const names = parsed.flatMap(config => (config.name ? [config.name] : []))
  return {
    tasks,
    problems: sortProblems(problems),
    names: [...new Set(names)],
    nameRefs: Object.fromEntries(
      parsed.flatMap(config =>
        config.name && config.nameRef ? [[config.name, config.nameRef]] : []
      )
    ),
    warnings: checks.flatMap(checked => checked.warnings ?? [])
  }
}

/** Offline, a fork's pull request has no secrets: the run goes on without the value. */
function unsetVariableWarning(
  config: ParsedConfig,
  at: JsonPath,
  variable: string
): string {
  const where = config.document.locate(at)
  const line = where.line ? `:${where.line}` : ''
  return `${config.file}${line}: ${dotted(at)}: variable ${variable} is not set (or empty); counted as empty in this offline dry run, so the environment-size check is incomplete`
}

/** `$NAME` placeholders that would read a credential or a runner token, or show one. */
function deniedVariables(config: ParsedConfig): ConfigProblem[] {
  return deniedPlaceholders(config.document.value).map(
    ({ path: at, variable, reason }) => ({
      ...fileProblem(config, at),
      rule: `$${variable} is never substituted here: it ${reason}`
    })
  )
}

/**
 * A task with no config file, described by the single-task inputs alone. Like
 * the CLI, it needs `name`, `code`, `entry-point` and `runtime`.
 */
export async function taskFromInputs(
  overrides: TaskOverrides,
  options: InputTaskOptions
): Promise<TaskDefinition | ConfigProblem[]> {
  const task = overrides.name
  const problems: ConfigProblem[] = []
  for (const field of ['name', 'path', 'entryPoint', 'runtime'] as const) {
    const given = field === 'path' ? overrides.code : overrides[field]
    if (given === undefined) {
      problems.push({
        field: inputName(field),
        rule: 'is required when no task-config.json is given',
        task
      })
    }
  }
  const config = overrideFields(overrides, options.workspace)
  for (const issue of schemaIssues(config)) {
    // Missing inputs are reported above, by their input names.
    if (issue.keyword !== 'required') problems.push(inputProblem(issue, task))
  }
  for (const { key, rule } of reservedKeys(config.environment, false)) {
    problems.push({ field: 'env', rule: `${key} ${rule}`, task })
  }
  if (overrides.code !== undefined) {
    const rule = await checkCodeFolder(overrides.code, options.workspace, [
      await realOrSame(options.workspace)
    ])
    if (rule) problems.push({ field: 'code', rule, task })
  }
  if (problems.length || overrides.code === undefined) return problems
  return {
    name: config.name as string,
    config: config as unknown as TaskConfig,
    codeDir: overrides.code
  }
}

async function readConfig(
  found: FoundConfig,
  workspace: string,
  signal?: AbortSignal
): Promise<ParsedConfig | ConfigProblem> {
  const file = posixRelative(workspace, found.file)
  const read = await readBounded(found.file, signal)
  if (typeof read !== 'string') return { file, field: 'JSON', rule: read.rule }
  const parsed = parseJson(read)
  if (!parsed.ok) {
    return {
      file,
      ...parsed.position,
      field: 'JSON',
      rule: `invalid JSON: ${parsed.message}`
    }
  }
  return { found, file, document: parsed.document }
}

/**
 * A config's text, or why it is not read: it is checked with `stat` (links
 * followed) before it is opened, so a FIFO or a device is never opened and
 * a file over the limit never read whole; the limit is checked again on
 * the open file, in case it changed in between.
 */
async function readBounded(
  file: string,
  signal?: AbortSignal
): Promise<string | { rule: string }> {
  const tooBig = (bytes: number) => ({
    rule: `is ${bytes.toLocaleString('en-US')} bytes, over the limit of ${MAX_CONFIG_BYTES.toLocaleString('en-US')} bytes (1 MB)`
  })
  try {
    const stats = await stat(file)
    if (!stats.isFile()) {
      return {
        rule: `is not a regular file (${specialKind(stats)}), so it is not read`
      }
    }
    if (stats.size > MAX_CONFIG_BYTES) return tooBig(stats.size)
    signal?.throwIfAborted()
    const text = await readAtMost(file, stats.size + 1)
    return text.bytes > MAX_CONFIG_BYTES ? tooBig(text.bytes) : text.text
  } catch (error) {
    if (signal?.aborted) throw error
    const code = (error as NodeJS.ErrnoException).code ?? String(error)
    return { rule: `cannot be read (${code})` }
  }
}

/** At most `limit` bytes of a file (one more than expected: a file that grew shows it). */
async function readAtMost(
  file: string,
  limit: number
): Promise<{ text: string; bytes: number }> {
  const handle = await open(file, constants.O_RDONLY | NONBLOCK)
  try {
    const buffer = Buffer.alloc(Math.min(limit, MAX_CONFIG_BYTES + 1))
    let bytes = 0
    while (bytes < buffer.length) {
      const { bytesRead } = await handle.read(
        buffer,
        bytes,
        buffer.length - bytes,
        bytes
      )
      if (bytesRead === 0) break
      bytes += bytesRead
    }
    return { text: buffer.subarray(0, bytes).toString('utf8'), bytes }
  } finally {
    await handle.close()
  }
}

/** What a file that is not a regular one is, in words. */
function specialKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder'
  if (stats.isFIFO()) return 'a FIFO'
  if (stats.isSocket()) return 'a socket'
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device'
  return 'not a file'
}

/** The name, with a `$NAME` placeholder replaced when its variable is set. */
function nameOf(value: unknown, env: Environment): string | undefined {
  return isObject(value) && typeof value.name === 'string'
    ? substituteLeniently(value.name, env)
    : undefined
}

/** `$VAR` when the config's name is a placeholder whose variable is set. */
function nameRefOf(config: ParsedConfig): string | undefined {
  const value = config.document.value
  if (!isObject(value) || typeof value.name !== 'string') return undefined
  return config.name !== value.name ? value.name : undefined
}

/**
 * The task's name for problems: not a placeholder whose variable is unset,
 * and the reference when a substituted value is no valid name (it may be
 * any variable's value, a secret too).
 */
function knownName(config: ParsedConfig): string | undefined {
  if (config.nameRef && !isFunctionName(config.name ?? '')) {
    return config.nameRef
  }
  return placeholderName(config.name) === undefined ? config.name : undefined
}

function duplicateNames(configs: ParsedConfig[]): ConfigProblem[] {
  return duplicates(configs, config => config.name).map(
    ({ config, others }) => ({
      ...fileProblem(config, ['name']),
      rule: `duplicate task name: also in ${others.map(other => other.file).join(', ')}`
    })
  )
}

/** Two tasks with one execution user would fight over its role and tokens. */
function sharedEmails(configs: ParsedConfig[], env: Environment) {
  return duplicates(configs, config => credentialsEmail(config, env)).map(
    ({ config, others }) => {
      const credentials = (config.document.value as Record<string, unknown>)
        .executionCredentials as Record<string, unknown>
      const field =
        credentials.email === undefined
          ? ['executionCredentials']
          : ['executionCredentials', 'email']
      const tasks = others.map(
        other => `${knownName(other) ?? '?'} (${other.file})`
      )
      return {
        ...fileProblem(config, field),
        rule: `the same execution user's email as task ${tasks.join(', ')}; each task needs its own`
      }
    }
  )
}

/** The task user's email (the rule is `taskUserEmail`), `$NAME` read leniently. */
function credentialsEmail(
  config: ParsedConfig,
  env: Environment
): string | undefined {
  const value = config.document.value
  if (!isObject(value) || !isObject(value.executionCredentials)) return
  const { email } = value.executionCredentials
  if (typeof email === 'string') {
    return taskUserEmail(config.name ?? '', substituteLeniently(email, env))
  }
  if (email !== undefined || config.name === undefined) return
  return taskUserEmail(config.name)
}

/** Each config whose key is shared, with the others sharing it. */
function duplicates(
  configs: ParsedConfig[],
  keyOf: (config: ParsedConfig) => string | undefined
): { config: ParsedConfig; others: ParsedConfig[] }[] {
  const groups = new Map<string, ParsedConfig[]>()
  for (const config of configs) {
    const key = keyOf(config)
    if (key !== undefined) groups.set(key, [...(groups.get(key) ?? []), config])
  }
  return [...groups.values()]
    .filter(group => group.length > 1)
    .flatMap(group =>
      group.map(config => ({
        config,
        others: group.filter(other => other !== config)
      }))
    )
}

/**
 * A config that is not synced is only checked against the schema, without
 * substitution: a value still reading `$NAME` may be anything once its
 * variable is set, so it is not held against the config.
 */
function checkUnselected(config: ParsedConfig): ConfigProblem[] {
  const value = config.document.value
  return schemaIssues(value)
    .filter(
      issue => placeholderName(valueAt(value, issue.instance)) === undefined
    )
    .map(issue => issueProblem(config, issue))
}

async function checkSelected(
  config: ParsedConfig,
  options: LoadOptions,
  overrides: TaskOverrides | undefined,
  roots: (root: string) => Promise<string[]>
): Promise<Checked> {
  const { problems, warnings, unresolved, deployerKeys, ...substituted } =
    substituteSelected(config, options)
  const configDir = path.dirname(config.found.file)
  const value = isObject(substituted.value)
    ? { ...substituted.value, ...overrideFields(overrides ?? {}, configDir) }
    : substituted.value
  // `""` is no description, as in the CLI: "none" on create, never a change.
  if (isObject(value) && value.description === '') delete value.description
  problems.push(
    ...fieldProblems(config, value, overrides, {
      unresolved,
      sources: substituted.sources
    })
  )
  if (!isObject(value)) return { problems, warnings }

  const code = await codeFolderOf(config, value, overrides, {
    unresolved,
    allowed: await roots(config.found.root),
    workspace: options.workspace,
    builtLater: options.codeFoldersBuiltLater === true
  })
  problems.push(...code.problems)
  const { codeDir } = code
  // Problems with the single-task inputs still belong to this config's task.
  for (const problem of problems) {
    if (!problem.file) problem.config = config.file
  }
  if (problems.length || codeDir === undefined) return { problems, warnings }
  return {
    problems,
    warnings,
    task: {
      name: value.name as string,
      nameRef: config.nameRef,
      config: value as unknown as TaskConfig,
      configFile: config.file,
      deployerKeys: deployerKeys.length ? deployerKeys : undefined,
      codeDir,
      searchRoot: config.found.root,
      locations: {
        path: config.document.locate(['path']),
        environment: config.document.locate(['environment']),
        entryPoint: config.document.locate(['entryPoint']),
        timeLimit: config.document.locate(['timeLimit'])
      }
    }
  }
}

interface Substituted {
  value: unknown
  problems: ConfigProblem[]
  warnings: string[]
  /** Places left as written: the schema does not report them again. */
  unresolved: Set<string>
  /** Each substituted place (`a/b`), with its `$VAR`: errors quote that, never the value. */
  sources: Map<string, string>
  /** Environment keys holding the deploying credentials. */
  deployerKeys: string[]
}

/**
 * `$NAME` values replaced, each masked the moment it is known; an unset one
 * is a problem (a warning in an offline dry run, where it counts as empty).
 * `$API_*` environment values are the deploying credentials.
 */
function substituteSelected(
  config: ParsedConfig,
  options: LoadOptions
): Substituted {
  const problems: ConfigProblem[] = []
  const warnings: string[] = []
  const sources = new Map<string, string>()
  const unsetAsEmpty = options.unsetVariablesWarn === true
  const substituted = substitute(config.document.value, {
    env: options.env,
    deployer: options.deployer?.values,
    unsetAsEmpty,
    onSubstituted: (secret, at) => {
      sources.set(at.join('/'), String(valueAt(config.document.value, at)))
      // The name is the function's identity, shown in every report and
      // output; masking it would hide the task everywhere (and drop outputs).
      if (at.join('.') !== 'name' && worthMasking(secret)) {
        options.mask?.(secret)
      }
    }
  })
  for (const { path: at, variable } of substituted.missing) {
    if (unsetAsEmpty) warnings.push(unsetVariableWarning(config, at, variable))
    else {
      problems.push({
        ...fileProblem(config, at),
        rule: `variable ${variable} is not set (or empty) in the environment`
      })
    }
  }
  const unknown = unknownDeployerValues(config, substituted.deployer, options)
  problems.push(...unknown.problems)
  warnings.push(...unknown.warnings)
  // Reported for every config by `deniedVariables`, and left as written.
  const unresolved = new Set(
    [
      ...(unsetAsEmpty ? [] : substituted.missing),
      ...substituted.denied,
      ...unknown.unresolved
    ].map(({ path: at }) => at.join('/'))
  )
  return {
    value: substituted.value,
    problems,
    warnings,
    unresolved,
    sources,
    deployerKeys: substituted.deployer.map(({ path: at }) => at[1] as string)
  }
}

/**
 * `$API_*` values the run does not know. Offline, none is: a warning, as
 * for any unset variable. With an email and password login no token is
 * known, and none would last: each login mints a new one.
 */
function unknownDeployerValues(
  config: ParsedConfig,
  found: SubstitutionResult['deployer'],
  options: LoadOptions
): { problems: ConfigProblem[]; warnings: string[]; unresolved: typeof found } {
  const result = {
    problems: [] as ConfigProblem[],
    warnings: [] as string[],
    unresolved: [] as typeof found
  }
  const deployer = options.deployer
  for (const item of found) {
    if (item.known) continue
    const where = fileProblem(config, item.path)
    if (!deployer || options.unsetVariablesWarn) {
      const rule = `$${item.variable} is the deploying credentials, unknown in this offline dry run; counted as empty, so the environment-size check is incomplete`
      result.warnings.push(formatProblem({ ...where, rule }))
      continue
    }
    const rule = `$${item.variable} needs the token and token-secret inputs: a login with email and password mints a new token every run (or give the function a user of its own with executionCredentials)`
    if (deployer.dryRun) {
      result.warnings.push(
        `${formatProblem({ ...where, rule })}; counted as unchanged in this plan`
      )
    } else {
      result.problems.push({ ...where, rule })
      result.unresolved.push(item)
    }
  }
  return result
}

/** The schema's rules, the credentials email and the reserved keys. */
function fieldProblems(
  config: ParsedConfig,
  value: unknown,
  overrides: TaskOverrides | undefined,
  substituted: Pick<Substituted, 'unresolved' | 'sources'>
): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  for (const issue of schemaIssues(value)) {
    // Already reported as an unset variable.
    if (substituted.unresolved.has(issue.instance.join('/'))) continue
    const source = substituted.sources.get(issue.instance.join('/'))
    const [top = ''] = issue.path
    const problem = isOverridden(overrides, top)
      ? inputProblem(issue, knownName(config))
      : issueProblem(config, issue)
    // Whatever the value is, the message names where it came from.
    if (source) problem.rule += ` (the value of ${source})`
    problems.push(problem)
  }
  if (!isObject(value)) return problems
  const badEmail = invalidCredentialsEmail(value)
  if (badEmail) {
    problems.push({
      ...fileProblem(config, ['executionCredentials', 'email']),
      rule: badEmail
    })
  }
  const fromInput = overrides?.environment !== undefined
  for (const { key, rule } of reservedKeys(
    value.environment,
    value.executionCredentials !== undefined
  )) {
    problems.push(
      fromInput
        ? { field: 'env', rule: `${key} ${rule}`, task: knownName(config) }
        : { ...fileProblem(config, ['environment', key], true), rule }
    )
  }
  return problems
}

/**
 * The code folder, checked: relative to the config's folder (or the `code`
 * input), existing, a folder, and really inside the workspace or the searched
 * folder.
 */
async function codeFolderOf(
  config: ParsedConfig,
  value: Record<string, unknown>,
  overrides: TaskOverrides | undefined,
  context: {
    unresolved: Set<string>
    allowed: string[]
    workspace: string
    builtLater: boolean
  }
): Promise<{ codeDir?: string; problems: ConfigProblem[] }> {
  const { unresolved, allowed, workspace, builtLater } = context
  if (overrides?.code !== undefined) {
    const codeDir = overrides.code
    const rule = await checkCodeFolder(codeDir, workspace, allowed)
    const problems = rule
      ? [{ field: 'code', rule, task: knownName(config) }]
      : []
    return { codeDir, problems }
  }
  if (typeof value.path !== 'string' || unresolved.has('path')) {
    return { problems: [] } // reported by the schema or as an unset variable
  }
  if (path.isAbsolute(value.path)) {
    const rule =
      "must be relative to the config's folder, not absolute (the CLI would silently join it under that folder)"
    return { problems: [{ ...fileProblem(config, ['path']), rule }] }
  }
  const codeDir = path.resolve(path.dirname(config.found.file), value.path)
  if (builtLater && !(await exists(codeDir))) return { codeDir, problems: [] }
  const rule = await checkCodeFolder(codeDir, workspace, allowed)
  const problems = rule ? [{ ...fileProblem(config, ['path']), rule }] : []
  return { codeDir, problems }
}

/** The user service's rule for emails, as the CLI checks it. */
function invalidCredentialsEmail(
  config: Record<string, unknown>
): string | undefined {
  const credentials = config.executionCredentials
  if (!isObject(credentials) || typeof credentials.email !== 'string') return
  const email = credentials.email
  if (email.startsWith('$')) return
  if (email.length < 3 || email.length > 256) {
    return 'must be an email address of 3 to 256 characters'
  }
  if (!/.+@.+\..+/.test(email))
    return 'must be an email address (name@domain.tld)'
  return undefined
}

/** Environment keys a config may not set, with the reason. */
function reservedKeys(
  environment: unknown,
  hasCredentials: boolean
): { key: string; rule: string }[] {
  if (!isObject(environment)) return []
  const reserved: { key: string; rule: string }[] = []
  for (const key of Object.keys(environment)) {
    if (key === MARKER_VARIABLE) {
      reserved.push({
        key,
        rule: 'is reserved: this action stores its marker there'
      })
    } else if (
      hasCredentials &&
      (CREDENTIAL_VARIABLES as readonly string[]).includes(key)
    ) {
      reserved.push({
        key,
        rule: "is set by executionCredentials (the task user's own credentials): remove it from environment"
      })
    }
  }
  return reserved
}

/** Why `dir` cannot be a code folder, or undefined when it can. */
async function checkCodeFolder(
  dir: string,
  workspace: string,
  allowed: string[]
): Promise<string | undefined> {
  const shown = `code folder ${displayPath(workspace, dir)}`
  let real: string
  try {
    if (!(await stat(dir)).isDirectory()) return `${shown} points to a file`
    // The real path, so a symlinked folder cannot reach outside.
    real = await realpath(dir)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR'
      ? `${shown} not found`
      : `${shown} cannot be read (${code ?? String(error)})`
  }
  const root = allowed.find(dir => isInside(dir, real))
  if (root === undefined) {
    return `${shown} must be inside the workspace (its real path is ${real})`
  }
  if (inGitFolder(root, real)) {
    return `${shown} is or lies inside a .git folder (its real path is ${displayPath(workspace, real)}): .git holds the checkout's credentials and is never packaged`
  }
  return undefined
}

/**
 * Whether `real` is a `.git` folder or lies inside one, below `root` (a
 * link such as `build -> ../../.git` included: `real` is resolved). Any
 * case: on a case-insensitive file system `.GIT` is the same folder.
 */
function inGitFolder(root: string, real: string): boolean {
  return path
    .relative(root, real)
    .split(path.sep)
    .some(segment => segment.toLowerCase() === '.git')
}

/** After a build: the code folder exists, is a folder, and stays inside. */
export async function checkTaskCodeFolder(
  task: TaskDefinition,
  workspace: string
): Promise<ConfigProblem | undefined> {
  const allowed = await Promise.all(
    [workspace, task.searchRoot ?? workspace].map(realOrSame)
  )
  const rule = await checkCodeFolder(task.codeDir, workspace, allowed)
  if (!rule) return undefined
  return {
    file: task.configFile,
    ...task.locations?.path,
    field: task.configFile ? 'path' : 'code',
    rule,
    task: task.name
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false
  )
}

/** The real paths of the workspace and of a searched folder, each resolved once. */
function rootResolver(workspace: string): (root: string) => Promise<string[]> {
  const cache = new Map<string, Promise<string>>()
  const real = (dir: string) => {
    let resolved = cache.get(dir)
    if (!resolved) {
      resolved = realOrSame(dir)
      cache.set(dir, resolved)
    }
    return resolved
  }
  return root => Promise.all([real(workspace), real(root)])
}

async function realOrSame(dir: string): Promise<string> {
  return realpath(dir).catch(() => path.resolve(dir))
}

/** The config fields the single-task inputs set (`code` as a path relative to `base`). */
function overrideFields(
  overrides: TaskOverrides,
  base: string
): Record<string, unknown> {
  const { code, ...fields } = overrides
  const all: Record<string, unknown> = {
    ...fields,
    path: code === undefined ? undefined : posixRelative(base, code)
  }
  return Object.fromEntries(
    Object.entries(all).filter(([, value]) => value !== undefined)
  )
}

function isOverridden(
  overrides: TaskOverrides | undefined,
  field: string
): boolean {
  if (!overrides) return false
  const key = field === 'path' ? 'code' : field
  return (overrides as Record<string, unknown>)[key] !== undefined
}

// ---- Schema errors, in words and located --------------------------------

export interface SchemaIssue {
  keyword: string
  /** The offending field. */
  path: JsonPath
  /** Where to point: the field itself, or its parent object for a missing one. */
  locateAt: JsonPath
  /** Point at the property name rather than its value. */
  key: boolean
  /** The value the error is about. */
  instance: JsonPath
  rule: string
}

/** Every violation of a schema (task-config.json's by default), in words. */
export function schemaIssues(
  value: unknown,
  validate: SchemaValidator = validateSchema
): SchemaIssue[] {
  return validate(value).flatMap(error => issueOf(error, value))
}

function issueOf(error: ErrorObject, value: unknown): SchemaIssue[] {
  const instance = parsePointer(error.instancePath)
  const params = error.params as Record<string, unknown>
  const property = (name: unknown) => [...instance, String(name)]
  const issue = (
    path: JsonPath,
    rule: string,
    where: { locateAt?: JsonPath; key?: boolean } = {}
  ): SchemaIssue[] => [
    {
      keyword: error.keyword,
      path,
      locateAt: where.locateAt ?? path,
      key: where.key ?? false,
      instance,
      rule
    }
  ]
  // The failing inner keyword carries the property name; skip its wrapper.
  if (error.keyword === 'propertyNames') return []
  if (typeof error.propertyName === 'string') {
    return issue(
      property(error.propertyName),
      `is not a valid name: ${describeRule(error, error.propertyName)}`,
      { key: true }
    )
  }
  if (error.keyword === 'required') {
    // Pointed at the object that lacks it.
    return issue(property(params.missingProperty), 'is required', {
      locateAt: instance
    })
  }
  if (error.keyword === 'additionalProperties') {
    const unknown = String(params.additionalProperty)
    const hint = unknownPropertyHint(unknown, instance, knownProperties(error))
    return issue(
      property(unknown),
      `is not allowed (unknown property)${hint}`,
      {
        key: true
      }
    )
  }
  return issue(instance, describeRule(error, valueAt(value, instance)))
}

/** "did you mean": a near name, or the fields an older CLI's shape became. */
function unknownPropertyHint(
  unknown: string,
  parent: JsonPath,
  known: string[]
): string {
  if (unknown === 'executionOptions' && parent.length === 0) {
    return '; did you mean `executionPermission` / `defaultPriority`? (older CLI versions nested them in executionOptions as permissionMode and defaultPriority)'
  }
  const guess = closestName(unknown, known)
  return guess ? `; did you mean \`${guess}\`?` : ''
}

function describeRule(error: ErrorObject, actual: unknown): string {
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'type':
      return `must be ${String(params.type)}${actual === null ? ', not null' : ''}`
    case 'enum':
      return oneOf(
        Array.isArray(params.allowedValues) ? params.allowedValues : [],
        actual
      )
    case 'pattern':
      return (
        PATTERN_RULES[String(params.pattern)] ??
        `must match the pattern ${String(params.pattern)}`
      )
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(params.comparison)} ${String(params.limit)}`
    default:
      return error.message ?? `is invalid (${error.keyword})`
  }
}

/**
 * `must be one of: …`. A long list (the runtimes) is cut to the values of the
 * same family as the given one (`nodejs8.x` → the nodejs ones); with no such
 * family the whole list is shown.
 */
function oneOf(allowed: unknown[], actual: unknown): string {
  const values = allowed.map(String)
  const family = typeof actual === 'string' ? familyOf(actual) : ''
  const near =
    values.length > 8 && family.length >= 2
      ? values.filter(candidate => familyOf(candidate).startsWith(family))
      : []
  if (!near.length) return `must be one of: ${values.join(', ')}`
  return `must be one of: ${near.join(', ')} (the ${family} ones of ${values.length} allowed values)`
}

/** The property names the schema object behind `error` allows. */
function knownProperties(error: ErrorObject): string[] {
  const parent = error.parentSchema as { properties?: object } | undefined
  return parent?.properties ? Object.keys(parent.properties) : []
}

/**
 * The known name closest to a misspelt one (`enviroment` → `environment`),
 * within an edit distance of 2, ignoring case; undefined when none is.
 */
export function closestName(
  unknown: string,
  known: string[]
): string | undefined {
  let best: { name: string; distance: number } | undefined
  for (const name of known) {
    const distance = editDistance(unknown.toLowerCase(), name.toLowerCase())
    if (distance <= 2 && (!best || distance < best.distance)) {
      best = { name, distance }
    }
  }
  return best?.name
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution =
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        substitution
      )
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

function familyOf(value: string): string {
  return /^[a-z]+/i.exec(value)?.[0].toLowerCase() ?? ''
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map(segment => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function valueAt(value: unknown, at: JsonPath): unknown {
  let node = value
  for (const segment of at) {
    if (Array.isArray(node)) node = node[Number(segment)] as unknown
    else if (isObject(node)) node = node[segment]
    else return undefined
  }
  return node
}

// ---- Problems ------------------------------------------------------------

function fileProblem(
  config: ParsedConfig,
  at: JsonPath,
  key = false
): Omit<ConfigProblem, 'rule'> {
  return {
    file: config.file,
    ...config.document.locate(at, key),
    field: dotted(at),
    task: knownName(config)
  }
}

function issueProblem(config: ParsedConfig, issue: SchemaIssue): ConfigProblem {
  return {
    file: config.file,
    ...config.document.locate(issue.locateAt, issue.key),
    field: dotted(issue.path),
    rule: issue.rule,
    task: knownName(config)
  }
}

/** A problem with an input's value: named by the input, the rest of the path in the rule. */
function inputProblem(
  issue: SchemaIssue,
  task: string | undefined
): ConfigProblem {
  const [top = '', ...rest] = issue.path
  return {
    field: inputName(top),
    rule: rest.length ? `${rest.join('.')} ${issue.rule}` : issue.rule,
    task
  }
}

/** The single-task input that sets a config field (`timeLimit` → `time-limit`). */
export function inputName(field: string): string {
  return INPUT_NAMES[field] ?? field
}

function dotted(at: JsonPath): string | undefined {
  return at.length ? at.join('.') : undefined
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return [...problems].sort(
    (a, b) =>
      compare(a.file ?? '', b.file ?? '') ||
      (a.line ?? 0) - (b.line ?? 0) ||
      (a.column ?? 0) - (b.column ?? 0)
  )
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Relative to the workspace when inside it, else absolute. */
function displayPath(workspace: string, target: string): string {
  return isInside(workspace, target) ? posixRelative(workspace, target) : target
}
