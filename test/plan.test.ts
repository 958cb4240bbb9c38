import { describe, expect, it } from 'vitest'
import {
  describeChanges,
  planTask,
  type PlanInput
} from '../src/plan/decide.js'
import type { RemoteFunction } from '../src/exh/types.js'
import { encodeMarker, readMarker, withMarker } from '../src/marker.js'
import { MARKER_VARIABLE, type TaskConfig } from '../src/task.js'

const marker = { fingerprint: 'f1', repository: 'org/repo', scope: 'tasks' }
const config: TaskConfig = {
  name: 'fn',
  path: 'build',
  entryPoint: 'index.handler',
  runtime: 'nodejs22.x'
}

/** A remote function that matches `config` exactly, marker included. */
function remoteOf(
  fields: Partial<RemoteFunction> = {},
  environment: Record<string, string> = {}
): RemoteFunction {
  return withMarker({
    name: 'fn',
    description: 'none',
    entryPoint: 'index.handler',
    runtime: 'nodejs22.x',
    timeLimit: 30,
    memoryLimit: 128,
    executionOptions: { permissionMode: 'permissionRequired' },
    retryPolicy: { enabled: false, errorsToRetry: [] },
    ...fields,
    environment: { ...environment, [MARKER_VARIABLE]: encodeMarker(marker) }
  })
}

function plan(input: Partial<PlanInput>) {
  return planTask({
    config,
    marker,
    skipUnchanged: true,
    ...input
  })
}

describe('planTask', () => {
  it('creates a missing function with the CLI default description and the marker', () => {
    const result = plan({ remote: undefined })
    expect(result).toMatchObject({ action: 'create', uploadCode: true })
    if (result.action !== 'create') throw new Error('expected create')
    expect(result.body.description).toBe('none')
    expect(result.body.name).toBe('fn')
    expect(result.body.executionOptions).toBeUndefined()
    expect(
      readMarker({
        [MARKER_VARIABLE]:
          result.body.environmentVariables?.[MARKER_VARIABLE]?.value ?? ''
      })
    ).toEqual(marker)
  })

  it('sends only the configured execution options on create (0 is a value)', () => {
    const result = plan({ config: { ...config, defaultPriority: 0 } })
    if (result.action !== 'create') throw new Error('expected create')
    expect(result.body.executionOptions).toEqual({ defaultPriority: 0 })
  })

  it('leaves a matching function unchanged', () => {
    expect(plan({ remote: remoteOf() })).toEqual({
      action: 'unchanged',
      changes: []
    })
  })

  it.each<[string, Partial<TaskConfig>, Partial<RemoteFunction>, string[]]>([
    [
      'description',
      { description: 'new' },
      { description: 'old' },
      ['description']
    ],
    ['description equal', { description: 'same' }, { description: 'same' }, []],
    ['entryPoint', { entryPoint: 'main.run' }, {}, ['entryPoint']],
    ['runtime', { runtime: 'nodejs24.x' }, {}, ['runtime']],
    ['runtime equal', { runtime: 'nodejs22.x' }, {}, []],
    ['timeLimit', { timeLimit: 60 }, { timeLimit: 30 }, ['timeLimit']],
    ['timeLimit equal', { timeLimit: 30 }, { timeLimit: 30 }, []],
    ['memoryLimit', { memoryLimit: 256 }, {}, ['memoryLimit']],
    [
      'executionPermission',
      { executionPermission: 'public' },
      {},
      ['executionPermission']
    ],
    ['defaultPriority', { defaultPriority: 3 }, {}, ['defaultPriority']],
    [
      'defaultPriority 0 against unset',
      { defaultPriority: 0 },
      {},
      ['defaultPriority']
    ],
    [
      'retryPolicy enabled',
      { retryPolicy: { enabled: true } },
      {},
      ['retryPolicy']
    ],
    [
      'retryPolicy list order ignored',
      { retryPolicy: { enabled: true, errorsToRetry: ['B', 'A'] } },
      { retryPolicy: { enabled: true, errorsToRetry: ['A', 'B'] } },
      []
    ],
    [
      'retryPolicy absent list equals empty list',
      { retryPolicy: { enabled: false } },
      {},
      []
    ],
    [
      'unset fields are not compared',
      {},
      { timeLimit: 99, memoryLimit: 999 },
      []
    ]
  ])('%s', (_label, configFields, remoteFields, changes) => {
    const result = plan({
      config: { ...config, ...configFields },
      remote: remoteOf(remoteFields)
    })
    if (changes.length === 0) {
      expect(result.action).toBe('unchanged')
      return
    }
    expect(result).toMatchObject({
      action: 'update',
      changes,
      uploadCode: false
    })
    if (result.action !== 'update') throw new Error('expected update')
    // Every write carries a fresh marker: the whole environment goes too.
    expect(Object.keys(result.body.environmentVariables ?? {})).toEqual([
      MARKER_VARIABLE
    ])
  })

  it('never reports the description default as a change', () => {
    expect(
      plan({ remote: remoteOf({ description: 'set by hand' }) }).action
    ).toBe('unchanged')
  })

  it('merges execution options over the remote object', () => {
    const result = plan({
      config: { ...config, defaultPriority: 7 },
      remote: remoteOf({ executionOptions: { permissionMode: 'allUsers' } })
    })
    if (result.action !== 'update') throw new Error('expected update')
    expect(result.body.executionOptions).toEqual({
      permissionMode: 'allUsers',
      defaultPriority: 7
    })
  })

  it.each<[string, Record<string, string>, Record<string, string>, string[]]>([
    ['added', { A: '1', B: '2' }, { A: '1' }, ['environment.B']],
    ['removed', { A: '1' }, { A: '1', B: '2' }, ['environment.B']],
    ['changed', { A: '1', B: 'x' }, { A: '1', B: 'y' }, ['environment.B']],
    [
      'several, sorted',
      { Z: '1', A: '2' },
      {},
      ['environment.A', 'environment.Z']
    ]
  ])('environment %s', (_label, wanted, remote, changes) => {
    const result = plan({
      config: { ...config, environment: wanted },
      remote: remoteOf({}, remote)
    })
    if (result.action !== 'update') throw new Error('expected update')
    expect(result.changes).toEqual(changes)
    const sent = result.body.environmentVariables ?? {}
    expect(Object.keys(sent).sort()).toEqual(
      [...Object.keys(wanted), MARKER_VARIABLE].sort()
    )
    expect(JSON.stringify(result.changes)).not.toContain('"1"')
  })

  it('keeps remote variables when the config has no environment', () => {
    const result = plan({
      marker: { ...marker, fingerprint: 'f2' },
      remote: remoteOf({}, { SET_BY_HAND: 'keep-me' })
    })
    if (result.action !== 'update') throw new Error('expected update')
    expect(result.changes).toEqual(['code'])
    expect(result.uploadCode).toBe(true)
    expect(result.body.environmentVariables?.SET_BY_HAND).toEqual({
      value: 'keep-me'
    })
  })

  it('uploads code once for a function without the marker (last synced by the CLI)', () => {
    const remote = withMarker({ ...remoteOf(), environment: {} })
    const result = plan({ remote })
    expect(result).toMatchObject({
      action: 'update',
      changes: ['code'],
      uploadCode: true
    })
  })

  it('rewrites the marker without reporting a change when only the scope moved', () => {
    const result = plan({
      remote: remoteOf(),
      marker: { ...marker, scope: 'elsewhere' }
    })
    expect(result).toMatchObject({
      action: 'update',
      changes: [],
      uploadCode: false
    })
  })

  it('with skip-unchanged false uploads an unchanged task as update with no changes', () => {
    const result = plan({ remote: remoteOf(), skipUnchanged: false })
    expect(result).toMatchObject({
      action: 'update',
      changes: [],
      uploadCode: true
    })
    if (result.action !== 'update') throw new Error('expected update')
    expect(result.body.entryPoint).toBe('index.handler')
    expect(result.body.environmentVariables?.[MARKER_VARIABLE]).toBeDefined()
  })
})

describe('describeChanges', () => {
  const changed: TaskConfig = {
    ...config,
    description: 'new words',
    timeLimit: 60,
    memoryLimit: 256,
    runtime: 'nodejs24.x',
    entryPoint: 'main.handler',
    executionPermission: 'allUsers',
    defaultPriority: 5,
    retryPolicy: { enabled: true, errorsToRetry: ['X'] },
    environment: { KEPT: 'new-value', ADDED: 'v' }
  }
  const remote = remoteOf(
    { description: 'old words' },
    { KEPT: 'old-value', GONE: 'secret-value' }
  )

  it.each([
    ['timeLimit', { before: '30', after: '60' }],
    ['memoryLimit', { before: '128', after: '256' }],
    ['runtime', { before: 'nodejs22.x', after: 'nodejs24.x' }],
    ['entryPoint', { before: 'index.handler', after: 'main.handler' }],
    ['description', { before: 'old words', after: 'new words' }],
    [
      'executionPermission',
      { before: 'permissionRequired', after: 'allUsers' }
    ],
    ['defaultPriority', { before: '(unset)', after: '5' }],
    [
      'retryPolicy',
      {
        before: '{"enabled":false,"errorsToRetry":[]}',
        after: '{"enabled":true,"errorsToRetry":["X"]}'
      }
    ],
    ['environment.ADDED', { note: 'added' }],
    ['environment.KEPT', { note: 'changed' }],
    ['environment.GONE', { note: 'removed' }]
  ])('shows %s before and after', (field, expected) => {
    const [detail] = describeChanges(changed, remote, [field], {
      fingerprint: 'f2'
    })
    expect(detail).toEqual({ field, ...expected })
  })

  it('never shows an environment value', () => {
    const details = describeChanges(
      changed,
      remote,
      ['environment.ADDED', 'environment.KEPT', 'environment.GONE'],
      { fingerprint: 'f2' }
    )
    const text = JSON.stringify(details)
    for (const value of ['new-value', 'old-value', 'secret-value', '"v"']) {
      expect(text).not.toContain(value)
    }
  })

  it('shows code as fingerprint prefixes and size, never content', () => {
    const [detail] = describeChanges(config, remote, ['code'], {
      fingerprint: 'abcdef0123456789',
      bytes: 2048
    })
    expect(detail).toEqual({
      field: 'code',
      before: 'f1',
      after: 'abcdef01 (2.0 KiB)'
    })
  })
})
