// Prune: which remote functions it may delete (this repository's, in its
// scope, described by no config, inside the `tasks` filter).

import { createTaskFilter } from '../config/task-filter.js'
import type { ExhClient, FunctionState } from '../exh/types.js'
import { repositoryOf, type Settings } from '../inputs.js'
import { isOwnMarker, readMarker, type Repository } from '../marker.js'
import { mapPool } from '../pool.js'
import { MARKER_VARIABLE } from '../task.js'

export interface PruneScope {
  repository: Repository
  scope: string
  /** Every task name the configs describe (selected or not). */
  configNames: readonly string[]
  /** The `tasks` filter: a function it does not match is out of reach. */
  matches: (name: string) => boolean
  concurrency: number
}

/**
 * What `prune` will delete once every task is written: nothing when it is
 * off, or when a config's name is an unset $NAME (it hides which function
 * it describes, so pruning could delete it: a warning says so).
 */
export async function pruneList(
  client: ExhClient,
  remoteNames: readonly string[],
  run: {
    settings: Settings
    /** Every task name the configs describe (selected or not). */
    configNames: readonly string[]
    warnings: string[]
    debug?: (message: string) => void
  }
): Promise<string[]> {
  const { settings, configNames } = run
  if (!settings.prune) {
    run.debug?.('prune: off')
    return []
  }
  const unknownNames = configNames.filter(name => name.startsWith('$'))
  if (unknownNames.length) {
    run.warnings.push(
      `prune: nothing is pruned, because the names ${unknownNames.join(', ')} are not set in the environment`
    )
    return []
  }
  const prunable = await findPrunable(client, remoteNames, {
    repository: repositoryOf(settings),
    scope: settings.pruneScope,
    configNames,
    matches: createTaskFilter(settings.tasks).matches,
    concurrency: settings.concurrency
  })
  run.debug?.(
    `prune: ${remoteNames.length} remote functions, ${prunable.length} to delete${prunable.length ? `: ${prunable.join(', ')}` : ''}`
  )
  return prunable
}

/**
 * The remote functions `prune` deletes: not described by any config, inside
 * the `tasks` filter, and carrying this repository's marker for the same
 * scope. A function without the marker (made by hand or by the CLI) or of
 * another repository is never touched.
 */
function findPrunable(
  client: ExhClient,
  remoteNames: readonly string[],
  scope: PruneScope
): Promise<string[]> {
  const described = new Set(scope.configNames)
  const candidates = remoteNames.filter(
    name => !described.has(name) && scope.matches(name)
  )
  return keepOwned(client, candidates, scope.concurrency, environment =>
    isOurs(environment, scope)
  )
}

/**
 * The only names this action writes (the config schema's pattern). A listed
 * name outside it is none of ours, and may not even address itself: the SDK
 * puts it in the path as it is, so `a?x` would read and delete `a`.
 */
const OWN_NAME = /^[A-Za-z0-9-]+$/

/**
 * The names among `candidates` whose function (read one by one: the
 * listing holds no environment) passes `owned`, sorted.
 */
export async function keepOwned(
  client: ExhClient,
  candidates: readonly string[],
  concurrency: number,
  owned: (environment: Readonly<Record<string, string>>) => boolean
): Promise<string[]> {
  const markers = await readMarkers(client, candidates, concurrency)
  // Sorted: the listing's order is the order functions were created in,
  // which concurrent creates make vary from run to run.
  return [...markers]
    .filter(([, marker]) => owned({ [MARKER_VARIABLE]: marker }))
    .map(([name]) => name)
    .sort()
}

/**
 * The raw marker of each of `names` that has one (read one by one, at
 * most `concurrency` at once: the listing holds no environment), by name.
 * A name this action could never have written is not read.
 */
async function readMarkers(
  client: ExhClient,
  names: readonly string[],
  concurrency: number
): Promise<Map<string, string>> {
  const states = await readStates(client, names, concurrency)
  const found = new Map<string, string>()
  for (const [name, { marker }] of states) {
    if (marker !== undefined) found.set(name, marker)
  }
  return found
}

/**
 * The marker and `enabled` of each of `names` that exists (as readMarkers
 * reads them: a name this action could never have written is not read).
 */
export async function readStates(
  client: ExhClient,
  names: readonly string[],
  concurrency: number
): Promise<Map<string, FunctionState>> {
  const writable = names.filter(name => OWN_NAME.test(name))
  const states = await mapPool(writable, concurrency, name =>
    client.stateOf(name)
  )
  const found = new Map<string, FunctionState>()
  writable.forEach((name, i) => {
    const state = states[i]
    if (state !== undefined) found.set(name, state)
  })
  return found
}

/** This repository's marker (any scope): what `tasks` deletes may touch. */
export function isOwnFunction(
  environment: Readonly<Record<string, string>>,
  repository: Repository
): boolean {
  const marker = readMarker(environment)
  return marker !== undefined && isOwnMarker(marker, repository)
}

/** This repository's marker for the same scope: what `prune` may touch. */
export function isOurs(
  environment: Readonly<Record<string, string>>,
  scope: Pick<PruneScope, 'repository' | 'scope'>
): boolean {
  const marker = readMarker(environment)
  return (
    marker !== undefined &&
    isOwnMarker(marker, scope.repository) &&
    marker.scope === scope.scope
  )
}
