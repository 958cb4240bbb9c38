// The live contract suite (test/live/contract.ts) against the project's own
// fake, as `npm test` runs: where the fake and the suite disagree, one of
// them is wrong. It also holds the suite to its clean-up: nothing of the run
// is left, a live function untouched for a day is deleted, a fresh one
// (another run's) and anything not named as the suite's are kept. The
// fake holds schedules (over a page), a dispatcher and a schema that run a
// function, for the listings a delete reads.

import { afterAll, beforeAll, describe, expect } from 'vitest'
import { startFakeExh, type FakeExh } from './fake-exh/index.js'
import { contractSuite } from './live/contract.js'
import { LIVE_PREFIX } from './live/fixtures.js'

const DAY = 24 * 60 * 60 * 1000
const OLD = `${LIVE_PREFIX}0ld0ld00-echo`
const FRESH = `${LIVE_PREFIX}f7e5f7e5-echo`
const OTHER = 'someone-elses-function'

describe('the live contract suite against the fake API', () => {
  let fake: FakeExh | undefined
  const started = (): FakeExh => {
    if (!fake) throw new Error('the fake did not start')
    return fake
  }

  beforeAll(async () => {
    fake = await startFakeExh()
    const ago = (ms: number) => new Date(Date.now() - ms).toISOString()
    fake.seedFunction({ name: OLD, updateTimestamp: ago(DAY + 60_000) })
    fake.seedFunction({ name: FRESH, updateTimestamp: ago(DAY - 60_000) })
    fake.seedFunction({ name: OTHER, updateTimestamp: ago(10 * DAY) })
    // What a delete reads (SPEC 12): more schedules than one page holds.
    for (let i = 0; i < 55; i++) fake.seedSchedule({ functionName: OTHER })
    const task = { type: 'task', functionName: OTHER }
    fake.seedDispatcher({ name: 'on-login', actions: [task] })
    fake.seedSchema({
      name: 'measurements',
      creationActions: [task],
      transitions: [{ name: 'analyse', afterActions: [task] }]
    })
  })

  contractSuite(
    () => {
      const { url, consumer, admin } = started()
      return {
        host: url,
        consumerKey: consumer.key,
        consumerSecret: consumer.secret,
        token: admin.token,
        tokenSecret: admin.tokenSecret
      }
    },
    { logWaitMs: 0 }
  )

  // Runs after the suite's own afterAll (inner hooks first).
  afterAll(async () => {
    const left = [...started().functions.keys()].sort()
    await fake?.close()
    expect(left).toEqual([FRESH, OTHER].sort())
  })
})
