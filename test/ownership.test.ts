import { describe, expect, it } from 'vitest'
import {
  adoptedNote,
  markerToWrite,
  ownershipRefusal
} from '../src/plan/remote.js'
import { planTask } from '../src/plan/decide.js'
import type { RemoteFunction } from '../src/exh/types.js'
import { encodeMarker, withMarker, type Marker } from '../src/marker.js'
import { MARKER_VARIABLE, type TaskConfig } from '../src/task.js'
import { forLog, markdownCodeCut } from '../src/safe-text.js'

const self = { repository: { id: '42', name: 'org/b' } }

function remoteMarked(marker?: Partial<Marker> | string): RemoteFunction {
  const value =
    typeof marker === 'string'
      ? marker
      : marker &&
        encodeMarker({
          fingerprint: 'f1',
          repository: '',
          scope: 'tasks',
          ...marker
        })
  return withMarker({
    name: 'report',
    environment: value ? { [MARKER_VARIABLE]: value } : {}
  })
}

describe('ownership before any write', () => {
  it.each<[string, RemoteFunction | undefined, string[], boolean]>([
    ['a new function', undefined, [], false],
    ['a function made by hand (no marker)', remoteMarked(), [], false],
    [
      'a function of this repository',
      remoteMarked({ repository: 'org/b', repositoryId: '42' }),
      [],
      false
    ],
    [
      'a function of this repository before its rename',
      remoteMarked({ repository: 'org/old-b', repositoryId: '42' }),
      [],
      false
    ],
    [
      'an id-less (version 1) marker of this repository',
      remoteMarked(
        JSON.stringify({
          v: 1,
          fingerprint: 'f',
          repository: 'org/b',
          scope: 's'
        })
      ),
      [],
      false
    ],
    [
      'a function of another repository',
      remoteMarked({ repository: 'org/a', repositoryId: '7' }),
      [],
      true
    ],
    [
      'an id-less marker of another repository',
      remoteMarked({ repository: 'org/a' }),
      [],
      true
    ],
    [
      'a function of another repository named in adopt',
      remoteMarked({ repository: 'org/a', repositoryId: '7' }),
      ['report'],
      false
    ],
    [
      'a function of another repository matched by an adopt pattern',
      remoteMarked({ repository: 'org/a', repositoryId: '7' }),
      ['rep*'],
      false
    ],
    [
      'a marker of a later version (its owner unknown)',
      remoteMarked(
        JSON.stringify({ v: 3, fingerprint: 'f', repository: 'org/a' })
      ),
      [],
      true
    ],
    ['a damaged marker', remoteMarked('{"v":2,'), [], true],
    [
      'a damaged marker named in adopt',
      remoteMarked('not json'),
      ['report'],
      false
    ],
    [
      'a function of another repository that adopt does not match',
      remoteMarked({ repository: 'org/a', repositoryId: '7' }),
      ['other', 'x*'],
      true
    ]
  ])('%s → refused: %s', (_label, remote, adopt, refused) => {
    const refusal = ownershipRefusal('report', remote, { ...self, adopt })
    expect(refusal !== undefined).toBe(refused)
  })

  it('names the owner and the way out', () => {
    const refusal = ownershipRefusal(
      'report',
      remoteMarked({ repository: 'org/a', repositoryId: '7' }),
      { ...self, adopt: [] }
    )
    expect(refusal).toBe(
      'function report is managed by the repository org/a (id 7), so it is not updated: to move it to this repository, set "adopt: report" in this workflow (and remove its config from org/a); to leave it there, remove this config'
    )
  })

  it('names an owner as the marker holds it: the log and Markdown escape it where they print it', () => {
    const refusal = ownershipRefusal(
      'report',
      remoteMarked({ repository: 'org/a\n::add-mask::done' }),
      { ...self, adopt: [] }
    )
    expect(refusal).toContain('org/a\n::add-mask::done')
    expect(forLog(refusal ?? '')).not.toContain('\n')
  })
})

describe('a hostile marker', () => {
  it('keeps a huge owner name whole: cut only where printed, once redacted', () => {
    // A cut here could split a secret the marker holds, and the redaction
    // would then miss the part left.
    const refusal = ownershipRefusal(
      'report',
      remoteMarked({
        repository: 'x'.repeat(3000),
        repositoryId: 'y'.repeat(500)
      }),
      { ...self, adopt: [] }
    )
    expect(refusal).toContain('x'.repeat(3000))
    expect(markdownCodeCut(refusal ?? '')).toMatch(/… \(\d+ more characters\)/)
  })
})

describe('a version 1 marker of this repository', () => {
  const config: TaskConfig = {
    name: 'report',
    path: 'build',
    entryPoint: 'index.handler',
    runtime: 'nodejs22.x'
  }
  const marker: Marker = {
    fingerprint: 'f1',
    repository: 'org/b',
    repositoryId: '42',
    scope: 'tasks'
  }
  const v1 = JSON.stringify({
    v: 1,
    fingerprint: 'f1',
    repository: 'org/b',
    scope: 'tasks'
  })
  const remote: RemoteFunction = withMarker({
    name: 'report',
    entryPoint: 'index.handler',
    runtime: 'nodejs22.x',
    environment: { MODE: 'a', [MARKER_VARIABLE]: v1 }
  })

  it('does not cause a write by itself', () => {
    expect(planTask({ config, remote, marker, skipUnchanged: true })).toEqual({
      action: 'unchanged',
      changes: []
    })
  })

  it('gets the id on the next write', () => {
    const plan = planTask({
      config: { ...config, environment: { MODE: 'b' } },
      remote,
      marker,
      skipUnchanged: true
    })
    if (plan.action !== 'update') throw new Error('expected an update')
    expect(plan.changes).toEqual(['environment.MODE'])
    const written = plan.body.environmentVariables?.[MARKER_VARIABLE]?.value
    expect(JSON.parse(written ?? '{}')).toMatchObject({
      v: 2,
      repositoryId: '42'
    })
  })
})

describe('the marker a run writes', () => {
  const stored = (marker: Partial<Marker>) =>
    remoteMarked({ fingerprint: 'old', scope: 'tasks', ...marker })

  it.each<
    [string, { id?: string; name: string }, RemoteFunction | undefined, Marker]
  >([
    [
      'a new function',
      { id: '42', name: 'org/b' },
      undefined,
      {
        fingerprint: 'f2',
        repository: 'org/b',
        repositoryId: '42',
        scope: 'tasks'
      }
    ],
    [
      'an adopted function: this repository replaces the owner',
      { id: '42', name: 'org/b' },
      stored({ repository: 'org/a', repositoryId: '7' }),
      {
        fingerprint: 'f2',
        repository: 'org/b',
        repositoryId: '42',
        scope: 'tasks'
      }
    ],
    [
      'a run without the id keeps the id stored on its own function',
      { name: 'org/b' },
      stored({ repository: 'org/b', repositoryId: '42' }),
      {
        fingerprint: 'f2',
        repository: 'org/b',
        repositoryId: '42',
        scope: 'tasks'
      }
    ],
    [
      "a run without the id never takes another repository's id",
      { name: 'org/b' },
      stored({ repository: 'org/a', repositoryId: '7' }),
      { fingerprint: 'f2', repository: 'org/b', scope: 'tasks' }
    ]
  ])('%s', (_label, repository, remote, expected) => {
    expect(markerToWrite('f2', remote, { repository, scope: 'tasks' })).toEqual(
      { ...expected, at: expect.stringMatching(/^\d{4}-.*Z$/) as unknown }
    )
  })
})

describe('what a run that adopts says (SPEC section 13)', () => {
  it.each<[string, RemoteFunction | undefined, string[], string | undefined]>([
    ['a new function', undefined, ['report'], undefined],
    [
      'a function of another repository, adopted',
      remoteMarked({ repository: 'org/a', repositoryId: '7' }),
      ['rep*'],
      'adopted from org/a'
    ],
    [
      'the same, not named by adopt',
      remoteMarked({ repository: 'org/a', repositoryId: '7' }),
      ['other'],
      undefined
    ],
    [
      "this repository's own function",
      remoteMarked({ repository: 'org/b', repositoryId: '42' }),
      ['report'],
      undefined
    ],
    ['no marker', remoteMarked(), ['report'], 'adopted (no owner)'],
    [
      'an unreadable marker',
      remoteMarked('v9;?'),
      ['report'],
      'adopted (no owner)'
    ],
    [
      'a marker without a repository',
      remoteMarked({ repository: '' }),
      ['report'],
      'adopted (no owner)'
    ]
  ])('%s', (_label, remote, adopt, note) => {
    expect(adoptedNote('report', remote, { ...self, adopt })).toBe(note)
  })
})
