// Where the pipeline asks the reviewed-plan check (SPEC section 10): its
// first half before any build, its second after the fresh plan and its
// packages, before the first write; only on a deploy with `reviewed-plan:
// required`. The GitHub side is passed in here
// (the bundle tests in test/e2e/reviewed-plan.test.ts run it over HTTP).
import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { taskConfig } from '../support/workspace.js'
import { fakeWithWorkspace } from '../support/with-fake.js'
import { syncInProcess } from '../support/in-process.js'
import type { FreshPlan } from '../../src/reviewed-plan/fresh-plan.js'
import type { ReviewedPlanOutcome } from '../../src/reviewed-plan/check.js'

const SECRET = 'a-secret-value-9f8e7d'
const files = {
  'tasks/a/task-config.json': taskConfig('$TASK_NAME', {
    environment: { KEY: '$MY_SECRET' },
    executionCredentials: { permissions: ['VIEW_USER', 'CREATE_ROLE'] }
  }),
  'tasks/a/build/index.js': 'exports.handler = () => 1\n'
}
const env = { TASK_NAME: 'report-x', MY_SECRET: SECRET }

describe('the reviewed-plan check in the pipeline', () => {
  it('is asked before any write with the plan as written, and a refusal writes nothing', async () => {
    await using setup = await fakeWithWorkspace(files)
    const asked: FreshPlan[] = []
    const refusal: ReviewedPlanOutcome = {
      matched: false,
      failureReason: 'plan-changed',
      lines: ['report-x: reviewed update [code]; now create']
    }
    const run = await syncInProcess(
      setup.fake,
      setup.ws.dir,
      { path: 'tasks', 'reviewed-plan': 'required' },
      {
        env,
        reviewedPlan: {
          start: () => Promise.resolve(undefined),
          check: fresh => {
            asked.push(fresh)
            return Promise.resolve(refusal)
          }
        }
      }
    )
    expect(run.exitCode).toBe(1)
    expect(setup.fake.writeRequests()).toEqual([])
    expect(run.outputs['failure-reason']).toBe('plan-changed')
    expect(run.errors).toContain('report-x: reviewed update [code]; now create')
    expect(run.result).toEqual([
      expect.objectContaining({
        status: 'skipped',
        error: 'not started: the reviewed-plan check failed (plan-changed)'
      })
    ])
    const [fresh] = asked
    expect(fresh?.tasks).toEqual([
      expect.objectContaining({
        name: '$TASK_NAME',
        action: 'create',
        referenced: ['environment.KEY', 'name']
      })
    ])
    // The desired state holds references, never a substituted value.
    expect(JSON.stringify(fresh)).not.toContain(SECRET)
    expect(fresh?.tasks[0]?.desired).toContain('$MY_SECRET')
  })

  it('lets a matched plan deploy, and is not asked in a dry run or with off', async () => {
    await using setup = await fakeWithWorkspace(files)
    let asked = 0
    const check = {
      start: () => {
        asked++
        return Promise.resolve(undefined)
      },
      check: () => {
        asked++
        return Promise.resolve({ matched: true, lines: [] })
      }
    }
    for (const inputs of <Record<string, string>[]>[
      { 'dry-run': 'true', 'reviewed-plan': 'required' },
      { 'reviewed-plan': 'off' }
    ]) {
      const run = await syncInProcess(
        setup.fake,
        setup.ws.dir,
        { path: 'tasks', ...inputs },
        { env, reviewedPlan: check }
      )
      expect(run.exitCode, run.log).toBe(0)
    }
    expect(asked).toBe(0)
    const run = await syncInProcess(
      setup.fake,
      setup.ws.dir,
      { path: 'tasks', 'reviewed-plan': 'required' },
      { env, reviewedPlan: check }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(asked).toBe(2)
    expect(run.outputs['failure-reason']).toBe('')
  })

  it('refuses what GitHub alone can refuse before any build, and never compares', async () => {
    await using setup = await fakeWithWorkspace(files)
    let compared = 0
    const run = await syncInProcess(
      setup.fake,
      setup.ws.dir,
      {
        path: 'tasks',
        'reviewed-plan': 'required',
        'build-command': 'echo built > built.txt'
      },
      {
        env,
        reviewedPlan: {
          start: () =>
            Promise.resolve({
              matched: false,
              failureReason: 'plan-missing',
              lines: ['no pull request merged: was it pushed directly?']
            }),
          check: () => {
            compared++
            return Promise.resolve({ matched: true, lines: [] })
          }
        }
      }
    )
    expect(run.exitCode).toBe(1)
    expect(run.outputs['failure-reason']).toBe('plan-missing')
    expect(run.errors).toContain('was it pushed directly?')
    expect(run.result).toEqual([
      expect.objectContaining({
        status: 'skipped',
        error: 'not started: the reviewed-plan check failed (plan-missing)'
      })
    ])
    expect(compared).toBe(0)
    expect(existsSync(setup.ws.path('tasks/a/built.txt'))).toBe(false)
    expect(setup.fake.writeRequests()).toEqual([])
  })
})
