// The static checks of `npm test`, run at once: each is mostly one thread, so
// together they use both cores of a CI machine. With --tests the vitest
// suite runs beside them rather than after them (the checks are mostly
// cached on a re-run, and the tests' waits leave cores idle). Each job's
// output is printed whole when it ends; the run fails if any job fails.
import { spawn } from 'node:child_process'

const CHECKS = [
  'format:check',
  'lint',
  'typecheck',
  'lint:workflows',
  'check-dist'
]

const JOBS = [
  ...CHECKS.map(script => ({
    name: script,
    argv: ['npm', 'run', '--silent', script]
  })),
  ...(process.argv.includes('--tests')
    ? [{ name: 'vitest', argv: ['npx', 'vitest', 'run'] }]
    : [])
]

function run({ name: script, argv: [command, ...args] }) {
  const started = Date.now()
  return new Promise(resolve => {
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let output = ''
    child.stdout.on('data', chunk => (output += chunk))
    child.stderr.on('data', chunk => (output += chunk))
    child.on('close', code => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      const verdict = code === 0 ? 'ok' : `failed (exit ${code})`
      process.stdout.write(`── ${script}: ${verdict} in ${seconds} s\n`)
      if (code !== 0 || output.trim()) process.stdout.write(output)
      resolve(code === 0)
    })
  })
}

const results = await Promise.all(JOBS.map(run))
if (results.includes(false)) process.exit(1)
