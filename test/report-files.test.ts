// The deployment report's pure builder (report/report-files.ts): the JSON
// document, its Markdown and the checksums, each document checked against
// the shipped schema with ajv.
import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { describe, expect, it } from 'vitest'
import {
  ACTION_VERSION,
  buildDeploymentReport,
  checksumsText,
  redactReport,
  renderReportMarkdown,
  runFacts,
  type DeploymentReport,
  type ReportContext
} from '../src/report/report-files.js'
import type { RunReport } from '../src/report/summary.js'
import type { TaskResult } from '../src/report/result.js'
import { runReport as sharedRunReport } from './support/run-report.js'

const schema = JSON.parse(
  readFileSync(
    new URL('../schema/deployment-report.schema.json', import.meta.url),
    'utf8'
  )
) as object
const validate = new Ajv({ allErrors: true, strict: true }).compile(schema)

function expectValid(doc: DeploymentReport): void {
  const valid = validate(doc)
  expect(validate.errors ?? []).toEqual([])
  expect(valid).toBe(true)
}

/** A matched check's evidence: the report keeps it as given. */
const REVIEWED = {
  pullRequest: {
    number: 7,
    url: 'https://github.com/acme/tasks/pull/7',
    head: 'e'.repeat(40),
    approvals: [
      {
        user: 'reviewer',
        submittedAt: '2026-12-07T15:00:00Z',
        commit: 'e'.repeat(40)
      }
    ]
  },
  reviewedPlan: { required: true, matched: true, failureReason: '' }
}

const SHA_A = 'a'.repeat(64)
const SHA_B = '0123456789abcdef'.repeat(4)
const START = new Date('2026-12-07T16:00:00.000Z')
const END = new Date('2026-12-07T16:00:42.500Z')

const ENV = {
  GITHUB_RUN_ID: '123456',
  GITHUB_RUN_ATTEMPT: '2',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_REPOSITORY: 'acme/tasks',
  GITHUB_ACTOR: 'octocat',
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: 'f'.repeat(40)
}

function runReport(
  results: TaskResult[],
  fields: Partial<RunReport> = {}
): RunReport {
  return sharedRunReport(results, {
    durationMs: 1,
    host: 'api.example.com',
    ...fields
  })
}

function context(fields: Partial<ReportContext> = {}): ReportContext {
  return { run: runFacts(ENV, START, END), cancelled: false, ...fields }
}

const created: TaskResult = {
  name: 'report-a',
  config: 'tasks/a/task-config.json',
  action: 'create',
  status: 'done',
  fingerprint: 'abc123',
  zipSha256: SHA_A,
  verified: true,
  verifyMs: 120,
  bytes: 10,
  durationMs: 5
}
const updatedNoCode: TaskResult = {
  name: '$TASK_NAME',
  config: 'tasks/b/task-config.json',
  action: 'update',
  status: 'done',
  changes: ['timeLimit', 'environment.KEY'],
  fingerprint: 'def456'
}
const planned: TaskResult = { ...created, status: 'planned' }
delete planned.zipSha256
delete planned.verified
delete planned.verifyMs
const deleted: TaskResult = { name: 'old', action: 'delete', status: 'done' }

describe('runFacts', () => {
  it.each([
    ['a full run', ENV, 'https://github.com/acme/tasks/actions/runs/123456'],
    [
      'a server URL with a path (only its origin)',
      { ...ENV, GITHUB_SERVER_URL: 'https://ghe.example.com/x?y' },
      'https://ghe.example.com/acme/tasks/actions/runs/123456'
    ],
    [
      'a run id that is no number',
      { ...ENV, GITHUB_RUN_ID: '1/../x' },
      undefined
    ],
    [
      'a repository that is no owner/name',
      { ...ENV, GITHUB_REPOSITORY: 'acme/tasks/../../evil' },
      undefined
    ],
    ['no runner variables', {}, undefined]
  ])('links the run only from valid parts: %s', (_, env, url) => {
    expect(runFacts(env, START, END).url).toBe(url)
  })

  it('keeps the runner values and both times', () => {
    expect(runFacts(ENV, START, END)).toEqual({
      id: '123456',
      attempt: '2',
      url: 'https://github.com/acme/tasks/actions/runs/123456',
      actor: 'octocat',
      event: 'push',
      repository: 'acme/tasks',
      ref: 'refs/heads/main',
      commit: 'f'.repeat(40),
      startedAt: '2026-12-07T16:00:00.000Z',
      endedAt: '2026-12-07T16:00:42.500Z'
    })
  })
})

describe('buildDeploymentReport', () => {
  it.each<
    [string, RunReport, Partial<ReportContext>, Partial<DeploymentReport>]
  >([
    [
      'a deploy',
      runReport([created, updatedNoCode, deleted], { label: 'staging' }),
      {},
      {
        outcome: 'succeeded',
        host: 'api.example.com',
        label: 'staging',
        totals: {
          create: 1,
          update: 1,
          unchanged: 0,
          delete: 1,
          validate: 0,
          failed: 0,
          skipped: 0
        },
        deletes: [{ name: 'old', status: 'done' }]
      }
    ],
    [
      'a dry run',
      runReport([planned], { dryRun: true }),
      {},
      { outcome: 'succeeded', dryRun: true }
    ],
    [
      'a failure before planning (no task, an error)',
      runReport([], { errors: ['token: is required'], host: undefined }),
      {},
      { outcome: 'failed', tasks: [], errors: ['token: is required'] }
    ],
    [
      'a cancelled run',
      runReport(
        [{ name: 'a', status: 'skipped', error: 'not started: cancelled' }],
        {
          errors: ['the run was cancelled (SIGINT/SIGTERM)']
        }
      ),
      { cancelled: true },
      { outcome: 'cancelled' }
    ],
    [
      'a host the summary does not name ($API_HOST masked it)',
      runReport([created], { hostMasked: true }),
      {},
      {}
    ],
    [
      'the reviewed-plan check and its pull request (issue 25 fills them)',
      runReport([created]),
      REVIEWED,
      REVIEWED
    ],
    [
      'command list (the functions and the digests they run)',
      runReport([], {
        command: 'list',
        functions: [
          {
            name: 'report-a',
            description: 'free text from the API',
            repository: 'acme/tasks',
            commit: 'f'.repeat(40),
            deployedAt: '2026-12-07T16:00:01Z',
            zipSha256: SHA_A,
            drift: 'none',
            verify: 'failed'
          }
        ]
      }),
      {},
      {
        functions: [
          {
            name: 'report-a',
            repository: 'acme/tasks',
            commit: 'f'.repeat(40),
            deployedAt: '2026-12-07T16:00:01Z',
            zipSha256: SHA_A,
            drift: 'none',
            verify: 'failed'
          }
        ]
      }
    ]
  ])('%s', (_, report, extra, expected) => {
    const doc = buildDeploymentReport(report, context(extra))
    expectValid(doc)
    expect(doc).toMatchObject(expected)
    expect(doc.host).toBe(report.hostMasked ? undefined : report.host)
    expect(doc.action).toEqual({
      name: 'exh-tasks-action',
      version: ACTION_VERSION
    })
  })

  it('records each task as the schema has it, verify outcome included', () => {
    const doc = buildDeploymentReport(
      runReport([created, updatedNoCode, planned]),
      context()
    )
    expectValid(doc)
    expect(doc.tasks).toEqual([
      {
        name: 'report-a',
        config: 'tasks/a/task-config.json',
        action: 'create',
        status: 'done',
        fingerprint: 'abc123',
        zipSha256: SHA_A,
        verify: { executed: true, passed: true, ms: 120 }
      },
      {
        name: '$TASK_NAME',
        config: 'tasks/b/task-config.json',
        action: 'update',
        status: 'done',
        changes: ['timeLimit', 'environment.KEY'],
        fingerprint: 'def456',
        verify: { executed: false }
      },
      {
        name: 'report-a',
        config: 'tasks/a/task-config.json',
        action: 'create',
        status: 'planned',
        fingerprint: 'abc123',
        verify: { executed: false }
      }
    ])
  })

  it('without a reviewed-plan check, none was required', () => {
    const doc = buildDeploymentReport(runReport([]), context())
    expect(doc.reviewedPlan).toEqual({ required: false, failureReason: '' })
    expect(doc).not.toHaveProperty('pullRequest')
  })

  it('the schema refuses what the report must never hold', () => {
    const doc = buildDeploymentReport(runReport([created]), context())
    const withValue = {
      ...doc,
      tasks: [{ ...doc.tasks[0], environment: { KEY: 'value' } }]
    }
    expect(validate(withValue)).toBe(false)
    expect(
      validate({ ...doc, tasks: [{ ...doc.tasks[0], zipSha256: 'x' }] })
    ).toBe(false)
  })
})

describe('checksumsText', () => {
  it.each<[string, TaskResult[], string]>([
    ['nothing uploaded: empty', [updatedNoCode, planned, deleted], ''],
    ['one upload', [created, updatedNoCode], `${SHA_A}  report-a.zip\n`],
    [
      'a name from $VAR by its reference',
      [created, { ...updatedNoCode, zipSha256: SHA_B }],
      `${SHA_A}  report-a.zip\n${SHA_B}  $TASK_NAME.zip\n`
    ]
  ])('%s', (_, results, text) => {
    const doc = buildDeploymentReport(runReport(results), context())
    expect(checksumsText(doc)).toBe(text)
  })
})

describe('redactReport', () => {
  it('redacts every free text and leaves the digests whole', () => {
    const secret = 'abcd'
    const doc = buildDeploymentReport(
      runReport(
        [
          {
            ...created,
            fingerprint: `${secret}00`,
            zipSha256: `${secret}${'0'.repeat(60)}`,
            error: `failed with ${secret}`
          }
        ],
        { label: `label-${secret}`, warnings: [`w ${secret}`] }
      ),
      context({ run: { ...runFacts(ENV, START, END), ref: `refs/${secret}` } })
    )
    const redacted = redactReport(doc, text => text.replaceAll(secret, '***'))
    expect(redacted.tasks[0]).toMatchObject({
      fingerprint: `${secret}00`,
      zipSha256: `${secret}${'0'.repeat(60)}`,
      error: 'failed with ***'
    })
    expect(redacted).toMatchObject({
      label: 'label-***',
      warnings: ['w ***'],
      run: { ref: 'refs/***' }
    })
  })
})

describe('renderReportMarkdown', () => {
  const hostile = 'x`|<img src=x>@team\n# heading [link](https://evil)'

  it('escapes every untrusted text: no HTML, heading, link or mention', () => {
    const doc = buildDeploymentReport(
      runReport(
        [
          {
            ...created,
            name: hostile,
            config: hostile,
            changes: [`environment.${hostile}`],
            error: hostile
          }
        ],
        { label: hostile, errors: [hostile], warnings: [hostile] }
      ),
      context({
        run: {
          ...runFacts(
            { ...ENV, GITHUB_ACTOR: hostile, GITHUB_REF: hostile },
            START,
            END
          )
        }
      })
    )
    const markdown = renderReportMarkdown(doc)
    // Untrusted text only ever stands inside code spans, one line each.
    const outsideSpans = markdown.replace(/(`+)(.*?[^`])\1(?!`)/g, '')
    expect(outsideSpans).not.toContain('<img')
    expect(outsideSpans).not.toContain('](https://evil')
    expect(markdown).not.toMatch(/^# heading/m)
    expect(markdown).not.toMatch(/@team/)
    // The one link is the run's.
    expect(outsideSpans.match(/\]\(/g)).toHaveLength(1)
    expect(markdown).toContain(
      '](<https://github.com/acme/tasks/actions/runs/123456>)'
    )
  })

  it.each<[string, TaskResult[], Partial<ReportContext>, string[]]>([
    [
      'a deploy: digests, verify',
      [created, updatedNoCode],
      {},
      [
        '**Outcome:** succeeded (command sync)',
        `\`${SHA_A}\``,
        'passed (120 ms)',
        '`$TASK_NAME`',
        '**Reviewed plan:** not required',
        '**Totals:** create 1, update 1'
      ]
    ],
    [
      'a cancelled run',
      [{ name: 'a', status: 'skipped', error: 'not started: cancelled' }],
      { cancelled: true },
      ['**Outcome:** cancelled', 'skipped 1']
    ],
    [
      'a failed reviewed-plan check',
      [],
      {
        reviewedPlan: {
          required: true,
          matched: false,
          failureReason: 'plan-changed'
        }
      },
      ['**Reviewed plan:** required, did not match (`plan-changed`)']
    ]
  ])('%s', (_, results, extra, lines) => {
    const markdown = renderReportMarkdown(
      buildDeploymentReport(runReport(results), context(extra))
    )
    for (const line of lines) expect(markdown).toContain(line)
  })
})

describe('ACTION_VERSION', () => {
  it('is package.json version', () => {
    const pkg = JSON.parse(
      readFileSync(new URL('../package.json', import.meta.url), 'utf8')
    ) as { version: string }
    expect(ACTION_VERSION).toBe(pkg.version)
  })
})
