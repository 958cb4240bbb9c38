// `npm run test:live`: the contract suite against the account in the five
// API_* variables (scripts/test-live.ts checks EXH_LIVE=1 first).

import { contractSuite } from './contract.js'
import { liveGate } from './target.js'

const gate = liveGate(process.env)
if (!gate.run) throw new Error(gate.message)
const { target } = gate

contractSuite(() => target, {
  log: line => {
    console.log(`[action] ${line}`)
  }
})
