// What each channel may show of the report's free texts (SPEC sections 3
// and 8). Names substituted from `$VAR` are the functions' real names, but
// the config's author chose the variable, so its value may be anything in
// the step's environment, a secret too: every channel shows the reference.
// Outputs and the comment leave the host out (teams keep it secret; a
// function's error may name it).

import type { RunReport } from './summary.js'
import type { TaskResult } from './result.js'
import { scrubHost } from '../errors.js'
import { replaceNames } from '../name-refs.js'

/**
 * Every free text of the report through `change`: the errors and warnings,
 * each task's name, error and before → after, each listed function's
 * description and owner.
 */
function mapTexts(
  report: RunReport,
  change: (text: string) => string
): RunReport {
  const maybe = (text: string | undefined): string | undefined =>
    text === undefined ? undefined : change(text)
  return {
    ...report,
    results: report.results.map((result): TaskResult => ({
      ...result,
      name: maybe(result.name),
      error: maybe(result.error),
      details: result.details?.map(detail => ({
        ...detail,
        before: maybe(detail.before),
        after: maybe(detail.after)
      }))
    })),
    errors: report.errors.map(change),
    warnings: report.warnings.map(change),
    // command list: descriptions and markers are the API's free text.
    functions: report.functions?.map(fn => ({
      ...fn,
      description: maybe(fn.description),
      repository: maybe(fn.repository)
    }))
  }
}

/**
 * The report with each substituted name replaced by its reference,
 * wherever a text may quote it (`name-refs.ts`).
 */
export function withNameRefs(report: RunReport): RunReport {
  const refs = report.nameRefs ?? {}
  if (!Object.keys(refs).length) return report
  return mapTexts(report, text => replaceNames(text, refs))
}

/** The report with the host, in every form a message may name it, as `<host>`. */
export function withoutHost(report: RunReport): RunReport {
  const { host } = report
  if (!host) return report
  return { ...mapTexts(report, text => scrubHost(text, host)), host: undefined }
}
