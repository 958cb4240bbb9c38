import type { Settings } from './inputs.js'
import { ValidationError } from './errors.js'
import { createTaskFilter } from './config/task-filter.js'
import { deleteResult, type TaskResult } from './report/result.js'
import type { RemoteFunctionRow } from './report/summary.js'
import { connect, repositoryOf, type RunIo } from './sync.js'
import { deleteFunctions } from './apply/delete.js'
import { isOwnFunction, keepOwned } from './plan/prune.js'
import type { ExhClient } from './exh/types.js'
import { plural } from './words.js'

/** `command: list`: the remote functions, printed to the log as well. */
export async function list(
  settings: Settings,
  io: RunIo
): Promise<RemoteFunctionRow[]> {
  const client = await connect(settings, io)
  const functions = await client.listFunctions()
  for (const line of functionLines(functions)) io.info(line)
  return functions
}

/** The summary's table as log lines: name, last update, description. */
export function functionLines(functions: RemoteFunctionRow[]): string[] {
  return [
    `${plural(functions.length, 'function')}${functions.length ? ':' : '.'}`,
    ...functions.map(fn =>
      [
        `  ${fn.name}`,
        fn.updateTimestamp && `updated ${fn.updateTimestamp}`,
        fn.description
      ]
        .filter(Boolean)
        .join(' · ')
    )
  ]
}

/**
 * `command: delete`: the function named exactly by `name` (any function, as
 * the CLI's `--name`), and those `tasks` names or patterns match among this
 * repository's functions. A name that does not exist is reported, not a
 * crash. Users and roles stay.
 */
export async function remove(
  settings: Settings,
  io: RunIo
): Promise<{ results: TaskResult[]; warnings: string[] }> {
  const exactName = settings.overrides?.name
  if (!exactName && !settings.tasks.length) {
    throw new ValidationError([
      {
        field: 'name, tasks',
        rule: "command: delete needs a function name (name) or names and patterns of this repository's functions (tasks)"
      }
    ])
  }
  const client = await connect(settings, io)
  const existing = (await client.listFunctions()).map(fn => fn.name)
  const selected = await selectOwnFunctions(client, existing, settings)
  const found = exactName && existing.includes(exactName)
  const targets = [
    ...(found ? [exactName] : []),
    ...selected.targets.filter(name => name !== exactName)
  ]
  const results = await deleteFunctions(client, targets, {
    dryRun: settings.dryRun,
    concurrency: settings.concurrency,
    signal: io.signal
  })
  if (exactName && !found) {
    results.unshift(deleteResult(exactName, 'skipped', 'not found'))
  }
  const warnings = [
    ...(exactName && !found
      ? [`no function is named "${exactName}": nothing to delete`]
      : []),
    ...selected.warnings
  ]
  return { results, warnings }
}

/**
 * `tasks` selects only among functions that carry this repository's marker,
 * so a pattern never deletes a function made by hand or by another
 * repository.
 */
async function selectOwnFunctions(
  client: ExhClient,
  existing: readonly string[],
  settings: Settings
): Promise<{ targets: string[]; warnings: string[] }> {
  if (!settings.tasks.length) return { targets: [], warnings: [] }
  const filter = createTaskFilter(settings.tasks)
  const repository = repositoryOf(settings)
  const targets = await keepOwned(
    client,
    existing.filter(filter.matches),
    settings.concurrency,
    environment => isOwnFunction(environment, repository)
  )
  const warnings = filter
    .unmatched(targets)
    .map(
      pattern =>
        `no function of this repository matches "${pattern}": nothing to delete`
    )
  return { targets, warnings }
}
