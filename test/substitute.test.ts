import { describe, expect, it } from 'vitest'
import {
  refusalOf,
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
      {
        env: { 'INPUT_TOKEN-SECRET': 'leak', GITHUB_TOKEN: 'ghs', OK: 'fine' },
        onSubstituted: value => seen.push(value)
      }
    )
    expect(result.value).toEqual({
      name: '$INPUT_TOKEN-SECRET',
      env: { A: '$GITHUB_TOKEN', B: 'fine' }
    })
    expect(result.denied).toEqual([
      {
        path: ['name'],
        variable: 'INPUT_TOKEN-SECRET',
        reason: "is one of this action's inputs"
      },
      {
        path: ['env', 'A'],
        variable: 'GITHUB_TOKEN',
        reason: "is the runner's own (a token or its plumbing)"
      }
    ])
    expect(seen).toEqual(['fine'])
  })

  it('counts an unset variable as empty when asked (offline dry run)', () => {
    const result = substitute({ a: '$UNSET' }, { env: {}, unsetAsEmpty: true })
    expect(result.value).toEqual({ a: '' })
    expect(result.missing).toEqual([{ path: ['a'], variable: 'UNSET' }])
  })
})

describe('refusalOf: where `$NAME` may not be substituted', () => {
  const deployer =
    'is the deploying credentials: it may only be an environment value'
  it.each([
    ['API_HOST', ['environment', 'API_HOST'], undefined],
    ['API_OAUTH_TOKEN', ['environment', 'MY_TOKEN'], undefined],
    ['API_OAUTH_TOKEN_SECRET', ['name'], deployer],
    ['API_OAUTH_CONSUMER_KEY', ['description'], deployer],
    ['API_HOST', ['executionCredentials', 'permissions', '0'], deployer],
    ['API_OAUTH_TOKEN', ['retryPolicy', 'errorsToRetry', '0'], deployer],
    // A nested object under environment is no environment value.
    ['API_HOST', ['environment', 'A', 'B'], deployer],
    ['INPUT_TOKEN', ['environment', 'A'], "is one of this action's inputs"],
    [
      'GITHUB_TOKEN',
      ['environment', 'A'],
      "is the runner's own (a token or its plumbing)"
    ],
    [
      'ACTIONS_CACHE_URL',
      ['environment', 'A'],
      "is the runner's own (a token or its plumbing)"
    ],
    ['NPM_TOKEN', ['name'], undefined],
    ['API_KEY', ['name'], undefined]
  ])('$%s at %j → %s', (variable, at, reason) => {
    expect(refusalOf(variable, at)).toBe(reason)
  })
})

describe('substitute: $API_* environment values are the deploying credentials', () => {
  const config = {
    name: 'task',
    environment: {
      API_HOST: '$API_HOST',
      API_OAUTH_TOKEN: '$API_OAUTH_TOKEN',
      OTHER: '$API_OAUTH_CONSUMER_KEY'
    }
  }

  it('takes them from the deploying credentials, never from the environment', () => {
    const seen: string[] = []
    const result = substitute(config, {
      env: { API_HOST: 'env-host', API_OAUTH_TOKEN: 'env-token' },
      deployer: {
        API_HOST: 'https://api.example.test',
        API_OAUTH_TOKEN: 'deploy-token',
        API_OAUTH_CONSUMER_KEY: 'deploy-key'
      },
      onSubstituted: value => seen.push(value)
    })
    expect(result.value).toEqual({
      name: 'task',
      environment: {
        API_HOST: 'https://api.example.test',
        API_OAUTH_TOKEN: 'deploy-token',
        OTHER: 'deploy-key'
      }
    })
    expect(seen).toEqual([
      'https://api.example.test',
      'deploy-token',
      'deploy-key'
    ])
    expect(result.deployer.map(d => [d.path[1], d.known])).toEqual([
      ['API_HOST', true],
      ['API_OAUTH_TOKEN', true],
      ['OTHER', true]
    ])
    expect(result.missing).toEqual([])
  })

  it('reports an unknown one and leaves it as written (or empty offline)', () => {
    const known = { API_HOST: 'h.example.test', API_OAUTH_CONSUMER_KEY: 'key1' }
    const kept = substitute(config, { env: {}, deployer: known })
    expect(kept.deployer.filter(d => !d.known)).toEqual([
      {
        path: ['environment', 'API_OAUTH_TOKEN'],
        variable: 'API_OAUTH_TOKEN',
        known: false
      }
    ])
    expect(kept.value).toMatchObject({
      environment: { API_OAUTH_TOKEN: '$API_OAUTH_TOKEN' }
    })
    const offline = substitute(config, { env: {}, unsetAsEmpty: true })
    expect(offline.value).toMatchObject({
      environment: { API_HOST: '', API_OAUTH_TOKEN: '', OTHER: '' }
    })
    expect(offline.deployer.every(d => !d.known)).toBe(true)
  })
})
