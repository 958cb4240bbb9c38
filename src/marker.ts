import { MARKER_VARIABLE } from './task.js'

/**
 * What this action stores on every function it writes, in the reserved
 * MARKER_VARIABLE: the code fingerprint (how `code` is compared next time)
 * and who manages the function (how `prune` knows what it may delete).
 */
export interface Marker {
  fingerprint: string
  repository: string
  scope: string
}

const VERSION = 1

export function encodeMarker(marker: Marker): string {
  return JSON.stringify({
    v: VERSION,
    fingerprint: marker.fingerprint,
    repository: marker.repository,
    scope: marker.scope
  })
}

/** The marker in a function's environment, or undefined when absent or unreadable. */
export function readMarker(
  environment: Readonly<Record<string, string>>
): Marker | undefined {
  const raw = environment[MARKER_VARIABLE]
  if (!raw) return undefined
  try {
    const parsed = JSON.parse(raw) as Record<string, unknown>
    const { v, fingerprint, repository, scope } = parsed
    if (
      v !== VERSION ||
      typeof fingerprint !== 'string' ||
      typeof repository !== 'string' ||
      typeof scope !== 'string'
    ) {
      return undefined
    }
    return { fingerprint, repository, scope }
  } catch {
    return undefined
  }
}
