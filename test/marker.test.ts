import { describe, expect, it } from 'vitest'
import {
  encodeMarker,
  flaggedMarker,
  foreignOwner,
  isOwnMarker,
  markerFor,
  readMarker,
  markerUpToDate,
  recordFromEnv,
  restampMarker,
  rollbackCommit,
  withZipDigest,
  type Marker,
  type Repository
} from '../src/marker.js'
import { MARKER_VARIABLE } from '../src/task.js'
import { environmentBytes } from '../src/package/zip.js'
import { previousReadMarker } from './support/previous-marker-reader.js'

const stored = (raw: string) => ({ [MARKER_VARIABLE]: raw })
const v1 = (repository: string) =>
  JSON.stringify({ v: 1, fingerprint: 'f1', repository, scope: 'tasks' })

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const NOW = new Date('2026-12-06T19:20:31.456Z')
const ENV = {
  GITHUB_SHA: SHA,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_RUN_ID: '16000000001',
  GITHUB_RUN_ATTEMPT: '2'
}

describe('marker format', () => {
  it('writes version 2 with the repository, fingerprint, scope and the deployment record', () => {
    const marker = markerFor(
      { id: '42', name: 'org/a' },
      'f1',
      'tasks',
      recordFromEnv(ENV),
      NOW
    )
    expect(JSON.parse(encodeMarker(marker))).toEqual({
      v: 2,
      fingerprint: 'f1',
      repositoryId: '42',
      repository: 'org/a',
      scope: 'tasks',
      commit: SHA,
      ref: 'refs/heads/main',
      run: '16000000001',
      attempt: '2',
      at: '2026-12-06T19:20:31Z'
    })
  })

  it('leaves out what the run does not know', () => {
    const marker = markerFor({ name: 'org/a' }, 'f1', 'tasks', {}, NOW)
    expect(JSON.parse(encodeMarker(marker))).toEqual({
      v: 2,
      fingerprint: 'f1',
      repository: 'org/a',
      scope: 'tasks',
      at: '2026-12-06T19:20:31Z'
    })
  })

  it('reads back what it wrote (round trip)', () => {
    const marker = markerFor(
      { id: '42', name: 'org/a' },
      'f1',
      'tasks',
      recordFromEnv(ENV),
      NOW
    )
    expect(readMarker(stored(encodeMarker(marker)))).toEqual(marker)
  })

  it('cuts the ref to 100 characters and stays compact', () => {
    const ref = `refs/heads/${'x'.repeat(300)}`
    const marker = markerFor(
      { id: '123456789', name: `${'o'.repeat(39)}/${'n'.repeat(100)}` },
      'f'.repeat(64),
      'a/long/prune/scope',
      recordFromEnv({ ...ENV, GITHUB_REF: ref }),
      NOW
    )
    expect(marker.ref).toBe(ref.slice(0, 100))
    // The longest realistic marker, key included, in the 4,096-byte budget.
    const bytes = environmentBytes({ [MARKER_VARIABLE]: encodeMarker(marker) })
    expect(bytes).toBeLessThan(600)
  })

  it('restamps the time of the write, same length', () => {
    const raw = encodeMarker(
      markerFor({ name: 'org/a' }, 'f1', 'tasks', recordFromEnv(ENV), NOW)
    )
    const later = restampMarker(raw, new Date('2026-12-07T08:00:00.999Z'))
    expect(readMarker(stored(later))?.at).toBe('2026-12-07T08:00:00Z')
    expect(later.length).toBe(raw.length)
    expect(restampMarker('not json', NOW)).toBe('not json')
  })

  // A marker as this version writes it, pinned: if this string changes,
  // releases already out there may no longer read what is deployed.
  const PINNED =
    '{"v":2,"fingerprint":"f1","repositoryId":"42","repository":"org/a","scope":"tasks","commit":"a1b2c3d4e5f60718293a4b5c6d7e8f9012345678","ref":"refs/heads/main","run":"16000000001","attempt":"2","at":"2026-12-06T19:20:31Z"}'

  it('writes the pinned format', () => {
    expect(
      encodeMarker(
        markerFor(
          { id: '42', name: 'org/a' },
          'f1',
          'tasks',
          recordFromEnv(ENV),
          NOW
        )
      )
    ).toBe(PINNED)
  })

  it("is read by the previous release's reader: same owner, fingerprint and scope", () => {
    const ownership = {
      fingerprint: 'f1',
      repository: 'org/a',
      repositoryId: '42',
      scope: 'tasks'
    }
    expect(previousReadMarker(stored(PINNED))).toEqual(ownership)
    expect(readMarker(stored(PINNED))).toMatchObject(ownership)
  })

  it.each<[string, Record<string, unknown>]>([
    ['a commit that is not hex', { commit: 'main; rm -rf /' }],
    ['a short commit', { commit: 'a1b2c3d' }],
    ['a run id that is not digits', { run: '1/../../evil' }],
    ['a time that is not ISO', { at: 'yesterday' }],
    ['a time that is no date', { at: '2026-13-45T99:99:99Z' }],
    ['a ref with a newline', { ref: 'refs/heads/a\nb' }],
    ['a ref over 100 characters', { ref: 'r'.repeat(101) }],
    ['a field of another type', { attempt: 2 }],
    ['a zip digest that is not sha256 hex', { zip: 'A'.repeat(64) }],
    ['a short zip digest', { zip: 'a'.repeat(63) }],
    ['a zip digest of another type', { zip: 1 }]
  ])('drops %s, and keeps the marker', (_label, field) => {
    const raw = JSON.stringify({ ...JSON.parse(PINNED), ...field })
    const marker = readMarker(stored(raw))
    expect(marker?.repository).toBe('org/a')
    expect(marker).not.toHaveProperty(Object.keys(field)[0] as string)
  })

  it('reads and writes the zip digest, and a digest added to a marker keeps the rest', () => {
    const zip = 'c'.repeat(64)
    const raw = JSON.stringify({ ...JSON.parse(PINNED), zip })
    const read = readMarker(stored(raw))
    expect(read?.zip).toBe(zip)
    if (!read) return
    expect(readMarker(stored(encodeMarker(read)))?.zip).toBe(zip)
    const added = withZipDigest(PINNED, zip)
    expect(readMarker(stored(added))).toEqual({
      ...readMarker(stored(PINNED)),
      zip
    })
    // The previous release reads it: ownership unchanged.
    expect(previousReadMarker(stored(added))).toEqual(
      previousReadMarker(stored(PINNED))
    )
    // Version 1 never had it.
    expect(
      readMarker(stored(JSON.stringify({ ...JSON.parse(v1('org/a')), zip })))
    ).not.toHaveProperty('zip')
  })

  it('reads a version 2 marker written before the record existed: no record', () => {
    const before = JSON.stringify({
      v: 2,
      fingerprint: 'f1',
      repositoryId: '42',
      repository: 'org/a',
      scope: 'tasks'
    })
    expect(readMarker(stored(before))).toEqual({
      fingerprint: 'f1',
      repository: 'org/a',
      repositoryId: '42',
      scope: 'tasks'
    })
  })

  it.each<[string, string, Marker | undefined]>([
    [
      'version 2',
      encodeMarker({
        fingerprint: 'f1',
        repository: 'org/a',
        repositoryId: '42',
        scope: 'tasks'
      }),
      {
        fingerprint: 'f1',
        repository: 'org/a',
        repositoryId: '42',
        scope: 'tasks'
      }
    ],
    [
      'version 1 (no id)',
      v1('org/a'),
      { fingerprint: 'f1', repository: 'org/a', scope: 'tasks' }
    ],
    [
      'version 1 with a stray id (ignored)',
      JSON.stringify({ ...JSON.parse(v1('org/a')), repositoryId: '9' }),
      { fingerprint: 'f1', repository: 'org/a', scope: 'tasks' }
    ],
    [
      'an unknown version',
      JSON.stringify({ ...JSON.parse(v1('x')), v: 9 }),
      undefined
    ],
    ['not JSON', 'not json', undefined],
    ['JSON null', 'null', undefined],
    [
      'a field of the wrong type',
      JSON.stringify({ v: 2, fingerprint: 1 }),
      undefined
    ]
  ])('reads %s', (_label, raw, expected) => {
    expect(readMarker(stored(raw))).toEqual(expected)
  })

  it('reads nothing from a function without the marker', () => {
    expect(readMarker({ OTHER: 'x' })).toBeUndefined()
  })
})

describe('whose function a marker says it is', () => {
  const self: Repository = { id: '42', name: 'org/a' }
  const marker = (fields: Partial<Marker>): Marker => ({
    fingerprint: 'f1',
    repository: 'org/a',
    repositoryId: '42',
    scope: 'tasks',
    ...fields
  })

  it.each<[string, Marker, Repository, boolean]>([
    ['same id and name', marker({}), self, true],
    [
      'renamed repository: same id, new name',
      marker({}),
      { id: '42', name: 'org/renamed' },
      true
    ],
    [
      'transferred repository: same id, new owner',
      marker({}),
      { id: '42', name: 'new-owner/a' },
      true
    ],
    [
      "a new repository under a transferred one's old name: other id, same name",
      marker({}),
      { id: '77', name: 'org/a' },
      false
    ],
    [
      'another repository',
      marker({ repositoryId: '7', repository: 'org/b' }),
      self,
      false
    ],
    [
      'an id-less marker with this name',
      marker({ repositoryId: undefined }),
      self,
      true
    ],
    [
      'an id-less marker with another name',
      marker({ repositoryId: undefined, repository: 'org/b' }),
      self,
      false
    ],
    ['a run without the id: by name', marker({}), { name: 'org/a' }, true],
    ['a run without the id, another name', marker({}), { name: 'org/b' }, false]
  ])('%s → ours: %s', (_label, stored, repository, ours) => {
    expect(isOwnMarker(stored, repository)).toBe(ours)
  })

  it.each<[string, Record<string, string>, string | undefined]>([
    ['no marker (made by hand or by the CLI)', {}, undefined],
    ['an unreadable marker', stored('garbage'), undefined],
    ['a version 1 marker of this repository', stored(v1('org/a')), undefined],
    ['a version 1 marker of another repository', stored(v1('org/b')), 'org/b']
  ])('the foreign owner of %s', (_label, environment, owner) => {
    expect(foreignOwner(readMarker(environment), self)?.repository).toBe(owner)
  })
})

describe('a stored marker up to date enough to cause no write', () => {
  const wanted: Marker = {
    fingerprint: 'f1',
    repository: 'org/a',
    repositoryId: '42',
    scope: 'tasks'
  }
  it.each<[string, Partial<Marker>, boolean]>([
    ['the same marker', {}, true],
    ['a version 1 marker, same content', { repositoryId: undefined }, true],
    ['another fingerprint', { fingerprint: 'f2' }, false],
    ['another scope', { scope: 'other' }, false],
    [
      'an old name of the same repository (renamed)',
      { repository: 'org/old' },
      true
    ],
    [
      'an id-less marker of another name',
      { repository: 'org/old', repositoryId: undefined },
      false
    ],
    ['another id', { repositoryId: '7' }, false],
    [
      'another commit, run and time (the record alone causes no write)',
      { commit: SHA, run: '9', attempt: '1', at: '2020-01-01T00:00:00Z' },
      true
    ]
  ])('%s → no write needed: %s', (_label, fields, same) => {
    expect(markerUpToDate({ ...wanted, ...fields }, wanted)).toBe(same)
  })
})

describe('the verify flag and the substituted fields', () => {
  const base = markerFor(
    { name: 'org/a' },
    'f1',
    'tasks',
    recordFromEnv(ENV),
    NOW
  )
  const OTHER = 'b'.repeat(40)

  it('reads back the flag, the commit to redeploy and the substituted fields', () => {
    const flagged = flaggedMarker(
      { ...base, substituted: ['description', 'timeLimit'] },
      OTHER,
      NOW
    )
    const read = readMarker(stored(encodeMarker(flagged)))
    expect(read).toMatchObject({
      verify: 'failed',
      rollback: OTHER,
      commit: SHA,
      substituted: ['description', 'timeLimit']
    })
    // The previous release's reader still reads the owner and fingerprint.
    expect(previousReadMarker(stored(encodeMarker(flagged)))).toMatchObject({
      repository: 'org/a',
      fingerprint: 'f1'
    })
  })

  it.each<[string, Record<string, unknown>, Partial<Marker>]>([
    ['a flag other than failed', { verify: 'passed' }, {}],
    [
      'a rollback that is no commit',
      { verify: 'failed', rollback: 'HEAD~1' },
      { verify: 'failed' }
    ],
    ['substituted that is no list', { substituted: 'description' }, {}],
    [
      'substituted entries that are no field names',
      { substituted: ['description', '<img src=x>', 3] },
      { substituted: ['description'] }
    ],
    ['too many substituted entries', { substituted: Array(33).fill('a') }, {}]
  ])('drops what does not fit: %s', (_label, fields, kept) => {
    const raw = JSON.stringify({ ...JSON.parse(encodeMarker(base)), ...fields })
    const read = readMarker(stored(raw))
    expect(read?.verify).toBe(kept.verify)
    expect(read?.rollback).toBe(kept.rollback)
    expect(read?.substituted).toEqual(kept.substituted)
  })

  it.each<[string, Marker | undefined, string | undefined]>([
    ['no marker', undefined, undefined],
    ['a deploy that passed: its own commit', base, SHA],
    [
      'a flagged deploy: the commit before it',
      { ...base, verify: 'failed', rollback: OTHER },
      OTHER
    ],
    ['a flagged first deploy: none', { ...base, verify: 'failed' }, undefined]
  ])('the commit to redeploy: %s', (_label, marker, commit) => {
    expect(rollbackCommit(marker)).toBe(commit)
  })

  it('a flag written again replaces the commit to redeploy, and keeps none when there is none', () => {
    const once = flaggedMarker(base, OTHER, NOW)
    expect(flaggedMarker(once, undefined, NOW).rollback).toBeUndefined()
  })
})
