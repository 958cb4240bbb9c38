import { defineConfig } from 'vitest/config'

// Tests that wait for real (back-off, Retry-After, deadlines, cancels).
const TIMING = ['test/e2e/faults.test.ts', 'test/pipeline/timing.test.ts']

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Bundle tests mostly wait on child processes and the fake API, so
    // three workers keep 2 cores busy (the default would be one worker).
    maxWorkers: 3,
    projects: [
      {
        extends: true,
        test: {
          // Pure logic, the fake API, and the pipeline in-process against
          // it through the real SDK (test/pipeline), in parallel.
          name: 'unit',
          include: ['test/*.test.ts', 'test/pipeline/**/*.test.ts'],
          exclude: TIMING,
          // One module graph per worker, not per file: no test relies on a
          // fresh import (each makes its own fake API and workspace).
          isolate: false,
          // Threads start and share far cheaper than child processes (11
          // CPU-s of 51 here); nothing in these tests is per process.
          pool: 'threads',
          sequence: { groupOrder: 0 }
        }
      },
      {
        extends: true,
        test: {
          // The bundle run as the runner runs it: each test has its own
          // fake API and workspace, so files run in parallel too.
          name: 'bundle',
          include: ['test/e2e/**/*.test.ts'],
          exclude: TIMING,
          isolate: false,
          sequence: { groupOrder: 0 }
        }
      },
      {
        extends: true,
        test: {
          // Retries, back-off, Retry-After and cancellation measured against
          // the fake API: one file at a time (SPEC section 7). vitest runs a
          // one-worker project after the others; npm test starts it in a
          // process of its own beside them (scripts/checks.mjs).
          name: 'timing',
          include: TIMING,
          fileParallelism: false,
          sequence: { groupOrder: 0 }
        }
      }
    ]
  }
})
