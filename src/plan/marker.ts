import { MARKER_VARIABLE } from '../task.js'

/**
 * What this action stores on every function it writes, in the reserved
 * MARKER_VARIABLE: the code fingerprint (how `code` is compared next time),
 * the repository that owns the function (who may update, prune or delete
 * it) and the prune scope.
 *
 * Format (JSON), version 2:
 *   {"v":2,"fingerprint":"<hex>","repositoryId":"<GITHUB_REPOSITORY_ID>",
 *    "repository":"<owner/name>","scope":"<prune scope>"}
 * `repositoryId` is absent when the run did not know it. Version 1 (before
 * the id was recorded) is the same without `repositoryId`.
 */
export interface Marker {
  fingerprint: string
  /** The repository's name (`owner/name`) when the marker was written. */
  repository: string
  /** The repository's stable id: it survives a rename or a transfer. */
  repositoryId?: string
  scope: string
}

/** This run's repository: `GITHUB_REPOSITORY_ID` and `GITHUB_REPOSITORY`. */
export interface Repository {
  id?: string
  name: string
}

const VERSION = 2
const READABLE_VERSIONS: readonly unknown[] = [1, 2]

export function encodeMarker(marker: Marker): string {
  return JSON.stringify({
    v: VERSION,
    fingerprint: marker.fingerprint,
    ...(marker.repositoryId ? { repositoryId: marker.repositoryId } : {}),
    repository: marker.repository,
    scope: marker.scope
  })
}

/** The marker to write for a function of `repository`. */
export function markerFor(
  repository: Repository,
  fingerprint: string,
  scope: string
): Marker {
  return {
    fingerprint,
    repository: repository.name,
    ...(repository.id ? { repositoryId: repository.id } : {}),
    scope
  }
}

/**
 * The marker in a function's environment (any version this action ever
 * wrote), or undefined when absent or unreadable.
 */
export function readMarker(
  environment: Readonly<Record<string, string>>
): Marker | undefined {
  const raw = environment[MARKER_VARIABLE]
  if (!raw) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined
  const { v, fingerprint, repository, repositoryId, scope } = parsed as Record<
    string,
    unknown
  >
  if (
    !READABLE_VERSIONS.includes(v) ||
    typeof fingerprint !== 'string' ||
    typeof repository !== 'string' ||
    typeof scope !== 'string'
  ) {
    return undefined
  }
  const id = v === 1 || typeof repositoryId !== 'string' ? '' : repositoryId
  return { fingerprint, repository, ...(id ? { repositoryId: id } : {}), scope }
}

/**
 * Whether a marker names this repository: by id when both know it (so a
 * renamed or transferred repository keeps its functions, and a new
 * repository under an old name gets none); by name otherwise (markers
 * written before the id was recorded, or a run without the id).
 */
export function isOwnMarker(marker: Marker, repository: Repository): boolean {
  if (marker.repositoryId && repository.id) {
    return marker.repositoryId === repository.id
  }
  return marker.repository === repository.name
}

/**
 * The repository that owns this function, when it is not `repository`;
 * undefined for a function of this repository or one without a marker
 * (made by hand or by the CLI, which this action takes over).
 */
export function foreignOwner(
  environment: Readonly<Record<string, string>>,
  repository: Repository
): Marker | undefined {
  const marker = readMarker(environment)
  return marker && !isOwnMarker(marker, repository) ? marker : undefined
}

/**
 * The stored marker says what `wanted` says, so it alone causes no write:
 * a marker without the id (an earlier version's) or with the repository's
 * old name (a rename) gets the current ones with the next write.
 */
export function markerUpToDate(stored: Marker, wanted: Marker): boolean {
  if (
    stored.fingerprint !== wanted.fingerprint ||
    stored.scope !== wanted.scope
  ) {
    return false
  }
  if (stored.repositoryId) return stored.repositoryId === wanted.repositoryId
  return stored.repository === wanted.repository
}
