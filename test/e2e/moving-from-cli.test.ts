// What a team moving from the CLI meets (SPEC section 13), through the
// bundle: each message as the runner shows it.

import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { runAction } from '../support/run-action.js'
import { credentialInputs } from '../support/with-fake.js'
import { DEPLOYER_ENVIRONMENT } from '../support/deployer.js'
import { syncWith } from './harness.js'

const TASK = {
  'tasks/a/task-config.json': taskConfig('a'),
  'tasks/a/build/index.js': 'exports.handler = async () => 1\n'
}

/** The workflow commands of one kind (`error`, `warning`), decoded enough to read. */
function commands(stdout: string, kind: string): string[] {
  return stdout
    .split('\n')
    .filter(line => line.startsWith(`::${kind}`))
    .map(line => line.replace(/%0A/g, '\n').replace(/%25/g, '%'))
}

describe('moving from the CLI: the messages', () => {
  it('checks the credentials before build-command: a rejected token fails before any build', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(TASK)
    const run = await syncWith(fake, ws.dir, {
      token: 'a-token-of-another-host',
      'build-command': 'touch built && sleep 5'
    })
    expect(run.exitCode, run.log).toBe(1)
    expect(existsSync(ws.path('tasks/a/built'))).toBe(false)
    expect(run.log).not.toContain('::group::build a')
    expect(run.result).toMatchObject([
      {
        name: 'a',
        status: 'skipped',
        error: 'not started: credentials rejected'
      }
    ])
    expect(run.summary).toMatch(/HTTP 401/)
    // The same build runs once the credentials are good.
    const good = await syncWith(fake, ws.dir, {
      'build-command': 'touch built'
    })
    expect(good.exitCode, good.log).toBe(0)
    expect(existsSync(ws.path('tasks/a/built'))).toBe(true)
  })

  it('an offline dry run gives one warning naming every unresolved $API_* reference', async () => {
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', {
        environment: DEPLOYER_ENVIRONMENT
      }),
      'tasks/a/build/index.js': 'x',
      'tasks/b/task-config.json': taskConfig('b', {
        environment: { API_HOST: '$API_HOST' }
      }),
      'tasks/b/build/index.js': 'x'
    })
    const run = await runAction({
      workspace: ws.dir,
      inputs: { path: 'tasks', 'dry-run': 'true' }
    })
    expect(run.exitCode, run.log).toBe(0)
    const warnings = commands(run.stdout, 'warning').filter(w =>
      w.includes('$API_')
    )
    expect(warnings, run.log).toHaveLength(1)
    const [warning = ''] = warnings
    expect(warning).toContain(
      '6 $API_* references not resolved in this offline dry run'
    )
    for (const variable of Object.keys(DEPLOYER_ENVIRONMENT)) {
      expect(warning).toMatch(
        new RegExp(`tasks/a/task-config\\.json:\\d+ \\$${variable}\\b`)
      )
    }
    expect(warning).toMatch(/tasks\/b\/task-config\.json:\d+ \$API_HOST\b/)
  })

  it.each([
    ['host', 'API_HOST'],
    ['consumer-key', 'API_OAUTH_CONSUMER_KEY'],
    ['consumer-secret', 'API_OAUTH_CONSUMER_SECRET'],
    ['token', 'API_OAUTH_TOKEN'],
    ['token-secret', 'API_OAUTH_TOKEN_SECRET']
  ])('a missing %s names the input and %s', async (input, variable) => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(TASK)
    const run = await runAction({
      workspace: ws.dir,
      inputs: { ...credentialInputs(fake), [input]: '' }
    })
    expect(run.exitCode, run.log).toBe(1)
    const message = `${input} (or ${variable}) is required outside a dry run`
    expect(commands(run.stdout, 'error')).toContainEqual(
      expect.stringMatching(
        new RegExp(`title=Invalid input::${message.replace(/[()]/g, '\\$&')}$`)
      )
    )
    expect(run.summary).toContain(message)
    expect(fake.requests).toEqual([])
  })

  it('keeps the label in the summary title when the inputs are refused', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(TASK)
    const run = await syncWith(fake, ws.dir, {
      label: 'staging',
      concurrency: 'four'
    })
    expect(run.exitCode, run.log).toBe(1)
    expect(run.summary.split('\n')[0]).toMatch(
      /^## Extra Horizon tasks \(staging\): /
    )
  })

  it('says whose function adopt takes over, in the plan, the log and the summary', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(TASK)
    const other = { GITHUB_REPOSITORY: 'org/other-repo' }
    const first = await syncWith(fake, ws.dir, {}, { env: other })
    expect(first.exitCode, first.log).toBe(0)
    await ws.write({ 'tasks/a/build/index.js': 'exports.handler = () => 2\n' })

    const plan = await syncWith(fake, ws.dir, { adopt: 'a', 'dry-run': 'true' })
    expect(plan.exitCode, plan.log).toBe(0)
    expect(plan.log).toMatch(/^note: adopted from org\/other-repo$/m)
    // Escaped for Markdown, where it reads `adopted from org/other-repo`.
    const inSummary = 'adopted from org\\/other\\-repo'
    expect(plan.summary).toContain(inSummary)

    const run = await syncWith(fake, ws.dir, { adopt: 'a' })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.result).toMatchObject([{ name: 'a', action: 'update' }])
    expect(run.log).toMatch(/^note: adopted from org\/other-repo$/m)
    expect(run.summary).toContain(inSummary)
    // The note is for people: the outputs keep their keys.
    expect(run.outputs.result).not.toContain('adopted')
  })

  it("quotes a failed build's first error line and its last 5 lines in the log and annotation only", async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(TASK)
    const output = [
      'npm ERR! code EUSAGE',
      'npm ERR! The `npm ci` command can only install with an existing package-lock.json',
      'one',
      'two',
      'three',
      'four',
      'five',
      'six'
    ]
    const run = await syncWith(fake, ws.dir, {
      'build-command': `printf '%s\\n' ${output.map(l => `'${l}'`).join(' ')} >&2; exit 1`
    })
    expect(run.exitCode, run.log).toBe(1)
    const [annotation = ''] = commands(run.stdout, 'error').filter(line =>
      line.includes('title=Build failed')
    )
    expect(annotation).toContain(
      'exited with code 1 in tasks/a; its first error: npm ERR! The `npm ci` command can only install with an existing package-lock.json; its last output: two | three | four | five | six'
    )
    expect(annotation).not.toContain('one |')
    expect(run.summary).toContain('exited with code 1 in tasks/a')
    expect(run.summary).not.toContain('package-lock')
    expect(run.summary).not.toContain('six')
    expect(JSON.stringify(run.outputs)).not.toContain('package-lock')
  })
})
