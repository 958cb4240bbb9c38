// Whether an execution passed, in words: the pure half of `verify`.

import { isDeepStrictEqual } from 'node:util'
import { isObject } from '../helpers.js'
import type { Execution } from '../exh/types.js'
import type { VerifySpec } from '../task.js'

/** Why an execution failed verification, or undefined when it passed. */
export function executionFailure(
  execution: Execution,
  expected: VerifySpec['expectResult']
): string | undefined {
  const { runtimeError } = execution
  if (runtimeError) {
    const name = runtimeError.name || 'Error'
    // One line: the rest (a require stack) is in the function's log.
    const message = (runtimeError.message ?? '').split('\n', 1)[0] ?? ''
    return `the function failed: ${name}: ${message}`.trim()
  }
  if (execution.status !== 'complete') {
    return `the execution ended ${JSON.stringify(execution.status ?? null)}, not "complete"`
  }
  if (!expected) return undefined
  return firstDifference(expected.value, execution.result)
}

/**
 * The first place `actual` does not contain `expected`, as
 * `result.ok: expected true, got false`: objects match when every listed
 * key matches (extra keys are fine), arrays and scalars by equality.
 */
export function firstDifference(
  expected: unknown,
  actual: unknown,
  at = 'result'
): string | undefined {
  if (isObject(expected)) {
    if (!isObject(actual)) {
      return `${at}: expected an object, got ${shown(actual)}`
    }
    for (const [key, value] of Object.entries(expected)) {
      const where = `${at}${keyPath(key)}`
      if (!Object.hasOwn(actual, key)) {
        return `${where}: expected ${shown(value)}, got no such key`
      }
      const difference = firstDifference(value, actual[key], where)
      if (difference) return difference
    }
    return undefined
  }
  if (isDeepStrictEqual(expected, actual)) return undefined
  return `${at}: expected ${shown(expected)}, got ${shown(actual)}`
}

/** `.ok`, or `["a b"]` for a key that is not a plain name. */
function keyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/**
 * A value as JSON, whole: it may hold a secret, and only a whole one is
 * redacted. The printing edges cut long text once it is redacted.
 */
function shown(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value)
}
