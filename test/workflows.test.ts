import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { tempDirSync } from './support/tree.js'
import { markdownWorkflows, projectRules } from '../scripts/lint-workflows.js'

describe('workflow linter', () => {
  // The repository's own workflows and the README's are linted by
  // `npm run lint:workflows`, one of npm test's checks: not again here.

  it.each([
    ['a tag', 'actions/checkout@v5'],
    ['a SHA without its version', `actions/checkout@${'a'.repeat(40)}`],
    ['a short SHA', 'actions/checkout@08c6903 # v5.0.0']
  ])('refuses an action pinned to %s', (_, ref) => {
    const workflow = `permissions:\n  contents: read\njobs:\n  a:\n    steps:\n      - uses: ${ref}\n`
    expect(projectRules(workflow, 'x.yml')).toEqual([
      expect.objectContaining({ line: 6 })
    ])
  })

  it('accepts a full SHA with its version, and local actions', () => {
    const workflow = `permissions: {}\njobs:\n  a:\n    steps:\n      - uses: actions/checkout@${'0'.repeat(40)} # v5.0.0\n      - uses: ./\n`
    expect(projectRules(workflow, 'x.yml')).toEqual([])
  })

  it('refuses a workflow without a top-level permissions block', () => {
    const problems = projectRules('on: push\njobs: {}\n', 'x.yml')
    expect(problems.map(problem => problem.message)).toEqual([
      'no top-level `permissions:` block (use `contents: read`)'
    ])
  })

  it('takes whole workflows out of Markdown, with their line', () => {
    const markdown =
      'text\n\n```yaml\non: push\njobs: {}\n```\n\n```yaml\n- uses: a/b@v1\n```\n'
    expect(markdownWorkflows(markdown)).toEqual([
      { text: 'on: push\njobs: {}\n', line: 4 }
    ])
  })
})

/** The `run: |` script of the step named `name` in a workflow. */
function stepScript(workflow: string, name: string): string {
  const lines = workflow.split('\n')
  const start = lines.findIndex(line => line.trim() === `- name: ${name}`)
  const body: string[] = []
  let inRun = false
  for (const line of lines.slice(start + 1)) {
    if (/^ {6}- /.test(line)) break
    if (/^ {8}run: \|$/.test(line)) inRun = true
    else if (inRun) body.push(line.replace(/^ {10}/, ''))
  }
  return body.join('\n')
}

describe('the release workflow', () => {
  const workflow = readFileSync(
    fileURLToPath(new URL('../.github/workflows/release.yml', import.meta.url)),
    'utf8'
  )
  const run = (
    script: string,
    cwd: string,
    env: Record<string, string>
  ): { status: number | null; stdout: string } => {
    const child = spawnSync('bash', ['-e', '-c', script], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
      encoding: 'utf8'
    })
    return { status: child.status, stdout: child.stdout + child.stderr }
  }
  const project = (version: string, changelog: string): string => {
    const dir = tempDirSync('exh-release-')
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version }))
    writeFileSync(join(dir, 'CHANGELOG.md'), changelog)
    writeFileSync(join(dir, 'out'), '')
    return dir
  }
  const dated = '# Changelog\n\n## [1.2.3] - 2026-12-01\n'

  it.each([
    ['v1.2.3', '1.2.3', 0, dated, 'major=v1\nminor=v1.2\n'],
    ['v1.2', '1.2.3', 1, dated, ''],
    ['v1.2.4', '1.2.3', 1, dated, ''],
    ['v1.2.3', '1.2.3', 1, '## [1.2.3] - Unreleased\n', '']
  ])(
    'tag %s, package %s, changelog entry: exit %i',
    (tag, version, status, changelog, outputs) => {
      const dir = project(version, changelog)
      const script = stepScript(workflow, 'Read the version from the tag')
      const result = run(script, dir, {
        TAG: tag,
        GITHUB_OUTPUT: join(dir, 'out')
      })
      expect(result.status, result.stdout).toBe(status)
      expect(readFileSync(join(dir, 'out'), 'utf8')).toBe(outputs)
    }
  )

  it('moves vX and vX.Y to the release commit on the remote', () => {
    const dir = tempDirSync('exh-release-git-')
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: join(dir, 'work'), encoding: 'utf8' })
    execFileSync('git', ['init', '-q', '--bare', join(dir, 'origin.git')])
    execFileSync('git', ['init', '-q', join(dir, 'work')])
    git('remote', 'add', 'origin', join(dir, 'origin.git'))
    const commit = (message: string): string => {
      git(
        '-c',
        'user.name=t',
        '-c',
        'user.email=t@e',
        'commit',
        '-q',
        '--allow-empty',
        '-m',
        message
      )
      return git('rev-parse', 'HEAD').trim()
    }
    const old = commit('1.1.0')
    git('tag', 'v1', old)
    git('tag', 'v1.2', old)
    git('push', '-q', 'origin', 'HEAD:refs/heads/main', 'v1', 'v1.2')
    const release = commit('1.2.3')
    git('tag', 'v1.2.3', release)

    const name = workflow.match(/- name: (Move \$\{\{.*)$/m)?.[1] ?? ''
    const result = run(stepScript(workflow, name), join(dir, 'work'), {
      TAG: 'v1.2.3',
      MAJOR: 'v1',
      MINOR: 'v1.2',
      GITHUB_STEP_SUMMARY: join(dir, 'summary')
    })
    expect(result.status, result.stdout).toBe(0)
    const remote = execFileSync(
      'git',
      ['ls-remote', '--tags', join(dir, 'origin.git')],
      {
        encoding: 'utf8'
      }
    )
    expect(remote).toContain(`${release}\trefs/tags/v1\n`)
    expect(remote).toContain(`${release}\trefs/tags/v1.2\n`)
  })
})

describe("the README's release workflow with evidence", () => {
  const readme = readFileSync(
    fileURLToPath(new URL('../README.md', import.meta.url)),
    'utf8'
  )
  const block = markdownWorkflows(readme).find(w =>
    w.text.includes('actions/attest-build-provenance')
  )
  const text = block?.text ?? ''
  /** Each job's lines, by the job's name. */
  const jobs = new Map<string, string>()
  const jobsText = text.slice(text.indexOf('\njobs:\n'))
  for (const match of jobsText.matchAll(
    /^ {2}([a-z-]+):\n((?: {4}.*\n|\n)*)/gm
  )) {
    jobs.set(match[1] ?? '', match[2] ?? '')
  }

  it('pins every other action by commit SHA with its version', () => {
    expect(block).toBeDefined()
    expect(projectRules(text, 'README.md')).toEqual([
      expect.objectContaining({
        message: expect.stringContaining(
          'ExtraHorizon/exh-tasks-action@v1'
        ) as unknown
      })
    ])
  })

  it('gives only the attest job an OIDC token and attestations, and it never the credentials', () => {
    expect([...jobs.keys()]).toEqual(['deploy', 'release-assets', 'attest'])
    for (const [name, job] of jobs) {
      const attest = name === 'attest'
      expect(job.includes('id-token: write'), name).toBe(attest)
      expect(job.includes('attestations: write'), name).toBe(attest)
      expect(job.includes('secrets.'), name).toBe(name === 'deploy')
    }
    expect(jobs.get('deploy')).toContain('retention-days:')
    expect(jobs.get('attest')).toContain(
      'subject-checksums: report/exh-tasks-checksums.txt'
    )
    expect(text).toMatch(/^permissions:\n {2}contents: read\n/m)
  })
})
