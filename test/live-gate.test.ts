// `npm run test:live` checks before it runs: without EXH_LIVE=1 it says
// what it needs and exits 0, and makes no request, even with every API_*
// variable pointing at a server that would answer.

import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from './fake-exh/index.js'
import { LIVE_VARIABLES, liveGate } from './live/target.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))

function apiVariables(fake: FakeExh): Record<string, string> {
  return {
    API_HOST: fake.url,
    API_OAUTH_CONSUMER_KEY: fake.consumer.key,
    API_OAUTH_CONSUMER_SECRET: fake.consumer.secret,
    API_OAUTH_TOKEN: fake.admin.token,
    API_OAUTH_TOKEN_SECRET: fake.admin.tokenSecret
  }
}

/** The script as `npm run test:live` runs it, with only `env` set. */
async function runGate(
  env: Record<string, string>
): Promise<{ code: number | null; output: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/test-live.ts'],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const code = await new Promise<number | null>(resolve =>
    child.on('close', resolve)
  )
  return { code, output }
}

describe('npm run test:live, before anything runs', () => {
  it('without EXH_LIVE=1: says what it needs, exits 0, makes no request', async () => {
    await using fake = await startFakeExh()
    for (const live of [undefined, 'true']) {
      const env = {
        ...apiVariables(fake),
        ...(live === undefined ? {} : { EXH_LIVE: live })
      }
      const { code, output } = await runGate(env)
      expect(output).toContain('EXH_LIVE is not 1: nothing was run.')
      for (const name of LIVE_VARIABLES) expect(output).toContain(name)
      expect(code).toBe(0)
    }
    expect(fake.requests).toEqual([])
  })

  it('with EXH_LIVE=1 and a variable missing: names it, exits 1, makes no request', async () => {
    await using fake = await startFakeExh()
    const env: Record<string, string> = { ...apiVariables(fake), EXH_LIVE: '1' }
    delete env.API_OAUTH_TOKEN_SECRET
    const { code, output } = await runGate(env)
    expect(output).toContain(
      'EXH_LIVE=1, but API_OAUTH_TOKEN_SECRET is not set: nothing was run.'
    )
    expect(code).toBe(1)
    expect(fake.requests).toEqual([])
  })

  it('reads the five variables as the CLI names them, trimmed', () => {
    const gate = liveGate({
      EXH_LIVE: '1',
      API_HOST: ' sandbox.example.com ',
      API_OAUTH_CONSUMER_KEY: 'ck',
      API_OAUTH_CONSUMER_SECRET: 'cs',
      API_OAUTH_TOKEN: 't',
      API_OAUTH_TOKEN_SECRET: 'ts'
    })
    expect(gate).toEqual({
      run: true,
      target: {
        host: 'sandbox.example.com',
        consumerKey: 'ck',
        consumerSecret: 'cs',
        token: 't',
        tokenSecret: 'ts'
      }
    })
    expect(liveGate({ EXH_LIVE: '1' })).toMatchObject({
      run: false,
      exitCode: 1
    })
  })
})
