import { describe, expect, it } from 'vitest'
import {
  isCredentialVariable,
  isDeniedVariable,
  substitute
} from '../src/config/substitute.js'

describe('isDeniedVariable: what `$NAME` may never read', () => {
  it.each([
    ['INPUT_TOKEN-SECRET', true],
    ['INPUT_CONSUMER-SECRET', true],
    ['input_token', true],
    ['Input_Password', true],
    ['INPUT_GITHUB-TOKEN', true],
    ['API_HOST', true],
    ['API_OAUTH_CONSUMER_KEY', true],
    ['API_OAUTH_CONSUMER_SECRET', true],
    ['API_OAUTH_TOKEN', true],
    ['API_OAUTH_TOKEN_SECRET', true],
    ['GITHUB_TOKEN', true],
    ['ACTIONS_RUNTIME_TOKEN', true],
    ['ACTIONS_ID_TOKEN_REQUEST_TOKEN', true],
    ['ACTIONS_ID_TOKEN_REQUEST_URL', true],
    ['ACTIONS_CACHE_URL', true],
    ['INPUTS', false],
    ['MY_INPUT_TOKEN', false],
    ['API_KEY', false],
    ['NPM_TOKEN', false],
    ['GITHUB_SHA', false],
    ['DB_PASSWORD', false]
  ])('%s → %s', (name, denied) => {
    expect(isDeniedVariable(name)).toBe(denied)
  })

  it('keeps ACTIONS_* other than the three tokens out of the credential set (a build may use them)', () => {
    expect(isCredentialVariable('ACTIONS_CACHE_URL')).toBe(false)
    expect(isCredentialVariable('ACTIONS_RUNTIME_TOKEN')).toBe(true)
  })
})

describe('substitute', () => {
  it('leaves a denied placeholder as written and reports it, even when the variable is set', () => {
    const seen: string[] = []
    const result = substitute(
      { name: '$INPUT_TOKEN-SECRET', env: { A: '$GITHUB_TOKEN', B: '$OK' } },
      { 'INPUT_TOKEN-SECRET': 'leak', GITHUB_TOKEN: 'ghs', OK: 'fine' },
      value => seen.push(value)
    )
    expect(result.value).toEqual({
      name: '$INPUT_TOKEN-SECRET',
      env: { A: '$GITHUB_TOKEN', B: 'fine' }
    })
    expect(result.denied).toEqual([
      { path: ['name'], variable: 'INPUT_TOKEN-SECRET' },
      { path: ['env', 'A'], variable: 'GITHUB_TOKEN' }
    ])
    expect(seen).toEqual(['fine'])
  })

  it('counts an unset variable as empty when asked (offline dry run)', () => {
    const result = substitute({ a: '$UNSET' }, {}, undefined, true)
    expect(result.value).toEqual({ a: '' })
    expect(result.missing).toEqual([{ path: ['a'], variable: 'UNSET' }])
  })
})
