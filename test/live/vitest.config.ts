// `npm run test:live` only (scripts/test-live.ts): the contract suite against
// a real Extra Horizon account. Not a project of the root config, so
// `npm test` never runs it against a real host.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    root: fileURLToPath(new URL('../..', import.meta.url)),
    include: ['test/live/**/*.test.ts'],
    // A real API: creates take seconds, an execution up to its time limit,
    // the log is waited for up to 30 s.
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false
  }
})
