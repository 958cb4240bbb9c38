// One assumption of the fakes, held against an answer: a difference fails
// with both side by side, so a run against a real account says at once what
// the fake (and the action) took for granted and what the API said.

import { isDeepStrictEqual } from 'node:util'

/** A contract difference: the assumption, what was expected, what came. */
export class ContractDifference extends Error {
  constructor(
    readonly contract: string,
    readonly expected: unknown,
    readonly actual: unknown,
    details?: unknown
  ) {
    super(
      [
        `contract "${contract}": the API's answer differs from what the fake assumes`,
        `  expected (fake): ${shown(expected)}`,
        `  actual (API):    ${shown(actual)}`,
        ...(details === undefined
          ? []
          : [`  details:         ${shown(details)}`])
      ].join('\n')
    )
    this.name = 'ContractDifference'
  }
}

/**
 * Fails unless `actual` deep-equals `expected`, printing both (and
 * `details`, shown but not compared).
 */
export function expectContract(
  contract: string,
  expected: unknown,
  actual: unknown,
  details?: unknown
): void {
  if (!isDeepStrictEqual(normalised(expected), normalised(actual))) {
    throw new ContractDifference(contract, expected, actual, details)
  }
}

/** `undefined` fields dropped, as JSON would: absent and undefined are one answer. */
function normalised(value: unknown): unknown {
  return value === undefined
    ? undefined
    : (JSON.parse(JSON.stringify(value)) as unknown)
}

/** One line, long values cut: the log of a contract run stays readable. */
function shown(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value)
  return text.length > 2000
    ? `${text.slice(0, 2000)}… (${text.length - 2000} more characters)`
    : text
}

/** What kind of value an answer's field holds, in the contract's words. */
export function kindOf(value: unknown): string {
  if (value === undefined) return 'absent'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'string' && isIsoTime(value)) return 'ISO time'
  return typeof value
}

export function isIsoTime(value: string): boolean {
  return (
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z$/.test(value) &&
    !Number.isNaN(Date.parse(value))
  )
}
