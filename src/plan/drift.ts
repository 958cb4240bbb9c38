// Drift: a function changed since its last deploy (command list, a dry
// run's note).

import { shortCommit } from '../helpers.js'
import { MARKER_VARIABLE } from '../task.js'
import { readMarker, type Marker } from '../marker.js'

/**
 * Whether a function still is what this action last wrote: `none`;
 * `changed outside` (updated after the marker's write by more than the
 * tolerance); `unmanaged` (no marker: never deployed by this action, or
 * another tool rewrote its variables); `unknown` (a marker written before
 * the record existed, one this version cannot read, or no time to compare).
 */
export type Drift = 'none' | 'changed outside' | 'unmanaged' | 'unknown'

/**
 * The API stamps `updateTimestamp` when the write lands: retries, back-offs
 * (`Retry-After` up to 60 s each) and clock skew between the runner and
 * the API all fit well inside ten minutes.
 */
const DRIFT_TOLERANCE_MS = 10 * 60 * 1000

/**
 * The drift of a function from its raw marker value and `updateTimestamp`
 * (the marker parsed here unless the caller has it).
 */
export function driftOf(
  rawMarker: string | undefined,
  updateTimestamp: string | undefined,
  marker = rawMarker ? readMarker({ [MARKER_VARIABLE]: rawMarker }) : undefined
): Drift {
  if (!rawMarker) return 'unmanaged'
  return marker ? markerDrift(marker, updateTimestamp) : 'unknown'
}

/** The drift of a function whose marker was read. */
export function markerDrift(
  marker: Marker,
  updateTimestamp: string | undefined
): Drift {
  const written = marker.at ? Date.parse(marker.at) : NaN
  const updated = updateTimestamp ? Date.parse(updateTimestamp) : NaN
  if (Number.isNaN(written) || Number.isNaN(updated)) return 'unknown'
  // A record dated after the function's last change was not written by
  // that change: anyone who may update the function can write one, and a
  // time in the future would otherwise say `none` forever.
  if (isFutureRecord(marker.at, updateTimestamp)) return 'unknown'
  return updated - written > DRIFT_TOLERANCE_MS ? 'changed outside' : 'none'
}

/** Why a record's drift is `unknown` although it has a time. */
export const FUTURE_RECORD_NOTE =
  "the record's time is later than the function's last change"

/** Whether the record's time lies after the function's last change, beyond the tolerance. */
export function isFutureRecord(
  at: string | undefined,
  updateTimestamp: string | undefined
): boolean {
  const written = at ? Date.parse(at) : NaN
  const updated = updateTimestamp ? Date.parse(updateTimestamp) : NaN
  return written - updated > DRIFT_TOLERANCE_MS
}

/**
 * `changed outside since <short sha>` for a function changed after its
 * last deploy, for a plan's task; undefined otherwise. Only well-formed
 * record fields reach here (readMarker drops the rest).
 */
export function driftNote(
  marker: Marker | undefined,
  updateTimestamp: string | undefined
): string | undefined {
  if (marker && isFutureRecord(marker.at, updateTimestamp)) {
    return `drift unknown: ${FUTURE_RECORD_NOTE}`
  }
  if (!marker || markerDrift(marker, updateTimestamp) !== 'changed outside') {
    return undefined
  }
  const since = marker.commit
    ? shortCommit(marker.commit)
    : `the deploy of ${marker.at ?? '?'}`
  return `changed outside since ${since}`
}
