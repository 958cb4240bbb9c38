// Stage 3: discovery, selection and the single-task inputs → LoadedTasks
// (each selected task's definition, and every problem found).

import { stat } from 'node:fs/promises'
import type { Settings } from '../inputs.js'
import {
  isFunctionName,
  type ConfigProblem,
  type TaskDefinition
} from '../task.js'
import type { FoundConfig } from './read.js'
import { findTaskConfigs, unreadableWarnings } from './discover.js'
import { loadTaskConfigs, taskFromInputs, type LoadResult } from './validate.js'
import { inputName } from './problems.js'
import type { Deployer } from './substitute-selected.js'
import { createTaskFilter } from './task-filter.js'
import { loadVerifySpecs } from './verify-file.js'

export interface LoadedTasks {
  /** Every config file found (empty for a task given by inputs alone). */
  found: FoundConfig[]
  /** The selected, valid tasks. */
  tasks: TaskDefinition[]
  /** Every task name the configs describe, selected or not (for prune). */
  names: string[]
  /** Names substituted from `$VAR`: value → `$VAR` (SPEC section 8). */
  nameRefs: Record<string, string>
  problems: ConfigProblem[]
  /** Discovery's (skipped symlinks, unreadable folders) and unset `$NAME` values of an offline dry run. */
  warnings: string[]
}

/**
 * Stages 2 and 3: find the configs (or take the task from the single-task
 * inputs), select them with the `tasks` filter, load and validate them.
 */
export async function loadTasks(
  settings: Settings,
  env: Record<string, string | undefined>,
  mask: (secret: string) => void,
  signal?: AbortSignal
): Promise<LoadedTasks> {
  const { overrides } = settings
  if (!settings.pathInput.length && overrides?.code) {
    return loadFromInputs(overrides, settings.workspace)
  }

  const discovery = await findTaskConfigs(
    settings.paths,
    settings.workspace,
    undefined,
    signal
  )
  const found = discovery.configs
  const problems = await overridesProblems(settings, found)
  const filter = createTaskFilter(settings.tasks)
  const loaded = await loadTaskConfigs(found, {
    workspace: settings.workspace,
    env,
    isSelected: filter.matches,
    overrides,
    mask,
    codeFoldersBuiltLater: settings.buildCommand !== undefined,
    unsetVariablesWarn: isOfflineDryRun(settings),
    deployer: deployerOf(settings),
    signal
  })
  problems.push(...loaded.problems)
  // task-verify.json is read only when it will be used (a dry run checks it).
  const verified =
    settings.verify === 'false'
      ? { tasks: loaded.tasks, problems: [] }
      : await loadVerifySpecs(loaded.tasks, settings.workspace, signal)
  problems.push(...verified.problems, ...unmatchedProblems(filter, loaded))
  const warnings = [
    ...discovery.warnings,
    ...loaded.warnings,
    ...unreadableWarnings(
      discovery.unreadable,
      loaded.tasks.map(task => task.codeDir),
      settings.workspace
    )
  ]
  return {
    found,
    tasks: verified.tasks,
    names: loaded.names,
    nameRefs: loaded.nameRefs,
    problems,
    warnings
  }
}

/** The single-task inputs need `path` to name one config file. */
async function overridesProblems(
  settings: Settings,
  found: FoundConfig[]
): Promise<ConfigProblem[]> {
  const { overrides } = settings
  if (!overrides || (await namesOneFile(settings, found))) return []
  return [
    {
      field: Object.keys(overrides)
        .map(key => inputName(key === 'code' ? 'path' : key))
        .join(', '),
      rule: 'single-task inputs need `path` to name one task-config.json file (or no `path` and a `code` input), not a folder of tasks'
    }
  ]
}

/** The `tasks` filter's names that match no config. */
function unmatchedProblems(
  filter: ReturnType<typeof createTaskFilter>,
  loaded: Pick<LoadResult, 'names' | 'nameRefs'>
): ConfigProblem[] {
  const unmatched = filter.unmatched(loaded.names)
  if (!unmatched.length) return []
  const known = loaded.names.map(name => shownName(name, loaded.nameRefs))
  return [
    {
      field: 'tasks',
      rule: `matched no task: ${unmatched.join(', ')} (known: ${known.join(', ') || 'none'})`
    }
  ]
}

/** A substituted name that is no valid name may be any value: its reference. */
function shownName(name: string, refs: Record<string, string>): string {
  const ref = refs[name]
  return ref && !isFunctionName(name) ? ref : name
}

/** A task given by the single-task inputs alone, with no config file. */
async function loadFromInputs(
  overrides: NonNullable<Settings['overrides']>,
  workspace: string
): Promise<LoadedTasks> {
  const task = await taskFromInputs(overrides, { workspace })
  const none = { found: [], problems: [], warnings: [], nameRefs: {} }
  return Array.isArray(task)
    ? { ...none, tasks: [], names: [], problems: task }
    : { ...none, tasks: [task], names: [task.name] }
}

/**
 * The credentials this run deploys with, for `$API_*` environment values,
 * as the CLI hands its own to a function; unknown offline.
 */
function deployerOf(settings: Settings): Deployer | undefined {
  const { host, credentials } = settings
  if (!host || !credentials || isOfflineDryRun(settings)) return undefined
  const token =
    credentials.kind === 'token'
      ? {
          API_OAUTH_TOKEN: credentials.token,
          API_OAUTH_TOKEN_SECRET: credentials.tokenSecret
        }
      : {}
  return {
    values: {
      API_HOST: host,
      API_OAUTH_CONSUMER_KEY: credentials.consumerKey,
      API_OAUTH_CONSUMER_SECRET: credentials.consumerSecret,
      ...token
    },
    dryRun: settings.dryRun
  }
}

/** A dry run missing a credential: validated and packaged without the API. */
export function isOfflineDryRun(settings: Settings): boolean {
  return settings.dryRun && settings.missingCredentials.length > 0
}

async function namesOneFile(
  settings: Settings,
  found: FoundConfig[]
): Promise<boolean> {
  const [only] = settings.paths
  if (settings.paths.length !== 1 || !only || found.length !== 1) return false
  const stats = await stat(only)
  return !stats.isDirectory()
}
