// What a user reads when something is wrong: the action's own words (HTTP
// status, the API's error code, what to check), never an error class name
// nor the SDK's "Please check the README file" boilerplate.

import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { runAction } from '../support/run-action.js'
import { credentialInputs } from '../support/with-fake.js'

const TASK = {
  'tasks/a/task-config.json': taskConfig('a'),
  'tasks/a/build/index.js': 'exports.handler = async () => 1\n'
}

/**
 * The problems annotated (`::error …::message` lines of stdout, decoded
 * enough to read), without the run's closing headline, which only counts.
 */
function errorLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter(line => line.startsWith('::error'))
    .map(line => line.replace(/^::error[^:]*::/, '').replace(/%0A/g, '\n'))
    .filter(message => !message.startsWith('exh-tasks-action'))
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
      const run = await runAction({
        workspace: ws.dir,
        inputs: { ...credentialInputs(fake), [input]: value }
      })
      expect(run.exitCode, run.log).toBe(1)
      const errors = errorLines(run.stdout)
      expect(errors, run.log).toHaveLength(1)
      const [error = ''] = errors
      expect(error).toMatch(/HTTP 401/)
      expect(error).toMatch(/API error 10[789]/)
      expect(error).toMatch(names)
      expect(error).toMatch(/belong to this host/)
      for (const text of [run.stdout, run.summary]) {
        expect(text).not.toMatch(/README file|get started/)
        expect(text).not.toMatch(/ExhApiError|OAuth1TokenError|ApiError:/)
      }
    }
  )

  it('an IP address as host: one error naming the input, nothing else', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(TASK)
    const run = await runAction({
      workspace: ws.dir,
      inputs: { ...credentialInputs(fake), host: '10.1.2.3' }
    })
    expect(run.exitCode, run.log).toBe(1)
    const errors = errorLines(run.stdout)
    expect(errors, run.log).toEqual([
      expect.stringMatching(/^host: must be a host name, not an IP address/)
    ])
    expect(run.log).not.toMatch(/host: is required/)
  })
})
