import { describe, expect, it } from 'vitest'
import { driftNote, driftOf, type Drift } from '../src/plan/drift.js'
import { encodeMarker, readMarker, type Marker } from '../src/marker.js'
import {
  isRepositoryName,
  listedFunction,
  serverOrigin
} from '../src/report/function-list.js'
import { MARKER_VARIABLE } from '../src/task.js'

const SHA = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
const AT = '2026-12-06T10:00:00Z'
const ownership = { fingerprint: 'f1', repository: 'org/a', scope: 'tasks' }
const raw = (fields: Partial<Marker> = {}): string =>
  encodeMarker({ ...ownership, commit: SHA, run: '77', at: AT, ...fields })
/** `updateTimestamp` this many ms after the marker's write. */
const after = (ms: number): string =>
  new Date(Date.parse(AT) + ms).toISOString()
const MIN = 60_000

describe('drift', () => {
  it.each<[string, string | undefined, string | undefined, Drift]>([
    [
      'written by this pipeline, updated as it wrote',
      raw(),
      after(900),
      'none'
    ],
    [
      'updated before the write landed (clock skew)',
      raw(),
      after(-5 * MIN),
      'none'
    ],
    [
      'updated exactly 10 minutes after (retries, skew)',
      raw(),
      after(10 * MIN),
      'none'
    ],
    [
      'updated 10 minutes and 1 ms after',
      raw(),
      after(10 * MIN + 1),
      'changed outside'
    ],
    ['updated a day after', raw(), after(24 * 60 * MIN), 'changed outside'],
    ['no marker', undefined, after(0), 'unmanaged'],
    ['an empty marker', '', after(0), 'unmanaged'],
    [
      'a marker written before the record existed',
      JSON.stringify({ v: 2, ...ownership, repositoryId: '42' }),
      after(365 * 24 * 60 * MIN),
      'unknown'
    ],
    [
      'a version 1 marker',
      JSON.stringify({ v: 1, ...ownership }),
      after(365 * 24 * 60 * MIN),
      'unknown'
    ],
    [
      'an unreadable marker (a later version, or damaged)',
      '{"v":9}',
      after(0),
      'unknown'
    ],
    [
      'a record with a damaged time',
      raw({ at: 'yesterday' }),
      after(99 * MIN),
      'unknown'
    ],
    [
      'a record dated 10 minutes after the last change (skew)',
      raw(),
      after(-10 * MIN),
      'none'
    ],
    [
      'a record dated 10 minutes and 1 ms after the last change: not written by it',
      raw(),
      after(-10 * MIN - 1),
      'unknown'
    ],
    [
      'a record forged with a time years ahead',
      raw({ at: '2099-01-01T00:00:00Z' }),
      after(0),
      'unknown'
    ],
    ['no updateTimestamp', raw(), undefined, 'unknown'],
    ['an updateTimestamp that is no date', raw(), 'soon', 'unknown']
  ])('%s → %s', (_label, marker, updateTimestamp, drift) => {
    expect(driftOf(marker, updateTimestamp)).toBe(drift)
  })

  it.each<[string, string, string | undefined, string | undefined]>([
    ['drifted', raw(), after(11 * MIN), 'changed outside since a1b2c3d'],
    [
      'drifted, written without a commit',
      raw({ commit: undefined }),
      after(11 * MIN),
      `changed outside since the deploy of ${AT}`
    ],
    ['not drifted', raw(), after(MIN), undefined],
    [
      'a record dated after the last change',
      raw({ at: '2099-01-01T00:00:00Z' }),
      after(0),
      "drift unknown: the record's time is later than the function's last change"
    ],
    [
      'an old marker (upgrade): never drifted',
      JSON.stringify({ v: 2, ...ownership }),
      after(99 * MIN),
      undefined
    ]
  ])("a plan's note: %s", (_label, marker, updateTimestamp, note) => {
    expect(
      driftNote(readMarker({ [MARKER_VARIABLE]: marker }), updateTimestamp)
    ).toBe(note)
  })
})

describe('a listed function', () => {
  const fn = { name: 'fn', description: 'd', updateTimestamp: after(MIN) }
  const server = 'https://github.com'

  it('carries the record of its last deploy and a link to that run', () => {
    expect(listedFunction(fn, raw(), server)).toEqual({
      ...fn,
      repository: 'org/a',
      commit: SHA,
      deployedAt: AT,
      run: 'https://github.com/org/a/actions/runs/77',
      drift: 'none'
    })
  })

  it('has only the repository and drift unknown for a marker written before the record', () => {
    const old = JSON.stringify({ v: 2, ...ownership })
    expect(listedFunction(fn, old, server)).toEqual({
      ...fn,
      repository: 'org/a',
      drift: 'unknown'
    })
  })

  it('says when its last verify failed', () => {
    const flagged = raw({ verify: 'failed', rollback: 'b'.repeat(40) })
    expect(listedFunction(fn, flagged, server)).toMatchObject({
      verify: 'failed',
      drift: 'none'
    })
    expect(listedFunction(fn, raw(), server)).not.toHaveProperty('verify')
  })

  it('is unmanaged without a marker', () => {
    expect(listedFunction(fn, undefined, server)).toEqual({
      ...fn,
      drift: 'unmanaged'
    })
  })

  it.each([
    'org/a/../../evil',
    'https://evil.example/x',
    'org/a?x=1',
    'org/a#x',
    'org /a',
    '-org/a',
    'org/..',
    'org',
    `org/a\n::error::x`
  ])(
    'links no run for the repository %j, kept as the marker holds it (escaped where printed)',
    repository => {
      const listed = listedFunction(fn, raw({ repository }), server)
      expect(listed.run).toBeUndefined()
      expect(listed.repository).toBe(repository)
      expect(isRepositoryName(repository)).toBe(false)
    }
  )

  it.each([
    ['ExtraHorizon/exh-tasks-action', true],
    ['a/b.c_d-e', true],
    [`${'o'.repeat(39)}/n`, true],
    [`${'o'.repeat(40)}/n`, false],
    [`o/${'n'.repeat(101)}`, false]
  ])('%s is a repository name: %s', (name, valid) => {
    expect(isRepositoryName(name)).toBe(valid)
  })

  it.each<[string | undefined, string]>([
    [undefined, 'https://github.com'],
    ['https://ghe.example.com', 'https://ghe.example.com'],
    ['https://ghe.example.com/some/path?x', 'https://ghe.example.com'],
    ['javascript:alert(1)', 'https://github.com'],
    ['not a url', 'https://github.com']
  ])('the server %s links under %s', (value, origin) => {
    expect(serverOrigin(value)).toBe(origin)
  })
})
