// `npm run test:live`: the contract suite against a real Extra Horizon
// account (SPEC section 14). Checks EXH_LIVE=1 and the five API_* variables
// first: without EXH_LIVE=1 it says what it needs and exits 0 without a
// request; with EXH_LIVE=1 and a variable missing it exits 1.
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { liveGate } from '../test/live/target.js'

const gate = liveGate(process.env)
if (!gate.run) {
  console.log(gate.message)
  process.exit(gate.exitCode)
}

const root = fileURLToPath(new URL('..', import.meta.url))
// vitest's own entry (its exports name no such subpath; its package.json is).
const vitest = path.join(
  path.dirname(createRequire(import.meta.url).resolve('vitest/package.json')),
  'vitest.mjs'
)
const result = spawnSync(
  process.execPath,
  [
    vitest,
    'run',
    '--config',
    'test/live/vitest.config.ts',
    ...process.argv.slice(2)
  ],
  { cwd: root, stdio: 'inherit' }
)
process.exit(result.status ?? 1)
