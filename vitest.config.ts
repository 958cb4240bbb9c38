import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end tests measure timing against the fake API; running files
    // one at a time keeps those measurements honest on a 2-core machine.
    fileParallelism: false
  }
})
