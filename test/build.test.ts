import { describe, expect, it } from 'vitest'
import { tempDirSync } from './support/tree.js'
import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildEnvironment, runShell, wholeLines } from '../src/build.js'

describe('buildEnvironment', () => {
  it.each([
    ['INPUT_TOKEN', false],
    ['INPUT_TOKEN-SECRET', false],
    ['INPUT_CONSUMER-SECRET', false],
    ['INPUT_GITHUB-TOKEN', false],
    ['input_password', false],
    ['API_HOST', false],
    ['API_OAUTH_CONSUMER_KEY', false],
    ['API_OAUTH_CONSUMER_SECRET', false],
    ['API_OAUTH_TOKEN', false],
    ['API_OAUTH_TOKEN_SECRET', false],
    ['GITHUB_TOKEN', false],
    ['ACTIONS_RUNTIME_TOKEN', false],
    ['ACTIONS_ID_TOKEN_REQUEST_TOKEN', false],
    ['ACTIONS_ID_TOKEN_REQUEST_URL', false],
    ['NPM_TOKEN', true],
    ['PATH', true],
    ['HOME', true],
    ['GITHUB_WORKSPACE', true],
    ['ACTIONS_CACHE_URL', true],
    ['API_KEY', true]
  ])('%s passes: %s', (name, passes) => {
    const env = buildEnvironment({ [name]: 'value', KEEP: 'k' })
    expect(env).toEqual(passes ? { [name]: 'value', KEEP: 'k' } : { KEEP: 'k' })
  })

  it('leaves out unset variables and does not change its argument', () => {
    const step = { A: 'a', B: undefined, INPUT_X: 'x' }
    expect(buildEnvironment(step)).toEqual({ A: 'a' })
    expect(step).toEqual({ A: 'a', B: undefined, INPUT_X: 'x' })
  })
})

describe('runShell', () => {
  it('keeps the last lines of the output, stdout and stderr, for the error', async () => {
    const signal = new AbortController().signal
    const exit = await runShell(
      'echo one; echo two >&2; printf "\\n\\n"; no-such-tool-here; exit 7',
      { cwd: '.', env: { PATH: process.env.PATH ?? '' }, signal }
    )
    expect(exit.code).toBe(7)
    expect(exit.lastLines).toHaveLength(3)
    expect(exit.lastLines.slice(0, 2)).toEqual(['one', 'two'])
    expect(exit.lastLines[2]).toMatch(/no-such-tool-here.*not found/)
  })

  it('resolves with the exit code', async () => {
    const signal = new AbortController().signal
    await expect(
      runShell('exit 3', { cwd: '.', env: {}, signal })
    ).resolves.toMatchObject({ code: 3 })
  })

  it('stops the whole process group on abort, even a child ignoring SIGTERM', async () => {
    const controller = new AbortController()
    const started = performance.now()
    const running = runShell("trap '' TERM; sleep 30 & wait", {
      cwd: '.',
      env: { PATH: process.env.PATH ?? '' },
      signal: controller.signal
    })
    setTimeout(() => {
      controller.abort()
    }, 200)
    const { code } = await running
    expect(code).not.toBe(0)
    // SIGTERM, then SIGKILL after the grace period: well under 30 s.
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('ends a background job the build left behind, so it cannot print later', async () => {
    const dir = tempDirSync('exh-build-')
    const late = path.join(dir, 'late')
    const { code } = await runShell(`(sleep 0.3; touch '${late}') & exit 0`, {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
      signal: new AbortController().signal
    })
    expect(code).toBe(0)
    await sleep(800)
    expect(existsSync(late)).toBe(false)
  })
})

describe('wholeLines: the kept end of a build output, from its first whole line', () => {
  it.each([
    ['tail-of-a-secret\nsh: 1: yarn: not found\n', 'sh: 1: yarn: not found\n'],
    ['one line, cut at both ends', ''],
    ['\nstarts whole', 'starts whole']
  ])('%j → %j', (window, whole) => {
    expect(wholeLines(window)).toBe(whole)
  })
})
