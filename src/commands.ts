import type { Credentials, Settings } from './inputs.js'
import { connectExh } from './exh-client.js'
import { describeError } from './errors.js'
import { createTaskFilter } from './task-filter.js'
import type { TaskResult } from './result.js'
import type { RemoteFunctionRow } from './report.js'
import type { RunIo } from './sync.js'
import { mapPool } from './pool.js'

function connect(settings: Settings, io: RunIo) {
  return connectExh({
    host: settings.host ?? '',
    credentials: settings.credentials as Credentials,
    requestTimeoutMs: settings.requestTimeoutMs,
    signal: io.signal,
    mask: io.mask,
    log: io.info
  })
}

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
  const results = await mapPool(targets, settings.concurrency, async name => {
    const started = performance.now()
    const result: TaskResult = { name, action: 'delete', status: 'planned' }
    if (!settings.dryRun) {
      try {
        await client.deleteFunction(name)
        result.status = 'done'
      } catch (error) {
        result.status = 'failed'
        result.error = describeError(error)
      }
    }
    result.durationMs = Math.round(performance.now() - started)
    return result
  })
  return { results, warnings }
}
