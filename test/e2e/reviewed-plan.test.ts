// `reviewed-plan: required` through the bundle (SPEC section 10): a pull
// request planned, approved and merged deploys; every way the plan can go
// wrong fails before any write, with its `failure-reason`.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  type Workspace
} from '../support/workspace.js'
import { startFakeGitHub, type FakeGitHub } from '../support/fake-github.js'
import { expectNowhere, pullRequestEnv, pushEnv, syncWith } from './harness.js'
import { fakeWithWorkspace } from '../support/with-fake.js'
import type { ActionRun, RunOptions } from '../support/run-action.js'
import { findRecord } from '../../src/reviewed-plan/record.js'

const TOKEN = 'ghs_fake_github_token_0123456789'
const HEAD = 'feedc0de'.repeat(5)
const MERGE = 'a11ce0de'.repeat(5)
const SECRET = 'rotating-secret-value-0001'

/** The deployment report's evidence of the check (SPEC section 11). */
function evidence(run: ActionRun): {
  pullRequest?: unknown
  reviewedPlan: unknown
} {
  const text = run.report?.files['exh-tasks-report.json']?.text
  if (!text) throw new Error(`no report:\n${run.log}`)
  return JSON.parse(text) as { pullRequest?: unknown; reviewedPlan: unknown }
}

const base = {
  path: 'tasks',
  label: 'production',
  'github-token': TOKEN
}
const plan = { ...base, 'dry-run': 'true', 'comment-on-pr': 'true' }
const deploy = { ...base, 'reviewed-plan': 'required' }

const files = {
  'tasks/a/task-config.json': taskConfig('a', {
    environment: { SECRET: '$MY_SECRET', MODE: 'live' }
  }),
  'tasks/a/build/index.js': 'exports.handler = async () => 1\n'
}

async function planOn(
  fake: FakeExh,
  ws: Workspace,
  gh: FakeGitHub,
  env: Record<string, string> = {}
): Promise<ActionRun> {
  const run = await syncWith(fake, ws.dir, plan, {
    env: {
      MY_SECRET: SECRET,
      ...(await pullRequestEnv(ws, gh.url, 7, gh.pulls[0]?.head.sha)),
      ...env
    }
  })
  expect(run.exitCode, run.log).toBe(0)
  return run
}

/** A deploy before the pull request, with the secret's first value. */
async function deployedBefore(fake: FakeExh, ws: Workspace): Promise<void> {
  const first = await syncWith(fake, ws.dir, base, {
    env: { MY_SECRET: SECRET }
  })
  expect(first.exitCode, first.log).toBe(0)
}

/**
 * The pull request planned on `files` (its tasks deployed before, when
 * asked) and merged as MERGE: what most deploys here start from.
 */
async function mergedPlan(options: { deployedFirst?: boolean } = {}) {
  const setup = await fakeWithWorkspace(files)
  const gh = await startFakeGitHub('org', 'tasks-repo', 7)
  const dispose = async (): Promise<void> => {
    await gh[Symbol.asyncDispose]()
    await setup[Symbol.asyncDispose]()
  }
  try {
    if (options.deployedFirst) await deployedBefore(setup.fake, setup.ws)
    await planOn(setup.fake, setup.ws, gh)
  } catch (error) {
    await dispose()
    throw error
  }
  gh.merge(MERGE)
  return { fake: setup.fake, ws: setup.ws, gh, [Symbol.asyncDispose]: dispose }
}

async function deployOn(
  fake: FakeExh,
  ws: Workspace,
  gh: FakeGitHub,
  options: {
    inputs?: Record<string, string>
    env?: Record<string, string>
    sha?: string
    runId?: string
    /** How the runner runs it (an interrupt, say). */
    run?: Partial<RunOptions>
  } = {}
): Promise<ActionRun> {
  return syncWith(
    fake,
    ws.dir,
    { ...deploy, ...options.inputs },
    {
      ...options.run,
      env: {
        MY_SECRET: SECRET,
        ...(await pushEnv(ws, gh.url, options.sha ?? MERGE, options.runId)),
        ...options.env
      }
    }
  )
}

describe('reviewed-plan: required', () => {
  it('deploys a pull request planned, approved and merged, says so in its comment, and no other run can reuse the plan', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace(files)
    await planOn(fake, ws, gh)
    const comment = gh.comments[0]?.body ?? ''
    expect(comment.split('\n')[1]).toMatch(/^<!-- exh-tasks-action plan \{/)
    expect(comment).not.toContain(SECRET)
    gh.addReview('bob', 'APPROVED')
    gh.merge(MERGE)

    const run = await deployOn(fake, ws, gh, {
      inputs: { 'require-approval': 'true' },
      runId: '5001'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.outputs['failure-reason']).toBe('')
    expect(run.log).toContain(
      'reviewed-plan: the plan matches the one reviewed on pull request #7 at feedc0d, approved by bob'
    )
    expect(run.log).toContain('marked the reviewed plan deployed by run 5001')
    expect(run.summary).toContain(
      'Reviewed plan: deploys the plan reviewed on pull request #7 at `feedc0d`, approved by `bob`.'
    )
    expect(run.result.map(r => [r.name, r.action, r.status])).toEqual([
      ['a', 'create', 'done']
    ])
    expect(fake.functions.get('a')?.environmentVariables.SECRET?.value).toBe(
      SECRET
    )
    const deployed = gh.comments[0]?.body ?? ''
    expect(deployed).toMatch(
      /\nDeployed in \[run 5001\]\(<https:\/\/github\.com\/org\/tasks-repo\/actions\/runs\/5001>\) at `a11ce0d`\n/
    )
    expect(deployed.split('\n')[1]).toContain('"applied":{"run":"5001"}')
    expect(evidence(run)).toMatchObject({
      pullRequest: {
        number: 7,
        url: 'https://github.com/org/tasks-repo/pull/7',
        head: HEAD,
        approvals: [{ user: 'bob', commit: HEAD }]
      },
      reviewedPlan: { required: true, matched: true, failureReason: '' }
    })
    expectNowhere(run, [SECRET], gh)

    fake.clearLog()
    const again = await deployOn(fake, ws, gh, { runId: '5002' })
    expect(again.exitCode).toBe(1)
    expect(again.outputs['failure-reason']).toBe('plan-missing')
    expect(again.log).toContain('was deployed already, by run 5001')
    expect(again.log).toContain('only a re-run of it deploys the plan')
    expect(fake.writeRequests()).toEqual([])
  })

  it('lets a re-run attempt of the run that applied the plan finish it', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace({
      ...files,
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/b/build/index.js': 'exports.handler = async () => 2\n'
    })
    await planOn(fake, ws, gh)
    gh.merge(MERGE)
    // One task at a time: the first create (a) fails, b is created.
    fake.fault({ method: 'POST', path: '/tasks/v1/functions/', status: 400 })
    const inputs = { concurrency: '1' }
    const failed = await deployOn(fake, ws, gh, { inputs, runId: '6001' })
    expect(failed.exitCode).toBe(1)
    expect(failed.result.map(r => [r.name, r.status])).toEqual([
      ['a', 'failed'],
      ['b', 'done']
    ])
    expect(gh.comments[0]?.body).toContain('Deploy failed in [run 6001]')
    expect(failed.log).toContain(
      "the plan is this run's, and only a re-run of it (Re-run jobs) deploys it"
    )
    const rerun = await deployOn(fake, ws, gh, { inputs, runId: '6001' })
    expect(rerun.exitCode, rerun.log).toBe(0)
    expect(rerun.result.map(r => [r.name, r.action, r.status])).toEqual([
      ['a', 'create', 'done'],
      ['b', 'unchanged', 'done']
    ])
    const comment = gh.comments[0]?.body ?? ''
    expect(comment).toContain('Deployed in [run 6001]')
    // The re-run's line replaces the first attempt's.
    expect(comment).not.toContain('Deploy failed')
  })

  it('lets a re-run attempt finish a deploy whose runner died after its first write', async () => {
    await using setup = await mergedPlan()
    const { fake, gh, ws } = setup
    // The create is held until the runner is killed, then acts: the
    // function is written, and the run never learns it.
    let release = (): void => {}
    fake.fault({
      method: 'POST',
      path: '/tasks/v1/functions/',
      hold: new Promise<void>(resolve => (release = resolve))
    })
    const died = await deployOn(fake, ws, gh, {
      runId: '7001',
      run: {
        interruptWhen: () => fake.pendingFaults().length === 0,
        interruptSignal: 'SIGKILL'
      }
    })
    release()
    expect(died.exitCode).toBe(null)
    await vi.waitFor(() => {
      expect(fake.functions.has('a')).toBe(true)
    })
    // The record was marked applied by run 7001 before the create.
    expect(gh.comments[0]?.body.split('\n')[1]).toContain(
      '"applied":{"run":"7001"}'
    )
    const rerun = await deployOn(fake, ws, gh, { runId: '7001' })
    expect(rerun.exitCode, rerun.log).toBe(0)
    expect(rerun.result.map(r => [r.name, r.action, r.status])).toEqual([
      ['a', 'unchanged', 'done']
    ])
    expect(gh.comments[0]?.body).toContain('Deployed in [run 7001]')
  })

  it('writes nothing when it cannot mark the plan as being deployed', async () => {
    await using setup = await mergedPlan()
    const { fake, gh, ws } = setup
    gh.failWrites(1)
    fake.clearLog()
    const run = await deployOn(fake, ws, gh, { runId: '8001' })
    expect(run.exitCode).toBe(1)
    expect(run.log).toContain(
      'reviewed-plan: could not mark the plan of pull request #7 as deployed by run 8001 before the first write'
    )
    expect(run.outputs['failure-reason']).toBe('')
    expect(fake.writeRequests()).toEqual([])
    // Nothing claimed: the next run may deploy it.
    const next = await deployOn(fake, ws, gh, { runId: '8002' })
    expect(next.exitCode, next.log).toBe(0)
  })

  it.each([
    ['before this one marked it (its first read)', 1],
    ['at once, writing last (read again after the write)', 2]
  ])('writes nothing when another run claimed the plan %s', async (_, read) => {
    await using setup = await mergedPlan()
    const { fake, gh, ws } = setup
    let reads = 0
    gh.onCommentRead = comment => {
      if (++reads !== read) return
      // Another run's claim. The record's JSON ends at the first `} -->`
      // (the marker line has none).
      comment.body = comment.body
        .replace(/,"applied":\{"run":"\d+"\}/, '')
        .replace('} -->', ',"applied":{"run":"9999"}} -->')
      expect(findRecord(comment.body)?.applied).toEqual({ run: '9999' })
    }
    fake.clearLog()
    const run = await deployOn(fake, ws, gh, { runId: '9001' })
    expect(run.exitCode).toBe(1)
    expect(run.outputs['failure-reason']).toBe('plan-missing')
    expect(run.log).toContain(
      "the plan's comment on pull request #7 changed during this run"
    )
    expect(fake.writeRequests()).toEqual([])
    expect(reads).toBe(read)
    expect(gh.comments[0]?.body).toContain('"applied":{"run":"9999"}')
    expect(gh.comments[0]?.body).not.toContain('9001')
  })

  it('deploys when a secret was rotated between review and merge', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace(files)
    // Deployed before, with the old value: the plan is `unchanged`.
    await deployedBefore(fake, ws)
    await planOn(fake, ws, gh)
    expect(gh.comments[0]?.body).toContain('"action":"unchanged"')
    gh.merge(MERGE)
    const rotated = 'rotated-secret-value-0002'
    const run = await deployOn(fake, ws, gh, { env: { MY_SECRET: rotated } })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result[0]?.changes).toEqual(['environment.SECRET'])
    expect(fake.functions.get('a')?.environmentVariables.SECRET?.value).toBe(
      rotated
    )
    expectNowhere(run, [SECRET, rotated], gh)
  })

  it('fails as plan-changed when the function was changed outside since the review', async () => {
    await using setup = await mergedPlan({ deployedFirst: true })
    const { fake, gh, ws } = setup
    const stored = fake.functions.get('a')
    if (stored) stored.description = 'edited by hand'
    fake.clearLog()
    const run = await deployOn(fake, ws, gh)
    expect(run.exitCode).toBe(1)
    expect(run.outputs['failure-reason']).toBe('plan-changed')
    expect(run.log).toContain('a: reviewed unchanged; now update [description]')
    expect(fake.writeRequests()).toEqual([])
  })

  it('fails as plan-changed when only the code was replaced outside since the review, its marker kept', async () => {
    await using setup = await mergedPlan({ deployedFirst: true })
    const { fake, gh, ws } = setup
    // A code-only upload by someone else with the API: the variables, and
    // so the marker and its fingerprint, stay; only the time moves on.
    const stored = fake.functions.get('a')
    if (!stored) throw new Error('no function a')
    const outside = Buffer.from('PK\u0003\u0004 other code')
    stored.code = outside
    stored.updateTimestamp = new Date(Date.now() + 60 * 60 * 1000).toISOString()
    fake.clearLog()
    const run = await deployOn(fake, ws, gh)
    expect(run.exitCode, run.log).toBe(1)
    expect(run.outputs['failure-reason']).toBe('plan-changed')
    expect(run.log).toContain('a: changed outside since the review')
    expect(run.log).not.toContain('the plan matches')
    expect(fake.writeRequests()).toEqual([])
    expect(fake.functions.get('a')?.code).toBe(outside)
  })

  it('deploys a plan whose function was already changed outside when it was reviewed', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace(files)
    await deployedBefore(fake, ws)
    const stored = fake.functions.get('a')
    if (!stored) throw new Error('no function a')
    stored.updateTimestamp = new Date(Date.now() + 60 * 60 * 1000).toISOString()
    const planned = await planOn(fake, ws, gh)
    expect(planned.log).toContain('changed outside since')
    expect(gh.comments[0]?.body).toContain('"outside":')
    gh.merge(MERGE)
    const run = await deployOn(fake, ws, gh)
    expect(run.exitCode, run.log).toBe(0)
    expect(run.log).toContain('the plan matches the one reviewed')
  })
})

describe('reviewed-plan: required refuses before any write', () => {
  let fake: FakeExh
  let gh: FakeGitHub
  let ws: Workspace

  beforeAll(async () => {
    fake = await startFakeExh()
    gh = await startFakeGitHub('org', 'tasks-repo', 7)
    ws = await makeWorkspace(files)
    await planOn(fake, ws, gh)
    gh.merge(MERGE)
  })
  afterAll(async () => {
    await ws[Symbol.asyncDispose]()
    await gh[Symbol.asyncDispose]()
    await fake[Symbol.asyncDispose]()
  })

  /** Runs the deploy with a change made first and undone after. */
  async function refused(
    change: () => unknown,
    undo: () => unknown,
    options: Parameters<typeof deployOn>[3] = {}
  ): Promise<ActionRun> {
    await change()
    fake.clearLog()
    const writesBefore = gh.writes.length
    try {
      const run = await deployOn(fake, ws, gh, options)
      expect(run.exitCode, run.log).toBe(1)
      expect(fake.writeRequests()).toEqual([])
      expect(gh.writes.length).toBe(writesBefore)
      expect(run.result.every(r => r.status === 'skipped')).toBe(true)
      return run
    } finally {
      await undo()
    }
  }
  const nothing = (): void => undefined

  it('no pull request merged as the pushed commit: plan-missing', async () => {
    const run = await refused(nothing, nothing, { sha: 'beef'.repeat(10) })
    expect(run.outputs['failure-reason']).toBe('plan-missing')
    expect(run.log).toContain('was it pushed directly?')
  })

  it('the plan was made on an older commit: plan-stale', async () => {
    const pull = gh.pulls[0]
    if (!pull) throw new Error('no pull request')
    const run = await refused(
      () => (pull.head.sha = 'c0ffee00'.repeat(5)),
      () => (pull.head.sha = HEAD)
    )
    expect(run.outputs['failure-reason']).toBe('plan-stale')
    expect(evidence(run).reviewedPlan).toEqual({
      required: true,
      matched: false,
      failureReason: 'plan-stale'
    })
    expect(run.summary).toContain(
      'Reviewed plan on pull request #7 at `c0ffee0`: not deployed (`plan-stale`); nothing was written.'
    )
    expect(run.log).toContain('made on feedc0d, not on its last commit c0ffee0')
  })

  it('a config changed after the review: plan-changed', async () => {
    const run = await refused(
      () =>
        ws.write({
          'tasks/a/task-config.json': taskConfig('a', {
            environment: { SECRET: '$MY_SECRET', MODE: 'test' }
          })
        }),
      () => ws.write(files)
    )
    expect(run.outputs['failure-reason']).toBe('plan-changed')
    expect(run.log).toContain(
      'a: reviewed create; now create (its config or code is not the one reviewed)'
    )
  })

  it('a task outside the reviewed plan: plan-changed', async () => {
    const run = await refused(
      () =>
        ws.write({
          'tasks/b/task-config.json': taskConfig('b'),
          'tasks/b/build/index.js': 'x'
        }),
      () => ws.remove('tasks/b')
    )
    expect(run.outputs['failure-reason']).toBe('plan-changed')
    expect(run.log).toContain('b: not in the reviewed plan')
    expect(run.log).not.toContain('a: reviewed')
  })

  it('other inputs that choose the tasks: plan-changed', async () => {
    const run = await refused(nothing, nothing, {
      inputs: { tasks: 'a' }
    })
    expect(run.outputs['failure-reason']).toBe('plan-changed')
    expect(run.log).toContain('the inputs that choose the tasks differ')
  })

  it('no approval by someone other than the author on the head: not-approved', async () => {
    const run = await refused(
      () => {
        gh.addReview('alice', 'APPROVED') // the author
        gh.addReview('bob', 'APPROVED', 'c0ffee00'.repeat(5)) // older commit
      },
      () => gh.reviews.splice(0),
      { inputs: { 'require-approval': 'true' } }
    )
    expect(run.outputs['failure-reason']).toBe('not-approved')
  })

  it('an approval by someone without write access: not-approved', async () => {
    const run = await refused(
      // Anyone may review a public repository's pull request.
      () => {
        gh.addReview('mallory', 'APPROVED', undefined, 'NONE')
      },
      () => gh.reviews.splice(0),
      { inputs: { 'require-approval': 'true' } }
    )
    expect(run.outputs['failure-reason']).toBe('not-approved')
    expect(run.log).toContain(
      'has no approving review by an owner, member or collaborator other than its author'
    )
  })

  it('the record in a comment by another identity: plan-missing', async () => {
    const ours = gh.comments[0]
    if (!ours) throw new Error('no comment')
    const run = await refused(
      () => (ours.user.login = 'mallory'),
      () => (ours.user.login = 'github-actions[bot]')
    )
    expect(run.outputs['failure-reason']).toBe('plan-missing')
  })

  it('another label: plan-missing', async () => {
    const run = await refused(nothing, nothing, {
      inputs: { label: 'staging' }
    })
    expect(run.outputs['failure-reason']).toBe('plan-missing')
  })

  it('a run without GITHUB_RUN_ID (no re-run could be told from another run)', async () => {
    const run = await refused(nothing, nothing, { runId: '' })
    expect(run.log).toContain(
      'reviewed-plan: required needs the run id GITHUB_RUN_ID'
    )
  })

  it('an event other than push', async () => {
    const run = await refused(nothing, nothing, {
      env: await pullRequestEnv(ws, gh.url, 7)
    })
    expect(run.log).toContain(
      'reviewed-plan: required needs a push that merges a pull request; this run is a pull_request'
    )
  })
})
