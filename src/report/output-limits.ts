// The job outputs within GitHub's limits (SPEC section 9): a later step that
// reads an output over 1 MB fails, so texts are cut (after redaction) and
// every task's entry is kept.

import { cutText, moreCharacters } from '../safe-text.js'
import { orderResult, type TaskResult } from './result.js'

/** A `result` entry's `error`: at most this many characters. */
export const OUTPUT_ERROR_LIMIT = 1_000
/** GitHub's limit for one output is 1 MB. */
const OUTPUT_LIMIT = 1_000_000
/** Shorter and shorter texts, tried in turn until the whole output fits. */
const TEXT_LIMITS = [OUTPUT_ERROR_LIMIT, 200, 40, 0]

/** `text` cut to `limit` characters with `… (N more characters)`. */
export function boundText(text: string, limit: number): string {
  const { head, more } = cutText(text, limit)
  return `${head}${moreCharacters(more)}`
}

/** The `result` output: every entry, each text cut until the whole fits. */
export function resultOutput(results: readonly TaskResult[]): string {
  return fitted(limit =>
    results.map(result => {
      const entry = orderResult(result)
      return entry.error === undefined
        ? entry
        : { ...entry, error: boundText(entry.error, limit) }
    })
  )
}

/** The `functions` output: every entry, descriptions cut until the whole fits. */
export function functionsOutput(
  functions: readonly { description?: string }[]
): string {
  return fitted(limit =>
    functions.map(fn =>
      fn.description === undefined
        ? fn
        : { ...fn, description: boundText(fn.description, limit) }
    )
  )
}

/** The JSON of `entries(limit)` for the first text limit whose JSON fits. */
function fitted(entries: (limit: number) => unknown[]): string {
  let json = ''
  for (const limit of TEXT_LIMITS) {
    json = JSON.stringify(entries(limit))
    if (Buffer.byteLength(json) <= OUTPUT_LIMIT) return json
  }
  return json
}
