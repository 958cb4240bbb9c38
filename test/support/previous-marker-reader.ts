// The marker reader of the previous release (src/plan/marker.ts at
// 2b344c9), kept verbatim: a marker this version writes must stay readable
// by it, so a rollback keeps ownership and prune (test/marker.test.ts).

const MARKER_VARIABLE = 'EXH_TASKS_ACTION_MARKER'
const READABLE_VERSIONS: readonly unknown[] = [1, 2]

interface Marker {
  fingerprint: string
  repository: string
  repositoryId?: string
  scope: string
}

export function previousReadMarker(
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
