// The README's recipes as tests run them: a section's code blocks, and a
// workflow's steps (this action's inputs, the shell steps before it), read
// from the README itself so a test deploys what a reader copies.

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { FakeExh } from '../fake-exh/index.js'

const README = fileURLToPath(new URL('../../README.md', import.meta.url))

/** The code blocks (by language) of the README section headed `heading`. */
export function recipeBlocks(heading: string, language: string): string[] {
  const readme = readFileSync(README, 'utf8')
  const start = readme.indexOf(`\n### ${heading}\n`)
  if (start < 0) throw new Error(`no README section "### ${heading}"`)
  const rest = readme.slice(start + 1)
  const end = rest.slice(1).search(/\n##+ /)
  const section = end < 0 ? rest : rest.slice(0, end + 1)
  const pattern = new RegExp('^```' + language + '\\n([\\s\\S]*?)^```', 'gm')
  return [...section.matchAll(pattern)].map(match => match[1] ?? '')
}

/** One step of a workflow: this action's (`with`) or a shell step (`run`). */
export interface RecipeStep {
  job: string
  uses?: string
  run?: string
  with: Record<string, string>
  env: Record<string, string>
}

/**
 * The steps of a workflow in the README's own layout (jobs at two spaces,
 * steps at six, their keys at eight, `with:`/`env:` entries at ten): enough
 * for the recipes, not a YAML parser.
 */
export function workflowSteps(workflow: string): RecipeStep[] {
  const steps: RecipeStep[] = []
  let job = ''
  let block: 'with' | 'env' | undefined
  for (const line of workflow.split('\n')) {
    const jobName = /^ {2}([\w-]+):$/.exec(line)?.[1]
    if (jobName) job = jobName
    const step = /^ {6}- (\w+): (.*)$/.exec(line)
    if (step) {
      steps.push({ job, with: {}, env: {} })
      block = undefined
    }
    const current = steps.at(-1)
    const key = step ?? /^ {8}(\w+):(?: (.*))?$/.exec(line)
    if (current && key) {
      const [, name = '', value = ''] = key
      if (name === 'uses' || name === 'run') current[name] = unquote(value)
      block = name === 'with' || name === 'env' ? name : undefined
      continue
    }
    const entry = /^ {10}([\w-]+): (.*?)(?: #.*)?$/.exec(line)
    if (current && block && entry) {
      current[block][entry[1] ?? ''] = unquote(entry[2] ?? '')
    }
  }
  return steps
}

function unquote(value: string): string {
  return /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value
}

/**
 * `${{ … }}` replaced: the recipes' variable and secrets by the fake's
 * values, anything else by `other` (which must know it: a new expression in
 * a recipe fails the test until the test says what it means).
 */
export function resolveInputs(
  inputs: Record<string, string>,
  fake: FakeExh,
  other: Record<string, string> = {}
): Record<string, string> {
  const known: Record<string, string> = {
    'vars.EXH_API_HOST': fake.url,
    'secrets.EXH_CONSUMER_KEY': fake.consumer.key,
    'secrets.EXH_CONSUMER_SECRET': fake.consumer.secret,
    'secrets.EXH_TOKEN': fake.admin.token,
    'secrets.EXH_TOKEN_SECRET': fake.admin.tokenSecret,
    ...other
  }
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [
      name,
      value.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expression: string) => {
        const resolved = known[expression]
        if (resolved === undefined) {
          throw new Error(`the test does not know ${expression}`)
        }
        return resolved
      })
    ])
  )
}

/** This action's steps of a workflow. */
export function actionSteps(steps: RecipeStep[]): RecipeStep[] {
  return steps.filter(step =>
    step.uses?.startsWith('ExtraHorizon/exh-tasks-action@')
  )
}
