// `$NAME` substitution exactly as the CLI does it: a whole string value whose
// first character is `$` is replaced by the environment variable of the rest's
// name; recursively in objects and arrays, never in keys; no partial
// interpolation and no escape for a literal leading `$`.

import type { JsonPath } from './json-locations.js'
import { CREDENTIAL_VARIABLES } from '../task.js'

export type Environment = Record<string, string | undefined>

export interface SubstitutionResult {
  value: unknown
  /**
   * Placeholders whose variable is unset or empty: their values stay as they
   * were, or become `''` with `unsetAsEmpty`.
   */
  missing: { path: JsonPath; variable: string }[]
  /** Placeholders naming a variable substitution may never read; kept as written. */
  denied: { path: JsonPath; variable: string }[]
}

/** The variables a build never gets either (SPEC section 8). */
export const RUNNER_TOKENS = [
  'GITHUB_TOKEN',
  'ACTIONS_RUNTIME_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL'
] as const

// The CLI's five `API_*` variables are also the action's fallback inputs.
const CREDENTIALS = new Set<string>([...CREDENTIAL_VARIABLES, ...RUNNER_TOKENS])

/**
 * The action's own inputs (`INPUT_TOKEN-SECRET`: any case, hyphens kept as
 * on macOS), the API credentials and the runner's tokens: what neither a
 * config nor a build may read.
 */
export function isCredentialVariable(name: string): boolean {
  return /^input_/i.test(name) || CREDENTIALS.has(name)
}

/**
 * Variables `$NAME` may never read: the credentials above, and every
 * `ACTIONS_*` variable, since all of them are the runner's plumbing (cache
 * and results URLs, debug switches, tokens added in later runner versions)
 * and none is a value a task should be configured with.
 */
export function isDeniedVariable(name: string): boolean {
  return isCredentialVariable(name) || /^ACTIONS_/i.test(name)
}

/** Every placeholder in `value` naming a denied variable, at any depth. */
export function deniedPlaceholders(
  value: unknown
): SubstitutionResult['denied'] {
  return substitute(value, {}).denied
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
  onSubstituted: (value: string, path: JsonPath) => void = () => undefined,
  unsetAsEmpty = false
): SubstitutionResult {
  const missing: SubstitutionResult['missing'] = []
  const denied: SubstitutionResult['denied'] = []
  const walk = (node: unknown, path: JsonPath): unknown => {
    const variable = placeholderName(node)
    if (variable !== undefined) {
      if (isDeniedVariable(variable)) {
        denied.push({ path, variable })
        return node
      }
      const found = env[variable]
      if (!found) {
        missing.push({ path, variable })
        return unsetAsEmpty ? '' : node
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
  return { value: walk(value, []), missing, denied }
}

/** A placeholder replaced when its variable is set, else kept as written: for names and emails of any config, selected or not. */
export function substituteLeniently(value: string, env: Environment): string {
  const variable = placeholderName(value)
  if (variable === undefined || isDeniedVariable(variable)) return value
  return env[variable] || value
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
