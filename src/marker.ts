// The marker this action stores on every function it writes: its format,
// the deployment record, reading every earlier version, and ownership. Read
// by the API edge (exh/) and inputs, written by the plan.

import { MARKER_VARIABLE } from './task.js'

/**
 * What this action stores on every function it writes, in the reserved
 * MARKER_VARIABLE: the code fingerprint (how `code` is compared next time),
 * the repository that owns the function (who may update, prune or delete
 * it), the prune scope, and the deployment record (which commit, ref and
 * run wrote it, and when).
 *
 * Format (JSON), version 2:
 *   {"v":2,"fingerprint":"<hex>","repositoryId":"<GITHUB_REPOSITORY_ID>",
 *    "repository":"<owner/name>","scope":"<prune scope>",
 *    "commit":"<GITHUB_SHA>","ref":"<GITHUB_REF, ≤100>","run":"<GITHUB_RUN_ID>",
 *    "attempt":"<GITHUB_RUN_ATTEMPT>","at":"<time of the write, ISO, seconds>",
 *    "zip":"<sha256 of the zip the function runs>",
 *    "substituted":["description"],"verify":"failed","rollback":"<sha>"}
 * `repositoryId` and the record's fields are absent when the run did not
 * know them; `zip` too, until a write of this action uploads the code (a
 * write that uploads no code keeps the earlier marker's). The record was added to version 2 without a new version: every
 * release reads a version 2 marker and ignores fields it does not know, so
 * a rollback keeps ownership and prune. Version 1 (before the id was
 * recorded) is the same without `repositoryId`.
 */
export interface Marker extends DeploymentRecord {
  fingerprint: string
  /** The repository's name (`owner/name`) when the marker was written. */
  repository: string
  /** The repository's stable id: it survives a rename or a transfer. */
  repositoryId?: string
  scope: string
  /** When the function was written (ISO 8601, whole seconds). */
  at?: string
  /** sha256 (hex) of the zip the function runs: the bytes the API received. */
  zip?: string
  /**
   * The configured fields whose value came from `$VAR` (names only): a
   * plan never shows such a field's read-back value as its before.
   */
  substituted?: string[]
  /**
   * `failed`: the last verify of this function failed, and it stays
   * flagged until a verify passes (a re-run must not turn green);
   * `pending`: written with a verify to follow that has not ended (a
   * cancel or a killed runner), counted as failed.
   */
  verify?: VerifyFlag
  /** With a `verify` flag: the commit of the deploy before, to redeploy. */
  rollback?: string
}

/** A verify that failed, or one that has not ended since its write. */
export type VerifyFlag = 'failed' | 'pending'

/**
 * Bytes a verify flag can add to an encoded marker
 * (`,"verify":"pending","rollback":"<sha256>"`), so a size check can count
 * them before any write.
 */
export const VERIFY_FLAG_BYTES =
  JSON.stringify({ verify: 'pending', rollback: '0'.repeat(64) }).length - 1

/** Where a write came from: the runner's `GITHUB_*` values. */
export interface DeploymentRecord {
  /** `GITHUB_SHA`: hex. */
  commit?: string
  /** `GITHUB_REF`, cut to `MAX_REF` characters. */
  ref?: string
  /** `GITHUB_RUN_ID`: digits. */
  run?: string
  /** `GITHUB_RUN_ATTEMPT`: digits. */
  attempt?: string
}

/** This run's record, from the runner's variables (ill-formed ones are left out when written). */
export function recordFromEnv(
  env: Readonly<Record<string, string | undefined>>
): DeploymentRecord {
  const value = (name: string): string | undefined =>
    env[name]?.trim() || undefined
  return {
    commit: value('GITHUB_SHA')?.toLowerCase(),
    ref: value('GITHUB_REF'),
    run: value('GITHUB_RUN_ID'),
    attempt: value('GITHUB_RUN_ATTEMPT')
  }
}

/** This run's repository: `GITHUB_REPOSITORY_ID` and `GITHUB_REPOSITORY`. */
export interface Repository {
  id?: string
  name: string
}

const VERSION = 2
const READABLE_VERSIONS: readonly unknown[] = [1, 2]
/** The environment holds 4,096 bytes in all: a long branch name is cut. */
export const MAX_REF = 100

/**
 * What each record field must look like to be kept. A marker is an API
 * answer (anyone who may update the function may write anything in it), so
 * a field that does not fit is dropped when read, never printed or linked.
 */
const RECORD_FIELDS = {
  commit: /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/,
  ref: new RegExp(`^[^\\x00-\\x1f\\x7f]{1,${MAX_REF}}$`),
  run: /^[0-9]{1,20}$/,
  attempt: /^[0-9]{1,6}$/,
  at: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,3})?Z$/,
  verify: /^(?:failed|pending)$/,
  rollback: /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/,
  zip: /^[0-9a-f]{64}$/
} as const
type RecordField = keyof typeof RECORD_FIELDS

export function encodeMarker(marker: Marker): string {
  return JSON.stringify({
    v: VERSION,
    fingerprint: marker.fingerprint,
    ...(marker.repositoryId ? { repositoryId: marker.repositoryId } : {}),
    repository: marker.repository,
    scope: marker.scope,
    ...recordFields(marker),
    ...(marker.substituted?.length ? { substituted: marker.substituted } : {})
  })
}

/** The record's fields that are set and well formed, in their fixed order. */
function recordFields(
  source: Partial<Record<RecordField, unknown>>
): Partial<Pick<Marker, RecordField>> {
  const fields: Partial<Record<RecordField, string>> = {}
  for (const key of Object.keys(RECORD_FIELDS) as RecordField[]) {
    const value = source[key]
    if (typeof value !== 'string' || !RECORD_FIELDS[key].test(value)) continue
    if (key === 'at' && Number.isNaN(Date.parse(value))) continue
    fields[key] = value
  }
  // `verify` passed its pattern: it is a VerifyFlag.
  return fields as Partial<Pick<Marker, RecordField>>
}

/** A time as the marker stores it: ISO 8601 in whole seconds (compact). */
export function markerTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

/**
 * The marker to write for a function of `repository`, stamped `now` (the
 * write restamps it: `restampMarker`).
 */
export function markerFor(
  repository: Repository,
  fingerprint: string,
  scope: string,
  record: DeploymentRecord & Pick<Marker, 'zip'> = {},
  now: Date = new Date(),
  substituted: readonly string[] = []
): Marker {
  return {
    fingerprint,
    repository: repository.name,
    ...(repository.id ? { repositoryId: repository.id } : {}),
    scope,
    ...recordFields({
      ...record,
      ref: record.ref?.slice(0, MAX_REF),
      at: markerTime(now)
    }),
    ...(substituted.length ? { substituted: [...substituted] } : {})
  }
}

/**
 * The marker of a function whose verify failed: flagged, so the next run
 * executes it again, and naming the commit to redeploy (`rollback`: the
 * deploy before the one that failed, kept when it fails again).
 */
export function flaggedMarker(
  marker: Marker,
  rollback: string | undefined,
  now: Date,
  flag: VerifyFlag = 'failed'
): Marker {
  const rest = { ...marker }
  delete rest.rollback
  return {
    ...rest,
    verify: flag,
    ...(rollback ? { rollback } : {}),
    at: markerTime(now)
  }
}

/** The marker after a verify passed: no flag, no commit to redeploy. */
export function clearedMarker(marker: Marker, now: Date): Marker {
  const fresh = { ...marker, at: markerTime(now) }
  delete fresh.verify
  delete fresh.rollback
  return fresh
}

/** The commit to redeploy when a verify fails: the deploy before this one. */
export function rollbackCommit(marker: Marker | undefined): string | undefined {
  if (!marker) return undefined
  return marker.verify ? marker.rollback : marker.commit
}

/**
 * An encoded marker with its time set to `now`: the time of the write,
 * not of the plan (packaging and other tasks' uploads come in between).
 * Same length, so the environment-size check made on the plan holds.
 */
export function restampMarker(raw: string, now: Date): string {
  const marker = readMarker({ [MARKER_VARIABLE]: raw })
  return marker ? encodeMarker({ ...marker, at: markerTime(now) }) : raw
}

/**
 * An encoded marker that records `zip` as the code it goes with: set by
 * the package stage once the zip to upload is written, before the
 * environment-size check.
 */
export function withZipDigest(raw: string, zip: string): string {
  const marker = readMarker({ [MARKER_VARIABLE]: raw })
  return marker ? encodeMarker({ ...marker, zip }) : raw
}

/** What withMarker adds to a function as read (exh/types' RemoteFunction). */
interface Marked {
  environment: Record<string, string>
  marker: Marker | undefined
}

/** A function as read, with its marker parsed once for every stage after. */
export function withMarker<T extends object>(
  fn: T & { environment: Record<string, string> }
): Omit<T, 'environment' | 'marker'> & Marked {
  return { ...fn, marker: readMarker(fn.environment) }
}

/**
 * The marker in a function's environment (any version this action ever
 * wrote), or undefined when absent or unreadable. The record's fields are
 * kept only when well formed; a marker written before the record existed
 * has none.
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
  const fields = parsed as Record<string, unknown>
  const { v, fingerprint, repository, repositoryId, scope } = fields
  if (
    !READABLE_VERSIONS.includes(v) ||
    typeof fingerprint !== 'string' ||
    typeof repository !== 'string' ||
    typeof scope !== 'string'
  ) {
    return undefined
  }
  const id = v === 1 || typeof repositoryId !== 'string' ? '' : repositoryId
  return {
    fingerprint,
    repository,
    ...(id ? { repositoryId: id } : {}),
    scope,
    ...(v === 1 ? {} : recordFields(fields)),
    ...(v === 1 ? {} : substitutedFields(fields.substituted))
  }
}

/** A configured field's name, as `result.changes` names it. */
const FIELD_NAME = /^[A-Za-z][A-Za-z.]{0,63}$/

/** `substituted` when it is a short list of field names; dropped otherwise. */
function substitutedFields(value: unknown): Pick<Marker, 'substituted'> {
  if (!Array.isArray(value) || value.length > 32) return {}
  const names = value.filter(
    (name): name is string => typeof name === 'string' && FIELD_NAME.test(name)
  )
  return names.length ? { substituted: names } : {}
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
  marker: Marker | undefined,
  repository: Repository
): Marker | undefined {
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
