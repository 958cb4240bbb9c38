// Stage 3, load and validate, in the order of the checks: parse every
// task-config.json, the rules across configs, the schema, `$NAME` values of
// the selected ones, the single-task inputs, and each code folder. Every
// problem is collected. Each job is a module beside this one.

import * as path from 'node:path'
import { isObject } from '../helpers.js'
import {
  placeholderName,
  substituteLeniently,
  type Environment
} from './substitute.js'
import {
  CREDENTIAL_VARIABLES,
  envInputValues,
  MARKER_VARIABLE,
  type ConfigProblem,
  type TaskConfig,
  type TaskDefinition,
  type TaskOverrides
} from '../task.js'
import { posixRelative } from '../paths.js'
import { schemaIssues, schemaValidator, valueAt } from './schema-wording.js'
import { validateTaskConfig } from './compiled-schemas.js'
import { readConfig, type FoundConfig, type ParsedConfig } from './read.js'
import {
  fileProblem,
  inputName,
  inputProblem,
  issueProblem,
  knownName,
  sortProblems
} from './problems.js'
import {
  checkCodeFolder,
  codeFolderOf,
  realOrSame,
  rootResolver
} from './code-folder-rules.js'
import {
  deniedVariables,
  offlineCredentialsWarning,
  substituteSelected,
  type Substituted,
  type SubstitutionOptions
} from './substitute-selected.js'
import { duplicateNames, sharedEmails } from './across-configs.js'

export interface LoadOptions extends SubstitutionOptions {
  /** Absolute. */
  workspace: string
  /** The `tasks` filter. */
  isSelected: (name: string) => boolean
  /** The single-task inputs; applied only when exactly one config file is loaded. */
  overrides?: TaskOverrides
  /**
   * A `build-command` will create the code folders: a missing one is checked
   * after the build (`checkTaskCodeFolder`) instead of now.
   */
  codeFoldersBuiltLater?: boolean
  /** The run's cancel: stops reading configs (SPEC section 8). */
  signal?: AbortSignal
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

const validateSchema = schemaValidator(validateTaskConfig)

/** Every violation of task-config.json's schema, in words. */
const taskSchemaIssues = (value: unknown) => schemaIssues(value, validateSchema)

interface Checked {
  problems: ConfigProblem[]
  warnings?: string[]
  /** `$API_*` references an offline dry run could not resolve. */
  offlineRefs?: string[]
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
    warnings: [
      ...checks.flatMap(checked => checked.warnings ?? []),
      ...offlineCredentialsWarning(
        checks.flatMap(checked => checked.offlineRefs ?? [])
      )
    ]
  }
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
  for (const issue of taskSchemaIssues(config)) {
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
  const { environment, ...rest } = config
  return {
    name: config.name as string,
    config: config as unknown as TaskConfig,
    ...(isObject(environment)
      ? {
          asWritten: {
            ...rest,
            environment: envInputValues(environment as Record<string, string>)
          },
          envInputKeys: Object.keys(environment)
        }
      : { asWritten: rest }),
    codeDir: overrides.code
  }
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
 * A config that is not synced is only checked against the schema, without
 * substitution: a value still reading `$NAME` may be anything once its
 * variable is set, so it is not held against the config.
 */
function checkUnselected(config: ParsedConfig): ConfigProblem[] {
  const value = config.document.value
  return taskSchemaIssues(value)
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
  const { problems, unresolved, deployerKeys, ...substituted } =
    substituteSelected(config, options)
  const { warnings, offlineRefs } = substituted
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
  if (!isObject(value)) return { problems, warnings, offlineRefs }

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
  const notes = { problems, warnings, offlineRefs }
  if (problems.length || codeDir === undefined) return notes
  return {
    ...notes,
    task: {
      name: value.name as string,
      nameRef: config.nameRef,
      config: value as unknown as TaskConfig,
      ...asWritten(config, overrides, configDir),
      configFile: config.file,
      deployerKeys: deployerKeys.length ? deployerKeys : undefined,
      ...substitutedFields(substituted.sources, overrides),
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

/**
 * The config before substitution, with the single-task inputs over it; the
 * `env` input's values stand as `(env input)`: a workflow may pass a secret
 * there, and a digest of a short secret salted with a public URL could be
 * guessed.
 */
function asWritten(
  config: ParsedConfig,
  overrides: TaskOverrides | undefined,
  configDir: string
): Pick<TaskDefinition, 'asWritten' | 'envInputKeys'> {
  const raw = isObject(config.document.value) ? config.document.value : {}
  const fields = overrideFields(overrides ?? {}, configDir)
  if (!overrides?.environment) return { asWritten: { ...raw, ...fields } }
  return {
    asWritten: {
      ...raw,
      ...fields,
      environment: envInputValues(overrides.environment)
    },
    envInputKeys: Object.keys(overrides.environment)
  }
}

/** Fields whose before → after shows values (environment keys never do). */
const VALUE_FIELDS = new Set([
  'description',
  'entryPoint',
  'runtime',
  'timeLimit',
  'memoryLimit',
  'executionPermission',
  'defaultPriority',
  'retryPolicy'
])

/**
 * The configured fields whose value came from `$VAR`, for the marker: a
 * later plan must not show the value read back as their before.
 */
function substitutedFields(
  sources: Substituted['sources'],
  overrides: TaskOverrides | undefined
): Pick<TaskDefinition, 'substituted'> {
  const fields = new Set<string>()
  for (const place of sources.keys()) {
    const [top = ''] = place.split('/')
    if (VALUE_FIELDS.has(top) && !isOverridden(overrides, top)) fields.add(top)
  }
  return fields.size ? { substituted: [...fields].sort() } : {}
}

/** The schema's rules, the credentials email and the reserved keys. */
function fieldProblems(
  config: ParsedConfig,
  value: unknown,
  overrides: TaskOverrides | undefined,
  substituted: Pick<Substituted, 'unresolved' | 'sources'>
): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  for (const issue of taskSchemaIssues(value)) {
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
