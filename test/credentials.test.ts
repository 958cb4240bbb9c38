import { describe, expect, it } from 'vitest'
import {
  generatePassword,
  permissionDifference,
  storedCredentials,
  taskRoleName
} from '../src/plan/credentials.js'
import { isOurs } from '../src/plan/prune.js'
import { encodeMarker } from '../src/marker.js'
import {
  MARKER_VARIABLE,
  taskUserEmail,
  type TaskDefinition
} from '../src/task.js'

function task(name: string, email?: string): TaskDefinition {
  return {
    name,
    codeDir: '/code',
    asWritten: {},
    config: {
      name,
      path: 'build',
      entryPoint: 'index.handler',
      runtime: 'nodejs22.x',
      executionCredentials: { permissions: [], ...(email ? { email } : {}) }
    }
  }
}

describe('executionCredentials helpers', () => {
  it.each<[string, string | undefined, string]>([
    ['my-fn', undefined, 'exh.tasks+my-fn@extrahorizon.com'],
    ['My-Fn', undefined, 'exh.tasks+my-fn@extrahorizon.com'],
    ['x', 'Bot.User@Example.COM', 'bot.user@example.com']
  ])('the user of %s (email %s) is %s', (name, email, expected) => {
    const { config } = task(name, email)
    expect(taskUserEmail(name, config.executionCredentials?.email)).toBe(
      expected
    )
  })

  it('names the role after the task', () => {
    expect(taskRoleName('my-fn')).toBe('exh.tasks.my-fn')
  })

  it.each<[string[], string[], string[], string[]]>([
    [[], ['A', 'B'], ['A', 'B'], []],
    [['A', 'B'], ['A', 'C'], ['C'], ['B']],
    [['A'], ['A'], [], []],
    [['A'], [], [], ['A']],
    [[], ['A', 'A'], ['A'], []]
  ])(
    'from %j to %j adds %j and removes %j',
    (current, target, added, removed) => {
      expect(permissionDifference(current, target)).toEqual({ added, removed })
    }
  )

  it('makes passwords the default policy accepts, different every time', () => {
    const password = generatePassword()
    expect(password).toMatch(/[A-Z]/)
    expect(password).toMatch(/[a-z]/)
    expect(password).toMatch(/\d/)
    expect(password.length).toBeGreaterThanOrEqual(8)
    expect(password.length).toBeLessThanOrEqual(128)
    expect(generatePassword()).not.toBe(password)
  })

  it('reads the five stored variables, or names the missing ones', () => {
    const full = {
      API_HOST: 'h',
      API_OAUTH_CONSUMER_KEY: 'ck',
      API_OAUTH_CONSUMER_SECRET: 'cs',
      API_OAUTH_TOKEN: 't',
      API_OAUTH_TOKEN_SECRET: 'ts'
    }
    expect(storedCredentials(full)).toEqual({
      host: 'h',
      consumerKey: 'ck',
      consumerSecret: 'cs',
      token: 't',
      tokenSecret: 'ts'
    })
    expect(
      storedCredentials({
        ...full,
        API_OAUTH_TOKEN: '',
        API_HOST: undefined
      } as never)
    ).toEqual({ missing: ['API_HOST', 'API_OAUTH_TOKEN'] })
  })
})

describe('isOurs (prune)', () => {
  const repository = { id: '42', name: 'org/repo' }
  const scope = { repository, scope: 'tasks' }
  const marked = (fields: Record<string, string | undefined>) => ({
    [MARKER_VARIABLE]: encodeMarker({
      fingerprint: 'f',
      repository: 'org/repo',
      repositoryId: '42',
      scope: 'tasks',
      ...fields
    })
  })

  it.each<[string, Record<string, string>, boolean]>([
    ['same repository and scope', marked({}), true],
    [
      'another repository',
      marked({ repository: 'org/other', repositoryId: '7' }),
      false
    ],
    [
      'another repository that took over the name',
      marked({ repositoryId: '7' }),
      false
    ],
    [
      'this repository before a rename',
      marked({ repository: 'org/old' }),
      true
    ],
    [
      'an id-less marker of this name',
      marked({ repositoryId: undefined }),
      true
    ],
    [
      'an id-less marker of another name',
      marked({ repository: 'org/other', repositoryId: undefined }),
      false
    ],
    ['another scope', marked({ scope: 'elsewhere' }), false],
    ['no marker (by hand or the CLI)', {}, false],
    ['an unreadable marker', { [MARKER_VARIABLE]: 'not json' }, false]
  ])('%s → %s', (_label, environment, ours) => {
    expect(isOurs(environment, scope)).toBe(ours)
  })
})
