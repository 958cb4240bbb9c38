// What a user reads when something is wrong: the action's own words (HTTP
// status, the API's error code, what to check), never an error class name
// nor the SDK's "Please check the README file" boilerplate; an unset
// $NAME is a warning or an error by whether the run has credentials. The
// words are the point, not the runner's channel: in-process.

import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { runInProcess, syncInProcess } from '../support/in-process.js'
import { credentialInputs } from '../support/with-fake.js'

const TASK = {
  'tasks/a/task-config.json': taskConfig('a'),
  'tasks/a/build/index.js': 'exports.handler = async () => 1\n'
}

describe('messages in the action’s words', () => {
  it.each([
    ['token', 'a-token-of-another-host', /token/],
    ['token-secret', 'not-the-secret', /token-secret/],
    ['consumer-key', 'unknown-consumer', /consumer-key/]
  ])(
    'a refused %s: HTTP status, API code and what to check, no class name or SDK boilerplate',
    async (input, value, names) => {
      await using fake = await startFakeExh()
      await using ws = await makeWorkspace(TASK)
      const run = await runInProcess({
        workspace: ws.dir,
        inputs: { ...credentialInputs(fake), [input]: value }
      })
      expect(run.exitCode, run.log).toBe(1)
      const errors = run.errors.split('\n').filter(Boolean)
      expect(errors, run.log).toHaveLength(1)
      const [error = ''] = errors
      expect(error).toMatch(/HTTP 401/)
      expect(error).toMatch(/API error 10[789]/)
      expect(error).toMatch(names)
      expect(error).toMatch(/belong to this host/)
      for (const text of [run.log, run.errors, run.summary]) {
        expect(text).not.toMatch(/README file|get started/)
        expect(text).not.toMatch(/ExhApiError|OAuth1TokenError|ApiError:/)
      }
    }
  )

  it('an IP address as host: one error naming the input, nothing else', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(TASK)
    const run = await runInProcess({
      workspace: ws.dir,
      inputs: { ...credentialInputs(fake), host: '10.1.2.3' }
    })
    expect(run.exitCode, run.log).toBe(1)
    const errors = run.errors.split('\n').filter(Boolean)
    expect(errors, run.log).toEqual([
      expect.stringMatching(/^host: must be a host name, not an IP address/)
    ])
    expect(run.log).not.toMatch(/host: is required/)
  })
})

describe('an unset $NAME', () => {
  const files = {
    'tasks/a/task-config.json': taskConfig('a', {
      environment: { DB_PASSWORD: '$DB_PASSWORD' }
    }),
    'tasks/a/build/index.js': 'x'
  }

  it('is a warning in an offline dry run, where a fork has no secrets', async () => {
    await using ws = await makeWorkspace(files)
    const run = await runInProcess({
      workspace: ws.dir,
      inputs: { path: 'tasks', 'dry-run': 'true' }
    })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.log).toMatch(
      /^warning: tasks\/a\/task-config\.json:\d+: environment\.DB_PASSWORD: variable DB_PASSWORD is not set \(or empty\); counted as empty in this offline dry run, so the environment-size check is incomplete$/m
    )
    expect(run.result).toMatchObject([{ name: 'a', status: 'planned' }])
  })

  it('stays an error when the run has credentials', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(files)
    const run = await syncInProcess(fake, ws.dir, {
      path: 'tasks',
      'dry-run': 'true'
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toMatch(
      /environment\.DB_PASSWORD: variable DB_PASSWORD is not set \(or empty\) in the environment/
    )
  })
})
