// `$API_*` in `environment` values hands the function the credentials the
// action deploys with, as the CLI does (SPEC section 8): the pattern of
// Extra Horizon's own example projects.
import { describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { renderSummary } from '../../src/report/summary.js'
import { withoutHost } from '../../src/report/shown-texts.js'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import {
  DEPLOYER_ENVIRONMENT,
  deployerVariables,
  storedVariables
} from '../support/deployer.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import {
  expectNothingWritten,
  runInProcess,
  syncInProcess
} from '../support/in-process.js'
import { credentialInputs } from '../support/with-fake.js'

function project(fields: Record<string, unknown> = {}) {
  return {
    'tasks/report/task-config.json': taskConfig('report', {
      environment: { ...DEPLOYER_ENVIRONMENT, MODE: 'production' },
      ...fields
    }),
    'tasks/report/build/index.js': 'exports.handler = async () => ({})\n'
  }
}

/** Every channel of a run that must never hold a credential. */
function printed(run: Awaited<ReturnType<typeof runInProcess>>): string {
  return [run.log, run.summary, JSON.stringify(run.outputs)].join('\n')
}

describe('$API_* environment values are the deploying credentials', () => {
  it.each([
    ['from the inputs', 'inputs'],
    ["from the step's API_* variables", 'env']
  ])(
    'gives the function the credentials it was deployed with (%s); a second run writes nothing',
    async (_label, source) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(project())
      const given = deployerVariables(fake)
      const options =
        source === 'inputs'
          ? { workspace: ws.dir, inputs: credentialInputs(fake) }
          : { workspace: ws.dir, inputs: {}, env: given }
      const first = await runInProcess({ ...options })
      expect(first.exitCode).toBe(0)
      expect(first.result).toMatchObject([{ name: 'report', action: 'create' }])
      expect(storedVariables(fake, 'report')).toMatchObject({
        ...given,
        MODE: 'production'
      })
      // Masked as they were known; never printed.
      for (const value of Object.values(given).slice(1)) {
        expect(first.masked).toContain(value)
        expect(printed(first)).not.toContain(value)
      }

      await expectNothingWritten(fake, 1, () => runInProcess({ ...options }))
    }
  )

  it('refuses them anywhere else, one short message per reference, before any write', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(
      project({
        description: '$API_OAUTH_TOKEN_SECRET',
        executionCredentials: { permissions: ['$API_OAUTH_TOKEN'] }
      })
    )
    const run = await syncInProcess(fake, ws.dir)
    expect(run.exitCode).toBe(1)
    expect(run.errors.split('\n')).toEqual([
      'tasks/report/task-config.json:3: description: $API_OAUTH_TOKEN_SECRET is never substituted here: it is the deploying credentials: it may only be an environment value',
      expect.stringMatching(
        /^tasks\/report\/task-config\.json:\d+: environment\.API_\w+: .* executionCredentials/
      ),
      expect.stringMatching(/environment\.API_/),
      expect.stringMatching(/environment\.API_/),
      expect.stringMatching(/environment\.API_/),
      expect.stringMatching(/environment\.API_/),
      expect.stringMatching(
        /^tasks\/report\/task-config\.json:\d+: executionCredentials\.permissions\.0: \$API_OAUTH_TOKEN is never substituted here/
      )
    ])
    for (const line of run.errors.split('\n')) {
      expect(line.length).toBeLessThan(200)
    }
    expect(fake.writeRequests()).toEqual([])
    expect(fake.functions.size).toBe(0)
  })

  describe('logged in with email and password', () => {
    const login = (fake: FakeExh) => ({
      host: fake.url,
      'consumer-key': fake.consumer.key,
      'consumer-secret': fake.consumer.secret,
      email: fake.admin.email,
      password: fake.admin.password
    })

    it('refuses $API_OAUTH_TOKEN and its secret before any write, saying why and what to do', async () => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(project())
      const run = await runInProcess({ workspace: ws.dir, inputs: login(fake) })
      expect(run.exitCode).toBe(1)
      const errors = run.errors.split('\n')
      expect(errors).toHaveLength(2)
      expect(errors[0]).toMatch(
        /^tasks\/report\/task-config\.json:\d+: environment\.API_OAUTH_TOKEN: \$API_OAUTH_TOKEN needs the token and token-secret inputs: a login with email and password mints a new token every run \(or give the function a user of its own with executionCredentials\)$/
      )
      expect(errors[1]).toMatch(/environment\.API_OAUTH_TOKEN_SECRET: /)
      expect(fake.writeRequests()).toEqual([])
      expect(fake.functions.size).toBe(0)
    })

    it('warns in a dry run with the same words, and counts the keys as unchanged', async () => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(project())
      const deployed = await syncInProcess(fake, ws.dir)
      expect(deployed.exitCode).toBe(0)
      fake.clearLog()
      const plan = await runInProcess({
        workspace: ws.dir,
        inputs: { ...login(fake), 'dry-run': 'true' }
      })
      expect(plan.exitCode).toBe(0)
      expect(plan.result).toMatchObject([
        { name: 'report', action: 'unchanged', status: 'planned' }
      ])
      expect(plan.log).toMatch(
        /warning: tasks\/report\/task-config\.json:\d+: environment\.API_OAUTH_TOKEN: \$API_OAUTH_TOKEN needs the token and token-secret inputs: .*; counted as unchanged in this plan/
      )
      expect(fake.writeRequests()).toEqual([])
    })
  })

  it('validates offline (a fork has no credentials): one warning naming every reference, and the run passes', async () => {
    await using ws = await makeWorkspace(project())
    const run = await runInProcess({
      workspace: ws.dir,
      inputs: { 'dry-run': 'true' }
    })
    expect(run.exitCode).toBe(0)
    expect(run.result).toMatchObject([
      { action: 'validate', status: 'planned' }
    ])
    const warnings = run.log.split('\n').filter(line => /\$API_\w+/.test(line))
    expect(warnings).toEqual([
      expect.stringContaining(
        '5 $API_* references not resolved in this offline dry run'
      )
    ])
    for (const variable of Object.keys(DEPLOYER_ENVIRONMENT)) {
      expect(warnings[0]).toMatch(
        new RegExp(`tasks/report/task-config\\.json:\\d+ \\$${variable}\\b`)
      )
    }
  })

  it('plans with other credentials (a read-only plan account) without announcing a change the deploy will not make', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(project())
    expect((await syncInProcess(fake, ws.dir)).exitCode).toBe(0)
    const planner = fake.addUser({
      email: 'planner@example.test',
      password: 'Planner-Passw0rd'
    })
    const token = fake.mintToken(planner.id)
    // A new key, and a function that never held the token: added.
    await ws.write(
      project({
        environment: { ...DEPLOYER_ENVIRONMENT, EXTRA: '$API_HOST' }
      })
    )
    fake.clearLog()
    const plan = await runInProcess({
      workspace: ws.dir,
      inputs: {
        ...credentialInputs(fake),
        token: token.token,
        'token-secret': token.tokenSecret,
        'dry-run': 'true'
      }
    })
    expect(plan.exitCode).toBe(0)
    expect(plan.result).toMatchObject([
      { action: 'update', changes: ['environment.EXTRA', 'environment.MODE'] }
    ])
    expect(plan.summary).toContain('the deploying credentials')
    expect(plan.log).toContain(
      'Environment values from $API_* follow the deploying credentials'
    )
    expect(fake.writeRequests()).toEqual([])
    // A deploy with those credentials does write the token: compared as any value.
    const deploy = await runInProcess({
      workspace: ws.dir,
      inputs: {
        ...credentialInputs(fake),
        token: token.token,
        'token-secret': token.tokenSecret
      }
    })
    expect(deploy.result[0]?.changes).toEqual([
      'environment.API_OAUTH_TOKEN',
      'environment.API_OAUTH_TOKEN_SECRET',
      'environment.EXTRA',
      'environment.MODE'
    ])
  })

  it('warns when both a token and email/password are given, and uses the token', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(project())
    const run = await syncInProcess(fake, ws.dir, {
      email: fake.admin.email,
      password: fake.admin.password
    })
    expect(run.exitCode).toBe(0)
    expect(run.log).toContain(
      'warning: Both a token and email/password are given: the token is used and no login is made'
    )
    expect(fake.requests.some(r => r.path.includes('/auth/'))).toBe(false)
    expect(storedVariables(fake, 'report').API_OAUTH_TOKEN).toBe(
      fake.admin.token
    )
  })
})

describe('$API_HOST and the summary’s host line', () => {
  it('keeps the summary’s host line: the host given bare (SPEC section 2’s form) is no secret for $API_HOST', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/b/task-config.json': taskConfig('b', {
        environment: { API_HOST: '$API_HOST' }
      }),
      'tasks/b/build/index.js': 'x'
    })
    // A bare host (no scheme), as the README's workflows give one; the
    // token check fails at once (nothing listens), after substitution.
    const run = await runInProcess({
      workspace: ws.dir,
      inputs: {
        ...credentialInputs(fake),
        host: 'localhost:1',
        'dry-run': 'true',
        'request-timeout': '1'
      }
    })
    expect(run.masked).not.toContain('localhost:1')
    expect(run.summary).toContain('on `localhost:1`')
  })
})

describe('the host with $API_HOST', () => {
  it('is not masked, and still scrubbed from the comment (host given as a URL)', async () => {
    await using fake = await startFakeExh()
    const name = new URL(fake.url).host // localhost:PORT
    const config = (description: string) =>
      taskConfig('b', { description, environment: { API_HOST: '$API_HOST' } })
    await using ws = await makeWorkspace({
      'tasks/b/task-config.json': config('first'),
      'tasks/b/build/index.js': 'x'
    })
    expect((await syncInProcess(fake, ws.dir)).exitCode).toBe(0)
    await writeFile(
      path.join(ws.dir, 'tasks/b/task-config.json'),
      config(`reports to ${name}`)
    )
    const run = await syncInProcess(fake, ws.dir)
    expect(run.masked).not.toContain(fake.url)
    // As main.ts's publish renders the (public) pull-request comment.
    const comment = renderSummary(withoutHost(run.report))
    expect(comment).toContain('reports to')
    expect(comment).not.toContain(name)
  })
})
