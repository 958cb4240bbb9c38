// Names substituted from `$VAR` (SPEC section 8): the function's real name,
// but the config's author chose the variable, so its value may be anything
// in the step's environment, a secret too. The summary and the comment show
// the reference; the log and outputs the value only when it is a valid
// function name and no secret the action holds.

import type { RunReport } from './summary.js'
import type { TaskResult } from './result.js'

/** value → `$VAR`, for the names that were substituted. */
export type NameRefs = Readonly<Record<string, string>>

/**
 * The report with each substituted name for which `hide` holds replaced by
 * its reference: in the rows' names and in every text that may quote it
 * (errors, warnings, before → after). A name is replaced as a whole word
 * only (`[A-Za-z0-9-]` around it), so `api` never changes `api-gateway`.
 */
export function withNameRefs(
  report: RunReport,
  hide: (name: string) => boolean
): RunReport {
  const pairs = Object.entries(report.nameRefs ?? {}).filter(([name]) =>
    hide(name)
  )
  if (!pairs.length) return report
  // Longest first: a name holding another is replaced whole.
  pairs.sort(([a], [b]) => b.length - a.length)
  const swap = (text: string): string =>
    pairs.reduce((out, [name, ref]) => replaceWord(out, name, ref), text)
  const maybe = (text: string | undefined): string | undefined =>
    text === undefined ? undefined : swap(text)
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
    errors: report.errors.map(swap),
    warnings: report.warnings.map(swap)
  }
}

function replaceWord(text: string, word: string, by: string): string {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const pattern = new RegExp(`(?<![A-Za-z0-9-])${escaped}(?![A-Za-z0-9-])`, 'g')
  return text.replace(pattern, () => by)
}
