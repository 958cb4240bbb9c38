// `$NAME` substitution exactly as the CLI does it: a whole string value whose
// first character is `$` is replaced by the environment variable of the rest's
// name; recursively in objects and arrays, never in keys; no partial
// interpolation and no escape for a literal leading `$`.

import type { JsonPath } from './json-locations.js'

export type Environment = Record<string, string | undefined>

export interface SubstitutionResult {
  value: unknown
  /** Placeholders whose variable is unset or empty; their values stay as they were. */
  missing: { path: JsonPath; variable: string }[]
}

/** The variable a value refers to, when it is a placeholder. */
export function placeholderName(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith('$')
    ? value.slice(1)
    : undefined
}

/**
 * Replaces every placeholder in `value`, calling `onSubstituted` with each
 * value taken from the environment the moment it is known (to mask it).
 */
export function substitute(
  value: unknown,
  env: Environment,
  onSubstituted: (value: string, path: JsonPath) => void = () => undefined
): SubstitutionResult {
  const missing: SubstitutionResult['missing'] = []
  const walk = (node: unknown, path: JsonPath): unknown => {
    const variable = placeholderName(node)
    if (variable !== undefined) {
      const found = env[variable]
      if (!found) {
        missing.push({ path, variable })
        return node
      }
      onSubstituted(found, path)
      return found
    }
    if (Array.isArray(node)) {
      return node.map((item, index) => walk(item, [...path, String(index)]))
    }
    // `null` is an object to typeof; the CLI crashes on it, here the schema reports it.
    if (isObject(node)) {
      return Object.fromEntries(
        Object.entries(node).map(([key, item]) => [
          key,
          walk(item, [...path, key])
        ])
      )
    }
    return node
  }
  return { value: walk(value, []), missing }
}

/** A placeholder replaced when its variable is set, else kept as written: for names and emails of any config, selected or not. */
export function substituteLeniently(value: string, env: Environment): string {
  const variable = placeholderName(value)
  return (variable !== undefined && env[variable]) || value
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
