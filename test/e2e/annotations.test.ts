// Annotations for config errors, as the runner reads them from stdout:
// `::error file=…,line=…::message`, at most ten per step.

import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  type FileSpec
} from '../support/workspace.js'
import { runAction, type ActionRun } from '../support/run-action.js'
import { credentialInputs } from '../support/with-fake.js'
import {
  A,
  REPO,
  a,
  lineOf,
  prefixed,
  textOf,
  twoTasks
} from '../support/two-tasks.js'

describe('GitHub annotations for config errors', () => {
  it('points an ::error command at the offending line of the file', async () => {
    await using fake = await startFakeExh()
    const files = { ...twoTasks(), ...a({ timeLimit: 301 }) }
    await using ws = await makeWorkspace(prefixed(files))
    const run = await syncAt(fake, ws.path(REPO))
    expect(run.exitCode).toBe(1)

    const annotations = errorCommands(run.stdout).filter(c => c.props.file)
    expect(annotations).toHaveLength(1)
    expect(annotations[0]?.props).toMatchObject({
      file: A,
      line: String(lineOf(textOf(files, A), '"timeLimit"'))
    })
    expect(annotations[0]?.message).toContain('timeLimit: must be <= 300')
  })

  it('prints at most 10 annotations for 12 invalid configs, yet reports every error', async () => {
    await using fake = await startFakeExh()
    const bad: [string, unknown][] = [
      ['timeLimit', 301],
      ['memoryLimit', 127],
      ['runtime', 'nodejs8.x'],
      ['executionPermission', 'nobody'],
      ['defaultPriority', 0.5],
      ['timeout', 30]
    ]
    const files: Record<string, FileSpec> = {}
    const configs: { file: string; field: string }[] = []
    for (let i = 1; i <= 12; i++) {
      const name = `t${String(i).padStart(2, '0')}`
      const [field, value] = bad[i % bad.length] as [string, unknown]
      // A few valid fields first, so the bad one is not always on one line.
      const before = i % 3 ? { memoryLimit: 256 } : {}
      const file = `tasks/${name}/task-config.json`
      files[file] = taskConfig(name, {
        ...(field === 'memoryLimit' ? {} : before),
        [field]: value
      })
      files[`tasks/${name}/build/index.js`] = 'x'
      configs.push({ file, field })
    }
    await using ws = await makeWorkspace(prefixed(files))
    const run = await syncAt(fake, ws.path(REPO))
    expect(run.exitCode).toBe(1)
    expect(fake.requests).toEqual([])

    const commands = errorCommands(run.stdout)
    // GitHub shows at most 10 error annotations per step and drops the rest.
    expect.soft(commands.length).toBeLessThanOrEqual(10)
    const annotations = commands.filter(c => c.props.file)
    expect(annotations.length).toBeGreaterThan(0)
    for (const { props, message } of annotations) {
      const field = message.split(': ')[0] ?? ''
      const config = configs.find(c => c.file === props.file)
      expect(config?.field, message).toBe(field)
      expect(props.line).toBe(
        String(lineOf(textOf(files, props.file ?? ''), `"${field}"`))
      )
    }
    for (const { file, field } of configs) {
      const line = lineOf(textOf(files, file), `"${field}"`)
      const located = `${file}:${line}: ${field}: `
      expect(run.log).toContain(located)
      expect(run.summary).toContain(located)
    }
    expect(run.result.filter(r => r.status === 'failed')).toHaveLength(12)
  })
})

function syncAt(fake: FakeExh, workspace: string): Promise<ActionRun> {
  return runAction({ workspace, inputs: credentialInputs(fake) })
}

interface ErrorCommand {
  props: Record<string, string | undefined>
  message: string
}

/** The `::error key=value,...::message` workflow commands, decoded. */
function errorCommands(stdout: string): ErrorCommand[] {
  return stdout
    .split('\n')
    .filter(line => line.startsWith('::error'))
    .map(line => {
      const match = /^::error(?: ([^:]*))?::(.*)$/.exec(line)
      const [, props = '', message = ''] = match ?? []
      return {
        props: Object.fromEntries(
          props
            .split(',')
            .filter(Boolean)
            .map(pair => {
              const at = pair.indexOf('=')
              return [pair.slice(0, at), decode(pair.slice(at + 1))]
            })
        ),
        message: decode(message)
      }
    })
}

function decode(text: string): string {
  return text
    .replace(/%0A/g, '\n')
    .replace(/%0D/g, '\r')
    .replace(/%3A/g, ':')
    .replace(/%2C/g, ',')
    .replace(/%25/g, '%')
}

describe('format characters in a file name', () => {
  it('never prints U+202E raw, not even in an annotation’s file property', async () => {
    const folder = 'tasks/\u202etxt.exe'
    await using ws = await makeWorkspace({
      [`${folder}/task-config.json`]: taskConfig('a', { timeLimit: 'x' }),
      [`${folder}/build/index.js`]: 'x'
    })
    const run = await runAction({
      workspace: ws.dir,
      inputs: {
        path: 'tasks',
        'consumer-key': 'key-1234',
        'consumer-secret': 'secret-5678',
        'dry-run': 'true'
      }
    })
    expect(run.exitCode).toBe(1)
    const raw = run.stdout.split('\n').filter(line => line.includes('\u202e'))
    expect(raw).toEqual([])
  })
})
