// What the repository promises its users agrees with itself: the inputs and
// outputs documented in README.md and declared in action.yml are the ones
// the code reads; the owner is one constant; the shipped schema is the one
// the action validates with; versions and licence say what is true.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempDirSync } from './support/tree.js'
import { readInputs } from '../src/inputs.js'
import { RUNTIMES } from '../src/runtimes.js'
import { actionDefaults } from '../scripts/self-test.js'
import {
  OWNER_FILES,
  ownersIn,
  readOwner,
  REPOSITORY_NAME,
  setOwner
} from '../scripts/set-owner.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const read = (file: string): string => readFileSync(join(ROOT, file), 'utf8')
const sorted = (names: Iterable<string>): string[] => [...new Set(names)].sort()

/** The keys of one top-level mapping of action.yml (`inputs`, `outputs`). */
function actionKeys(section: 'inputs' | 'outputs'): string[] {
  const body = read('action.yml').split(new RegExp(`^${section}:$`, 'm'))[1]
  const block = body?.split(/^\S/m)[0] ?? ''
  return sorted(
    [...block.matchAll(/^ {2}([a-z][a-z-]*):\s*$/gm)].map(m => m[1] ?? '')
  )
}

/** The names in the first column of the table under `## <heading>`. */
function readmeTableNames(heading: string): string[] {
  const section =
    read('README.md')
      .split(new RegExp(`^## ${heading}$`, 'm'))[1]
      ?.split(/^## /m)[0] ?? ''
  const rows = section.split('\n').filter(line => line.startsWith('|'))
  return sorted(
    rows
      .slice(2) // header and separator
      .flatMap(row => [
        ...(row.split('|')[1] ?? '').matchAll(/`([a-z][a-z-]*)`/g)
      ])
      .map(match => match[1] ?? '')
  )
}

/**
 * The inputs the code reads: every name `readInputs` asks its getter for,
 * plus any `getInput('…')`-style call elsewhere in src/.
 */
function inputsTheCodeReads(): string[] {
  const asked = new Set<string>()
  try {
    readInputs(
      name => {
        asked.add(name)
        return ''
      },
      { GITHUB_WORKSPACE: ROOT },
      () => undefined
    )
  } catch {
    // Missing credentials: every input has been read by then.
  }
  const files = readdirSync(join(ROOT, 'src'), {
    recursive: true,
    encoding: 'utf8'
  })
  for (const file of files.filter(name => name.endsWith('.ts'))) {
    const text = read(join('src', file))
    for (const match of text.matchAll(
      /\bget(?:Boolean|Multiline)?Input\(\s*'([a-z][a-z-]*)'/g
    )) {
      asked.add(match[1] ?? '')
    }
  }
  return sorted(asked)
}

describe('inputs and outputs', () => {
  it('README, action.yml and the code name the same inputs', () => {
    const declared = actionKeys('inputs')
    const documented = readmeTableNames('Inputs')
    const readByCode = inputsTheCodeReads()
    const missingFrom = (list: string[], from: string[]): string[] =>
      from.filter(name => !list.includes(name))
    expect({
      'in action.yml, not in the README': missingFrom(documented, declared),
      'in the README, not in action.yml': missingFrom(declared, documented),
      'in action.yml, never read by src/': missingFrom(readByCode, declared),
      'read by src/, not in action.yml': missingFrom(declared, readByCode)
    }).toEqual({
      'in action.yml, not in the README': [],
      'in the README, not in action.yml': [],
      'in action.yml, never read by src/': [],
      'read by src/, not in action.yml': []
    })
  })

  it('README gives the defaults action.yml gives', () => {
    const defaults = actionDefaults(read('action.yml'))
    const section =
      read('README.md')
        .split(/^## Inputs$/m)[1]
        ?.split(/^## /m)[0] ?? ''
    const wrong = section
      .split('\n')
      .map(row => row.split('|').map(cell => cell.trim()))
      .filter(cells => /^`[a-z-]+`$/.test(cells[1] ?? ''))
      .map(cells => [(cells[1] ?? '').slice(1, -1), cells[2] ?? ''] as const)
      .filter(([name, cell]) => {
        const value = defaults[name]
        return value !== undefined && cell !== `\`${value}\``
      })
    expect(wrong).toEqual([])
  })

  it('README and action.yml name the same outputs', () => {
    expect(readmeTableNames('Outputs')).toEqual(actionKeys('outputs'))
  })
})

describe('the repository owner', () => {
  it('is one constant: every <owner>/exh-tasks-action uses package.json’s', () => {
    const owner = readOwner(ROOT)
    for (const file of OWNER_FILES) {
      const others = ownersIn(read(file)).filter(found => found !== owner)
      expect(others, file).toEqual([])
    }
    expect(ownersIn(read('README.md'))).toContain(owner)
  })

  it('changes everywhere with npm run set-owner', () => {
    const copy = tempDirSync('exh-owner-')
    for (const file of OWNER_FILES) {
      mkdirSync(dirname(join(copy, file)), { recursive: true })
      writeFileSync(join(copy, file), read(file))
    }
    setOwner('acme-tasks', copy)
    expect(readOwner(copy)).toBe('acme-tasks')
    for (const file of OWNER_FILES) {
      const text = readFileSync(join(copy, file), 'utf8')
      expect(
        ownersIn(text).filter(o => o !== 'acme-tasks'),
        file
      ).toEqual([])
    }
    expect(() => {
      setOwner('not an owner', copy)
    }).toThrow('is not a GitHub owner name')
  })
})

describe('the schema for editors', () => {
  const schema = JSON.parse(read('schema/task-config.schema.json')) as {
    $id: string
    properties: { runtime: { enum: string[] } }
  }
  const version = (JSON.parse(read('package.json')) as { version: string })
    .version

  it('has its $id at the raw URL of the file at the major tag', () => {
    const major = `v${version.split('.')[0] ?? ''}`
    expect(schema.$id).toBe(
      `https://raw.githubusercontent.com/${readOwner(ROOT)}/${REPOSITORY_NAME}/${major}/schema/task-config.schema.json`
    )
  })

  it('lists the runtimes the action accepts', () => {
    expect(RUNTIMES).toEqual(schema.properties.runtime.enum)
  })

  it('is the one bundled into dist/ (the action validates with it)', () => {
    const bundled = read('dist/index.js').includes(schema.$id)
    expect(bundled, 'dist/ has another schema: run `npm run build`').toBe(true)
  })
})

describe('versions and licence', () => {
  const pkg = JSON.parse(read('package.json')) as {
    version: string
    license: string
    engines: { node: string }
  }

  it('has a CHANGELOG entry for the package version', () => {
    expect(read('CHANGELOG.md')).toMatch(
      new RegExp(`^## \\[${pkg.version.replace(/\./g, '\\.')}\\]`, 'm')
    )
  })

  it('is MIT in package.json and LICENSE', () => {
    expect(pkg.license).toBe('MIT')
    expect(read('LICENSE')).toMatch(/^MIT License\n/)
  })

  it('runs on node24 and develops on Node 20 or later', () => {
    expect(read('action.yml')).toMatch(/^ {2}using: node24$/m)
    expect(pkg.engines.node).toBe('>=20')
  })
})

describe('README links', () => {
  /** GitHub's heading anchors: lower case, punctuation dropped, spaces to `-`. */
  const slug = (heading: string): string =>
    heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-')

  it('keeps the two set-up commands', () => {
    const readme = read('README.md')
    expect(readme).toContain('npm ci && npm run demo')
    expect(readme).toContain('npm ci && npm test')
  })

  it('points every #anchor at a heading, and every file link at a file', () => {
    const readme = read('README.md')
    const anchors = new Set(
      [...readme.matchAll(/^#{1,6} (.+)$/gm)].map(match => slug(match[1] ?? ''))
    )
    const broken = [...readme.matchAll(/\]\(([^)\s]+)\)/g)]
      .map(match => match[1] ?? '')
      .filter(target => {
        if (target.startsWith('#')) return !anchors.has(target.slice(1))
        if (/^[a-z]+:/.test(target)) return false
        // docs/benchmark.md is written on another branch (the speed work).
        if (target === 'docs/benchmark.md') return false
        try {
          read(target)
          return false
        } catch {
          return true
        }
      })
    expect(broken).toEqual([])
  })
})
