import { describe, expect, it, vi } from 'vitest'
import { tempDirSync } from './support/tree.js'
import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { buildEnvironment, runShell } from '../src/build.js'

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

describe("runShell's kept output", () => {
  it('decodes a character split between two reads of the pipe whole', async () => {
    // 64 KiB is what one read of the pipe takes: the 2-byte `ä` is written
    // across that boundary, in one write.
    const script = [
      "const line = 'x'.repeat(99) + '\\n'",
      "const head = line.repeat(655) + 'token p'",
      "const out = Buffer.concat([Buffer.from(head), Buffer.alloc(65535 - Buffer.byteLength(head), 'y'), Buffer.from('\\u00e4ssword\\n')])",
      'process.stdout.write(out)'
    ].join(';')
    // The build's output passes through to ours: 64 KiB kept out of the test log.
    const quiet = vi
      .spyOn(process.stdout, 'write')
      .mockImplementation(() => true)
    const exit = await runShell(`node -e "${script}"; exit 1`, {
      cwd: '.',
      env: { PATH: process.env.PATH ?? '' },
      signal: new AbortController().signal
    }).finally(() => {
      quiet.mockRestore()
    })
    expect(exit.code).toBe(1)
    expect(exit.lastLines.at(-1)).toMatch(/y\u00e4ssword$/)
  })
})
