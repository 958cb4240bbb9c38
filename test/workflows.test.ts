import { describe, expect, it } from 'vitest'
import {
  lintRepository,
  markdownWorkflows,
  projectRules
} from '../scripts/lint-workflows.js'

describe('workflow linter', () => {
  it('finds no problem in the workflows or the README workflows', async () => {
    expect(await lintRepository()).toEqual([])
  })

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
