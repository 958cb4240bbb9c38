// The README's recipes for a team moving from the CLI (SPEC section 13),
// read from the README and run through the bundle against the fake: the
// shell steps before the action as written, then the action with the
// recipe's inputs.

import { execFile } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import * as path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import { makeWorkspace, type Workspace } from '../support/workspace.js'
import { DIST, runAction, type ActionRun } from '../support/run-action.js'
import { zipEntries } from '../support/with-fake.js'
import { DEPLOYER_ENVIRONMENT, storedVariables } from '../support/deployer.js'
import {
  actionSteps,
  recipeBlocks,
  resolveInputs,
  workflowSteps,
  type RecipeStep
} from '../support/readme-recipes.js'

const exec = promisify(execFile)

/** npm as a runner would run it, without the network (nothing here needs it). */
const NPM_OFFLINE = {
  npm_config_offline: 'true',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
  npm_config_update_notifier: 'false'
}

const json = (value: unknown): string => JSON.stringify(value, null, 2)

/** The recipe's workflow, its shell steps and its action steps. */
function recipe(heading: string): { steps: RecipeStep[] } {
  const [workflow] = recipeBlocks(heading, 'yaml')
  if (!workflow) throw new Error(`no workflow under "${heading}"`)
  return { steps: workflowSteps(workflow) }
}

/** Runs a recipe's steps in order: shell steps with `sh`, this action's on the bundle. */
async function runSteps(
  steps: RecipeStep[],
  ws: Workspace,
  fake: FakeExh,
  other: Record<string, string> = {}
): Promise<ActionRun[]> {
  const runs: ActionRun[] = []
  for (const step of steps) {
    if (step.run) {
      await exec('sh', ['-c', step.run], {
        cwd: ws.dir,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          ...NPM_OFFLINE,
          ...resolveInputs(step.env, fake, other)
        }
      })
    } else if (actionSteps([step]).length) {
      runs.push(
        await runAction({
          workspace: ws.dir,
          inputs: resolveInputs(step.with, fake, other),
          env: NPM_OFFLINE
        })
      )
    }
  }
  return runs
}

/**
 * Shaped like medical-device-tutorial: one package.json at the root whose
 * build bundles every task's `src/` into its `build/index.js`, configs with
 * `"path": "./build"`. The bundler here concatenates; esbuild would inline.
 */
const ROOT_BUILD_PROJECT = {
  'package.json': json({
    name: 'device-project',
    version: '1.0.0',
    private: true,
    scripts: { build: 'node scripts/build.js' }
  }),
  'package-lock.json': json({
    name: 'device-project',
    version: '1.0.0',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'device-project', version: '1.0.0' } }
  }),
  'scripts/build.js': `const fs = require('node:fs')
const path = require('node:path')
for (const task of fs.readdirSync('tasks')) {
  const src = path.join('tasks', task, 'src')
  const code = fs.readdirSync(src).sort().map(f => fs.readFileSync(path.join(src, f), 'utf8'))
  fs.mkdirSync(path.join('tasks', task, 'build'), { recursive: true })
  fs.writeFileSync(path.join('tasks', task, 'build', 'index.js'), code.join('\\n'))
}
`,
  ...Object.fromEntries(
    ['analyze-blood-pressure', 'create-pdf', 'notify-patient'].flatMap(name => [
      [
        `tasks/${name}/task-config.json`,
        json({
          name,
          description: `${name} task`,
          path: './build',
          entryPoint: 'index.handler',
          runtime: 'nodejs24.x',
          timeLimit: 60,
          memoryLimit: 128,
          environment: { API_HOST: '$API_HOST' }
        })
      ],
      [
        `tasks/${name}/src/index.js`,
        `exports.handler = async () => ({ task: '${name}' })\n`
      ]
    ])
  )
}

describe('README recipes, deployed through the bundle', () => {
  it('one build at the repository root for all tasks (medical-device-tutorial)', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(ROOT_BUILD_PROJECT)
    const { steps } = recipe('One build at the repository root for all tasks')
    const other = { 'secrets.GITHUB_TOKEN': 'ghs_packages_read_token_0000' }
    const [run] = await runSteps(steps, ws, fake, other)
    expect(run?.exitCode, run?.log).toBe(0)
    expect(run?.result.map(r => [r.name, r.action, r.status])).toEqual([
      ['analyze-blood-pressure', 'create', 'done'],
      ['create-pdf', 'create', 'done'],
      ['notify-patient', 'create', 'done']
    ])
    for (const name of ['analyze-blood-pressure', 'create-pdf']) {
      const code = fake.functions.get(name)?.code ?? Buffer.alloc(0)
      expect(zipEntries(code).map(e => [e.name, e.data])).toEqual([
        ['index.js', `exports.handler = async () => ({ task: '${name}' })\n`]
      ])
      expect(storedVariables(fake, name)).toMatchObject({ API_HOST: fake.url })
    }
    // The same commit built again deploys nothing.
    const [again] = await runSteps(steps, ws, fake, other)
    expect(again?.outputs.unchanged, again?.log).toBe('3')
  })

  it('a code folder that is the task folder (picture-analysis): what is zipped, and why a lockfile', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(pictureAnalysis())
    await packHelper(ws)
    // The lockfile, as its author would commit it.
    await exec('npm', ['install'], {
      cwd: ws.path('tasks/picture-analysis'),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...NPM_OFFLINE }
    })
    await ws.remove('tasks/picture-analysis/node_modules')
    const { steps } = recipe(
      'A code folder that is the task folder (`"path": "./"`)'
    )
    const [run] = await runSteps(steps, ws, fake)
    expect(run?.exitCode, run?.log).toBe(0)
    const code = fake.functions.get('picture-analysis')?.code
    expect(zipEntries(code ?? Buffer.alloc(0)).map(e => e.name)).toEqual([
      'index.js',
      'node_modules/',
      'node_modules/.package-lock.json',
      'node_modules/helper/',
      'node_modules/helper/index.js',
      'node_modules/helper/package.json',
      'package-lock.json',
      'package.json',
      'task-config.json',
      'task-verify.json',
      'vendor/',
      'vendor/helper-1.0.0.tgz'
    ])
    // $API_* in environment: the deploying credentials, as with the CLI.
    expect(storedVariables(fake, 'picture-analysis')).toMatchObject({
      API_HOST: fake.url,
      API_OAUTH_TOKEN: fake.admin.token
    })
    // The lockfile makes the same commit install the same node_modules.
    const [again] = await runSteps(steps, ws, fake)
    expect(again?.outputs.unchanged, again?.log).toBe('1')

    // Without it, npm ci refuses, and the build's error quotes npm.
    await ws.remove('tasks/picture-analysis/package-lock.json')
    const [refused] = await runSteps(steps, ws, fake)
    expect(refused?.exitCode).toBe(1)
    expect(refused?.stdout).toMatch(
      /::error title=Build failed,file=tasks\/picture-analysis\/task-config\.json::.*its first error: npm (error|ERR!) .*can only install with an existing package-lock\.json/
    )
  })

  it('a handler with a verify branch deploys and verifies without side effects', async () => {
    await using fake = await startFakeExh()
    const [handler = ''] = recipeBlocks('A handler with a verify branch', 'js')
    const [verifySpec = ''] = recipeBlocks(
      'A handler with a verify branch',
      'json'
    )
    await using ws = await makeWorkspace({
      'tasks/analyze/task-config.json': json({
        name: 'analyze',
        path: './build',
        entryPoint: 'index.handler',
        runtime: 'nodejs20.x',
        timeLimit: 30,
        environment: { API_HOST: '$API_HOST' }
      }),
      // The branch not taken would analyze: here it would throw.
      'tasks/analyze/build/index.js': `${handler}\nfunction analyze() { throw new Error('side effect') }\n`,
      'tasks/analyze/task-verify.json': verifySpec
    })
    const { steps } = recipe('A handler with a verify branch')
    const [run] = await runSteps(steps, ws, fake)
    expect(run?.exitCode, run?.log).toBe(0)
    expect(run?.result).toMatchObject([
      { name: 'analyze', action: 'create', status: 'done', verified: true }
    ])
  })

  it('plan and deploy jobs use the same secret names: the plan reads, the deploy writes', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(ROOT_BUILD_PROJECT)
    await exec('node', ['scripts/build.js'], { cwd: ws.dir })
    const { steps } = recipe('Plan and deploy with the same secret names')
    const [plan, deploy] = actionSteps(steps)
    expect(plan?.job).toBe('plan')
    expect(deploy?.job).toBe('deploy')
    // The same names for the credentials; each job's environment gives the values.
    const credentials = ['host', 'consumer-key', 'consumer-secret', 'token']
    for (const input of [...credentials, 'token-secret']) {
      expect(plan?.with[input]).toBe(deploy?.with[input])
    }
    const other = {
      'github.event.pull_request.head.repo.full_name == github.repository':
        'false'
    }
    const [planned] = await runSteps([plan as RecipeStep], ws, fake, other)
    expect(planned?.exitCode, planned?.log).toBe(0)
    expect(planned?.outputs.changed).toBe('true')
    expect(fake.writeRequests()).toEqual([])
    const [deployed] = await runSteps([deploy as RecipeStep], ws, fake)
    expect(deployed?.exitCode, deployed?.log).toBe(0)
    expect(deployed?.outputs.created).toBe('3')
  })

  it('list after a deploy names each function with its repository', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(ROOT_BUILD_PROJECT)
    await exec('node', ['scripts/build.js'], { cwd: ws.dir })
    const { steps } = recipe('`list` after a deploy')
    const [deployed, listed] = await runSteps(steps, ws, fake)
    expect(deployed?.exitCode, deployed?.log).toBe(0)
    expect(listed?.exitCode, listed?.log).toBe(0)
    const functions = JSON.parse(listed?.outputs.functions ?? '[]') as {
      name: string
      repository?: string
    }[]
    expect(functions.map(f => [f.name, f.repository]).sort()).toEqual([
      ['analyze-blood-pressure', 'org/tasks-repo'],
      ['create-pdf', 'org/tasks-repo'],
      ['notify-patient', 'org/tasks-repo']
    ])
  })

  it("redeploying a given commit: the checked-out ref is deployed, the record names the run's GITHUB_SHA", async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(ROOT_BUILD_PROJECT)
    await exec('node', ['scripts/build.js'], { cwd: ws.dir })
    const git = async (...args: string[]): Promise<string> =>
      (await exec('git', args, { cwd: ws.dir })).stdout.trim()
    const commit = async (message: string): Promise<string> => {
      await git('add', '-A')
      await git(
        '-c',
        'user.name=t',
        '-c',
        'user.email=t@example.com',
        'commit',
        '-qm',
        message
      )
      return git('rev-parse', 'HEAD')
    }
    await git('init', '-q')
    const old = await commit('v1')
    await ws.write({
      'tasks/create-pdf/build/index.js': 'exports.handler = async () => 2\n'
    })
    const head = await commit('v2')
    const { steps } = recipe('Redeploying a given commit')
    const [checkout] = steps.filter(step =>
      step.uses?.startsWith('actions/checkout@')
    )
    expect(checkout?.with.ref).toBe('${{ inputs.ref }}')
    const [step] = actionSteps(steps)
    const inputs = resolveInputs(step?.with ?? {}, fake)
    const env = { ...NPM_OFFLINE, GITHUB_SHA: head }
    const deployed = await runAction({ workspace: ws.dir, inputs, env })
    expect(deployed.outputs.created, deployed.log).toBe('3')

    // What actions/checkout does with `ref: <old sha>`; the run's SHA stays the branch's.
    await git('checkout', '-q', old)
    const redeployed = await runAction({ workspace: ws.dir, inputs, env })
    expect(redeployed.exitCode, redeployed.log).toBe(0)
    expect(redeployed.result.map(r => [r.name, r.action])).toEqual([
      ['analyze-blood-pressure', 'unchanged'],
      ['create-pdf', 'update'],
      ['notify-patient', 'unchanged']
    ])
    const code = fake.functions.get('create-pdf')?.code ?? Buffer.alloc(0)
    expect(zipEntries(code)[0]?.data).toContain("task: 'create-pdf'")
    // As the README says: the record names GITHUB_SHA, not the ref deployed.
    const marker = storedVariables(fake, 'create-pdf').EXH_TASKS_ACTION_MARKER
    expect(JSON.parse(marker ?? '{}')).toMatchObject({ commit: head })
  })

  it('on a workstation: the documented variables are enough, and a write needs GITHUB_REPOSITORY', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(ROOT_BUILD_PROJECT)
    await exec('node', ['scripts/build.js'], { cwd: ws.dir })
    const home = ws.path('home')
    await mkdir(path.join(home, '.exh'), { recursive: true })
    await writeFile(
      path.join(home, '.exh', 'credentials'),
      [
        `API_HOST=${fake.url}`,
        `API_OAUTH_CONSUMER_KEY=${fake.consumer.key}`,
        `API_OAUTH_CONSUMER_SECRET=${fake.consumer.secret}`,
        `API_OAUTH_TOKEN=${fake.admin.token}`,
        `API_OAUTH_TOKEN_SECRET=${fake.admin.tokenSecret}`
      ].join('\n') + '\n'
    )
    const [block = ''] = recipeBlocks(
      'On a workstation, against your own project',
      'sh'
    )
    // The clone is the bundle this test runs; the project is the workspace.
    const script = block
      .split('\n')
      .filter(line => !line.startsWith('git clone'))
      .join('\n')
      .replace('~/my-tasks', ws.dir)
      .replace('~/exh-tasks-action/dist/index.js', DIST)
    const run = (edit: (text: string) => string) =>
      exec('sh', ['-c', edit(script)], {
        env: { PATH: process.env.PATH, HOME: home, NO_PROXY: 'localhost' }
      }).then(
        ({ stdout, stderr }) => ({ code: 0, stdout: stdout + stderr }),
        (failure: unknown) => {
          const error = failure as {
            code: number
            stdout: string
            stderr: string
          }
          return { code: error.code, stdout: error.stdout + error.stderr }
        }
      )
    const plan = await run(text => text)
    expect(plan.code, plan.stdout).toBe(0)
    expect(plan.stdout).toMatch(/analyze-blood-pressure: create planned/)
    expect(fake.writeRequests()).toEqual([])

    const deploy = await run(text =>
      text.replace('DRY-RUN=true', 'DRY-RUN=false')
    )
    expect(deploy.code, deploy.stdout).toBe(0)
    expect([...fake.functions.keys()].sort()).toEqual([
      'analyze-blood-pressure',
      'create-pdf',
      'notify-patient'
    ])

    const anonymous = await run(text =>
      text
        .replace('DRY-RUN=true', 'DRY-RUN=false')
        .replace(/^\s*GITHUB_REPOSITORY=.*\n/m, '')
    )
    expect(anonymous.code).toBe(1)
    expect(anonymous.stdout).toMatch(/GITHUB_REPOSITORY is not set/)
  })
})

/** Shaped like picture-analysis-project-example: the task folder is the code. */
function pictureAnalysis() {
  return {
    'tasks/picture-analysis/task-config.json': json({
      name: 'picture-analysis',
      description: 'Analyzes a picture',
      path: './',
      entryPoint: 'index.handler',
      runtime: 'nodejs20.x',
      timeLimit: 30,
      environment: DEPLOYER_ENVIRONMENT
    }),
    'tasks/picture-analysis/task-verify.json': json({
      data: { verify: true }
    }),
    'tasks/picture-analysis/package.json': json({
      name: 'picture-analysis',
      version: '1.0.0',
      private: true,
      dependencies: { helper: 'file:vendor/helper-1.0.0.tgz' }
    }),
    'tasks/picture-analysis/index.js':
      "const { double } = require('helper')\nexports.handler = async () => double(21)\n"
  }
}

/** A dependency npm installs without a registry: a tarball in the task folder. */
async function packHelper(ws: Workspace): Promise<void> {
  await ws.write({
    'helper/package/package.json': json({
      name: 'helper',
      version: '1.0.0',
      main: 'index.js'
    }),
    'helper/package/index.js': 'exports.double = x => 2 * x\n'
  })
  await mkdir(ws.path('tasks/picture-analysis/vendor'), { recursive: true })
  await exec('tar', [
    'czf',
    ws.path('tasks/picture-analysis/vendor/helper-1.0.0.tgz'),
    '-C',
    ws.path('helper'),
    'package'
  ])
  await ws.remove('helper')
}
