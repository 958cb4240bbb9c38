// `npm run demo`: starts the local fake Extra Horizon API, syncs the example
// tasks in examples/ with the bundled action (as the GitHub runner runs it)
// with `verify: true` (the fake really runs hello-world, which has a
// task-verify.json), then runs it again as a dry run to show the plan, and
// prints both summaries.
import { fileURLToPath } from 'node:url'
import { startFakeExh } from '../test/fake-exh/server.js'
import { runAction } from '../test/support/run-action.js'

const workspace = fileURLToPath(new URL('..', import.meta.url))
await using fake = await startFakeExh()

const inputs = {
  path: 'examples',
  host: fake.url,
  'consumer-key': fake.consumer.key,
  'consumer-secret': fake.consumer.secret,
  token: fake.admin.token,
  'token-secret': fake.admin.tokenSecret
}
const env = { DIGEST_MAIL_API_KEY: 'demo-mail-key-0123456789' }

const first = await runAction({
  workspace,
  inputs: { ...inputs, verify: 'true' },
  env
})
console.log(
  '── First sync (the local fake API starts empty), hello-world verified ──\n'
)
console.log(first.summary)
const plan = await runAction({
  workspace,
  inputs: { ...inputs, 'dry-run': 'true' },
  env
})
console.log('── Dry run right after: nothing left to do ──\n')
console.log(plan.summary)
console.log(
  `Functions on the fake API: ${[...fake.functions.keys()].join(', ')}`
)
if (first.exitCode !== 0 || plan.exitCode !== 0) {
  console.error(first.log, plan.log)
  process.exit(1)
}
