// The static checks of `npm test`, run at once: each is mostly one thread, so
// together they use both cores of a CI machine. With --tests the vitest
// suite runs beside them rather than after them, in two processes: the
// timing project (tests that wait for real, one file at a time) from the
// start, beside the unit and bundle projects, where one vitest process
// would run it last (vitest runs a project with one worker in a group of
// its own, after the others). Each check is its package.json script, run
// as npm runs one (`sh -c`, node_modules/.bin first on the PATH) without
// starting npm for each. Each job's output is printed whole when it ends;
// the run fails if any job fails.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'

const CHECKS = [
  'format:check',
  'lint',
  'typecheck',
  'lint:workflows',
  'check-dist'
]

const { scripts } = JSON.parse(readFileSync('package.json', 'utf8'))
const BIN = path.resolve('node_modules', '.bin')
const env = {
  ...process.env,
  PATH: `${BIN}${path.delimiter}${process.env.PATH}`
}

for (const script of CHECKS) {
  if (!scripts[script]) throw new Error(`package.json has no script ${script}`)
}

const JOBS = [
  ...CHECKS.map(script => ({
    name: script,
    argv: ['sh', '-c', scripts[script]]
  })),
  ...(process.argv.includes('--tests')
    ? [
        {
          name: 'vitest timing',
          argv: ['vitest', 'run', '--project', 'timing']
        },
        {
          name: 'vitest unit, bundle',
          argv: ['vitest', 'run', '--project', 'unit', '--project', 'bundle']
        }
      ]
    : [])
]

function run({ name, argv: [command, ...args] }) {
  const started = Date.now()
  return new Promise(resolve => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', chunk => (output += chunk))
    child.stderr.on('data', chunk => (output += chunk))
    child.on('error', error => (output += `${error.message}\n`))
    child.on('close', (code, signal) => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      const verdict = code === 0 ? 'ok' : `failed (${signal ?? `exit ${code}`})`
      process.stdout.write(`── ${name}: ${verdict} in ${seconds} s\n`)
      if (code !== 0 || output.trim()) process.stdout.write(output)
      resolve(code === 0)
    })
  })
}

const results = await Promise.all(JOBS.map(run))
if (results.includes(false)) process.exit(1)
