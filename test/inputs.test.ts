import { describe, expect, it } from 'vitest'
import { readInputs, type Settings } from '../src/inputs.js'
import { ValidationError } from '../src/errors.js'

const complete = {
  host: 'sandbox.extrahorizon.io',
  'consumer-key': 'ck',
  'consumer-secret': 'cs',
  token: 'tok',
  'token-secret': 'ts'
}

function read(
  inputs: Record<string, string>,
  env: Record<string, string> = {}
) {
  const masked: string[] = []
  const settings = readInputs(
    name => inputs[name] ?? '',
    { GITHUB_WORKSPACE: '/ws', ...env },
    value => masked.push(value)
  )
  return { settings, masked }
}

function problemsOf(inputs: Record<string, string>): string {
  try {
    read(inputs)
  } catch (error) {
    if (error instanceof ValidationError) return error.message
    throw error
  }
  throw new Error('expected a ValidationError')
}

describe('readInputs', () => {
  it('reads adopt as names and patterns, one per line, and the repository by id and name', () => {
    const { settings } = read(
      { ...complete, adopt: ' report \n\nnightly-*\n' },
      { GITHUB_REPOSITORY: 'org/repo', GITHUB_REPOSITORY_ID: '123' }
    )
    expect(settings).toMatchObject({
      adopt: ['report', 'nightly-*'],
      repository: 'org/repo',
      repositoryId: '123'
    })
    expect(read(complete).settings).toMatchObject({
      adopt: [],
      repositoryId: undefined
    })
  })

  it('reads defaults and masks every secret as it is read', () => {
    const { settings, masked } = read(complete)
    expect(settings).toMatchObject({
      command: 'sync',
      paths: ['/ws'],
      pathInput: [],
      dryRun: false,
      concurrency: 4,
      failFast: false,
      skipUnchanged: true,
      forceDelete: false,
      requestTimeoutMs: 60_000,
      credentials: { kind: 'token', token: 'tok', tokenSecret: 'ts' }
    })
    expect(masked).toEqual(expect.arrayContaining(['ck', 'cs', 'tok', 'ts']))
  })

  it('reads force-delete', () => {
    expect(
      read({ ...complete, 'force-delete': 'true' }).settings
    ).toMatchObject({ forceDelete: true })
  })

  it.each([
    ['', ''],
    ['  production \n', 'production']
  ])('reads the label %j trimmed', (label, expected) => {
    expect(read({ ...complete, label }).settings.label).toBe(expected)
  })

  it('falls back to the CLI environment variables', () => {
    const { settings } = read(
      {},
      {
        API_HOST: 'https://api.dev.example.com',
        API_OAUTH_CONSUMER_KEY: 'k',
        API_OAUTH_CONSUMER_SECRET: 's',
        API_OAUTH_TOKEN: 't',
        API_OAUTH_TOKEN_SECRET: 'x'
      }
    )
    expect(settings.host).toBe('https://api.dev.example.com')
    expect(settings.credentials).toMatchObject({ kind: 'token', token: 't' })
  })

  it('uses email and password when no token is given', () => {
    const { settings, masked } = read({
      host: 'h.example.com',
      'consumer-key': 'k',
      'consumer-secret': 's',
      email: 'ci@example.com',
      password: 'pw-123456'
    })
    expect(settings.credentials).toMatchObject({
      kind: 'password',
      email: 'ci@example.com'
    })
    expect(masked).toContain('pw-123456')
  })

  it('resolves several paths against the workspace', () => {
    const { settings } = read({
      ...complete,
      path: 'a\n  b/task-config.json \n'
    })
    expect(settings.paths).toEqual(['/ws/a', '/ws/b/task-config.json'])
    expect(settings.pruneScope).toBe('a,b/task-config.json')
  })

  it('lets a dry run go offline with credentials missing', () => {
    const { settings } = read({ 'dry-run': 'true' })
    expect(settings.credentials).toBeUndefined()
    expect(settings.missingCredentials).toEqual([
      'host',
      'consumer-key',
      'consumer-secret',
      'token',
      'token-secret'
    ])
  })

  it.each<[string, Record<string, string>, string]>([
    [
      'missing credentials',
      { host: 'h.example.com' },
      'consumer-key (or API_OAUTH_CONSUMER_KEY) is required outside a dry run'
    ],
    [
      'a missing token for command: list, where a dry run does not help',
      { ...complete, command: 'list', token: '' },
      'token (or API_OAUTH_TOKEN) is required for command: list'
    ],
    [
      'a missing password for a login (no variable for it)',
      { ...complete, token: '', 'token-secret': '', email: 'a@example.com' },
      'password is required outside a dry run'
    ],
    [
      'zero concurrency',
      { ...complete, concurrency: '0' },
      'concurrency: must be a whole number of 1 or more'
    ],
    [
      'non-number concurrency',
      { ...complete, concurrency: 'four' },
      'concurrency: must be a whole number'
    ],
    [
      'boolean yes',
      { ...complete, 'dry-run': 'yes' },
      'dry-run: must be true or false'
    ],
    [
      'boolean TRUE',
      { ...complete, prune: 'TRUE' },
      'prune: must be true or false'
    ],
    [
      'force-delete yes',
      { ...complete, 'force-delete': 'yes' },
      'force-delete: must be true or false'
    ],
    [
      'IP host',
      { ...complete, host: 'http://127.0.0.1:8080' },
      'host: must be a host name, not an IP address'
    ],
    [
      'IPv6 host',
      { ...complete, host: 'http://[::1]:8080' },
      'host: must be a host name, not an IP address'
    ],
    [
      'malformed host',
      { ...complete, host: 'https://exa mple.com' },
      'host: must be a host name or an http(s) URL'
    ],
    [
      'ftp host',
      { ...complete, host: 'ftp://example.com' },
      'host: must use http or https'
    ],
    [
      'unknown command',
      { ...complete, command: 'deploy' },
      'command: must be one of: sync, list, delete'
    ],
    [
      'unknown runtime',
      { ...complete, runtime: 'nodejs8.x' },
      'runtime: must be one of the runtimes'
    ],
    [
      'bad time-limit',
      { ...complete, 'time-limit': '1.5' },
      'time-limit: must be a whole number'
    ],
    [
      'bad env line',
      { ...complete, env: 'NOEQUALS' },
      'env: line 1 must be KEY=value'
    ],
    [
      'bad request-timeout',
      { ...complete, 'request-timeout': '-1' },
      'request-timeout: must be a whole number of 1 or more'
    ],
    [
      'bad execution-permission',
      { ...complete, 'execution-permission': 'everyone' },
      'execution-permission: must be one of'
    ]
  ])('refuses %s, naming the input', (_label, inputs, message) => {
    expect(problemsOf(inputs)).toContain(message)
  })

  it.each([
    [
      'an IP address',
      '10.1.2.3',
      'host: must be a host name, not an IP address'
    ],
    ['another scheme', 'ftp://example.com', 'host: must use http or https']
  ])(
    'refuses a host that is %s once, never also as missing',
    (_label, host, message) => {
      const problems = problemsOf({ ...complete, host }).split('\n')
      expect(problems).toHaveLength(1)
      expect(problems[0]).toContain(message)
    }
  )

  it('accepts localhost hosts, including the IP path trick, kept as given (a trailing / too, as the CLI stores it)', () => {
    expect(
      read({ ...complete, host: 'http://localhost:8080/' }).settings.host
    ).toBe('http://localhost:8080/')
    expect(
      read({ ...complete, host: 'http://127.0.0.1:8080/localhost' }).settings
        .host
    ).toBe('http://127.0.0.1:8080/localhost')
  })

  it('never echoes a malformed env line (it may hold a secret)', () => {
    const message = problemsOf({ ...complete, env: 'A=1\nsecret-value-here' })
    expect(message).toContain('env: line 2 must be KEY=value')
    expect(message).not.toContain('secret-value-here')
  })

  it('caps request-timeout at an hour', () => {
    expect(problemsOf({ ...complete, 'request-timeout': '3601' })).toContain(
      'request-timeout: must be at most 3600 seconds'
    )
    expect(
      read({ ...complete, 'request-timeout': '3600' }).settings.requestTimeoutMs
    ).toBe(3_600_000)
  })

  it.each([
    ['tasks', 'tasks'],
    ['tasks/', 'tasks'],
    ['./tasks', 'tasks'],
    ['tasks/.', 'tasks'],
    ['b\na', 'a,b']
  ])('gives the path %j the scope %s', (path, scope) => {
    expect(read({ ...complete, path }).settings.pruneScope).toBe(scope)
  })

  it.each([
    ['', 'false'],
    ['false', 'false'],
    ['true', 'true'],
    ['all', 'all']
  ])('reads verify %j as %s', (given, mode) => {
    expect(read({ ...complete, verify: given }).settings.verify).toBe(mode)
  })

  it.each<[Record<string, string>, Partial<Settings>]>([
    [{}, { reviewedPlan: 'off', requireApproval: false }],
    [
      { 'reviewed-plan': 'required', 'require-approval': 'true' },
      { reviewedPlan: 'required', requireApproval: true }
    ]
  ])('reads the reviewed-plan inputs %j', (given, expected) => {
    expect(read({ ...complete, ...given }).settings).toMatchObject(expected)
  })

  it.each([
    [
      { 'reviewed-plan': 'on' },
      'reviewed-plan: must be off or required, not "on"'
    ],
    [
      { 'require-approval': 'yes' },
      'require-approval: must be true or false, not "yes"'
    ],
    [
      { 'reviewed-plan': 'required', command: 'delete', tasks: 'a' },
      'reviewed-plan: required checks the plan of command: sync; command: delete has no reviewed plan (set reviewed-plan: off for it)'
    ]
  ])('refuses %j, naming the input', (given, problem) => {
    expect(problemsOf({ ...complete, ...given })).toContain(problem)
  })

  it('keeps the inputs that choose the tasks as written, one line each', () => {
    const { planInputs } = read({
      ...complete,
      tasks: ' b \n\na*',
      prune: 'true',
      adopt: 'x'
    }).settings
    expect(planInputs).toMatchObject({
      tasks: 'b\na*',
      prune: 'true',
      'prune-scope': '',
      adopt: 'x',
      'force-delete': ''
    })
  })

  it('refuses another verify value, naming the input', () => {
    expect(problemsOf({ ...complete, verify: 'yes' })).toContain(
      'verify: must be false, true or all, not "yes"'
    )
  })

  it('lists every problem at once', () => {
    const message = problemsOf({
      ...complete,
      concurrency: '0',
      'fail-fast': 'no'
    })
    expect(message).toContain('concurrency')
    expect(message).toContain('fail-fast')
  })

  it('parses the single-task inputs as overrides', () => {
    const { settings } = read({
      ...complete,
      name: 'one',
      code: 'tasks/one/build',
      'time-limit': '60',
      env: 'A=1\nB=x=y',
      'default-priority': '0'
    })
    expect(settings.overrides).toEqual({
      name: 'one',
      code: '/ws/tasks/one/build',
      timeLimit: 60,
      environment: { A: '1', B: 'x=y' },
      defaultPriority: 0
    })
  })
})
