// `command: list`: each remote function with where its last deploy came
// from (the marker's record), the digest of the zip it runs, and whether it
// drifted since.

import { MARKER_VARIABLE } from '../task.js'
import { readMarker, type VerifyFlag } from '../marker.js'
import { driftOf, type Drift } from '../plan/drift.js'
import type { RemoteFunctionSummary } from '../exh/types.js'

/** One entry of the `functions` output; absent fields are left out. */
export interface ListedFunction extends RemoteFunctionSummary {
  /** The repository that owns it (`owner/name`), from its marker. */
  repository?: string
  /** The commit of its last deploy. */
  commit?: string
  /** When the action last wrote it (ISO 8601). */
  deployedAt?: string
  /** The URL of the run that last wrote it. */
  run?: string
  /** `false` for a disabled function; absent when it was not read. */
  enabled?: boolean
  /** sha256 of the zip it runs, as its last upload by the action recorded it. */
  zipSha256?: string
  drift: Drift
  /** `failed` while its last verify failed (until one passes). */
  verify?: VerifyFlag
}

/**
 * A function as listed, from the listing's entry and its raw marker value.
 * The marker is an API answer: its repository becomes part of a URL only
 * when it is a valid `owner/name`, and is otherwise shown escaped and cut.
 */
export function listedFunction(
  fn: RemoteFunctionSummary,
  rawMarker: string | undefined,
  serverUrl: string,
  enabled?: boolean
): ListedFunction {
  const marker = rawMarker
    ? readMarker({ [MARKER_VARIABLE]: rawMarker })
    : undefined
  const drift = driftOf(rawMarker, fn.updateTimestamp, marker)
  const listed = { ...fn, ...(enabled === undefined ? {} : { enabled }) }
  if (!marker) return { ...listed, drift }
  const valid = isRepositoryName(marker.repository)
  // The run id is digits (readMarker keeps nothing else).
  const run = valid && marker.run
  return {
    ...listed,
    // As the marker holds it: escaped and cut where printed, once redacted
    // (a cut here could split a secret and so hide it from the redaction).
    repository: marker.repository,
    ...(marker.commit ? { commit: marker.commit } : {}),
    ...(marker.at ? { deployedAt: marker.at } : {}),
    ...(run
      ? { run: `${serverUrl}/${marker.repository}/actions/runs/${run}` }
      : {}),
    ...(marker.zip ? { zipSha256: marker.zip } : {}),
    drift,
    ...(marker.verify ? { verify: marker.verify } : {})
  }
}

/** GitHub's rules for an owner (39 characters) and a repository name. */
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/
const NAME = /^[A-Za-z0-9._-]{1,100}$/

export function isRepositoryName(text: string): boolean {
  const [owner = '', name = '', ...rest] = text.split('/')
  return (
    rest.length === 0 &&
    OWNER.test(owner) &&
    NAME.test(name) &&
    name !== '.' &&
    name !== '..'
  )
}

/**
 * `GITHUB_SERVER_URL` as a URL's origin (`https://github.com` when unset
 * or not http(s)), so nothing after it can change where a link points.
 */
export function serverOrigin(value: string | undefined): string {
  try {
    const url = new URL(value ?? '')
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.origin
  } catch {
    // not a URL: the default
  }
  return 'https://github.com'
}

/** A zip digest as `list` shows it: `sha256:` and 12 hex digits. */
export function shortZip(sha256: string): string {
  return `sha256:${sha256.slice(0, 12)}`
}
