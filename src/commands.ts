import type { Settings } from './inputs.js'
import { createTaskFilter } from './task-filter.js'
import type { TaskResult } from './result.js'
import type { RemoteFunctionRow } from './report.js'
import { connect, type RunIo } from './sync.js'
import { deleteFunctions } from './delete.js'

/** `command: list`: the remote functions. */
export async function list(
  settings: Settings,
  io: RunIo
): Promise<RemoteFunctionRow[]> {
  const client = await connect(settings, io)
  return client.listFunctions()
}

/**
 * `command: delete`: the functions named in `name` or matched by `tasks`. A
 * name that does not exist is reported, not a crash. Users and roles stay.
 */
export async function remove(
  settings: Settings,
  io: RunIo
): Promise<{ results: TaskResult[]; warnings: string[] }> {
  const client = await connect(settings, io)
  const patterns = [
    ...(settings.overrides?.name ? [settings.overrides.name] : []),
    ...settings.tasks
  ]
  const existing = (await client.listFunctions()).map(fn => fn.name)
  const filter = createTaskFilter(patterns)
  const targets = patterns.length ? existing.filter(filter.matches) : []
  const warnings = filter
    .unmatched(existing)
    .map(pattern => `no function matches "${pattern}": nothing to delete`)
  const results = await deleteFunctions(client, targets, {
    dryRun: settings.dryRun,
    concurrency: settings.concurrency,
    signal: io.signal
  })
  return { results, warnings }
}
