import { describe, expect, it } from 'vitest'
import { MARKER_VARIABLE } from '../../src/task.js'
import { startFakeExh } from '../fake-exh/index.js'
import { startFakeGitHub } from '../support/fake-github.js'
import {
  makeWorkspace,
  taskConfig,
  verifiedTask
} from '../support/workspace.js'
import { runAction } from '../support/run-action.js'
import {
  expectNowhere,
  planPullRequest,
  pullRequestEnv,
  syncWith
} from './harness.js'

const GITHUB_TOKEN = 'ghs_fake_github_token_0123456789'

describe('a substituted value is a secret wherever it lands', () => {
  it('shows a name from $VAR as its reference in the comment, summary, outputs and log; permissions from $VAR nowhere', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    const npmToken = 'npm_0123456789abcdefghijABCDEFGHIJ'
    await using ws = await makeWorkspace({
      // The job's env holds the token secret, as a common workflow does.
      'tasks/a/task-config.json': taskConfig('$EXH_TOKEN_SECRET'),
      'tasks/a/build/index.js': 'x',
      'tasks/b/task-config.json': taskConfig('$TASK_NAME', {
        executionCredentials: { permissions: ['VIEW_USER', '$NPM_TOKEN'] }
      }),
      'tasks/b/build/index.js': 'x'
    })
    const run = await planPullRequest(
      fake,
      ws,
      { apiUrl: gh.url, number: 7, token: GITHUB_TOKEN },
      {
        EXH_TOKEN_SECRET: fake.admin.tokenSecret,
        TASK_NAME: 'visible-task',
        NPM_TOKEN: npmToken
      }
    )
    expect(run.exitCode, run.log).toBe(0)
    // Outputs too: any value of the step's env may be a valid name.
    expect(run.result.map(r => [r.name, r.action])).toEqual([
      ['$EXH_TOKEN_SECRET', 'create'],
      ['$TASK_NAME', 'create']
    ])
    const comment = gh.comments[0]?.body ?? ''
    for (const text of [comment, run.summary, run.stdout]) {
      expect(text).toContain('$EXH_TOKEN_SECRET')
      expect(text).toContain('$TASK_NAME')
      expect(text).not.toContain('visible-task')
    }
    expectNowhere(run, [fake.admin.tokenSecret, npmToken], gh)
  })

  it('quotes the reference, never the value, when a substituted name is refused', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    const npmToken = 'npm_0123456789abcdef+/=='
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('$NPM_TOKEN'),
      'tasks/a/build/index.js': 'x'
    })
    const run = await planPullRequest(
      fake,
      ws,
      { apiUrl: gh.url, number: 7, token: GITHUB_TOKEN },
      { NPM_TOKEN: npmToken }
    )
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(
      /tasks\/a\/task-config\.json:2: name: must be one or more letters, digits or - \(the value of \$NPM_TOKEN\)/
    )
    expect(run.result).toMatchObject([{ name: '$NPM_TOKEN', status: 'failed' }])
    expectNowhere(run, [npmToken, 'npm_0123456789abcdef'], gh)
  })
})

describe('$NAME never reads the action credentials', () => {
  it('refuses a task named after the token secret in a pull request dry run, leaking it nowhere', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('$INPUT_TOKEN-SECRET'),
      'tasks/a/build/index.js': 'x'
    })
    const run = await planPullRequest(fake, ws, {
      apiUrl: gh.url,
      number: 7,
      token: GITHUB_TOKEN
    })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain(
      'tasks/a/task-config.json:2: name: $INPUT_TOKEN-SECRET is never substituted here'
    )
    expect(run.result).toMatchObject([
      { config: 'tasks/a/task-config.json', status: 'failed' }
    ])
    expect(gh.comments).toHaveLength(1)
    expectNowhere(run, [fake.admin.tokenSecret, fake.consumer.secret], gh)
  })

  it('refuses it offline too, where the secret would fail the name pattern', async () => {
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('$INPUT_CONSUMER-SECRET'),
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/a/build/index.js': 'x',
      'tasks/b/build/index.js': 'x'
    })
    const secret = 'cs/with spaces+and=signs'
    // Offline (no token): the run validates without the API.
    const run = await runAction({
      workspace: ws.dir,
      inputs: {
        path: 'tasks',
        'consumer-key': 'key-1234',
        'consumer-secret': secret,
        'dry-run': 'true',
        tasks: 'b',
        'comment-on-pr': 'true',
        'github-token': GITHUB_TOKEN
      },
      env: await pullRequestEnv(ws, gh.url, 7)
    })
    expect(run.exitCode).toBe(1)
    expect(run.result.map(r => [r.config, r.status])).toEqual([
      ['tasks/a/task-config.json', 'failed'],
      ['tasks/b/task-config.json', 'skipped']
    ])
    expectNowhere(run, [secret], gh)
  })
})

/** Lines of stdout the runner would read as one of the injected commands. */
function injectedCommands(stdout: string): string[] {
  return stdout
    .split(/\r?\n/)
    .map(line => line.trimStart())
    .filter(line =>
      /^::(set-output|add-mask::done|stop-commands|warning::pwned)/.test(line)
    )
}

describe('untrusted text in the log', () => {
  const INJECTIONS = [
    '\n::set-output name=x::y',
    '\n::add-mask::done',
    '\n::stop-commands::x',
    '\n::warning::pwned'
  ]

  it('never forms a workflow command from a config path or a symlink target', async () => {
    await using fake = await startFakeExh()
    const files: Record<string, string | { symlink: string }> = {}
    INJECTIONS.forEach((text, index) => {
      const folder = `tasks/t${index}${text}`
      files[`${folder}/task-config.json`] = taskConfig(`t${index}`)
      files[`${folder}/build/index.js`] = 'x'
      files[`${folder}/build/dangling`] = { symlink: text }
    })
    await using ws = await makeWorkspace(files)
    const run = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.stdout).toContain('\\n::add-mask::done')
    expect(injectedCommands(run.stdout)).toEqual([])
    expect(injectedCommands(run.stderr)).toEqual([])
    // `done` was not masked: the outputs still carry it.
    expect(run.result.map(r => r.status)).toEqual([
      'done',
      'done',
      'done',
      'done'
    ])
    expect(run.outputs.x).toBeUndefined()
  })

  it('never forms a workflow command from a config path printed indented', async () => {
    await using fake = await startFakeExh()
    // The runner trims leading spaces before it looks for `::`, and the
    // list of errors is printed indented.
    await using ws = await makeWorkspace({
      '::add-mask::done/task-config.json': taskConfig('a', {
        runtime: 'cobol'
      }),
      '::add-mask::done/build/index.js': 'x'
    })
    const run = await syncWith(fake, ws.dir, {})
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('add-mask::done/task-config.json')
    expect(injectedCommands(run.stdout)).toEqual([])
  })

  it('never forms a workflow command from an executionCredentials email', async () => {
    const EMAIL = `x${INJECTIONS.join('')}@example.com`
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', {
        executionCredentials: {
          permissions: [],
          email: EMAIL
        }
      }),
      'tasks/a/build/index.js': 'x'
    })
    await using fake = await startFakeExh()
    // The user exists but no function holds its tokens: the error names it.
    fake.addUser({ email: EMAIL.toLowerCase(), password: 'Existing-Passw0rd' })
    const run = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toContain('the user x')
    expect(injectedCommands(run.stdout)).toEqual([])
    expect(run.outputs.x).toBeUndefined()
  })
})

describe('an API error that echoes the request', () => {
  it('prints none of the password, consumer secret or task tokens it holds', async () => {
    await using fake = await startFakeExh()
    const credentialed = (name: string) =>
      taskConfig(name, { executionCredentials: { permissions: [] } })
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': credentialed('a'),
      'tasks/a/build/index.js': 'x',
      'tasks/b/task-config.json': credentialed('b'),
      'tasks/b/build/index.js': 'x'
    })
    // Task a's registration and task b's create are refused, quoting the body.
    fake.fault({
      method: 'POST',
      path: '/users/v1/register',
      status: 400,
      echoBody: true
    })
    fake.fault({
      method: 'POST',
      path: '/tasks/v1/functions/',
      status: 400,
      echoBody: true
    })
    const run = await syncWith(fake, ws.dir, {
      path: 'tasks',
      concurrency: '1'
    })
    expect(run.exitCode).toBe(1)
    expect(fake.pendingFaults()).toEqual([])
    const bodies = fake.requests
      .filter(r => r.method === 'POST')
      .map(r => r.body as Record<string, unknown>)
    const passwords = bodies.flatMap(b =>
      typeof b.password === 'string' ? [b.password] : []
    )
    const variables = bodies.flatMap(b =>
      Object.entries(
        (b.environmentVariables ?? {}) as Record<string, { value: string }>
      )
        .filter(([key]) => key !== 'API_HOST' && key.startsWith('API_'))
        .map(([, v]) => v.value)
    )
    expect(passwords.length).toBeGreaterThanOrEqual(2)
    expect(variables).toContain(fake.consumer.secret)
    expect(variables.length).toBe(4)
    expect(run.result.map(r => [r.name, r.status])).toEqual([
      ['a', 'failed'],
      ['b', 'failed']
    ])
    expectNowhere(run, [...passwords, ...variables, fake.admin.tokenSecret])
  })
})

describe('masking environment values read back', () => {
  it('leaves values the config holds literally unmasked, and masks the rest', async () => {
    await using fake = await startFakeExh()
    const committed = {
      LOG_LEVEL: 'error',
      GREETING: 'Hello from tasks',
      STAGE: 'production'
    }
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('production', {
        environment: committed
      }),
      'tasks/a/build/index.js': 'x'
    })
    fake.seedFunction({
      name: 'production',
      environmentVariables: {
        LOG_LEVEL: { value: 'error' },
        GREETING: { value: 'Hello from tasks' },
        STAGE: { value: 'production' },
        OLD_KEY: { value: 'remote-only-s3cret' }
      }
    })
    const run = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    const masks = run.stdout
      .split('\n')
      .filter(line => line.startsWith('::add-mask::'))
    for (const value of Object.values(committed)) {
      expect(masks).not.toContain(`::add-mask::${value}`)
    }
    expect(masks).toContain('::add-mask::remote-only-s3cret')
    expect(run.result).toMatchObject([
      { name: 'production', action: 'update', status: 'done' }
    ])
    expect(run.stdout).toContain('production')
    expectNowhere(run, ['remote-only-s3cret'])
  })
})

describe('a substituted value too long to show whole', () => {
  it('is shown nowhere, not even its first characters', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    const first = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(first.exitCode, first.log).toBe(0)
    const secret = `s3cr3t-${'0123456789abcdef'.repeat(8)}`
    await ws.write({
      'tasks/a/task-config.json': taskConfig('a', {
        description: '$LONG_SECRET'
      })
    })
    const run = await planPullRequest(
      fake,
      ws,
      { apiUrl: gh.url, number: 7, token: GITHUB_TOKEN },
      { LONG_SECRET: secret }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result).toMatchObject([
      { name: 'a', action: 'update', changes: ['description'] }
    ])
    expectNowhere(run, [secret.slice(0, 40)], gh)
  })
})

describe('a multi-line secret', () => {
  it('is masked line by line, as the runner masks the log', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', {
        environment: { KEY: '$PEM_KEY' }
      }),
      'tasks/a/build/index.js': 'x'
    })
    const body = 'MIIEvQIBADANBgkqhkiG9w0BAQEF'
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks', 'dry-run': 'true' },
      {
        env: { PEM_KEY: `-----BEGIN KEY-----\n${body}\n-----END KEY-----` }
      }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(run.stdout.split('\n')).toContain(`::add-mask::${body}`)
  })
})

describe('a secret substituted into several tasks', () => {
  it('is given to the runner to mask once', async () => {
    await using fake = await startFakeExh()
    const files: Record<string, string> = {}
    for (const name of ['a', 'b', 'c']) {
      files[`tasks/${name}/task-config.json`] = taskConfig(name, {
        environment: { KEY: '$SHARED_KEY' }
      })
      files[`tasks/${name}/build/index.js`] = 'x'
    }
    await using ws = await makeWorkspace(files)
    const secret = 'shared-service-key-0123456789'
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks', 'dry-run': 'true' },
      { env: { SHARED_KEY: secret } }
    )
    expect(run.exitCode, run.log).toBe(0)
    const masks = run.stdout
      .split('\n')
      .filter(line => line === `::add-mask::${secret}`)
    expect(masks).toHaveLength(1)
  })
})

// A fine-grained GitHub token is 93 characters.
const LONG_SECRET_VALUE = `github_pat_${'A1b2C3d4E5'.repeat(8)}xy`

describe('a verify error longer than a cell, holding a secret', () => {
  it('leaks no part of a secret the function returns or throws', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      ...verifiedTask(
        'thrown',
        "exports.handler = async () => { throw new Error('x'.repeat(260) + process.env.KEY) }\n",
        {
          config: {
            environment: { KEY: '$LONG_SECRET' }
          }
        }
      ),
      ...verifiedTask(
        'returned',
        'exports.handler = async () => ({ key: process.env.KEY })\n',
        {
          verify: JSON.stringify({
            expect: { result: { key: 'expected' } }
          }),
          config: {
            environment: { KEY: '$LONG_SECRET' }
          }
        }
      )
    })
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks', verify: 'true' },
      { env: { LONG_SECRET: LONG_SECRET_VALUE } }
    )
    expect(run.exitCode, run.log).toBe(1)
    expect(run.result.map(r => r.verified)).toEqual([false, false])
    const head = LONG_SECRET_VALUE.slice(0, 30)
    const printed = run.stdout.replace(/^::add-mask::.*$/gm, '')
    for (const [channel, text] of Object.entries({
      stdout: printed,
      outputs: JSON.stringify(run.outputs),
      summary: run.summary
    })) {
      expect(text.includes(head), `${head} in ${channel}`).toBe(false)
    }
  })
})

describe('a failed build’s quoted output, cut across a secret', () => {
  it('leaks no part of a masked secret the build printed', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      // The secret is substituted into the config, so the action masks it.
      'tasks/a/task-config.json': taskConfig('a', {
        environment: { KEY: '$LONG_SECRET' }
      }),
      'tasks/a/build/index.js': 'x'
    })
    // One long line: the 4,096 characters kept start 30 characters into
    // the secret (100 + 93 + 4,032 + newline = 4,226).
    const build = `printf '%s%s%s\\n' "$(printf 'x%.0s' $(seq 100))" "$LONG_SECRET" "$(printf 'y%.0s' $(seq 4032))"; exit 1`
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks', 'build-command': build },
      { env: { LONG_SECRET: LONG_SECRET_VALUE } }
    )
    expect(run.exitCode, run.log).toBe(1)
    expect(run.result[0]?.error ?? '').toMatch(/exited with code 1/)
    const tail = LONG_SECRET_VALUE.slice(40)
    const printed = run.stdout.replace(/^::add-mask::.*$/gm, '')
    // The build's own output is masked by the runner line by line (the
    // whole secret is on it); the action's error quotes only its tail.
    for (const [channel, text] of Object.entries({
      outputs: JSON.stringify(run.outputs),
      summary: run.summary,
      errors: printed.split('Errors:')[1] ?? ''
    })) {
      expect(text.includes(tail), `${tail} in ${channel}`).toBe(false)
    }
  })
})

describe('the host in a function’s own error', () => {
  it('leaves the host out of the outputs and the comment when the function’s error names it', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    const host = new URL(fake.url).host
    await using ws = await makeWorkspace({
      // executionCredentials hands the function API_HOST, as the CLI does.
      ...verifiedTask(
        'a',
        "exports.handler = async () => { throw new Error('getaddrinfo ENOTFOUND ' + new URL(process.env.API_HOST).host) }\n",
        {
          config: {
            executionCredentials: { permissions: [] }
          }
        }
      )
    })
    // A deploy to staging from a pull request, with its plan as a comment.
    const run = await syncWith(
      fake,
      ws.dir,
      {
        path: 'tasks',
        verify: 'true',
        'comment-on-pr': 'true',
        'github-token': 'ghs_review_token_0123456789'
      },
      { env: await pullRequestEnv(ws, gh.url, 7) }
    )
    expect(run.result, run.log).toMatchObject([
      { name: 'a', status: 'failed', verified: false }
    ])
    expect.soft(JSON.stringify(run.outputs)).not.toContain(host)
    expect(gh.comments.map(c => c.body).join('\n')).not.toContain(host)
  })
})

// A marker is the API's free text: anyone who may update a function writes it.
describe('command: list, a marker whose repository is no owner/name', () => {
  it('never prints the start of a secret the action holds (cut only after redaction)', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    // Anyone who may update a function writes its marker: here a
    // repository that is no `owner/name`, with a held secret at 90.
    const secret = fake.admin.tokenSecret
    const repository = `${'x '.repeat(45)}${secret}`
    fake.seedFunction({
      name: 'alpha',
      description: 'First',
      environmentVariables: {
        [MARKER_VARIABLE]: {
          value: JSON.stringify({
            v: 2,
            fingerprint: 'f',
            repository,
            scope: 'tasks'
          })
        }
      }
    })
    const run = await syncWith(fake, ws.dir, { command: 'list' })
    expect(run.exitCode, run.log).toBe(0)
    const start = secret.slice(0, 9)
    const channels = {
      log: run.stdout.replace(/^::add-mask::.*$/gm, ''),
      functions: run.outputs.functions ?? '',
      summary: run.summary
    }
    for (const [channel, text] of Object.entries(channels)) {
      expect(text, channel).not.toContain(start)
    }
  })

  it('leaves the host out of the functions output, as every output does (SPEC section 3)', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace()
    const host = new URL(fake.url).host
    fake.seedFunction({ name: 'alpha', description: `Calls ${fake.url}/files` })
    const run = await syncWith(fake, ws.dir, { command: 'list' })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.outputs.functions).toContain('alpha')
    expect(run.outputs.functions).not.toContain(host)
  })
})

describe("sync: another owner's marker, quoted in the refusal", () => {
  it('never shows the start of a secret the action holds (the owner is cut only after redaction)', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    const secret = fake.admin.tokenSecret
    fake.seedFunction({
      name: 'a',
      environmentVariables: {
        [MARKER_VARIABLE]: {
          value: JSON.stringify({
            v: 2,
            fingerprint: 'f',
            repository: `${'x '.repeat(45)}${secret}`,
            scope: 'tasks'
          })
        }
      }
    })
    const run = await syncWith(fake, ws.dir, {
      path: 'tasks',
      'dry-run': 'true'
    })
    expect(run.result[0]?.status, run.log).toBe('failed')
    const start = secret.slice(0, 9)
    expect(run.summary).not.toContain(start)
    expect(run.outputs.result).not.toContain(start)
  })
})
