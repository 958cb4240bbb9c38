// The deployment report through the bundle (SPEC section 11): every kind of
// run leaves the folder named by `report-path` with the JSON, the Markdown
// and the checksums; the checksums are the sha256 of the bytes the fake API
// received; no secret reaches the folder; `list` shows the digest of what
// runs.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  verifiedTask
} from '../support/workspace.js'
import type { ActionRun, ReportFolder } from '../support/run-action.js'
import { readMarker } from '../../src/marker.js'
import { expectNowhere, syncWith } from './harness.js'

const validate = new Ajv({ allErrors: true, strict: true }).compile(
  JSON.parse(
    readFileSync(
      new URL('../../schema/deployment-report.schema.json', import.meta.url),
      'utf8'
    )
  ) as object
)

const JSON_FILE = 'exh-tasks-report.json'
const MARKDOWN_FILE = 'exh-tasks-report.md'
const CHECKSUMS_FILE = 'exh-tasks-checksums.txt'

interface ReportJson {
  outcome: string
  dryRun: boolean
  run: { id?: string; commit?: string; startedAt: string; endedAt: string }
  tasks: {
    name?: string
    status: string
    zipSha256?: string
    verify: { executed: boolean; passed?: boolean }
  }[]
  errors: string[]
}

/** The three files, each only the runner's user may read, and the valid JSON. */
function reportOf(run: ActionRun): { folder: ReportFolder; json: ReportJson } {
  const folder = run.report
  if (!folder) throw new Error(`no report-path output:\n${run.log}`)
  expect(Object.keys(folder.files).sort()).toEqual([
    CHECKSUMS_FILE,
    JSON_FILE,
    MARKDOWN_FILE
  ])
  expect(folder.mode).toBe(0o700)
  for (const file of Object.values(folder.files)) expect(file.mode).toBe(0o600)
  expect(run.outputs['checksums-path']).toBe(
    path.join(folder.folder, CHECKSUMS_FILE)
  )
  const json = JSON.parse(folder.files[JSON_FILE]?.text ?? '') as ReportJson
  expect(validate(json), JSON.stringify(validate.errors)).toBe(true)
  return { folder, json }
}

function checksums(run: ActionRun): string {
  return run.report?.files[CHECKSUMS_FILE]?.text ?? ''
}

const sha256 = (bytes: Buffer): string =>
  createHash('sha256').update(bytes).digest('hex')

describe('the deployment report (bundle)', () => {
  it('records a deploy: checksums of the bytes the API received, in the marker and in list, no secret anywhere in the folder', async () => {
    await using fake = await startFakeExh()
    const secrets = {
      value: 'env-value-s3cret-0123456789',
      name: 'secret-task-name-4242',
      readBack: 'read-back-s3cret-value-7777'
    }
    await using ws = await makeWorkspace({
      ...verifiedTask('big', 'exports.handler = async () => ({ ok: true })\n', {
        config: {
          environment: { KEY: '$ENV_SECRET' },
          executionCredentials: { permissions: [] }
        }
      }),
      // Past the spool writer's 1 MiB flush: the hash spans several writes.
      'tasks/big/build/data.txt': randomBytes(1_500_000).toString('base64'),
      'tasks/named/task-config.json': taskConfig('$TASK_NAME'),
      'tasks/named/build/index.js': 'x',
      'tasks/kept/task-config.json': taskConfig('kept', {
        environment: { LOG_LEVEL: 'info' }
      }),
      'tasks/kept/build/index.js': 'y'
    })
    const env = {
      ENV_SECRET: secrets.value,
      TASK_NAME: secrets.name,
      GITHUB_RUN_ID: '4242',
      GITHUB_SHA: 'c0ffee'.repeat(6) + 'c0ff'
    }
    const first = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks', verify: 'true' },
      { env }
    )
    expect(first.exitCode, first.log).toBe(0)
    const { json } = reportOf(first)
    expect(json).toMatchObject({ outcome: 'succeeded', dryRun: false })
    expect(json.run).toMatchObject({ id: '4242', commit: env.GITHUB_SHA })
    expect(json.tasks.find(t => t.name === 'big')?.verify).toEqual({
      executed: true,
      passed: true,
      ms: expect.any(Number) as number
    })
    // One line per upload, of the bytes the fake decoded from the request.
    const received = (name: string): string => {
      const code = fake.functions.get(name)?.code
      if (!code) throw new Error(`${name} not stored`)
      return sha256(code)
    }
    expect(checksums(first).split('\n').sort()).toEqual(
      [
        '',
        `${received('big')}  big.zip`,
        `${received('kept')}  kept.zip`,
        `${received(secrets.name)}  $TASK_NAME.zip`
      ].sort()
    )
    // The marker records it.
    const markerOf = (name: string) =>
      readMarker(
        Object.fromEntries(
          Object.entries(
            fake.functions.get(name)?.environmentVariables ?? {}
          ).map(([key, { value }]) => [key, value])
        )
      )
    expect(markerOf('big')?.zip).toBe(received('big'))

    // A write without new code keeps the digest; nothing uploaded: empty file.
    const keptZip = received('kept')
    await ws.write({
      'tasks/kept/task-config.json': taskConfig('kept', {
        environment: { LOG_LEVEL: 'debug' }
      })
    })
    const stored = fake.functions.get('big')
    if (stored) {
      // A value read back from the function (not in the config): a secret.
      stored.environmentVariables = {
        ...stored.environmentVariables,
        OLD: { value: secrets.readBack }
      }
    }
    const second = await syncWith(fake, ws.dir, { path: 'tasks' }, { env })
    expect(second.exitCode, second.log).toBe(0)
    expect(second.result.find(r => r.name === 'kept')).toMatchObject({
      action: 'update',
      changes: ['environment.LOG_LEVEL']
    })
    expect(checksums(second)).toBe('')
    expect(markerOf('kept')?.zip).toBe(keptZip)

    const list = await syncWith(fake, ws.dir, { command: 'list' }, { env })
    expect(list.exitCode, list.log).toBe(0)
    const functions = JSON.parse(list.outputs.functions ?? '[]') as {
      name: string
      zipSha256?: string
    }[]
    expect(functions.find(f => f.name === 'kept')?.zipSha256).toBe(keptZip)
    expect(list.stdout).toContain(`zip sha256:${keptZip.slice(0, 12)}`)
    expect(list.summary).toContain(`\`sha256:${keptZip.slice(0, 12)}\``)
    expect(reportOf(list).folder.files[JSON_FILE]?.text).toContain(keptZip)

    // Secrets from every source: inputs, $VAR values, a $VAR name, the
    // task user's tokens, a value read back from a function.
    const tokens = [...fake.tokens.values()].flatMap(t => [
      t.token,
      t.tokenSecret
    ])
    const everySecret = [
      fake.consumer.secret,
      fake.admin.tokenSecret,
      fake.admin.token,
      secrets.value,
      secrets.readBack,
      ...tokens.filter(token => token !== fake.admin.token)
    ]
    for (const run of [first, second, list]) expectNowhere(run, everySecret)
    // A name from $VAR may be printed in the log (a valid name the action
    // holds as no secret), and `list` names functions as the API does; a
    // sync's report names it by its reference.
    for (const run of [first, second]) {
      for (const [name, file] of Object.entries(run.report?.files ?? {})) {
        expect(file.text, name).not.toContain(secrets.name)
      }
    }
    expect(first.report?.files[MARKDOWN_FILE]?.text).toContain('`$TASK_NAME`')
  })

  it.each<[string, Record<string, string>, Record<string, string>, string]>([
    ['a dry run', { 'dry-run': 'true' }, {}, 'succeeded'],
    ['a bad input', { concurrency: 'many' }, {}, 'failed'],
    [
      'rejected credentials',
      { 'token-secret': 'not-the-token-secret-0000' },
      {},
      'failed'
    ]
  ])(
    'leaves the folder after %s, checksums empty',
    async (_, inputs, env, outcome) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace({
        'tasks/a/task-config.json': taskConfig('a'),
        'tasks/a/build/index.js': 'x'
      })
      const run = await syncWith(
        fake,
        ws.dir,
        { path: 'tasks', ...inputs },
        { env }
      )
      const { json } = reportOf(run)
      expect(json.outcome, run.log).toBe(outcome)
      expect(checksums(run)).toBe('')
      expect(fake.functions.size).toBe(0)
      expectNowhere(run, [
        fake.consumer.secret,
        fake.admin.tokenSecret,
        'not-the-token-secret-0000'
      ])
    }
  )

  it('leaves the folder after a cancel', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    const started = ws.path('build-started')
    const run = await syncWith(
      fake,
      ws.dir,
      {
        path: 'tasks',
        'build-command': 'touch "$GITHUB_WORKSPACE/build-started"; sleep 30'
      },
      { interruptWhen: () => existsSync(started) }
    )
    expect(run.exitCode, run.log).toBe(1)
    const { json, folder } = reportOf(run)
    expect(json.outcome).toBe('cancelled')
    expect(json.tasks).toMatchObject([{ name: 'a', status: 'skipped' }])
    expect(folder.files[MARKDOWN_FILE]?.text).toContain(
      '**Outcome:** cancelled'
    )
    expect(checksums(run)).toBe('')
  })
})
