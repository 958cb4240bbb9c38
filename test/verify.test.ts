// verify's pure parts: the result matcher, the failure message, which tasks
// run; task-verify.json's schema in words; the entry-point warning.
import { describe, expect, it } from 'vitest'
import { executionFailure, firstDifference } from '../src/verify/match.js'
import {
  executionTimeLimit,
  shouldVerify,
  verifyError
} from '../src/verify/run.js'
import {
  keptTimeLimitRefusal,
  loadVerifySpecs
} from '../src/config/verify-file.js'
import {
  entryPointFiles,
  entryPointWarning
} from '../src/verify/entry-point.js'
import { formatProblem, type TaskDefinition } from '../src/task.js'
import { writesFunction, type TaskPlan } from '../src/plan/decide.js'
import { makeWorkspace } from './support/workspace.js'

describe('firstDifference: expect.result against the result', () => {
  it.each([
    [{ ok: true }, { ok: true, extra: 1 }, undefined],
    [{ ok: true }, { ok: false }, 'result.ok: expected true, got false'],
    [{ ok: true }, {}, 'result.ok: expected true, got no such key'],
    [{ ok: true }, null, 'result: expected an object, got null'],
    [{ ok: true }, [1], 'result: expected an object, got [1]'],
    [{ a: { b: [1, 2] } }, { a: { b: [1, 2], c: 3 } }, undefined],
    [
      { a: { b: [1, 2] } },
      { a: { b: [1] } },
      'result.a.b: expected [1,2], got [1]'
    ],
    [
      [{ x: 1 }],
      [{ x: 1, y: 2 }],
      'result: expected [{"x":1}], got [{"x":1,"y":2}]'
    ],
    [{ 'a b': 1 }, { 'a b': '1' }, 'result["a b"]: expected 1, got "1"'],
    ['done', 'done', undefined],
    [null, undefined, 'result: expected null, got nothing'],
    [
      {},
      'anything but an object',
      'result: expected an object, got "anything but an object"'
    ]
  ])('%j in %j: %s', (expected, actual, difference) => {
    expect(firstDifference(expected, actual)).toBe(difference)
  })

  it('keeps a long value whole: a cut could split a secret so that redaction misses it', () => {
    const long = 'y'.repeat(200)
    expect(firstDifference('x', long)).toBe(
      `result: expected "x", got "${long}"`
    )
  })
})

describe('executionFailure', () => {
  it.each([
    [{ status: 'complete', result: { ok: true } }, undefined, undefined],
    [
      { status: 'complete', result: null },
      { value: { ok: true } },
      'result: expected an object, got null'
    ],
    [
      { status: 'failed' },
      undefined,
      'the execution ended "failed", not "complete"'
    ],
    [
      {
        taskId: 't',
        runtimeError: {
          name: 'Runtime.ImportModuleError',
          message:
            "Error: Cannot find module 'x'\nRequire stack:\n- /var/task/index.js"
        }
      },
      { value: 1 },
      "the function failed: Runtime.ImportModuleError: Error: Cannot find module 'x'"
    ]
  ])('%j expecting %j: %s', (execution, expected, failure) => {
    expect(executionFailure(execution, expected)).toBe(failure)
  })
})

describe('verifyError and shouldVerify', () => {
  it('says the function stays deployed and which commit to redeploy, when this run replaced it', () => {
    expect(
      verifyError('result.ok: expected true, got false', {
        written: true,
        previousCommit: '0123456789abcdef'
      })
    ).toBe(
      'verify: result.ok: expected true, got false (the function stays deployed; to roll back, redeploy commit 0123456)'
    )
    expect(verifyError('boom', { written: true })).toBe(
      'verify: boom (the function stays deployed)'
    )
    expect(verifyError('boom', { written: false, previousCommit: 'abc' })).toBe(
      'verify: boom'
    )
  })

  const spec = { file: 'a/task-verify.json', data: {} }
  it.each([
    ['false', 'create', spec, false],
    ['true', 'create', spec, true],
    ['true', 'update', spec, true],
    ['true', 'unchanged', spec, false],
    ['all', 'unchanged', spec, true],
    ['all', 'create', undefined, false]
  ] as const)(
    'verify: %s, %s, spec %j → %s',
    (mode, action, given, expected) => {
      expect(shouldVerify(mode, action, given)).toBe(expected)
    }
  )
})

describe('which function verify executes, and how long it waits', () => {
  it.each([
    [{ action: 'create', body: {}, uploadCode: true, changes: [] }, true],
    [{ action: 'update', body: {}, uploadCode: true, changes: [] }, true],
    [{ action: 'update', body: { timeLimit: 5 }, uploadCode: false }, true],
    // Only the role's permissions changed: the function is not written.
    [{ action: 'update', body: {}, uploadCode: false }, false],
    [{ action: 'unchanged' }, false]
  ] as const)('writesFunction(%j) → %s', (plan, expected) => {
    expect(writesFunction({ changes: [], ...plan } as TaskPlan)).toBe(expected)
  })

  it.each([
    [10, 60, 10],
    [undefined, 20, 20],
    [undefined, undefined, 30]
  ])(
    'the deadline counts on timeLimit %s (config), %s (kept) → %s s',
    (configured, kept, expected) => {
      expect(executionTimeLimit(configured, kept)).toBe(expected)
    }
  )

  it.each([
    [{}, 60, true, 'refused'],
    [{}, 30, true, undefined],
    [{}, undefined, true, undefined],
    // The config's own timeLimit is what the update writes (checked at load).
    [{ timeLimit: 20 }, 60, true, undefined],
    // No task-verify.json, or verify: false (it is then not loaded).
    [{}, 60, false, undefined]
  ] as const)(
    'config %j, the function keeps %s, verify spec %s → %s',
    (fields, kept, hasSpec, expected) => {
      const spec = { file: 'tasks/a/task-verify.json', data: {} }
      const given = { ...task(fields), ...(hasSpec ? { verify: spec } : {}) }
      const refusal = keptTimeLimitRefusal(given, kept)
      expect(refusal === undefined ? undefined : 'refused').toBe(expected)
    }
  )
})

function task(
  fields: Partial<TaskDefinition['config']> = {},
  configFile = 'tasks/a/task-config.json'
): TaskDefinition {
  return {
    name: 'a',
    asWritten: {},
    config: {
      name: 'a',
      path: 'build',
      entryPoint: 'index.handler',
      runtime: 'nodejs22.x',
      ...fields
    },
    configFile,
    codeDir: '/nowhere',
    locations: {
      entryPoint: { line: 4, column: 17 },
      timeLimit: { line: 6, column: 16 }
    }
  }
}

describe('task-verify.json: loaded and checked, in the config’s words', () => {
  it('reads data (default {}) and expect.result, and reports schema problems at their line with did-you-mean', async () => {
    await using ws = await makeWorkspace({
      'tasks/a/task-verify.json':
        '{ "data": { "n": 1 }, "expect": { "result": { "ok": true } } }\n',
      'tasks/b/task-verify.json': '{}\n',
      'tasks/c/task-verify.json':
        '{\n  "data": 1,\n  "expect": {\n    "reslt": {}\n  },\n  "dta": 2\n}\n',
      'tasks/d/task-verify.json': '{ "data": \n'
    })
    const tasks = ['a', 'b', 'c', 'd', 'e'].map(name => ({
      ...task({}, `tasks/${name}/task-config.json`),
      name
    }))
    const { tasks: loaded, problems } = await loadVerifySpecs(tasks, ws.dir)
    expect(loaded.map(t => t.verify)).toEqual([
      {
        file: 'tasks/a/task-verify.json',
        data: { n: 1 },
        expectResult: { value: { ok: true } }
      },
      { file: 'tasks/b/task-verify.json', data: {} },
      undefined,
      undefined,
      undefined
    ])
    expect(problems.map(formatProblem)).toEqual([
      'tasks/c/task-verify.json:4: expect.reslt: is not allowed (unknown property); did you mean `result`?',
      'tasks/c/task-verify.json:6: dta: is not allowed (unknown property); did you mean `data`?',
      expect.stringMatching(
        /^tasks\/d\/task-verify\.json:2: JSON: invalid JSON: /
      )
    ])
    expect(problems[0]).toMatchObject({
      task: 'c',
      config: 'tasks/c/task-config.json'
    })
  })

  it('refuses a timeLimit over 30 s (unset counts as 30) at the config line, naming task-verify.json', async () => {
    await using ws = await makeWorkspace({
      'tasks/a/task-verify.json': '{}',
      'tasks/b/task-verify.json': '{}',
      'tasks/c/task-verify.json': '{}'
    })
    const tasks = [
      { ...task({ timeLimit: 31 }, 'tasks/a/task-config.json'), name: 'a' },
      { ...task({ timeLimit: 30 }, 'tasks/b/task-config.json'), name: 'b' },
      { ...task({}, 'tasks/c/task-config.json'), name: 'c' }
    ]
    const { problems } = await loadVerifySpecs(tasks, ws.dir)
    expect(problems.map(formatProblem)).toEqual([
      'tasks/a/task-config.json:6: timeLimit: must be at most 30 for a task with task-verify.json, not 31: the API executes a function directly only up to 30 s (remove task-verify.json, or lower timeLimit)'
    ])
  })
})

describe('the entry-point warning (Node.js runtimes)', () => {
  it.each([
    [
      'index.handler',
      { kind: 'module', files: ['index.js', 'index.mjs', 'index.cjs'] }
    ],
    [
      'src/app.main',
      { kind: 'module', files: ['src/app.js', 'src/app.mjs', 'src/app.cjs'] }
    ],
    ['build/index', { kind: 'no-export' }],
    ['./build/index', { kind: 'no-export' }],
    ['.handler', { kind: 'no-export' }]
  ])('%s → %j', (entryPoint, check) => {
    expect(entryPointFiles(entryPoint)).toEqual(check)
  })

  it('warns with the config line and the files looked for, and says nothing when one is there or for other runtimes', () => {
    const none = () => false
    expect(entryPointWarning(task(), 'tasks/a/build', none)).toBe(
      'tasks/a/task-config.json:4: entryPoint: `index.handler` needs one of index.js, index.mjs, index.cjs in the code folder tasks/a/build, and none is there: the function will fail to load'
    )
    expect(
      entryPointWarning(
        task({ entryPoint: 'build/index' }),
        'tasks/a/build',
        none
      )
    ).toBe(
      'tasks/a/task-config.json:4: entryPoint: `build/index` names no export (write <module>.<export>, like index.handler): the function will fail to start'
    )
    expect(
      entryPointWarning(task(), 'b', file => file === 'index.mjs')
    ).toBeUndefined()
    expect(
      entryPointWarning(task({ runtime: 'python3.12' }), 'b', none)
    ).toBeUndefined()
  })
})

describe('the shipped task-verify schema', () => {
  it('is a valid draft-07 schema (the action skips this check at run time)', async () => {
    const { Ajv } = await import('ajv')
    const { default: schema } = await import(
      '../schema/task-verify.schema.json',
      { with: { type: 'json' } }
    )
    const ajv = new Ajv({ strict: true })
    expect(ajv.validateSchema(schema)).toBe(true)
    expect(() => ajv.compile(schema)).not.toThrow()
  })
})
