// `npm run test:live` checks before it runs: without EXH_LIVE=1 it says
// what it needs and exits 0, and makes no request, even with every API_*
// variable pointing at a server that would answer.

import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from './fake-exh/index.js'
import { LIVE_VARIABLES, liveGate } from './live/target.js'
import { tempDirSync } from './support/tree.js'

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

/** The `run: |` script of the workflow step named `name`. */
function stepScript(workflow: string, name: string): string {
  const lines = workflow.split('\n')
  const start = lines.findIndex(line => line.trim() === `- name: ${name}`)
  const body: string[] = []
  let inRun = false
  for (const line of lines.slice(start + 1)) {
    if (/^ {6}- /.test(line)) break
    // The block ends where its indentation does.
    if (inRun && line.trim() && !line.startsWith(' '.repeat(10))) break
    if (/^ {8}run: \|$/.test(line)) inRun = true
    else if (inRun) body.push(line.replace(/^ {10}/, ''))
  }
  return body.join('\n')
}

describe('the live workflow', () => {
  const workflow = readFileSync(
    join(ROOT, '.github/workflows/live.yml'),
    'utf8'
  )
  const check = (env: Record<string, string>) => {
    const dir = tempDirSync()
    const output = join(dir, 'output')
    const child = spawnSync(
      'bash',
      ['-e', '-c', stepScript(workflow, 'Check the secrets')],
      {
        env: { PATH: process.env.PATH ?? '', GITHUB_OUTPUT: output, ...env },
        encoding: 'utf8'
      }
    )
    const written = existsSync(output) ? readFileSync(output, 'utf8') : ''
    return { status: child.status, log: child.stdout, output: written }
  }
  const all = Object.fromEntries(LIVE_VARIABLES.map(name => [name, 'x']))

  it('runs weekly and on demand, the contract job only when the secrets are there', () => {
    expect(workflow).toMatch(/^on:\n {2}schedule:\n {4}- cron: /m)
    expect(workflow).toMatch(/^ {2}workflow_dispatch:$/m)
    expect(workflow).toMatch(/^permissions:\n {2}contents: read$/m)
    expect(workflow).toContain("if: needs.secrets.outputs.present == 'true'")
    expect(workflow).toContain('run: npm run test:live')
  })

  it('says present with all five secrets, skips green with none, fails with some', () => {
    expect(check(all)).toMatchObject({ status: 0, output: 'present=true\n' })
    const none = check({})
    expect(none).toMatchObject({ status: 0, output: 'present=false\n' })
    expect(none.log).toContain('::notice title=Live contract skipped::')
    const some = check({ ...all, API_OAUTH_TOKEN_SECRET: '' })
    expect(some.status).toBe(1)
    expect(some.log).toContain('Missing: API_OAUTH_TOKEN_SECRET')
    expect(some.output).toBe('')
  })
})
