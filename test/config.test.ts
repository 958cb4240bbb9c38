import {
  mkdir,
  mkdtemp,
  realpath,
  rm,
  symlink,
  writeFile
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { closestName } from '../src/config/schema-wording.js'
import { MAX_JSON_DEPTH } from '../src/helpers.js'
import { createScanner } from 'jsonc-parser'
import {
  CLOSE_BRACE,
  CLOSE_BRACKET,
  EOF,
  OPEN_BRACE,
  OPEN_BRACKET,
  parseJson,
  tooDeepAt
} from '../src/config/json-locations.js'
import {
  loadTaskConfigs,
  taskFromInputs,
  type LoadOptions
} from '../src/config/validate.js'
import { RUNTIMES } from '../src/runtimes.js'
import type { FoundConfig } from '../src/config/read.js'
import {
  formatProblem,
  MARKER_VARIABLE,
  type TaskOverrides
} from '../src/task.js'

const BASE = {
  name: 'my-task',
  path: 'build',
  entryPoint: 'index.handler',
  runtime: 'nodejs22.x'
}

const FULL = {
  name: 'my-task',
  description: 'My sample task',
  path: 'build',
  entryPoint: 'build/index.handler',
  runtime: 'nodejs22.x',
  timeLimit: 300,
  memoryLimit: 2048,
  environment: { setting1: 'value1', _private: 'x' },
  executionPermission: 'allUsers',
  defaultPriority: 0,
  retryPolicy: { enabled: true, errorsToRetry: ['CONNECTION_ERROR'] },
  $schema: '../schema/task-config.schema.json'
}

const FILE = 'tasks/a/task-config.json'

let workspace: string
const texts = new Map<string, string>()

beforeEach(async () => {
  // realpath: on macOS the temp folder is itself behind a symlink.
  workspace = await realpath(
    await mkdtemp(path.join(tmpdir(), 'exh-config-test-'))
  )
  texts.clear()
})

afterEach(async () => {
  await rm(workspace, { recursive: true, force: true })
})

/** Writes a config (an object as pretty JSON, or raw text) and its `build` folder. */
async function writeConfig(
  file: string,
  content: unknown,
  { build = true }: { build?: boolean } = {}
): Promise<FoundConfig> {
  const absolute = path.join(workspace, file)
  const text =
    typeof content === 'string' ? content : JSON.stringify(content, null, 2)
  await mkdir(path.dirname(absolute), { recursive: true })
  await writeFile(absolute, text)
  if (build) {
    await mkdir(path.join(path.dirname(absolute), 'build'), { recursive: true })
  }
  texts.set(file, text)
  return { file: absolute, root: workspace }
}

/** The 1-based line of `file` that is `needle` (trimmed), or else contains it. */
function lineOf(file: string, needle: string): number {
  const lines = (texts.get(file) ?? '').split('\n')
  const exact = lines.findIndex(line => line.trim() === needle)
  const index =
    exact >= 0 ? exact : lines.findIndex(line => line.includes(needle))
  if (index < 0) throw new Error(`${needle} not in ${file}`)
  return index + 1
}

function load(found: FoundConfig[], options: Partial<LoadOptions> = {}) {
  return loadTaskConfigs(found, {
    workspace,
    env: {},
    isSelected: () => true,
    ...options
  })
}

/** BASE with `patch` applied; an `undefined` value removes the key. */
function patched(patch: Record<string, unknown>): Record<string, unknown> {
  const config: Record<string, unknown> = { ...BASE, ...patch }
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) Reflect.deleteProperty(config, key)
  }
  return config
}

describe('loadTaskConfigs: a valid config', () => {
  it('loads every field intact and adds no defaults', async () => {
    const found = await writeConfig(FILE, FULL)
    const result = await load([found])
    expect(result.problems).toEqual([])
    expect(result.names).toEqual(['my-task'])
    expect(result.tasks).toEqual([
      {
        name: 'my-task',
        config: FULL,
        // No `$NAME` in it: the config as written is the config.
        asWritten: FULL,
        configFile: FILE,
        codeDir: path.join(workspace, 'tasks/a/build'),
        searchRoot: found.root,
        locations: {
          path: {
            line: lineOf(FILE, '"path"'),
            column: expect.any(Number) as number
          },
          environment: {
            line: lineOf(FILE, '"environment"'),
            column: expect.any(Number) as number
          },
          entryPoint: {
            line: lineOf(FILE, '"entryPoint"'),
            column: expect.any(Number) as number
          },
          timeLimit: {
            line: lineOf(FILE, '"timeLimit"'),
            column: expect.any(Number) as number
          }
        }
      }
    ])
  })

  it('treats an empty description as none (the CLI sends "none" on create only)', async () => {
    const found = await writeConfig(FILE, patched({ description: '' }))
    const [task] = (await load([found])).tasks
    expect(task?.config).toEqual(BASE)
    expect(task?.config).not.toHaveProperty('description')
  })

  it('leaves unset fields unset', async () => {
    const found = await writeConfig(FILE, BASE)
    const [task] = (await load([found])).tasks
    expect(task?.config).toEqual(BASE)
    expect(task?.config).not.toHaveProperty('timeLimit')
    expect(task?.config).not.toHaveProperty('memoryLimit')
    expect(task?.config).not.toHaveProperty('environment')
    expect(task?.config).not.toHaveProperty('description')
  })

  it('keeps RUNTIMES as the schema enum (28 runtimes of exh-cli 1.13.6)', () => {
    expect(RUNTIMES).toHaveLength(28)
    expect(RUNTIMES).toContain('nodejs24.x')
    expect(RUNTIMES).toContain('provided.al2')
  })
})

describe('loadTaskConfigs: schema rules', () => {
  it.each([
    ['timeLimit 3', { timeLimit: 3 }],
    ['timeLimit 300', { timeLimit: 300 }],
    ['memoryLimit 128', { memoryLimit: 128 }],
    ['memoryLimit 10240', { memoryLimit: 10240 }],
    ['name with digits and dashes', { name: 'My-task-2' }],
    ['defaultPriority 0', { defaultPriority: 0 }],
    ['negative defaultPriority', { defaultPriority: -5 }],
    ['retryPolicy without errorsToRetry', { retryPolicy: { enabled: false } }],
    ['empty environment', { environment: {} }],
    ['environment key with _ first', { environment: { _A1: 'x' } }],
    ['the provided.al2023 runtime', { runtime: 'provided.al2023' }],
    ['public', { executionPermission: 'public' }]
  ])('accepts %s', async (_label, patch) => {
    const found = await writeConfig(FILE, patched(patch))
    const result = await load([found])
    expect(result.problems).toEqual([])
    expect(result.tasks).toHaveLength(1)
  })

  const runtimeRule =
    'must be one of: nodejs24.x, nodejs22.x, nodejs20.x, nodejs18.x, nodejs16.x (the nodejs ones of 28 allowed values)'

  it.each([
    [
      'timeLimit 2',
      { timeLimit: 2 },
      'timeLimit',
      'must be >= 3',
      '"timeLimit"'
    ],
    [
      'timeLimit 301',
      { timeLimit: 301 },
      'timeLimit',
      'must be <= 300',
      '"timeLimit"'
    ],
    [
      'memoryLimit 127',
      { memoryLimit: 127 },
      'memoryLimit',
      'must be >= 128',
      '"memoryLimit"'
    ],
    [
      'memoryLimit 10241',
      { memoryLimit: 10241 },
      'memoryLimit',
      'must be <= 10240',
      '"memoryLimit"'
    ],
    [
      'a string timeLimit',
      { timeLimit: '60' },
      'timeLimit',
      'must be integer',
      '"timeLimit"'
    ],
    [
      'a fractional memoryLimit',
      { memoryLimit: 256.5 },
      'memoryLimit',
      'must be integer',
      '"memoryLimit"'
    ],
    [
      'a fractional defaultPriority',
      { defaultPriority: 1.5 },
      'defaultPriority',
      'must be integer',
      '"defaultPriority"'
    ],
    [
      'an unknown runtime',
      { runtime: 'nodejs8.x' },
      'runtime',
      runtimeRule,
      '"runtime"'
    ],
    [
      'an unknown runtime family',
      { runtime: 'go1.x' },
      'runtime',
      `must be one of: ${RUNTIMES.join(', ')}`,
      '"runtime"'
    ],
    [
      'a bad executionPermission',
      { executionPermission: 'everyone' },
      'executionPermission',
      'must be one of: permissionRequired, allUsers, public',
      '"executionPermission"'
    ],
    [
      'an underscore in the name',
      { name: 'abcd_' },
      'name',
      'must be one or more letters, digits or -',
      '"name"'
    ],
    [
      'a * first in the name',
      { name: '*abcd' },
      'name',
      'must be one or more letters, digits or -',
      '"name"'
    ],
    [
      'a * inside the name',
      { name: 'ab*cd' },
      'name',
      'must be one or more letters, digits or -',
      '"name"'
    ],
    [
      'an empty name',
      { name: '' },
      'name',
      'must be one or more letters, digits or -',
      '"name"'
    ],
    ['no path', { path: undefined }, 'path', 'is required', '{'],
    [
      'no entryPoint',
      { entryPoint: undefined },
      'entryPoint',
      'is required',
      '{'
    ],
    ['no runtime', { runtime: undefined }, 'runtime', 'is required', '{'],
    [
      'an unknown property',
      { foo: 1 },
      'foo',
      'is not allowed (unknown property)',
      '"foo"'
    ],
    [
      'a misspelt property, with the known one it is close to',
      { enviroment: { A: 'x' } },
      'enviroment',
      'is not allowed (unknown property); did you mean `environment`?',
      '"enviroment"'
    ],
    [
      "an older CLI's executionOptions, with the fields it became",
      { executionOptions: { permissionMode: 'allUsers', defaultPriority: 1 } },
      'executionOptions',
      'is not allowed (unknown property); did you mean `executionPermission` / `defaultPriority`? (older CLI versions nested them in executionOptions as permissionMode and defaultPriority)',
      '"executionOptions"'
    ],
    [
      'a misspelt nested property, with the known one it is close to',
      { retryPolicy: { enabled: true, errorToRetry: [] } },
      'retryPolicy.errorToRetry',
      'is not allowed (unknown property); did you mean `errorsToRetry`?',
      '"errorToRetry"'
    ],
    [
      'a retryPolicy without enabled',
      { retryPolicy: { errorsToRetry: [] } },
      'retryPolicy.enabled',
      'is required',
      '"retryPolicy"'
    ],
    [
      'a retryPolicy with an extra key',
      { retryPolicy: { enabled: true, retries: 3 } },
      'retryPolicy.retries',
      'is not allowed (unknown property)',
      '"retries"'
    ],
    [
      'a non-string errorsToRetry',
      { retryPolicy: { enabled: true, errorsToRetry: ['A', 1] } },
      'retryPolicy.errorsToRetry.1',
      'must be string',
      '1'
    ],
    [
      'a retryPolicy string',
      { retryPolicy: 'yes' },
      'retryPolicy',
      'must be object',
      '"retryPolicy"'
    ],
    [
      'a null retryPolicy',
      { retryPolicy: null },
      'retryPolicy',
      'must be object, not null',
      '"retryPolicy"'
    ],
    [
      'a null description',
      { description: null },
      'description',
      'must be string, not null',
      '"description"'
    ],
    [
      'a number in environment',
      { environment: { A: 1 } },
      'environment.A',
      'must be string',
      '"A"'
    ],
    [
      'a null in environment',
      { environment: { A: null } },
      'environment.A',
      'must be string, not null',
      '"A"'
    ],
    [
      'a bad environment key',
      { environment: { 'my-var': 'x' } },
      'environment.my-var',
      'is not a valid name: must start with a letter or _ and hold only letters, digits and _',
      '"my-var"'
    ],
    [
      'an array environment',
      { environment: ['A=1'] },
      'environment',
      'must be object',
      '"environment"'
    ]
  ])('reports %s', async (_label, patch, field, rule, needle) => {
    const found = await writeConfig(FILE, patched(patch))
    const result = await load([found])
    expect(result.problems).toEqual([
      {
        file: FILE,
        line: lineOf(FILE, needle),
        column: expect.any(Number) as number,
        field,
        rule,
        task: (patch as { name?: string }).name ?? 'my-task'
      }
    ])
    expect(result.tasks).toEqual([])
  })

  it('reports a missing name at the object, without a task name', async () => {
    const found = await writeConfig(FILE, patched({ name: undefined }))
    const result = await load([found])
    expect(result.problems).toEqual([
      { file: FILE, line: 1, column: 1, field: 'name', rule: 'is required' }
    ])
    expect(result.names).toEqual([])
  })

  it('reports every error of a file, sorted by line, with exact columns', async () => {
    const text = [
      '{',
      '  "name": "bad_name",',
      '  "path": "build",',
      '  "runtime": "nodejs8.x",',
      '  "timeLimit": 900,',
      '  "memoryLimit": 64,',
      '  "extra": true',
      '}'
    ].join('\n')
    const found = await writeConfig(FILE, text)
    const result = await load([found])
    expect(
      result.problems.map(({ line, column, field }) => [line, column, field])
    ).toEqual([
      [1, 1, 'entryPoint'],
      [2, 11, 'name'],
      [4, 14, 'runtime'],
      [5, 16, 'timeLimit'],
      [6, 18, 'memoryLimit'],
      [7, 3, 'extra']
    ])
  })

  it('reports a file that is not an object', async () => {
    const found = await writeConfig(FILE, '[]')
    const result = await load([found])
    expect(result.problems).toEqual([
      { file: FILE, line: 1, column: 1, rule: 'must be object' }
    ])
  })

  it('survives null anywhere', async () => {
    const found = await writeConfig(
      FILE,
      patched({
        name: null,
        environment: null,
        executionCredentials: null,
        retryPolicy: { enabled: null, errorsToRetry: null }
      })
    )
    const result = await load([found])
    expect(result.problems.map(problem => problem.field)).toEqual([
      'name',
      'environment',
      'executionCredentials',
      'retryPolicy.enabled',
      'retryPolicy.errorsToRetry'
    ])
  })
})

describe('loadTaskConfigs: malformed JSON', () => {
  it.each([
    [
      'a trailing comma',
      '{\n  "name": "a",\n  "path": "build",\n}',
      4,
      'invalid JSON: a property name in double quotes is expected (JSON allows no trailing comma)'
    ],
    [
      'a missing comma',
      '{\n  "name": "a"\n  "path": "build"\n}',
      3,
      'invalid JSON: a comma is expected'
    ],
    [
      'a comment',
      '{\n  // the name\n  "name": "a"\n}',
      2,
      'invalid JSON: comments are not allowed in JSON'
    ],
    [
      'an unclosed object',
      '{\n  "name": "a",\n',
      3,
      'invalid JSON: the file ends too early (something is not closed)'
    ],
    ['an empty file', '', 1, 'invalid JSON: the file is empty'],
    [
      'two values',
      '{}\n{}',
      2,
      'invalid JSON: unexpected content after the end of the JSON value'
    ]
  ])('reports %s with its line', async (_label, text, line, rule) => {
    const found = await writeConfig(FILE, text)
    const result = await load([found])
    expect(result.problems).toEqual([
      {
        file: FILE,
        line,
        column: expect.any(Number) as number,
        field: 'JSON',
        rule
      }
    ])
    expect(result.tasks).toEqual([])
  })

  it('still checks the other files', async () => {
    const bad = await writeConfig('tasks/a/task-config.json', '{')
    const good = await writeConfig('tasks/b/task-config.json', BASE)
    const result = await load([bad, good])
    expect(result.problems).toHaveLength(1)
    expect(result.tasks.map(task => task.configFile)).toEqual([
      'tasks/b/task-config.json'
    ])
  })

  it.each([
    [64, false],
    [65, true]
  ])(
    'refuses nesting deeper than 64 levels (the top-level object is 1): %i',
    async (levels, refused) => {
      // `{"x": [[…]]}`: the object is level 1, each `[` one more; `"[` in a
      // string does not count.
      const nested = `${'['.repeat(levels - 1)}${']'.repeat(levels - 1)}`
      const found = await writeConfig(
        FILE,
        `{"description": "[[[[", "x": ${nested}}`
      )
      const rules = (await load([found])).problems.map(p => p.rule)
      expect(rules.some(rule => rule.includes('nested deeper than 64'))).toBe(
        refused
      )
    }
  )

  it.each([
    ['a comment holding a quote', '{"x": [/*"*/ BRACKETS /*"*/]}'],
    ['a line comment', '{"x": // "\n BRACKETS }'],
    ['brackets in a string, then real ones', '{"d": "[[[[\\"", "x": BRACKETS}']
  ])(
    'counts nesting as the parser reads it, past %s',
    async (_label, template) => {
      const deep = `${'['.repeat(200)}${']'.repeat(200)}`
      const found = await writeConfig(FILE, template.replace('BRACKETS', deep))
      const rules = (await load([found])).problems.map(p => p.rule)
      expect(rules.some(rule => rule.includes('nested deeper than 64'))).toBe(
        true
      )
    }
  )

  it("names jsonc-parser's token kinds as its SyntaxKind does", () => {
    const scanner = createScanner('{[]}', false)
    const tokens = Array.from({ length: 5 }, () => scanner.scan())
    expect(tokens).toEqual([
      OPEN_BRACE,
      OPEN_BRACKET,
      CLOSE_BRACKET,
      CLOSE_BRACE,
      EOF
    ])
  })

  it('accepts a byte-order mark', async () => {
    const found = await writeConfig(FILE, `\uFEFF${JSON.stringify(BASE)}`)
    expect((await load([found])).problems).toEqual([])
  })
})

describe('loadTaskConfigs: $NAME substitution', () => {
  it('substitutes whole string values, nested too, and masks each value', async () => {
    const found = await writeConfig(
      FILE,
      patched({
        description: '$DESCRIPTION',
        environment: { SECRET: '$MY_SECRET', LITERAL: 'x-$MY_SECRET' },
        retryPolicy: { enabled: true, errorsToRetry: ['$ERROR'] }
      })
    )
    const mask = vi.fn()
    const result = await load([found], {
      env: {
        DESCRIPTION: 'desc',
        MY_SECRET: 's3cret',
        ERROR: 'DATABASE_ERROR'
      },
      mask
    })
    expect(result.problems).toEqual([])
    expect(result.tasks[0]?.config).toMatchObject({
      description: 'desc',
      environment: { SECRET: 's3cret', LITERAL: 'x-$MY_SECRET' },
      retryPolicy: { enabled: true, errorsToRetry: ['DATABASE_ERROR'] }
    })
    expect(mask.mock.calls).toEqual([['desc'], ['s3cret'], ['DATABASE_ERROR']])
  })

  it.each([
    ['unset', {}],
    ['empty', { MY_SECRET: '' }]
  ])('reports a variable that is %s', async (_label, env) => {
    const found = await writeConfig(
      FILE,
      patched({ environment: { A: 'a', SECRET: '$MY_SECRET' } })
    )
    const result = await load([found], { env })
    expect(result.problems).toEqual([
      {
        file: FILE,
        line: lineOf(FILE, '"SECRET"'),
        column: 15,
        field: 'environment.SECRET',
        rule: 'variable MY_SECRET is not set (or empty) in the environment',
        task: 'my-task'
      }
    ])
    expect(result.tasks).toEqual([])
  })

  it('selects by the substituted name, which it does not mask', async () => {
    const found = await writeConfig(FILE, patched({ name: '$TASK_NAME' }))
    const isSelected = vi.fn((name: string) => name === 'from-env')
    const mask = vi.fn()
    const result = await load([found], {
      env: { TASK_NAME: 'from-env' },
      isSelected,
      mask
    })
    expect(isSelected).toHaveBeenCalledWith('from-env')
    expect(result.names).toEqual(['from-env'])
    expect(result.tasks.map(task => task.name)).toEqual(['from-env'])
    expect(result.tasks[0]?.config.name).toBe('from-env')
    expect(mask).not.toHaveBeenCalled()
  })

  it('validates after substitution: a $VAR number field fails as in the CLI', async () => {
    const found = await writeConfig(FILE, patched({ timeLimit: '$LIMIT' }))
    const result = await load([found], { env: { LIMIT: '60' } })
    expect(result.problems.map(formatProblem)).toEqual([
      `${FILE}:${lineOf(FILE, '"timeLimit"')}: timeLimit: must be integer (the value of $LIMIT)`
    ])
  })

  it('does not substitute or hold placeholders against an unselected config', async () => {
    const selected = await writeConfig(
      'tasks/a/task-config.json',
      patched({ name: 'a' })
    )
    const other = await writeConfig(
      'tasks/b/task-config.json',
      patched({
        name: 'b',
        runtime: '$RUNTIME',
        environment: { SECRET: '$UNSET' }
      })
    )
    const mask = vi.fn()
    const result = await load([selected, other], {
      env: { RUNTIME: 'nodejs22.x' },
      isSelected: name => name === 'a',
      mask
    })
    expect(result.problems).toEqual([])
    expect(result.names).toEqual(['a', 'b'])
    expect(result.tasks.map(task => task.name)).toEqual(['a'])
    expect(mask).not.toHaveBeenCalled()
  })

  it('still reports plain schema errors of an unselected config', async () => {
    const found = await writeConfig(
      FILE,
      patched({ timeLimit: 1000, runtime: '$RUNTIME' })
    )
    const result = await load([found], { isSelected: () => false })
    expect(result.problems.map(problem => problem.field)).toEqual(['timeLimit'])
  })

  it.each([
    ['selected', true],
    ['unselected', false]
  ])(
    'refuses a %s config that names a credential variable, without reading it',
    async (_label, selected) => {
      const found = await writeConfig(
        FILE,
        patched({
          name: '$INPUT_TOKEN-SECRET',
          environment: { RUNTIME: '$ACTIONS_RUNTIME_TOKEN' }
        })
      )
      const result = await load([found], {
        env: {
          'INPUT_TOKEN-SECRET': 'leaked-secret',
          ACTIONS_RUNTIME_TOKEN: 'leaked-token'
        },
        isSelected: () => selected
      })
      expect(result.problems.map(formatProblem)).toEqual([
        `${FILE}:2: name: $INPUT_TOKEN-SECRET is never substituted here: it is one of this action's inputs`,
        `${FILE}:${lineOf(FILE, '"RUNTIME"')}: environment.RUNTIME: $ACTIONS_RUNTIME_TOKEN is never substituted here: it is the runner's own (a token or its plumbing)`
      ])
      expect(result.names).toEqual(['$INPUT_TOKEN-SECRET'])
      expect(JSON.stringify(result)).not.toContain('leaked')
    }
  )

  it('warns about an unset variable in an offline dry run and counts it as empty', async () => {
    const found = await writeConfig(
      FILE,
      patched({ environment: { SECRET: '$MY_SECRET' } })
    )
    const result = await load([found], { unsetVariablesWarn: true })
    expect(result.problems).toEqual([])
    expect(result.tasks[0]?.config.environment).toEqual({ SECRET: '' })
    expect(result.warnings).toEqual([
      `${FILE}:${lineOf(FILE, '"SECRET"')}: environment.SECRET: variable MY_SECRET is not set (or empty); counted as empty in this offline dry run, so the environment-size check is incomplete`
    ])
  })

  it('treats an unset $NAME name as that literal name for selection', async () => {
    const found = await writeConfig(FILE, patched({ name: '$TASK_NAME' }))
    const all = await load([found])
    expect(all.problems).toEqual([
      {
        file: FILE,
        line: 2,
        column: 11,
        field: 'name',
        rule: 'variable TASK_NAME is not set (or empty) in the environment'
      }
    ])
    const none = await load([found], { isSelected: name => name === 'x' })
    expect(none.problems).toEqual([])
  })
})

describe('loadTaskConfigs: the code folder', () => {
  it('reports an absolute path', async () => {
    const found = await writeConfig(
      FILE,
      patched({ path: path.join(workspace, 'tasks/a/build') })
    )
    const result = await load([found])
    expect(result.problems).toEqual([
      {
        file: FILE,
        line: lineOf(FILE, '"path"'),
        column: 11,
        field: 'path',
        rule: "must be relative to the config's folder, not absolute (the CLI would silently join it under that folder)",
        task: 'my-task'
      }
    ])
  })

  it('reports a missing folder', async () => {
    const found = await writeConfig(FILE, BASE, { build: false })
    const result = await load([found])
    expect(result.problems.map(formatProblem)).toEqual([
      `${FILE}:${lineOf(FILE, '"path"')}: path: code folder tasks/a/build not found`
    ])
  })

  it('reports a file instead of a folder', async () => {
    const found = await writeConfig(FILE, BASE, { build: false })
    await writeFile(path.join(workspace, 'tasks/a/build'), 'x')
    const result = await load([found])
    expect(result.problems.map(problem => problem.rule)).toEqual([
      'code folder tasks/a/build points to a file'
    ])
  })

  it('reports a code folder symlinked outside the workspace', async () => {
    const outside = await mkdtemp(path.join(tmpdir(), 'exh-config-outside-'))
    try {
      const found = await writeConfig(FILE, BASE, { build: false })
      await symlink(outside, path.join(workspace, 'tasks/a/build'))
      const result = await load([found])
      expect(result.problems).toHaveLength(1)
      expect(result.problems[0]?.rule).toMatch(
        /^code folder tasks\/a\/build must be inside the workspace \(its real path is .+\)$/
      )
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })

  it('reports a path that climbs out of the workspace', async () => {
    const found = await writeConfig(FILE, patched({ path: '../../..' }))
    const result = await load([found])
    expect(result.problems[0]?.rule).toMatch(/must be inside the workspace/)
  })

  it('accepts a symlink that stays inside, and the searched folder outside the workspace', async () => {
    const found = await writeConfig(FILE, patched({ path: 'link' }))
    await symlink(
      path.join(workspace, 'tasks/a/build'),
      path.join(workspace, 'tasks/a/link')
    )
    const outside = await realpath(
      await mkdtemp(path.join(tmpdir(), 'exh-config-root-'))
    )
    try {
      await mkdir(path.join(outside, 'build'))
      const file = path.join(outside, 'task-config.json')
      await writeFile(file, JSON.stringify(patched({ name: 'other' })))
      const result = await load([found, { file, root: outside }])
      expect(result.problems).toEqual([])
      expect(result.tasks.map(task => task.codeDir)).toEqual([
        path.join(workspace, 'tasks/a/link'),
        path.join(outside, 'build')
      ])
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })
})

describe('loadTaskConfigs: reserved environment keys', () => {
  it('refuses the marker variable always', async () => {
    const found = await writeConfig(
      FILE,
      patched({ environment: { [MARKER_VARIABLE]: 'x' } })
    )
    const result = await load([found])
    expect(result.problems).toEqual([
      {
        file: FILE,
        line: lineOf(FILE, MARKER_VARIABLE),
        column: 5,
        field: `environment.${MARKER_VARIABLE}`,
        rule: 'is reserved: this action stores its marker there',
        task: 'my-task'
      }
    ])
  })

  it('allows API_* keys without executionCredentials', async () => {
    const found = await writeConfig(
      FILE,
      patched({ environment: { API_HOST: 'h', API_OAUTH_TOKEN: 't' } })
    )
    expect((await load([found])).problems).toEqual([])
  })

  it('refuses API_* keys with executionCredentials, naming them', async () => {
    const found = await writeConfig(
      FILE,
      patched({
        environment: {
          API_OAUTH_TOKEN: 't',
          OK: 'x',
          API_OAUTH_TOKEN_SECRET: 's'
        },
        executionCredentials: { permissions: [] }
      })
    )
    const result = await load([found])
    expect(result.problems.map(formatProblem)).toEqual([
      `${FILE}:${lineOf(FILE, '"API_OAUTH_TOKEN"')}: environment.API_OAUTH_TOKEN: is set by executionCredentials (the task user's own credentials): remove it from environment`,
      `${FILE}:${lineOf(FILE, '"API_OAUTH_TOKEN_SECRET"')}: environment.API_OAUTH_TOKEN_SECRET: is set by executionCredentials (the task user's own credentials): remove it from environment`
    ])
  })
})

describe('loadTaskConfigs: across configs', () => {
  it('reports each duplicate name, naming the other file', async () => {
    const a = await writeConfig('tasks/a/task-config.json', BASE)
    const b = await writeConfig('tasks/b/task-config.json', BASE)
    const c = await writeConfig(
      'tasks/c/task-config.json',
      patched({ name: 'other' })
    )
    const result = await load([a, b, c])
    expect(result.problems).toEqual([
      {
        file: 'tasks/a/task-config.json',
        line: 2,
        column: 11,
        field: 'name',
        rule: 'duplicate task name: also in tasks/b/task-config.json',
        task: 'my-task'
      },
      {
        file: 'tasks/b/task-config.json',
        line: 2,
        column: 11,
        field: 'name',
        rule: 'duplicate task name: also in tasks/a/task-config.json',
        task: 'my-task'
      }
    ])
    expect(result.names).toEqual(['my-task', 'other'])
    expect(result.tasks.map(task => task.name)).toEqual(['other'])
  })

  it('finds duplicates among unselected configs too, after lenient substitution', async () => {
    const a = await writeConfig('tasks/a/task-config.json', BASE)
    const b = await writeConfig(
      'tasks/b/task-config.json',
      patched({ name: '$NAME' })
    )
    const result = await load([a, b], {
      env: { NAME: 'my-task' },
      isSelected: () => false
    })
    expect(result.problems.map(problem => problem.field)).toEqual([
      'name',
      'name'
    ])
  })

  it('reports an executionCredentials email shared by two tasks', async () => {
    const a = await writeConfig(
      'tasks/a/task-config.json',
      patched({ name: 'Foo', executionCredentials: { permissions: [] } })
    )
    const b = await writeConfig(
      'tasks/b/task-config.json',
      patched({
        name: 'bar',
        executionCredentials: {
          permissions: [],
          email: 'EXH.TASKS+foo@extrahorizon.com'
        }
      })
    )
    const result = await load([a, b], { isSelected: () => false })
    expect(result.problems.map(formatProblem)).toEqual([
      `tasks/a/task-config.json:${lineOf('tasks/a/task-config.json', '"executionCredentials"')}: executionCredentials: the same execution user's email as task bar (tasks/b/task-config.json); each task needs its own`,
      `tasks/b/task-config.json:${lineOf('tasks/b/task-config.json', '"email"')}: executionCredentials.email: the same execution user's email as task Foo (tasks/a/task-config.json); each task needs its own`
    ])
  })

  it('returns tasks in the order found and problems sorted by file then line', async () => {
    const b = await writeConfig(
      'tasks/b/task-config.json',
      patched({ name: 'b', timeLimit: 1, foo: 1 })
    )
    const c = await writeConfig(
      'tasks/c/task-config.json',
      patched({ name: 'c' })
    )
    const a = await writeConfig(
      'tasks/a/task-config.json',
      patched({ name: 'a', memoryLimit: 1 })
    )
    const d = await writeConfig(
      'tasks/d/task-config.json',
      patched({ name: 'd' })
    )
    const result = await load([b, d, a, c])
    expect(result.tasks.map(task => task.name)).toEqual(['d', 'c'])
    expect(
      result.problems.map(
        problem => `${problem.file ?? ''}:${problem.field ?? ''}`
      )
    ).toEqual([
      'tasks/a/task-config.json:memoryLimit',
      'tasks/b/task-config.json:timeLimit',
      'tasks/b/task-config.json:foo'
    ])
  })
})

describe('loadTaskConfigs: executionCredentials', () => {
  it('loads a selected task that has it, permissions and email intact', async () => {
    const found = await writeConfig(
      FILE,
      patched({
        executionCredentials: {
          permissions: ['VIEW_DOCUMENTS'],
          email: 'Task.User@Example.com'
        }
      })
    )
    const result = await load([found])
    expect(result.problems).toEqual([])
    expect(result.tasks[0]?.config.executionCredentials).toEqual({
      permissions: ['VIEW_DOCUMENTS'],
      email: 'Task.User@Example.com'
    })
  })

  it.each([
    ['a@', 'must be an email address of 3 to 256 characters'],
    ['not-an-email', 'must be an email address (name@domain.tld)'],
    ['user@localhost', 'must be an email address (name@domain.tld)'],
    [
      `${'x'.repeat(250)}@example.com`,
      'must be an email address of 3 to 256 characters'
    ]
  ])('refuses the email %s as the user service would', async (email, rule) => {
    const found = await writeConfig(
      FILE,
      patched({ executionCredentials: { permissions: [], email } })
    )
    const result = await load([found])
    expect(result.problems.map(p => [p.field, p.rule])).toEqual([
      ['executionCredentials.email', rule]
    ])
  })

  it('checks its shape', async () => {
    const found = await writeConfig(
      FILE,
      patched({ executionCredentials: { email: 'a@b.c', role: 'x' } })
    )
    const result = await load([found], { isSelected: () => false })
    expect(result.problems.map(p => [p.field, p.rule])).toEqual([
      ['executionCredentials.permissions', 'is required'],
      ['executionCredentials.role', 'is not allowed (unknown property)']
    ])
  })
})

describe('loadTaskConfigs: single-task inputs as overrides', () => {
  it('applies each given override', async () => {
    const found = await writeConfig(
      FILE,
      patched({ timeLimit: 60, environment: { A: '1', B: '2' } })
    )
    const code = path.join(workspace, 'dist/my-task')
    await mkdir(code, { recursive: true })
    const overrides: TaskOverrides = {
      name: 'renamed',
      code,
      timeLimit: 120,
      environment: { C: '3' },
      executionPermission: 'public',
      defaultPriority: 0
    }
    const isSelected = vi.fn(() => true)
    const result = await load([found], { overrides, isSelected })
    expect(result.problems).toEqual([])
    expect(isSelected).toHaveBeenCalledWith('renamed')
    expect(result.tasks).toEqual([
      {
        name: 'renamed',
        config: {
          ...BASE,
          name: 'renamed',
          path: '../../dist/my-task',
          timeLimit: 120,
          environment: { C: '3' },
          executionPermission: 'public',
          defaultPriority: 0
        },
        // The `env` input's values may be secrets: never digested.
        asWritten: {
          ...BASE,
          name: 'renamed',
          path: '../../dist/my-task',
          timeLimit: 120,
          environment: { C: '(env input)' },
          executionPermission: 'public',
          defaultPriority: 0
        },
        // Compared by key in a reviewed plan, as a `$NAME` is.
        envInputKeys: ['C'],
        configFile: FILE,
        codeDir: code,
        searchRoot: found.root,
        locations: expect.any(Object) as object
      }
    ])
  })

  it('lets an override fix what it replaces, as the CLI validates once after', async () => {
    const found = await writeConfig(FILE, patched({ timeLimit: 900 }))
    const result = await load([found], { overrides: { timeLimit: 30 } })
    expect(result.problems).toEqual([])
    expect(result.tasks[0]?.config.timeLimit).toBe(30)
  })

  it.each([
    [{ timeLimit: 500 }, 'time-limit', 'must be <= 300'],
    [{ memoryLimit: 64 }, 'memory-limit', 'must be >= 128'],
    [{ name: 'bad name' }, 'name', 'must be one or more letters, digits or -'],
    [
      { runtime: 'cobol' },
      'runtime',
      expect.stringMatching(/^must be one of: /) as string
    ],
    [
      { environment: { 'bad-key': 'x' } },
      'env',
      'bad-key is not a valid name: must start with a letter or _ and hold only letters, digits and _'
    ],
    [
      { environment: { [MARKER_VARIABLE]: 'x' } },
      'env',
      `${MARKER_VARIABLE} is reserved: this action stores its marker there`
    ]
  ] as [TaskOverrides, string, string][])(
    'validates the override %j',
    async (overrides, field, rule) => {
      const found = await writeConfig(FILE, BASE)
      const result = await load([found], { overrides })
      // No file: the input is at fault; `config` still ties it to its task.
      expect(result.problems).toEqual([
        { field, rule, task: overrides.name ?? 'my-task', config: FILE }
      ])
      expect(result.tasks).toEqual([])
    }
  )

  it('checks the code override folder', async () => {
    const found = await writeConfig(FILE, BASE)
    const result = await load([found], {
      overrides: { code: path.join(workspace, 'nope') }
    })
    expect(result.problems).toEqual([
      {
        field: 'code',
        rule: 'code folder nope not found',
        task: 'my-task',
        config: FILE
      }
    ])
  })

  it('ignores overrides when several files are loaded', async () => {
    const a = await writeConfig(
      'tasks/a/task-config.json',
      patched({ name: 'a' })
    )
    const b = await writeConfig(
      'tasks/b/task-config.json',
      patched({ name: 'b' })
    )
    const result = await load([a, b], { overrides: { name: 'same' } })
    expect(result.problems).toEqual([])
    expect(result.tasks.map(task => task.name)).toEqual(['a', 'b'])
  })
})

describe('taskFromInputs', () => {
  it('names every missing input', async () => {
    const result = await taskFromInputs({}, { workspace })
    expect(result).toEqual(
      ['name', 'code', 'entry-point', 'runtime'].map(field => ({
        field,
        rule: 'is required when no task-config.json is given'
      }))
    )
  })

  it('builds a task from the inputs', async () => {
    const code = path.join(workspace, 'build')
    await mkdir(code)
    const result = await taskFromInputs(
      {
        name: 'from-inputs',
        code,
        entryPoint: 'index.handler',
        runtime: 'nodejs20.x',
        memoryLimit: 256,
        environment: { A: '1' }
      },
      { workspace }
    )
    expect(result).toEqual({
      name: 'from-inputs',
      config: {
        name: 'from-inputs',
        path: 'build',
        entryPoint: 'index.handler',
        runtime: 'nodejs20.x',
        memoryLimit: 256,
        environment: { A: '1' }
      },
      // As the reviewed plan's digest sees it: the env input's value left out.
      asWritten: {
        name: 'from-inputs',
        path: 'build',
        entryPoint: 'index.handler',
        runtime: 'nodejs20.x',
        memoryLimit: 256,
        environment: { A: '(env input)' }
      },
      envInputKeys: ['A'],
      codeDir: code
    })
  })

  it('validates the inputs against the schema and checks the folder', async () => {
    const result = await taskFromInputs(
      {
        name: 'x_y',
        code: path.join(workspace, 'missing'),
        entryPoint: 'index.handler',
        runtime: 'nodejs20.x',
        timeLimit: 2,
        environment: { [MARKER_VARIABLE]: 'x' }
      },
      { workspace }
    )
    expect(result).toEqual([
      {
        field: 'name',
        rule: 'must be one or more letters, digits or -',
        task: 'x_y'
      },
      { field: 'time-limit', rule: 'must be >= 3', task: 'x_y' },
      {
        field: 'env',
        rule: `${MARKER_VARIABLE} is reserved: this action stores its marker there`,
        task: 'x_y'
      },
      { field: 'code', rule: 'code folder missing not found', task: 'x_y' }
    ])
  })

  it('refuses a code folder outside the workspace', async () => {
    const outside = await mkdtemp(path.join(tmpdir(), 'exh-config-outside-'))
    try {
      const result = await taskFromInputs(
        { name: 'a', code: outside, entryPoint: 'i.h', runtime: 'nodejs20.x' },
        { workspace }
      )
      expect(result).toEqual([
        {
          field: 'code',
          rule: expect.stringMatching(/must be inside the workspace/) as string,
          task: 'a'
        }
      ])
    } finally {
      await rm(outside, { recursive: true, force: true })
    }
  })
})

describe('formatProblem', () => {
  it.each([
    [
      {
        file: FILE,
        line: 5,
        column: 3,
        field: 'timeLimit',
        rule: 'must be <= 300'
      },
      `${FILE}:5: timeLimit: must be <= 300`
    ],
    [
      { file: FILE, field: 'JSON', rule: 'cannot be read (EACCES)' },
      `${FILE}: JSON: cannot be read (EACCES)`
    ],
    [{ field: 'time-limit', rule: 'must be >= 3' }, 'time-limit: must be >= 3'],
    [
      { file: FILE, line: 1, rule: 'must be object' },
      `${FILE}:1: must be object`
    ]
  ])('formats %j', (problem, text) => {
    expect(formatProblem(problem)).toBe(text)
  })

  it('formats a loaded problem as file:line: field: rule', async () => {
    const found = await writeConfig(FILE, patched({ timeLimit: 301 }))
    const [problem] = (await load([found])).problems
    expect(problem && formatProblem(problem)).toBe(
      `${FILE}:6: timeLimit: must be <= 300`
    )
  })
})

describe('closestName', () => {
  const known = ['name', 'path', 'environment', 'entryPoint', 'timeLimit']
  it.each([
    ['enviroment', 'environment'],
    ['Environment', 'environment'],
    ['enviromnent', 'environment'],
    ['timelimit', 'timeLimit'],
    ['nmae', 'name'],
    ['timeout', undefined],
    ['memory', undefined]
  ])('%s → %s', (unknown, expected) => {
    expect(closestName(unknown, known)).toBe(expected)
  })
})

describe('the shipped schema', () => {
  it('is a valid draft-07 schema (the action skips this check at run time)', async () => {
    const { Ajv } = await import('ajv')
    const { default: schema } = await import(
      '../schema/task-config.schema.json',
      { with: { type: 'json' } }
    )
    const ajv = new Ajv({ strict: true, allowUnionTypes: true })
    expect(ajv.validateSchema(schema)).toBe(true)
    expect(ajv.errors ?? null).toBeNull()
    expect(() => ajv.compile(schema)).not.toThrow()
  })
})

describe('tooDeepAt counts nesting as the parser recurses', () => {
  // The parser skips a `}` inside an array (it looks for `]` or `,`) without
  // leaving the array; counting it as a close hid the brackets after it.
  const closers = 100_000
  const text = `[${'}'.repeat(closers)},${'['.repeat(closers + 10)}`

  it('finds the nesting past the skipped closers', () => {
    expect(tooDeepAt(text, MAX_JSON_DEPTH)).toBeDefined()
  })

  it('parseJson refuses it with its position instead of overflowing the stack', () => {
    const outcome = parseJson(text)
    expect(outcome).toMatchObject({ ok: false })
    expect(outcome.ok || outcome.message).toMatch(/nested deeper than 64/)
  })
})
