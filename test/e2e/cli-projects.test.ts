// Projects shaped like Extra Horizon's own examples, deployed as the CLI
// deploys them (`exh sync --tasks` with the five API_* variables on the
// step): the configs move to the action unchanged (SPEC section 8).
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { startFakeGitHub } from '../support/fake-github.js'
import {
  DEPLOYER_ENVIRONMENT,
  deployerVariables,
  storedVariables
} from '../support/deployer.js'
import { makeWorkspace } from '../support/workspace.js'
import { runAction } from '../support/run-action.js'
import { expectNowhere, pullRequestEnv } from './harness.js'

const CLI_SCHEMA =
  'https://swagger.extrahorizon.com/cli/1.13.1/config-json-schemas/TaskConfig.json'

const json = (value: unknown): string => JSON.stringify(value, null, 4)

/**
 * Tasks under `examples/<project>/tasks/<task>/` with their built code, and
 * one `task-config.json` at the root whose code is `build/`.
 */
const PROJECT = {
  'examples/vitals/tasks/processing/task-config.json': json({
    $schema: CLI_SCHEMA,
    name: 'vitals-processing',
    description: 'vitals-processing task',
    path: 'build',
    entryPoint: 'index.handler',
    runtime: 'nodejs20.x',
    environment: DEPLOYER_ENVIRONMENT
  }),
  'examples/vitals/tasks/processing/build/index.js':
    'exports.handler = async () => ({ ok: true })\n',
  'examples/reports/tasks/mailer/task-config.json': json({
    name: 'reports-mailer',
    description: 'reports-mailer task',
    path: 'build',
    entryPoint: 'index.handler',
    runtime: 'nodejs20.x',
    timeLimit: 30,
    environment: { ...DEPLOYER_ENVIRONMENT, TEMPLATE: 'weekly-report' }
  }),
  'examples/reports/tasks/mailer/build/index.js':
    'exports.handler = async () => null\n',
  'task-config.json': json({
    $schema: CLI_SCHEMA,
    name: 'root-task',
    path: 'build',
    entryPoint: 'build/index',
    runtime: 'nodejs20.x',
    environment: { API_HOST: '$API_HOST' }
  }),
  'build/index.js': 'exports.handler = async () => ({})\n'
}

describe('a project deployed with the CLI moves to the action unchanged', () => {
  it("deploys every config with the step's API_* credentials; the same run again writes nothing", async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(PROJECT)
    const credentials = deployerVariables(fake)
    const first = await runAction({
      workspace: ws.dir,
      inputs: {},
      env: credentials
    })
    expect(first.exitCode, first.log).toBe(0)
    expect(first.result.map(r => [r.config, r.name, r.action])).toEqual([
      [
        'examples/reports/tasks/mailer/task-config.json',
        'reports-mailer',
        'create'
      ],
      [
        'examples/vitals/tasks/processing/task-config.json',
        'vitals-processing',
        'create'
      ],
      ['task-config.json', 'root-task', 'create']
    ])
    expect(storedVariables(fake, 'vitals-processing')).toMatchObject(
      credentials
    )
    expect(storedVariables(fake, 'reports-mailer')).toMatchObject({
      ...credentials,
      TEMPLATE: 'weekly-report'
    })
    expect(storedVariables(fake, 'root-task')).toMatchObject({
      API_HOST: fake.url
    })
    const secrets = Object.values(credentials).slice(1)
    expectNowhere(first, secrets)

    fake.clearLog()
    const second = await runAction({
      workspace: ws.dir,
      inputs: {},
      env: credentials
    })
    expect(second.exitCode, second.log).toBe(0)
    expect(second.outputs.unchanged).toBe('3')
    expect(fake.writeRequests()).toEqual([])
    expectNowhere(second, secrets)
  })

  it('plans a pull request with a comment that shows no credential and writes nothing', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace(PROJECT)
    const credentials = deployerVariables(fake)
    const run = await runAction({
      workspace: ws.dir,
      inputs: {
        path: 'examples',
        'dry-run': 'true',
        'comment-on-pr': 'true',
        'github-token': 'ghs_fake_github_token_0123456789'
      },
      env: {
        ...credentials,
        ...(await pullRequestEnv(ws, gh.url, 7))
      }
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result.map(r => [r.name, r.action, r.status])).toEqual([
      ['reports-mailer', 'create', 'planned'],
      ['vitals-processing', 'create', 'planned']
    ])
    expect(fake.writeRequests()).toEqual([])
    expect(gh.comments).toHaveLength(1)
    expect(gh.comments[0]?.body).toContain('vitals-processing')
    expectNowhere(run, Object.values(credentials).slice(1), gh)
  })
})
