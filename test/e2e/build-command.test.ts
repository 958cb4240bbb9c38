import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { syncWith } from './harness.js'
import { zipEntries } from '../support/with-fake.js'

describe('build-command', () => {
  it('builds each selected task in its config folder before packaging, even when the build creates the code folder', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/src.js': 'exports.handler = () => "a"\n',
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/b/src.js': 'exports.handler = () => "b"\n'
    })
    const run = await syncWith(fake, ws.dir, {
      'build-command': 'mkdir -p build && cp src.js build/index.js',
      tasks: 'a'
    })
    expect(run.exitCode, run.log).toBe(0)
    expect([...fake.functions.keys()]).toEqual(['a'])
    const entries = zipEntries(fake.functions.get('a')?.code ?? Buffer.alloc(0))
    expect(entries.map(e => [e.name, e.data])).toEqual([
      ['index.js', 'exports.handler = () => "a"\n']
    ])
    // Only selected tasks are built.
    await expect(
      import('node:fs/promises').then(fs => fs.stat(ws.path('tasks/b/build')))
    ).rejects.toThrow()
    expect(run.log).toContain('::group::build a')
  })

  it('fails the run before any write when a build fails, naming the task', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x',
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/b/build/index.js': 'x'
    })
    const run = await syncWith(fake, ws.dir, {
      // A tool the runner lacks, as a CLI project's `yarn build` would be.
      'build-command':
        'test "$(basename "$PWD")" != b || yarn-is-not-installed build'
    })
    expect(run.exitCode).toBe(1)
    // The error quotes the build's last output: what went wrong, not just a code.
    expect(run.log).toMatch(
      /tasks\/b\/task-config\.json: build-command: exited with code 127 in tasks\/b; its last output: .*yarn-is-not-installed: not found/
    )
    // Only the credentials check, made before any build (SPEC section 13).
    expect(fake.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      'GET /users/v1/me'
    ])
    expect(run.result.map(r => [r.config, r.status])).toEqual([
      ['tasks/a/task-config.json', 'skipped'],
      ['tasks/b/task-config.json', 'failed']
    ])
  })

  it('still refuses a code folder the build did not create', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/src.js': 'x'
    })
    const run = await syncWith(fake, ws.dir, { 'build-command': 'true' })
    expect(run.exitCode).toBe(1)
    expect(run.log).toMatch(
      /tasks\/a\/task-config\.json:\d+: path: code folder tasks\/a\/build not found/
    )
    expect(fake.requests.map(r => `${r.method} ${r.path}`)).toEqual([
      'GET /users/v1/me'
    ])
  })

  it('gives the build none of the credentials or runner tokens, but the step env', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    const withheld = {
      GITHUB_TOKEN: 'ghs-withheld-github-token',
      ACTIONS_RUNTIME_TOKEN: 'withheld-runtime-token',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'withheld-oidc-token',
      ACTIONS_ID_TOKEN_REQUEST_URL: 'https://oidc.example/withheld',
      API_HOST: fake.url,
      API_OAUTH_CONSUMER_KEY: fake.consumer.key,
      API_OAUTH_CONSUMER_SECRET: fake.consumer.secret,
      API_OAUTH_TOKEN: fake.admin.token,
      API_OAUTH_TOKEN_SECRET: fake.admin.tokenSecret,
      'INPUT_GITHUB-TOKEN': 'withheld-input-github-token'
    }
    const run = await syncWith(
      fake,
      ws.dir,
      { 'build-command': 'env > "$GITHUB_WORKSPACE/build-env.txt"' },
      { env: { ...withheld, NPM_TOKEN: 'npm-token-passes' } }
    )
    expect(run.exitCode, run.log).toBe(0)
    const seen = await readFile(ws.path('build-env.txt'), 'utf8')
    expect(seen).toContain('NPM_TOKEN=npm-token-passes')
    const names = seen.split('\n').map(line => line.split('=')[0])
    for (const name of Object.keys(withheld)) expect(names).not.toContain(name)
    expect(names.filter(name => /^INPUT_/i.test(name ?? ''))).toEqual([])
    for (const value of [
      ...Object.values(withheld),
      fake.consumer.secret,
      fake.admin.tokenSecret
    ]) {
      expect(seen).not.toContain(value)
    }
  })

  it('turns workflow commands off while the build prints, with a token the build cannot know', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    const run = await syncWith(fake, ws.dir, {
      'build-command':
        'echo "::stop-commands::build-token"; echo "::warning::from the build"'
    })
    expect(run.exitCode, run.log).toBe(0)
    const lines = run.stdout.split(/\r?\n/)
    const forged = lines.indexOf('::warning::from the build')
    expect(forged).toBeGreaterThan(0)
    const stop = lines.findIndex(line =>
      /^::stop-commands::[0-9a-f-]{36}$/.test(line)
    )
    expect(stop).toBeGreaterThan(-1)
    expect(stop).toBeLessThan(forged)
    const token = lines[stop]?.slice('::stop-commands::'.length)
    // Turned back on right after the build, before anything else the action prints.
    expect(lines.slice(forged).indexOf(`::${token}::`)).toBe(1)
  })

  it('stops the running build on SIGINT and starts no other, exiting 1 with outputs and summary', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x',
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/b/build/index.js': 'x',
      'tasks/c/task-config.json': taskConfig('c'),
      'tasks/c/build/index.js': 'x'
    })
    const started = ws.path('builds.log')
    const run = await syncWith(
      fake,
      ws.dir,
      {
        'build-command':
          'echo "$PWD" >> "$GITHUB_WORKSPACE/builds.log"; sleep 30'
      },
      { interruptWhen: () => existsSync(started) }
    )
    expect(run.exitCode, run.log).toBe(1)
    expect(run.exitAfterSignalMs).toBeLessThan(5000)
    expect((await readFile(started, 'utf8')).trim().split('\n')).toHaveLength(1)
    expect(run.result.map(r => [r.name, r.status, r.error])).toEqual([
      ['a', 'skipped', 'not started: cancelled'],
      ['b', 'skipped', 'not started: cancelled'],
      ['c', 'skipped', 'not started: cancelled']
    ])
    expect(run.summary).not.toBe('')
    expect(fake.writeRequests()).toEqual([])
  })
})
