import type { ExhClient } from './exh-client.js'
import { readMarker } from './marker.js'
import { mapPool } from './pool.js'

export interface PruneScope {
  repository: string
  scope: string
  /** Every task name the configs describe (selected or not). */
  configNames: readonly string[]
  /** The `tasks` filter: a function it does not match is out of reach. */
  matches: (name: string) => boolean
  concurrency: number
}

/**
 * The remote functions `prune` deletes: not described by any config, inside
 * the `tasks` filter, and carrying this action's marker for the same
 * repository and scope. A function without the marker (made by hand or by
 * the CLI) is never touched.
 */
export async function findPrunable(
  client: ExhClient,
  remoteNames: readonly string[],
  scope: PruneScope
): Promise<string[]> {
  const described = new Set(scope.configNames)
  const candidates = remoteNames.filter(
    name => !described.has(name) && scope.matches(name)
  )
  const owned = await mapPool(candidates, scope.concurrency, async name => {
    const remote = await client.getFunction(name)
    return remote && isOurs(remote.environment, scope) ? name : undefined
  })
  return owned.filter((name): name is string => name !== undefined)
}

export function isOurs(
  environment: Readonly<Record<string, string>>,
  scope: Pick<PruneScope, 'repository' | 'scope'>
): boolean {
  const marker = readMarker(environment)
  return (
    marker !== undefined &&
    marker.repository === scope.repository &&
    marker.scope === scope.scope
  )
}
