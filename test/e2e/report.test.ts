import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { startFakeGitHub } from '../support/fake-github.js'
import { runAction, type ActionRun } from '../support/run-action.js'
import { planPullRequest, syncWith } from './harness.js'

/** The `::error` workflow commands the run printed, one per annotation. */
function annotations(run: ActionRun): string[] {
  return run.stdout.split('\n').filter(line => line.startsWith('::error'))
}

describe('the log tells the same story as the summary', () => {
  it('prints every task of a dry run in its own group, with before → after in log, summary and comment', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 3)
    const secretValue = 'greeting-value-never-shown-4711'
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', { timeLimit: 30 }),
      'tasks/a/build/index.js': 'x',
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/b/build/index.js': 'y'
    })
    const first = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(first.exitCode, first.log).toBe(0)
    await ws.write({
      'tasks/a/task-config.json': taskConfig('a', {
        timeLimit: 90,
        environment: { GREETING: secretValue }
      })
    })
    const run = await planPullRequest(fake, ws, {
      apiUrl: gh.url,
      number: 3,
      token: 'ghs_token'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.stdout).toContain(
      '::group::a: update planned\nconfig: tasks/a/task-config.json\nchanges:\n  timeLimit: 30 → 90\n  environment.GREETING: added\n'
    )
    expect(run.stdout).toContain('::group::b: unchanged planned\n')
    const markdown = '`timeLimit`: `30` → `90`<br>`environment.GREETING` added'
    expect(run.summary).toContain(markdown)
    expect(gh.comments[0]?.body).toContain(markdown)
    // `changes` in `result` stays keys only.
    expect(run.result.find(r => r.name === 'a')?.changes).toEqual([
      'timeLimit',
      'environment.GREETING'
    ])
    expect(run.outputs.result).not.toContain('→')
    for (const text of [run.log, run.summary, gh.comments[0]?.body ?? '']) {
      expect(text).not.toContain(secretValue)
    }

    // The real run logs the same before → after as it writes.
    const real = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(real.exitCode, real.log).toBe(0)
    expect(real.stdout).toContain(
      '::group::a: update done\nconfig: tasks/a/task-config.json\nchanges:\n  timeLimit: 30 → 90\n  environment.GREETING: added\n'
    )
    expect(real.stdout).toContain('::group::b: unchanged done\n')
    expect(real.summary).toContain(markdown)
    expect(real.log).not.toContain(secretValue)
  })

  it('warns once about an offline dry run and still logs each task', async () => {
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    const run = await runAction({
      workspace: ws.dir,
      inputs: { path: 'tasks', 'dry-run': 'true' }
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.stdout.match(/Dry run without/g)).toHaveLength(1)
    expect(run.stdout).toContain('::group::a: validate planned')
  })

  it('shows the offline banner, not an empty plan, when an offline run fails validation', async () => {
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', { timeLimit: 'soon' }),
      'tasks/a/build/index.js': 'x'
    })
    const run = await runAction({
      workspace: ws.dir,
      inputs: { path: 'tasks', 'dry-run': 'true' }
    })
    expect(run.exitCode).toBe(1)
    expect(run.summary).toContain('No request was made')
    expect(run.summary).not.toContain('to create')
    expect(run.summary).toContain('0 valid, 1 invalid')
  })

  it('prints a hostile symlink target as text: no heading, HTML or workflow command', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 3)
    const target =
      'gone\n\n# H\n<img src=x onerror=alert(1)>\n::warning::forged'
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x',
      'tasks/a/build/link': { symlink: target }
    })
    const run = await planPullRequest(fake, ws, {
      apiUrl: gh.url,
      number: 3,
      token: 'ghs_token'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.summary).toContain('dangling')
    expect(run.stdout).not.toMatch(/^(# H|<img|::warning::forged)/m)
    for (const text of [run.summary, gh.comments[0]?.body ?? '']) {
      expect(text).toContain('dangling')
      expect(text).not.toMatch(/^#+ H/m)
      expect(text).not.toMatch(/<img/)
    }
  })
})

describe('debug lines', () => {
  const files = {
    'tasks/a/task-config.json': taskConfig('a'),
    'tasks/a/build/index.js': 'x'
  }

  it('with step debugging, show each API call without a secret', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(files)
    const run = await syncWith(
      fake,
      ws.dir,
      { path: 'tasks' },
      { env: { RUNNER_DEBUG: '1' } }
    )
    expect(run.exitCode, run.log).toBe(0)
    const debug = run.stdout
      .split('\n')
      .filter(line => line.startsWith('::debug::'))
    expect(debug).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^::debug::api: GET \/users\/v1\/me → 200 \(checking the token \(users\.me\), attempt 1, \d+ ms\)$/
        ),
        expect.stringMatching(
          /^::debug::api: GET \/tasks\/v1\/functions\/ → 200 \(listing functions, attempt 1, \d+ ms\)$/
        ),
        expect.stringMatching(
          /^::debug::api: POST \/tasks\/v1\/functions\/ → 200 \(creating function a, attempt 1, \d+ ms\)$/
        ),
        expect.stringMatching(/^::debug::plan: a: create$/),
        expect.stringMatching(/^::debug::load: 1 configs found, 1 selected/)
      ])
    )
    const text = debug.join('\n')
    for (const secret of [
      fake.consumer.secret,
      fake.admin.token,
      fake.admin.tokenSecret,
      'oauth_',
      'authorization'
    ]) {
      expect(text.toLowerCase()).not.toContain(secret.toLowerCase())
    }
  })

  it('prints none without step debugging', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(files)
    const run = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.stdout).not.toContain('::debug::')
  })
})

describe('annotations', () => {
  it('titles a config problem "Invalid task config" at its line, once', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', { timeLimit: 'soon' }),
      'tasks/a/build/index.js': 'x',
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/b/build/index.js': 'x'
    })
    const run = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode).toBe(1)
    // The other task says why it did not start, in the result, summary and log.
    expect(run.result.find(r => r.name === 'b')?.error).toBe(
      'not started: another config is invalid'
    )
    expect(run.summary).toContain(
      '| `b` |  | ⏭️ skipped | error: `not started: another config is invalid` |'
    )
    expect(run.stdout).toContain(
      '::group::b: skipped\nconfig: tasks/b/task-config.json\nerror: not started: another config is invalid\n::endgroup::'
    )
    const errors = annotations(run)
    expect(errors).toHaveLength(2)
    expect(errors[0]).toMatch(
      /^::error title=Invalid task config,file=tasks\/a\/task-config.json,line=\d+,col=\d+::timeLimit: /
    )
    expect(errors[1]).toBe('::error::exh-tasks-action: 1 task(s) failed')
  })

  it('titles a failing build-command "Build failed"', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    const run = await syncWith(fake, ws.dir, {
      path: 'tasks',
      'build-command': 'exit 3'
    })
    expect(run.exitCode).toBe(1)
    const errors = annotations(run)
    expect(errors[0]).toMatch(
      /^::error title=Build failed,file=tasks\/a\/task-config.json::build-command: exited with code 3/
    )
    expect(
      errors.filter(line => line.includes('exited with code 3'))
    ).toHaveLength(1)
  })

  it('titles a bad input "Invalid input"', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({})
    const run = await syncWith(fake, ws.dir, { concurrency: 'many' })
    expect(run.exitCode).toBe(1)
    const errors = annotations(run)
    expect(errors[0]).toMatch(/^::error title=Invalid input::concurrency: /)
    expect(errors.filter(line => line.includes('concurrency'))).toHaveLength(1)
  })

  it('titles a task the API refused "Sync failed", at its config', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    fake.fault({ method: 'POST', path: '/tasks/v1/functions/', status: 400 })
    const run = await syncWith(fake, ws.dir, { path: 'tasks' })
    expect(run.exitCode).toBe(1)
    const errors = annotations(run)
    expect(errors[0]).toMatch(
      /^::error title=Sync failed,file=tasks\/a\/task-config.json::a: /
    )
    expect(errors[1]).toBe('::error::exh-tasks-action: 1 task(s) failed')
  })
})
