import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          // Pure logic and the fake API: no timing, so files run in parallel.
          name: 'unit',
          include: ['test/*.test.ts']
        }
      },
      {
        extends: true,
        test: {
          // The bundle run as the runner runs it; several tests measure
          // timing against the fake API, so files run one at a time.
          name: 'bundle',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false
        }
      }
    ]
  }
})
