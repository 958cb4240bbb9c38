// The pure parts of the reviewed-plan check (SPEC section 10): digests,
// the record's encoding and defensive parsing, the comparison in words,
// which pull request a push merged, which reviews approve, the comment
// after a deploy.
import { describe, expect, it } from 'vitest'
import {
  canonicalJson,
  referencedFields,
  saltedDigest
} from '../src/reviewed-plan/digest.js'
import {
  desiredState,
  type FreshPlan
} from '../src/reviewed-plan/fresh-plan.js'
import {
  findRecord,
  makeRecord,
  MAX_RECORD_LINE,
  parseRecordLine,
  recordLine,
  type PlanRecord,
  type RecordedTask
} from '../src/reviewed-plan/record.js'
import { comparePlans } from '../src/reviewed-plan/compare.js'
import {
  approvalsOf,
  compareWithReviewed,
  findReviewedPlan,
  mergedPull,
  type PullFacts,
  type ReviewFacts,
  type ReviewSource
} from '../src/reviewed-plan/check.js'
import { deployedBody } from '../src/github/reviewed-plan.js'

const D = (n: number): string => String(n).repeat(64).slice(0, 64)

describe('digests', () => {
  it('are the same for the same value whatever the key order, and differ by salt', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 3 } })).toBe(
      '{"a":{"c":3,"d":[2,{"e":0,"f":1}]},"b":1}'
    )
    const text = canonicalJson({ a: 1 })
    expect(saltedDigest('https://x/pull/1', text)).toMatch(/^[0-9a-f]{64}$/)
    expect(saltedDigest('https://x/pull/1', text)).not.toBe(
      saltedDigest('https://x/pull/2', text)
    )
  })

  it('of the desired state ignore the order of permissions', () => {
    const config = (permissions: string[]) => ({
      name: 'a',
      executionCredentials: { permissions }
    })
    expect(desiredState(config(['B', 'A']), 'f')).not.toBe(
      desiredState(config(['A', 'C']), 'f')
    )
    expect(JSON.parse(desiredState(config(['B', 'A']), 'f'))).toMatchObject({
      permissions: ['A', 'B'],
      fingerprint: 'f'
    })
  })

  it.each([
    [{ environment: { A: '$A', B: 'literal' } }, ['environment.A']],
    [{ timeLimit: '$LIMIT', runtime: 'nodejs22.x' }, ['timeLimit']],
    [
      { retryPolicy: { enabled: true, errorsToRetry: ['$E'] } },
      ['retryPolicy']
    ],
    [
      { executionCredentials: { permissions: ['X', '$P'], email: 'a@b.cd' } },
      ['executionCredentials.permissions']
    ],
    [{ executionCredentials: { email: '$EMAIL', permissions: [] } }, []],
    [{ description: 'costs $5' }, []],
    // An `env` input's value may be a secret too: rotating it is no change.
    [
      { environment: { KEY: '(env input)', B: 'literal' } },
      ['environment.KEY'],
      ['KEY']
    ],
    // The same text written in a config is a value like any other.
    [{ environment: { KEY: '(env input)' } }, [], []]
  ])('referenced fields of %j: %j', (written, fields, envInputKeys = []) => {
    expect(referencedFields(written, envInputKeys)).toEqual(fields)
  })
})

const fresh: FreshPlan = {
  host: 'api.example.com',
  inputs: canonicalJson({ tasks: '', prune: 'false' }),
  tasks: [
    {
      name: '$TASK',
      action: 'update',
      changes: ['code'],
      desired: '{"config":1}',
      referenced: []
    }
  ]
}
const about = {
  salt: 'https://github.com/o/r/pull/7',
  head: 'feedc0de'.repeat(5),
  label: 'prod <b>--></b>',
  scope: 'tasks'
}

describe('the record', () => {
  it('reads back what it wrote, and no value can end the HTML comment', () => {
    const record = makeRecord(fresh, about)
    const line = recordLine(record)
    expect(line.slice(4, -3)).not.toMatch(/--|<|>/)
    expect(line).not.toContain('api.example.com')
    expect(parseRecordLine(line)).toEqual(record)
    expect(findRecord(`<!-- marker -->\n${line}\n## title`)).toEqual(record)
  })

  it('digests the time of an outside change, and reads a record without one as none', () => {
    const changedAt = '2026-12-07T17:00:00.000Z'
    const drifted = makeRecord(
      { ...fresh, tasks: fresh.tasks.map(t => ({ ...t, outside: changedAt })) },
      about
    )
    const line = recordLine(drifted)
    expect(line).not.toContain(changedAt)
    expect(parseRecordLine(line)?.tasks[0]?.outside).toBe(
      saltedDigest(about.salt, changedAt)
    )
    // Records written before the field existed: not changed outside.
    const older = parseRecordLine(recordLine(makeRecord(fresh, about)))
    expect(older?.tasks[0]).not.toHaveProperty('outside')
  })

  const valid = JSON.parse(JSON.stringify(makeRecord(fresh, about))) as Record<
    string,
    unknown
  >
  const line = (value: unknown): string =>
    `<!-- exh-tasks-action plan ${JSON.stringify(value)} -->`
  it.each<[string, unknown]>([
    ['another version', { ...valid, v: 2 }],
    ['a head that is no commit', { ...valid, head: 'main' }],
    ['a digest that is no sha256', { ...valid, host: 'abc' }],
    ['tasks that are no list', { ...valid, tasks: {} }],
    [
      'a task without a digest',
      { ...valid, tasks: [{ name: 'a', action: 'create', changes: [] }] }
    ],
    [
      'an unknown action',
      {
        ...valid,
        tasks: [{ name: 'a', action: 'rm -rf', changes: [], desired: D(1) }]
      }
    ],
    [
      'changes that are no strings',
      {
        ...valid,
        tasks: [{ name: 'a', action: 'update', changes: [1], desired: D(1) }]
      }
    ],
    ['an applied run that is no string', { ...valid, applied: { run: 5 } }],
    [
      'an outside change that is no sha256',
      {
        ...valid,
        tasks: [
          {
            name: 'a',
            action: 'update',
            changes: [],
            desired: D(1),
            outside: 'yes'
          }
        ]
      }
    ],
    ['an array', [valid]],
    ['null', null]
  ])('is no record with %s', (_, value) => {
    expect(parseRecordLine(line(value))).toBeUndefined()
  })

  it.each([
    ['not JSON', '<!-- exh-tasks-action plan {"v":1 -->'],
    ['too long', line({ ...valid, pad: 'x'.repeat(MAX_RECORD_LINE) })],
    ['another comment', '<!-- exh-tasks-action label= scope=tasks -->'],
    ['cut off', line(valid).slice(0, -4)]
  ])('is no record when %s', (_, text) => {
    expect(parseRecordLine(text)).toBeUndefined()
  })
})

const task = (
  name: string,
  action: string,
  changes: string[] = [],
  desired = D(1),
  outside?: string
): RecordedTask => ({
  name,
  action,
  changes,
  desired,
  ...(outside ? { outside } : {})
})
const plan = (tasks: RecordedTask[], extra: Partial<PlanRecord> = {}) => ({
  v: 1,
  head: 'feedc0de'.repeat(5),
  label: '',
  scope: 'tasks',
  host: D(7),
  inputs: D(8),
  tasks,
  ...extra
})

describe('comparing with the reviewed plan', () => {
  it.each<[string, PlanRecord, PlanRecord, Record<string, string[]>, string[]]>(
    [
      [
        'the same plan',
        plan([task('a', 'update', ['code']), task('old', 'delete')]),
        plan([task('a', 'update', ['code']), task('old', 'delete')]),
        {},
        []
      ],
      [
        'more changed fields',
        plan([task('report-x', 'update', ['code'])]),
        plan([task('report-x', 'update', ['code', 'environment.KEY'])]),
        {},
        ['report-x: reviewed update [code]; now update [code, environment.KEY]']
      ],
      [
        'a rotated secret only (its field is a reference)',
        plan([task('a', 'unchanged')]),
        plan([task('a', 'update', ['environment.KEY'])]),
        { a: ['environment.KEY'] },
        []
      ],
      [
        'a rotated secret beside a real change',
        plan([task('a', 'update', ['code'])]),
        plan([task('a', 'update', ['code', 'environment.KEY'])]),
        { a: ['environment.KEY'] },
        []
      ],
      [
        'a task not reviewed',
        plan([task('a', 'create')]),
        plan([task('a', 'create'), task('new-task', 'create')]),
        {},
        ['new-task: not in the reviewed plan']
      ],
      [
        'a delete no longer planned',
        plan([task('old', 'delete')]),
        plan([task('old', 'unchanged')]),
        {},
        ['old: reviewed delete; now unchanged']
      ],
      [
        'a reviewed task gone',
        plan([task('a', 'create'), task('gone', 'create')]),
        plan([task('a', 'create')]),
        {},
        ['gone: reviewed create; now not in the plan']
      ],
      [
        'another desired state',
        plan([task('a', 'create')]),
        plan([task('a', 'create', [], D(2))]),
        {},
        [
          'a: reviewed create; now create (its config or code is not the one reviewed)'
        ]
      ],
      [
        'code replaced outside since the review (the marker kept: same steps and digest)',
        plan([task('a', 'unchanged')]),
        plan([task('a', 'unchanged', [], D(1), D(5))]),
        {},
        ['a: changed outside since the review']
      ],
      [
        'changed outside already at the review, and not since',
        plan([task('a', 'update', ['code'], D(1), D(5))]),
        plan([task('a', 'update', ['code'], D(1), D(5))]),
        {},
        []
      ],
      [
        'changed outside at the review, and again since',
        plan([task('a', 'update', ['code'], D(1), D(5))]),
        plan([task('a', 'update', ['code'], D(1), D(6))]),
        {},
        ['a: changed outside since the review']
      ],
      [
        'changed outside at the review, redeployed since by someone else',
        plan([task('a', 'update', ['code'], D(1), D(5))]),
        plan([task('a', 'unchanged')]),
        {},
        ['a: reviewed update [code]; now unchanged']
      ],
      [
        'another host and other inputs',
        plan([]),
        plan([], { host: D(3), inputs: D(4) }),
        {},
        [
          "the host differs from the reviewed plan's",
          'the inputs that choose the tasks differ'
        ]
      ]
    ]
  )('%s', (_, reviewed, now, referenced, lines) => {
    expect(
      comparePlans(reviewed, now, new Map(Object.entries(referenced)))
    ).toEqual(lines)
  })
})

describe('comparing in a re-run of the run that applied the plan', () => {
  const reviewed = plan([
    task('a', 'create'),
    task('b', 'update', ['code']),
    task('old', 'delete')
  ])
  it.each<[string, PlanRecord, boolean, string[]]>([
    [
      'what it wrote is no difference',
      plan([task('a', 'unchanged'), task('b', 'unchanged')]),
      true,
      []
    ],
    [
      'in another run it is',
      plan([task('a', 'unchanged'), task('b', 'update', ['code'])]),
      false,
      [
        'a: reviewed create; now unchanged',
        'old: reviewed delete; now not in the plan'
      ]
    ],
    [
      'a function changed outside since the review still is',
      plan([task('a', 'unchanged'), task('b', 'unchanged', [], D(1), D(5))]),
      true,
      ['b: changed outside since the review']
    ],
    [
      'other code still is',
      plan([task('a', 'unchanged', [], D(2)), task('b', 'unchanged')]),
      true,
      [
        'a: reviewed create; now unchanged (its config or code is not the one reviewed)'
      ]
    ]
  ])('%s', (_, now, resumed, lines) => {
    expect(comparePlans(reviewed, now, new Map(), resumed)).toEqual(lines)
  })
})

const pull = (over: Partial<PullFacts> = {}): PullFacts => ({
  number: 7,
  url: 'https://github.com/o/r/pull/7',
  head: 'ab'.repeat(20),
  author: 'alice',
  base: 'main',
  mergedAt: '2026-01-02T00:00:00Z',
  mergeCommit: 'm'.repeat(40),
  ...over
})
const push = { sha: 'm'.repeat(40), ref: 'refs/heads/main' }

describe('the pull request a push merged', () => {
  it.each<[string, PullFacts[], string]>([
    [
      'one merged as the commit',
      [
        pull(),
        pull({ number: 8, mergeCommit: undefined, mergedAt: undefined })
      ],
      'pull #7'
    ],
    ['none (a direct push)', [], 'was it pushed directly?'],
    [
      'one open with the commit as head',
      [pull({ mergedAt: undefined })],
      'was it pushed directly?'
    ],
    [
      'one merged into another branch',
      [pull({ base: 'release' })],
      'was it pushed directly?'
    ],
    [
      'one merged as another commit',
      [pull({ mergeCommit: 'x'.repeat(40) })],
      'was it pushed directly?'
    ],
    [
      'two',
      [pull(), pull({ number: 9 })],
      'several pull requests were merged as mmmmmmm: #7, #9'
    ]
  ])('%s', (_, pulls, expected) => {
    const found = mergedPull(pulls, push)
    expect(
      'pull' in found ? `pull #${found.pull.number}` : found.failure
    ).toContain(expected)
  })
})

describe('approvals', () => {
  const review = (
    user: string,
    state: string,
    commit = 'ab'.repeat(20),
    association = 'MEMBER'
  ): ReviewFacts => ({ user, state, commit, association })
  it.each<[string, ReviewFacts[], string[]]>([
    ['by another, on the head', [review('bob', 'APPROVED')], ['bob']],
    ['by the author', [review('alice', 'APPROVED')], []],
    [
      'by the owner, a member and a collaborator',
      [
        review('olga', 'APPROVED', undefined, 'OWNER'),
        review('bob', 'APPROVED', undefined, 'MEMBER'),
        review('cleo', 'APPROVED', undefined, 'COLLABORATOR')
      ],
      ['olga', 'bob', 'cleo']
    ],
    [
      'by someone without write access (a public repository)',
      [
        review('mallory', 'APPROVED', undefined, 'NONE'),
        review('carl', 'APPROVED', undefined, 'CONTRIBUTOR'),
        review('fay', 'APPROVED', undefined, 'FIRST_TIME_CONTRIBUTOR'),
        review('tim', 'APPROVED', undefined, 'FIRST_TIMER'),
        review('max', 'APPROVED', undefined, 'MANNEQUIN')
      ],
      []
    ],
    [
      'with no association given (GitHub said nothing)',
      [review('bob', 'APPROVED', undefined, '')],
      []
    ],
    [
      'with an association in other case',
      [review('bob', 'APPROVED', undefined, 'member')],
      []
    ],
    ['on an older commit', [review('bob', 'APPROVED', 'o'.repeat(40))], []],
    ['a comment only', [review('bob', 'COMMENTED')], []],
    [
      'later dismissed',
      [review('bob', 'APPROVED'), review('bob', 'DISMISSED')],
      []
    ],
    [
      'changes requested, then approved',
      [review('bob', 'CHANGES_REQUESTED'), review('bob', 'APPROVED')],
      ['bob']
    ],
    [
      'approved, then a comment',
      [review('bob', 'APPROVED'), review('bob', 'COMMENTED')],
      ['bob']
    ]
  ])('%s', (_, reviews, users) => {
    expect(approvalsOf(reviews, pull()).map(r => r.user)).toEqual(users)
  })
})

describe('an applied record', () => {
  const freshPlan: FreshPlan = { ...fresh, tasks: [] }
  const record = (run?: string): PlanRecord => ({
    ...makeRecord(freshPlan, {
      ...about,
      salt: pull().url,
      head: pull().head,
      label: ''
    }),
    ...(run ? { applied: { run } } : {})
  })
  // Our own port, answered from memory (GitHub's side is tested over HTTP in test/e2e).
  const source = (body: string): ReviewSource => ({
    pullsOf: () => Promise.resolve([pull()]),
    ourComment: () => Promise.resolve({ id: 1, body }),
    reviews: () => Promise.resolve([])
  })
  const context = {
    event: 'push',
    ...push,
    runId: '100',
    label: '',
    scope: 'tasks',
    requireApproval: false
  }
  it.each([
    ['not applied yet', undefined, true],
    ['applied by this run (a re-run attempt)', '100', true],
    ['applied by another run', '99', false]
  ])('%s', async (_, run, matched) => {
    const body = `<!-- m -->\n${recordLine(record(run))}\n## title`
    const search = await findReviewedPlan(source(body), context)
    const outcome =
      'refused' in search
        ? search.refused
        : compareWithReviewed(search.found, freshPlan, context)
    expect(outcome.matched).toBe(matched)
    if (!matched) expect(outcome.failureReason).toBe('plan-missing')
  })
})

describe('the comment after a deploy', () => {
  it('applies the record and says where and what was deployed, under the title', () => {
    const record = makeRecord(fresh, about)
    const body = `<!-- m -->\n${recordLine(record)}\n## Extra Horizon tasks: planned\n\nrows`
    const after = deployedBody(body, record, {
      runId: '42',
      runUrl: 'https://github.com/o/r/actions/runs/42',
      sha: 'abcdef1234567890',
      failed: false
    })
    const lines = after.split('\n')
    expect(parseRecordLine(lines[1] ?? '')?.applied).toEqual({ run: '42' })
    expect(lines.slice(2, 5)).toEqual([
      '## Extra Horizon tasks: planned',
      '',
      'Deployed in [run 42](<https://github.com/o/r/actions/runs/42>) at `abcdef1`'
    ])
  })

  it("replaces a re-run attempt's line, and leaves other lines under the title", () => {
    const record = makeRecord(fresh, about)
    const deployed = { runId: '42', sha: 'abcdef1234567890' }
    const body = `<!-- m -->\n${recordLine(record)}\n## title\n\nDeployed by hand\n\nrows`
    const failed = deployedBody(body, record, { ...deployed, failed: true })
    const again = deployedBody(failed, record, { ...deployed, failed: false })
    expect(again.split('\n').slice(2)).toEqual([
      '## title',
      '',
      'Deployed in run 42 at `abcdef1`',
      '',
      'Deployed by hand',
      '',
      'rows'
    ])
  })
})
