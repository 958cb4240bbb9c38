// A plan without credentials (a dry run from a fork): nothing is read, so
// every task is planned as if new, which is what gets zipped and checked.

import type { ScannedTask } from '../fingerprint/scan.js'
import { repositoryOf, type Settings } from '../inputs.js'
import { markerFor, type Marker } from '../marker.js'
import { PENDING_TOKEN, credentialVariables } from './credentials.js'
import { planTask } from './decide.js'
import type { PlannedTask } from './remote.js'

/** Offline, every task is planned as if new: that is what gets zipped and checked. */
export function planOffline(
  scanned: ScannedTask[],
  settings: Settings
): PlannedTask[] {
  return scanned.map(item => {
    const marker = markerFor(
      repositoryOf(settings),
      item.folder.fingerprint,
      settings.pruneScope,
      settings.record,
      new Date(),
      item.task.substituted
    )
    return planOfflineTask(item, marker, settings)
  })
}

function planOfflineTask(
  item: ScannedTask,
  marker: Marker,
  settings: Settings
): PlannedTask {
  return {
    ...item,
    outcome: 'planned' as const,
    marker,
    plan: planTask({
      config: item.task.config,
      marker,
      skipUnchanged: settings.skipUnchanged,
      // Offline the tokens are unknown: stand-ins of the same size keep the
      // environment size check honest.
      injected: item.task.config.executionCredentials
        ? credentialVariables({
            host: settings.host ?? '',
            consumerKey: PENDING_TOKEN,
            consumerSecret: PENDING_TOKEN
          })
        : undefined
    }),
    planMs: 0
  }
}
