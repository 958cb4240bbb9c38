// Whether an execution passed, in words: the pure half of `verify`.

import { isDeepStrictEqual } from 'node:util'
import { isObject, MAX_JSON_DEPTH } from '../helpers.js'
import type { Execution } from '../exh/types.js'
import type { VerifySpec } from '../task.js'

/** Why an execution failed verification, or undefined when it passed. */
export function executionFailure(
  execution: Execution,
  expected: VerifySpec['expectResult']
): string | undefined {
  const { runtimeError } = execution
  if (runtimeError) {
    // First lines only: the rest (a require stack) is in the function's log.
    const name = firstLine(runtimeError.name ?? '') || 'Error'
    const message = firstLine(runtimeError.message ?? '')
    return `the function failed: ${name}: ${message}`.trim()
  }
  if (execution.status !== 'complete') {
    return `the execution ended ${JSON.stringify(firstLine(String(execution.status ?? null)))}, not "complete"`
  }
  // An API answer: nothing deeper is compared or printed (recursion on it
  // could overflow the stack), whatever `expect` lists.
  if (nestedDeeperThan(execution.result, MAX_JSON_DEPTH)) {
    return `result: nested too deep (more than ${MAX_JSON_DEPTH} levels), not compared`
  }
  if (!expected) return undefined
  return firstDifference(expected.value, execution.result)
}

function firstLine(text: string): string {
  return text.split(/\r?\n|\r/, 1)[0] ?? ''
}

/** Whether `value` nests objects or arrays deeper than `limit`, without recursion. */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 1 }]
  while (stack.length) {
    const { value: next, depth } = stack.pop() as (typeof stack)[number]
    if (typeof next !== 'object' || next === null) continue
    if (depth > limit) return true
    for (const child of Object.values(next)) {
      stack.push({ value: child, depth: depth + 1 })
    }
  }
  return false
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
