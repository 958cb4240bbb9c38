// `command: list` and `command: delete`: the commands beside sync.

import { ValidationError } from './errors.js'
import { createTaskFilter } from './config/task-filter.js'
import { deleteResult, type TaskResult } from './report/result.js'
import type { RemoteFunctionRow } from './report/summary.js'
import { repositoryOf, type Settings } from './inputs.js'
import { connect } from './plan/listing.js'
import type { RunIo } from './run-io.js'
import { deleteFunctions } from './apply/delete.js'
import { isOwnFunction, keepOwned, readStates } from './plan/prune.js'
import { readConcurrency } from './plan/remote.js'
import {
  listedFunction,
  serverOrigin,
  shortZip
} from './report/function-list.js'
import type { ExhClient } from './exh/types.js'
import { plural } from './words.js'
import { shortCommit } from './helpers.js'

/**
 * `command: list`: the remote functions, each with its deployment record
 * and drift, printed to the log as well. Only the marker of each function
 * is read (no other value is read back, so nothing is masked).
 */
export async function list(
  settings: Settings,
  io: RunIo
): Promise<RemoteFunctionRow[]> {
  const client = await connect(settings, io)
  const functions = await client.listFunctions()
  const states = await readStates(
    client,
    functions.map(fn => fn.name),
    readConcurrency(settings.concurrency)
  )
  const server = serverOrigin(io.env.GITHUB_SERVER_URL)
  const listed = functions.map(fn => {
    const state = states.get(fn.name)
    return listedFunction(fn, state?.marker, server, state?.enabled)
  })
  for (const line of functionLines(listed)) io.info(line)
  return listed
}

/** The summary's table as log lines: name, drift, last deploy, description. */
function functionLines(functions: RemoteFunctionRow[]): string[] {
  return [
    `${plural(functions.length, 'function')}${functions.length ? ':' : '.'}`,
    ...functions.map(fn =>
      [
        `  ${fn.name}`,
        fn.enabled === false && 'disabled',
        `drift: ${fn.drift}`,
        fn.verify && `verify: ${fn.verify}`,
        fn.repository &&
          `${fn.repository}${fn.commit ? `@${shortCommit(fn.commit)}` : ''}`,
        fn.zipSha256 && `zip ${shortZip(fn.zipSha256)}`,
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
  const deleted = await deleteFunctions(client, targets, {
    dryRun: settings.dryRun,
    concurrency: settings.concurrency,
    signal: io.signal,
    forceDelete: settings.forceDelete
  })
  const { results } = deleted
  if (exactName && !found) {
    results.unshift(deleteResult(exactName, 'skipped', 'not found'))
  }
  const warnings = [
    ...(exactName && !found
      ? [`no function is named "${exactName}": nothing to delete`]
      : []),
    ...selected.warnings,
    ...deleted.warnings
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
