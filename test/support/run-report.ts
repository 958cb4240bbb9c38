// A run's report as the pipeline hands it to the report stage, with the
// fields a test does not care about filled in.
import type { TaskResult } from '../../src/report/result.js'
import type { RunReport } from '../../src/report/summary.js'

export function runReport(
  results: TaskResult[],
  fields: Partial<RunReport> = {}
): RunReport {
  return {
    command: 'sync',
    dryRun: false,
    offline: false,
    missingCredentials: [],
    results,
    errors: [],
    warnings: [],
    durationMs: 1234,
    host: 'api.sandbox.example.com',
    ...fields
  }
}
