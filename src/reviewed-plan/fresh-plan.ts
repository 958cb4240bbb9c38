// A plan as the reviewed-plan check sees it (SPEC section 10): per task its
// shown name, action, changed fields and desired state as written (every
// `$NAME` its reference, never its value), plus the host and the inputs
// that choose the tasks. Built from the pipeline's planned tasks; the
// digests are made from it with the pull request's URL (`record.ts`).

import type { Settings } from '../inputs.js'
import type { ReadyTask } from '../package/stage.js'
import { markerDrift } from '../plan/drift.js'
import { canonicalJson, referencedFields } from './digest.js'

/** One task of the plan, or one function `prune` deletes. */
export interface FreshTask {
  /** The reference for a name from `$VAR`, else the name. */
  name: string
  /** `create`, `update`, `unchanged`, `delete`, or `refused` (another owner). */
  action: string
  changes: string[]
  /** Canonical JSON of the desired state: digested, never shown. */
  desired: string
  /** Changed-field names whose value is a `$NAME` reference. */
  referenced: string[]
  /**
   * The function's `updateTimestamp` when it was changed outside since this
   * action last wrote it (digested, never shown). Code is compared through
   * the marker's fingerprint, which a code-only write by someone else keeps:
   * the drift is what shows such a change.
   */
  outside?: string
}

export interface FreshPlan {
  /** The host as given (digested, never shown). */
  host: string
  /** Canonical JSON of the inputs that choose the tasks. */
  inputs: string
  tasks: FreshTask[]
}

/** The plan just made: planned tasks in order, then the deletes. */
export function freshPlan(
  settings: Pick<Settings, 'host' | 'planInputs'>,
  ready: readonly ReadyTask[],
  deletes: readonly string[]
): FreshPlan {
  const tasks = ready.map(item => {
    const written = item.task.asWritten
    const planned = item.outcome === 'planned' ? item.plan : undefined
    return {
      name: item.task.nameRef ?? item.task.name,
      action: planned?.action ?? 'refused',
      changes: [...(planned?.changes ?? [])],
      desired: desiredState(written, item.folder.fingerprint),
      referenced: referencedFields(written, item.task.envInputKeys),
      ...outsideOf(item)
    }
  })
  for (const name of deletes) {
    tasks.push({
      name,
      action: 'delete',
      changes: [],
      desired: canonicalJson({ delete: name }),
      referenced: []
    })
  }
  return {
    host: settings.host ?? '',
    inputs: canonicalJson(settings.planInputs),
    tasks
  }
}

/** `outside` for a function changed outside since its last deploy. */
function outsideOf(item: ReadyTask): { outside?: string } {
  const remote = item.outcome === 'planned' ? item.remote : undefined
  if (!remote?.marker || !remote.updateTimestamp) return {}
  const drift = markerDrift(remote.marker, remote.updateTimestamp)
  return drift === 'changed outside' ? { outside: remote.updateTimestamp } : {}
}

/**
 * Every configured field as written, the code fingerprint and the sorted
 * permissions (their order changes nothing on the role).
 */
export function desiredState(
  written: Record<string, unknown>,
  fingerprint: string
): string {
  const credentials = written.executionCredentials as
    | { permissions?: unknown }
    | undefined
  const permissions = Array.isArray(credentials?.permissions)
    ? credentials.permissions.map(String).sort()
    : undefined
  return canonicalJson({ config: written, fingerprint, permissions })
}
