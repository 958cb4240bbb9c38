import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  actionDefaults,
  checkSelfTest,
  selfTestSteps,
  type StepOutputs
} from '../scripts/self-test.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const tasks = ['a', 'b']
const result = (action: string, status: string): string =>
  JSON.stringify(tasks.map(name => ({ name, action, status })))
const good = {
  sync: {
    result: result('create', 'done'),
    created: '2',
    updated: '0',
    unchanged: '0',
    failed: '0',
    changed: 'true'
  },
  resync: {
    result: result('unchanged', 'done'),
    created: '0',
    updated: '0',
    unchanged: '2',
    failed: '0',
    changed: 'false'
  },
  plan: {
    result: result('unchanged', 'planned'),
    created: '0',
    updated: '0',
    unchanged: '2',
    failed: '0',
    changed: 'false'
  }
}

describe('the self-test check', () => {
  it('passes a sync, an all-unchanged re-sync and a dry run', () => {
    expect(checkSelfTest(good)).toEqual([])
  })

  it.each<[string, Partial<Record<keyof typeof good, StepOutputs>>, string]>([
    [
      'a re-sync that updates a task',
      {
        resync: {
          ...good.resync,
          updated: '1',
          unchanged: '1',
          changed: 'true'
        }
      },
      'resync: created and updated are 0'
    ],
    [
      'an offline dry run (changed unknown)',
      { plan: { ...good.plan, changed: '' } },
      'plan: changed is false (got "")'
    ],
    [
      'a dry run that wrote',
      { plan: { ...good.plan, result: result('unchanged', 'done') } },
      'plan: every task is planned, none done'
    ],
    [
      'a failed task',
      { sync: { ...good.sync, failed: '1' } },
      'sync: failed is 0 (got "1")'
    ],
    [
      'a run without outputs',
      { sync: {} },
      'sync: has at least one task in `result`'
    ]
  ])('flags %s', (_, change, problem) => {
    expect(checkSelfTest({ ...good, ...change })).toContain(problem)
  })
})

describe('the self-test job', () => {
  it('passes the runner the defaults of action.yml, expressions left out', () => {
    const defaults = actionDefaults(readFileSync(`${ROOT}/action.yml`, 'utf8'))
    expect(defaults).toMatchObject({
      command: 'sync',
      'dry-run': 'false',
      concurrency: '4'
    })
    expect(defaults).not.toHaveProperty('github-token')
  })

  it('runs in CI the same three steps as the local script', () => {
    const workflow = readFileSync(`${ROOT}/.github/workflows/ci.yml`, 'utf8')
    const job = workflow.split(/^ {2}self-test:$/m)[1] ?? ''
    const fake = {
      pid: 0,
      url: 'u',
      consumerKey: 'k',
      consumerSecret: 's',
      token: 't',
      tokenSecret: 'ts'
    }
    for (const step of selfTestSteps(fake)) {
      const block = job.split(`id: ${step.id}\n`)[1]?.split('- name:')[0] ?? ''
      expect(block, step.id).toMatch(/^\s+uses: \.\/\n/)
      const given = [...block.matchAll(/^ {10}([a-z-]+):/gm)].map(m => m[1])
      expect(given.sort(), step.id).toEqual(Object.keys(step.inputs).sort())
    }
    expect(job).toContain('run: npx tsx scripts/self-test.ts check')
  })

  it('passes locally against the fake API started from its CLI', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'scripts/self-test.ts'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }
    )
    let log = ''
    child.stdout.on('data', (chunk: Buffer) => (log += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (log += chunk.toString()))
    const code = await new Promise(resolve => child.on('close', resolve))
    expect(log).toContain(
      'self-test: sync, re-sync (all unchanged) and dry run passed'
    )
    expect(code).toBe(0)
  })
})
