// Every kind of bad input or config, run through the pipeline in-process
// against the fake API. Each must fail with a message naming the file and
// line (or the input), the field and the rule, and nothing written on the
// server. (Exit codes and annotations are the bundle's: test/e2e.)

import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  type FileSpec
} from '../support/workspace.js'
import { runInProcess } from '../support/in-process.js'
import { MARKER_VARIABLE } from '../../src/task.js'
import { credentialInputs } from '../support/with-fake.js'
import {
  A,
  B,
  REPO,
  a,
  escapeRegExp,
  lineOf,
  prefixed,
  textOf,
  twoTasks
} from '../support/two-tasks.js'

interface Row {
  name: string
  /** Written over `twoTasks()` (relative to the workspace). */
  files?: Record<string, FileSpec> | (() => Record<string, FileSpec>)
  /** Replace `twoTasks()` instead of writing over it. */
  replaceTasks?: boolean
  /** Written beside the workspace, outside it. */
  outside?: Record<string, FileSpec>
  /** Over the credential inputs. */
  inputs?: Record<string, string>
  /** Leave out the credential inputs (only `inputs` are given). */
  noCredentials?: boolean
  env?: Record<string, string>
  /** The config file the problem is in; absent for a problem with an input. */
  file?: string
  /** Text on the line the problem is at, in `file`. */
  at?: string
  /** The field, or the input's name; absent when the rule names the input itself. */
  field?: string
  rule: RegExp
  /** The run reaches the API (reads only) before failing. */
  reads?: boolean
  /** Expected `[config, status]` of the `result` output; default: a failed, b skipped. */
  results?: [string, string][]
}

const A_FAILED: [string, string][] = [
  [A, 'failed'],
  [B, 'skipped']
]
const ALL_SKIPPED: [string, string][] = [
  [A, 'skipped'],
  [B, 'skipped']
]
const NO_RESULTS: [string, string][] = []

const MALFORMED = `{
  "name": "a",
  "path": "build"
  "entryPoint": "index.handler",
  "runtime": "nodejs22.x"
}
`

const NAME_PATTERN = /must be one or more letters, digits or -/

/** Random bytes do not compress: their zip, base64-encoded, is over 10,000,000 bytes. */
const OVERSIZED_BYTES = 7_600_000

const configRows: Row[] = [
  {
    name: 'malformed JSON',
    files: { [A]: MALFORMED },
    file: A,
    at: '"entryPoint"',
    field: 'JSON',
    rule: /invalid JSON: a comma is expected/
  },
  ...(['name', 'path', 'entryPoint', 'runtime'] as const).map((field): Row => ({
    name: `missing ${field}`,
    files: a({ [field]: undefined }),
    file: A,
    at: '{',
    field,
    rule: /is required/,
    results: A_FAILED
  })),
  {
    name: 'timeLimit 2 (below 3)',
    files: a({ timeLimit: 2 }),
    file: A,
    at: '"timeLimit"',
    field: 'timeLimit',
    rule: /must be >= 3/
  },
  {
    name: 'timeLimit 301 (above 300)',
    files: a({ timeLimit: 301 }),
    file: A,
    at: '"timeLimit"',
    field: 'timeLimit',
    rule: /must be <= 300/
  },
  {
    name: 'timeLimit 1.5 (not an integer)',
    files: a({ timeLimit: 1.5 }),
    file: A,
    at: '"timeLimit"',
    field: 'timeLimit',
    rule: /must be integer/
  },
  {
    name: 'memoryLimit 127 (below 128)',
    files: a({ memoryLimit: 127 }),
    file: A,
    at: '"memoryLimit"',
    field: 'memoryLimit',
    rule: /must be >= 128/
  },
  {
    name: 'memoryLimit 10241 (above 10240)',
    files: a({ memoryLimit: 10241 }),
    file: A,
    at: '"memoryLimit"',
    field: 'memoryLimit',
    rule: /must be <= 10240/
  },
  {
    name: 'unknown runtime',
    files: a({ runtime: 'nodejs8.x' }),
    file: A,
    at: '"runtime"',
    field: 'runtime',
    rule: /must be one of: nodejs24\.x, .*nodejs16\.x/
  },
  {
    name: 'unknown executionPermission',
    files: a({ executionPermission: 'everyone' }),
    file: A,
    at: '"executionPermission"',
    field: 'executionPermission',
    rule: /must be one of: permissionRequired, allUsers, public/
  },
  {
    name: 'defaultPriority 1.5 (not an integer)',
    files: a({ defaultPriority: 1.5 }),
    file: A,
    at: '"defaultPriority"',
    field: 'defaultPriority',
    rule: /must be integer/
  },
  {
    name: 'retryPolicy without enabled',
    files: a({ retryPolicy: { errorsToRetry: ['CONNECTION_ERROR'] } }),
    file: A,
    at: '"retryPolicy"',
    field: 'retryPolicy.enabled',
    rule: /is required/
  },
  {
    name: 'retryPolicy with an unknown key',
    files: a({ retryPolicy: { enabled: true, maxRetries: 3 } }),
    file: A,
    at: '"maxRetries"',
    field: 'retryPolicy.maxRetries',
    rule: /is not allowed \(unknown property\)/
  },
  {
    name: 'retryPolicy.errorsToRetry holding a number',
    files: a({
      retryPolicy: { enabled: true, errorsToRetry: ['CONNECTION_ERROR', 42] }
    }),
    file: A,
    at: '42',
    field: 'retryPolicy.errorsToRetry.1',
    rule: /must be string/
  },
  {
    name: 'environment value that is not a string',
    files: a({ environment: { MODE: 'fast', LEVEL: 3 } }),
    file: A,
    at: '"LEVEL"',
    field: 'environment.LEVEL',
    rule: /must be string/
  },
  {
    name: 'environment key with a dash',
    files: a({ environment: { 'BAD-KEY': 'x' } }),
    file: A,
    at: '"BAD-KEY"',
    field: 'environment.BAD-KEY',
    rule: /is not a valid name: must start with a letter or _ and hold only letters, digits and _/
  },
  {
    name: 'unknown top-level property',
    files: a({ timeout: 30 }),
    file: A,
    at: '"timeout"',
    field: 'timeout',
    rule: /is not allowed \(unknown property\)/
  },
  {
    name: 'misspelt property, with the known one it is close to',
    files: a({ enviroment: { LEVEL: 'debug' } }),
    file: A,
    at: '"enviroment"',
    field: 'enviroment',
    rule: /is not allowed \(unknown property\); did you mean [`']environment[`']\?/
  },
  ...['my_task', 'my task', 'task*'].map((name): Row => ({
    name: `bad name "${name}"`,
    files: { [A]: taskConfig(name) },
    file: A,
    at: '"name"',
    field: 'name',
    rule: NAME_PATTERN
  })),
  {
    name: 'absolute code path',
    files: a({ path: '/opt/code' }),
    file: A,
    at: '"path"',
    field: 'path',
    rule: /must be relative to the config's folder, not absolute/
  },
  {
    name: 'code path escaping the workspace (../../../outside)',
    outside: { 'outside/index.js': 'exports.handler = () => 0\n' },
    files: a({ path: '../../../outside' }),
    file: A,
    at: '"path"',
    field: 'path',
    rule: /code folder \S*outside must be inside the workspace/
  },
  {
    name: 'code folder that is a symlink to a folder outside the workspace',
    outside: { 'outside/index.js': 'exports.handler = () => 0\n' },
    files: {
      ...a({ path: 'linked' }),
      'tasks/a/linked': { symlink: '../../../outside' }
    },
    file: A,
    at: '"path"',
    field: 'path',
    rule: /code folder tasks\/a\/linked must be inside the workspace \(its real path is \S*outside\)/
  },
  {
    name: 'code folder missing',
    files: a({ path: 'dist' }),
    file: A,
    at: '"path"',
    field: 'path',
    rule: /code folder tasks\/a\/dist not found/
  },
  {
    name: 'code path pointing to a file',
    files: a({ path: 'build/index.js' }),
    file: A,
    at: '"path"',
    field: 'path',
    rule: /code folder tasks\/a\/build\/index\.js points to a file/
  },
  {
    name: `reserved ${MARKER_VARIABLE} in environment`,
    files: a({ environment: { [MARKER_VARIABLE]: '{}' } }),
    file: A,
    at: `"${MARKER_VARIABLE}"`,
    field: `environment.${MARKER_VARIABLE}`,
    rule: /is reserved/
  },
  {
    name: 'executionCredentials without permissions',
    files: a({ executionCredentials: { email: 'runner@example.com' } }),
    file: A,
    at: '"executionCredentials"',
    field: 'executionCredentials.permissions',
    rule: /is required/
  },
  {
    name: 'executionCredentials with a malformed email',
    files: a({
      executionCredentials: { permissions: [], email: 'not-an-email' }
    }),
    file: A,
    at: '"email"',
    field: 'executionCredentials.email',
    rule: /must be an email address/
  },
  {
    name: 'API_OAUTH_TOKEN in environment with executionCredentials',
    files: a({
      environment: { API_OAUTH_TOKEN: 'mine' },
      executionCredentials: { permissions: ['VIEW_TASKS'] }
    }),
    file: A,
    at: '"API_OAUTH_TOKEN"',
    field: 'environment.API_OAUTH_TOKEN',
    rule: /is set by executionCredentials/
  },
  {
    name: 'one execution user email for two tasks',
    files: {
      ...a({
        executionCredentials: { permissions: [], email: 'Shared@Example.com' }
      }),
      [B]: taskConfig('b', {
        executionCredentials: { permissions: [], email: 'shared@example.com' }
      })
    },
    file: A,
    at: '"email"',
    field: 'executionCredentials.email',
    rule: /the same execution user's email as task b \(tasks\/b\/task-config\.json\)/,
    results: [
      [A, 'failed'],
      [B, 'failed']
    ]
  },
  {
    name: 'the same name in two files',
    files: { [B]: taskConfig('a') },
    file: A,
    at: '"name"',
    field: 'name',
    rule: /duplicate task name: also in tasks\/b\/task-config\.json/,
    results: [
      [A, 'failed'],
      [B, 'failed']
    ]
  },
  {
    name: 'symlink inside the code folder pointing outside it',
    files: { 'tasks/a/build/leak.js': { symlink: '../../b/build/index.js' } },
    file: A,
    at: '"path"',
    field: 'path',
    rule: /tasks\/a\/build\/leak\.js: is a symlink to \.\.\/\.\.\/b\/build\/index\.js, which points outside the code folder/,
    // Found while fingerprinting, which the login and listing overlap.
    reads: true
  },
  {
    name: 'request body over 10,000,000 bytes',
    files: () => ({
      'tasks/a/build/blob.bin': { content: randomBytes(OVERSIZED_BYTES) }
    }),
    file: A,
    at: '"path"',
    field: 'path',
    rule: /the request would be [\d,]+ bytes \(a [\d,]+-byte zip, base64-encoded, plus the other fields\), over the API's limit of 10,000,000 bytes/,
    reads: true
  },
  {
    // Under 4,096 bytes as written; over once the marker is added.
    name: 'environment over 4,096 bytes with the marker',
    files: a({ environment: { BIG: 'x'.repeat(4000) } }),
    file: A,
    at: '"environment"',
    field: 'environment',
    rule: new RegExp(
      `the final environment is \\d+ bytes \\(keys and values, ${MARKER_VARIABLE} included\\), over the API's limit of 4096`
    ),
    reads: true
  },
  {
    name: 'unset $NAME variable',
    files: a({ environment: { API_KEY: '$EXH_TEST_UNSET_VARIABLE' } }),
    file: A,
    at: '"API_KEY"',
    field: 'environment.API_KEY',
    rule: /variable EXH_TEST_UNSET_VARIABLE is not set/
  },
  {
    name: 'empty $NAME variable',
    files: a({ environment: { API_KEY: '$EXH_TEST_EMPTY_VARIABLE' } }),
    env: { EXH_TEST_EMPTY_VARIABLE: '' },
    file: A,
    at: '"API_KEY"',
    field: 'environment.API_KEY',
    rule: /variable EXH_TEST_EMPTY_VARIABLE is not set \(or empty\)/
  },
  // Never read, even by a config that is not selected.
  {
    name: '$INPUT_TOKEN-SECRET as the name of an unselected task',
    files: a({ name: '$INPUT_TOKEN-SECRET' }),
    inputs: { tasks: 'b' },
    file: A,
    at: '"name"',
    field: 'name',
    rule: /\$INPUT_TOKEN-SECRET is never substituted here/
  },
  {
    name: '$INPUT_TOKEN-SECRET substituted',
    files: a({ environment: { API_KEY: '$INPUT_TOKEN-SECRET' } }),
    env: { 'INPUT_TOKEN-SECRET': 'must-not-be-read-0123' },
    file: A,
    at: '"API_KEY"',
    field: 'environment.API_KEY',
    rule: /\$INPUT_TOKEN-SECRET is never substituted here/
  },
  {
    name: '$API_OAUTH_CONSUMER_SECRET substituted',
    // The deploying credentials, anywhere but an environment value.
    files: a({ description: '$API_OAUTH_CONSUMER_SECRET' }),
    env: { API_OAUTH_CONSUMER_SECRET: 'must-not-be-read-0123' },
    file: A,
    at: '"description"',
    field: 'description',
    rule: /\$API_OAUTH_CONSUMER_SECRET is never substituted here/
  },
  {
    name: '$GITHUB_TOKEN substituted',
    files: a({ description: '$GITHUB_TOKEN' }),
    env: { GITHUB_TOKEN: 'must-not-be-read-0123' },
    file: A,
    at: '"description"',
    field: 'description',
    rule: /\$GITHUB_TOKEN is never substituted here/
  },
  {
    name: '$ACTIONS_ID_TOKEN_REQUEST_TOKEN substituted',
    files: a({ environment: { API_KEY: '$ACTIONS_ID_TOKEN_REQUEST_TOKEN' } }),
    env: { ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'must-not-be-read-0123' },
    file: A,
    at: '"API_KEY"',
    field: 'environment.API_KEY',
    rule: /\$ACTIONS_ID_TOKEN_REQUEST_TOKEN is never substituted here/
  }
]

const inputRows: Row[] = [
  {
    name: 'host that is an IP address',
    inputs: { host: '10.1.2.3' },
    field: 'host',
    rule: /must be a host name, not an IP address/,
    results: NO_RESULTS
  },
  {
    name: 'malformed host',
    inputs: { host: 'not a host' },
    field: 'host',
    rule: /must be a host name or an http\(s\) URL/,
    results: NO_RESULTS
  },
  {
    name: 'host with another scheme',
    inputs: { host: 'ftp://example.com' },
    field: 'host',
    rule: /must use http or https/,
    results: NO_RESULTS
  },
  ...['0', 'abc'].map((value): Row => ({
    name: `concurrency ${value}`,
    inputs: { concurrency: value },
    field: 'concurrency',
    rule: new RegExp(`must be a whole number of 1 or more, not "${value}"`),
    results: NO_RESULTS
  })),
  {
    name: 'request-timeout 0',
    inputs: { 'request-timeout': '0' },
    field: 'request-timeout',
    rule: /must be a whole number of 1 or more, not "0"/,
    results: NO_RESULTS
  },
  ...(
    [
      ['dry-run', 'yes'],
      ['fail-fast', 'TRUE'],
      ['skip-unchanged', 'yes']
    ] as const
  ).map(([input, value]): Row => ({
    name: `${input} ${value}`,
    inputs: { [input]: value },
    field: input,
    rule: new RegExp(`must be true or false, not "${value}"`),
    results: NO_RESULTS
  })),
  {
    name: 'unknown command',
    inputs: { command: 'deploy' },
    field: 'command',
    rule: /must be one of: sync, list, delete/,
    results: NO_RESULTS
  },
  {
    name: 'delete with neither name nor tasks',
    inputs: { command: 'delete' },
    field: 'name, tasks',
    rule: /command: delete needs a function name \(name\)/,
    results: NO_RESULTS
  },
  {
    name: 'unknown runtime input',
    inputs: { path: A, runtime: 'nodejs8.x' },
    field: 'runtime',
    rule: /must be one of the runtimes: nodejs24\.x/,
    results: NO_RESULTS
  },
  {
    name: 'time-limit input that is not a number',
    inputs: { path: A, 'time-limit': 'abc' },
    field: 'time-limit',
    rule: /must be a whole number, not "abc"/,
    results: NO_RESULTS
  },
  {
    // The input's value breaks the task: that config cannot be synced.
    name: 'time-limit input 301 over a config file',
    inputs: { path: A, 'time-limit': '301' },
    field: 'time-limit',
    rule: /must be <= 300/,
    results: [[A, 'failed']]
  },
  {
    name: 'env input line without =',
    inputs: { path: A, env: 'A=1\nNOVALUE' },
    field: 'env',
    rule: /line 2 must be KEY=value/,
    results: NO_RESULTS
  },
  {
    name: 'unknown execution-permission input',
    inputs: { path: A, 'execution-permission': 'everyone' },
    field: 'execution-permission',
    rule: /must be one of: permissionRequired, allUsers, public/,
    results: NO_RESULTS
  },
  {
    name: 'single-task inputs with a folder of several tasks',
    inputs: { path: 'tasks', 'memory-limit': '1024' },
    field: 'memory-limit',
    rule: /single-task inputs need .path. to name one task-config\.json file/,
    results: ALL_SKIPPED
  },
  {
    name: 'tasks filter matching nothing',
    inputs: { tasks: 'a\nnope-*' },
    field: 'tasks',
    rule: /matched no task: nope-\* \(known: a, b\)/,
    results: ALL_SKIPPED
  },
  {
    name: 'no task-config.json found',
    replaceTasks: true,
    files: { 'README.md': '# no tasks here\n' },
    field: 'path',
    rule: /no task-config\.json found in \. \(searched recursively/,
    results: NO_RESULTS
  },
  {
    name: 'path that does not exist',
    inputs: { path: 'tasks\nnowhere' },
    field: 'path',
    rule: /nowhere does not exist/,
    results: NO_RESULTS
  },
  {
    name: 'path that is a symlink leading out of the workspace',
    outside: { 'outside/x/task-config.json': taskConfig('x') },
    files: { linked: { symlink: '../outside/x' } },
    inputs: { path: 'linked' },
    field: 'path',
    rule: /linked is a symlink to a target outside the workspace/,
    results: NO_RESULTS
  },
  {
    name: 'no credentials outside a dry run',
    noCredentials: true,
    rule: /host \(or API_HOST\) is required outside a dry run/,
    results: NO_RESULTS
  },
  {
    name: 'token-secret missing outside a dry run',
    inputs: { 'token-secret': '' },
    rule: /token-secret \(or API_OAUTH_TOKEN_SECRET\) is required outside a dry run/,
    results: NO_RESULTS
  }
]

describe('bad inputs and configs: exit 1, a precise message, nothing written', () => {
  // Each row has its own fake and workspace: they run a few at a time.
  it.concurrent.for([...configRows, ...inputRows])(
    '$name',
    async (row, { expect }) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(row.outside ?? {})
      const tasks = row.replaceTasks ? {} : twoTasks()
      const extra = typeof row.files === 'function' ? row.files() : row.files
      const files = { ...tasks, ...extra }
      await ws.write(prefixed(files))

      const run = await runInProcess({
        workspace: ws.path(REPO),
        inputs: {
          ...(row.noCredentials ? {} : credentialInputs(fake)),
          ...row.inputs
        },
        env: row.env
      })

      expect(run.exitCode, run.log).toBe(1)
      expect(fake.writeRequests()).toEqual([])
      if (row.reads) {
        expect(fake.requests.map(r => r.method)).toContain('GET')
      } else {
        expect(fake.requests).toEqual([])
      }
      // Soft from here on, so a row reports every way it falls short.
      const message = expectedMessage(row, files)
      expect.soft(run.errors).toMatch(message)
      expect.soft(run.summary).toMatch(message)
      // Written even when the run fails early.
      expect.soft(run.outputs.result).toBeDefined()
      expect
        .soft(run.result.map(r => [r.config, r.status]))
        .toEqual(row.results ?? A_FAILED)
      const failed = run.result.find(r => r.config === row.file)
      if (row.file) expect.soft(failed?.error).toContain(row.field ?? '')
      expect
        .soft(run.outputs.failed)
        .toBe(String(run.result.filter(r => r.status === 'failed').length))
    }
  )

  it('accepts the limits themselves (so the rows above test the boundaries)', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      [`${REPO}/${A}`]: taskConfig('a', { timeLimit: 3, memoryLimit: 128 }),
      [`${REPO}/tasks/a/build/index.js`]: 'x',
      [`${REPO}/${B}`]: taskConfig('b', {
        timeLimit: 300,
        memoryLimit: 10240,
        defaultPriority: -1,
        environment: { _UNDERSCORE_KEY: 'x'.repeat(3000) }
      }),
      [`${REPO}/tasks/b/build/index.js`]: 'x'
    })
    const run = await runInProcess({
      workspace: ws.path(REPO),
      inputs: { ...credentialInputs(fake), 'dry-run': 'true' }
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.map(r => [r.name, r.status])).toEqual([
      ['a', 'planned'],
      ['b', 'planned']
    ])
    expect(fake.writeRequests()).toEqual([])
  })
})

/** `file:line: field: rule` for a config, `field: rule` for an input. */
function expectedMessage(row: Row, files: Record<string, FileSpec>): RegExp {
  const field = row.field
    ? `${escapeRegExp(row.field)}: ${row.rule.source}`
    : row.rule.source
  if (!row.file) return new RegExp(field)
  const line = lineOf(textOf(files, row.file), row.at ?? '')
  return new RegExp(`${escapeRegExp(row.file)}:${line}: ${field}`)
}
