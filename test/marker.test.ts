import { describe, expect, it } from 'vitest'
import {
  encodeMarker,
  foreignOwner,
  isOwnMarker,
  markerFor,
  readMarker,
  markerUpToDate,
  type Marker,
  type Repository
} from '../src/plan/marker.js'
import { MARKER_VARIABLE } from '../src/task.js'

const stored = (raw: string) => ({ [MARKER_VARIABLE]: raw })
const v1 = (repository: string) =>
  JSON.stringify({ v: 1, fingerprint: 'f1', repository, scope: 'tasks' })

describe('marker format', () => {
  it('writes version 2 with the repository id and name, the fingerprint and the scope', () => {
    const marker = markerFor({ id: '42', name: 'org/a' }, 'f1', 'tasks')
    expect(JSON.parse(encodeMarker(marker))).toEqual({
      v: 2,
      fingerprint: 'f1',
      repositoryId: '42',
      repository: 'org/a',
      scope: 'tasks'
    })
  })

  it('leaves the id out when the run does not know it', () => {
    const marker = markerFor({ name: 'org/a' }, 'f1', 'tasks')
    expect(JSON.parse(encodeMarker(marker))).not.toHaveProperty('repositoryId')
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
    expect(foreignOwner(environment, self)?.repository).toBe(owner)
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
    ['another id', { repositoryId: '7' }, false]
  ])('%s → no write needed: %s', (_label, fields, same) => {
    expect(markerUpToDate({ ...wanted, ...fields }, wanted)).toBe(same)
  })
})
