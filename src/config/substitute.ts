// `$NAME` substitution exactly as the CLI does it: a whole string value whose
// first character is `$` is replaced by the environment variable of the rest's
// name; recursively in objects and arrays, never in keys; no partial
// interpolation and no escape for a literal leading `$`.

import type { JsonPath } from './json-locations.js'
import { isObject } from '../helpers.js'
import { CREDENTIAL_VARIABLES, type CredentialVariable } from '../task.js'

export type Environment = Record<string, string | undefined>

/**
 * The credentials the action deploys with, by the CLI's variable names, for
 * `$API_*` in an `environment` value; a name left out is unknown here (an
 * offline dry run, or a token a password login has not minted yet).
 */
export type DeployerCredentials = Partial<Record<CredentialVariable, string>>

export interface SubstitutionOptions {
  env: Environment
  deployer?: DeployerCredentials
  /** Called with each value the moment it is known (to mask it). */
  onSubstituted?: (value: string, path: JsonPath, variable: string) => void
  /** An unset or unknown variable becomes `''` (an offline dry run). */
  unsetAsEmpty?: boolean
}

export interface SubstitutionResult {
  value: unknown
  /**
   * Placeholders whose variable is unset or empty: their values stay as they
   * were, or become `''` with `unsetAsEmpty`.
   */
  missing: { path: JsonPath; variable: string }[]
  /** Placeholders naming a variable substitution may never read there; kept as written. */
  denied: { path: JsonPath; variable: string; reason: string }[]
  /**
   * `$API_*` environment values: the deploying credentials. `known: false`
   * ones stay as written (or `''` with `unsetAsEmpty`).
   */
  deployer: { path: JsonPath; variable: CredentialVariable; known: boolean }[]
}

/** The variables a build never gets either (SPEC section 8). */
const RUNNER_TOKENS = [
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

/** Every placeholder in `value` that may not be substituted where it is. */
export function deniedPlaceholders(
  value: unknown
): SubstitutionResult['denied'] {
  return substitute(value, { env: {} }).denied
}

/** The variable a value refers to, when it is a placeholder. */
export function placeholderName(value: unknown): string | undefined {
  return typeof value === 'string' && value.startsWith('$')
    ? value.slice(1)
    : undefined
}

/** `$API_HOST` and the four `$API_OAUTH_*`: the deploying credentials. */
function isDeployerVariable(name: string): name is CredentialVariable {
  return (CREDENTIAL_VARIABLES as readonly string[]).includes(name)
}

/** The value of one environment variable of the function: `environment.KEY`. */
function isEnvironmentValue(path: JsonPath): boolean {
  return path.length === 2 && path[0] === 'environment'
}

/**
 * Why `$variable` may not be substituted at `path`, in a few words, or
 * undefined when it may. The deploying credentials may only become a
 * function's environment values, which are never shown (SPEC section 8).
 */
export function refusalOf(
  variable: string,
  path: JsonPath
): string | undefined {
  if (/^input_/i.test(variable)) return "is one of this action's inputs"
  if (isDeployerVariable(variable)) {
    return isEnvironmentValue(path)
      ? undefined
      : 'is the deploying credentials: it may only be an environment value'
  }
  if (/^ACTIONS_/i.test(variable) || isCredentialVariable(variable)) {
    return "is the runner's own (a token or its plumbing)"
  }
  return undefined
}

/**
 * Replaces every placeholder in `value`: from the environment, or for
 * `$API_*` environment values from the deploying credentials; each value
 * handed to `onSubstituted` the moment it is known (to mask it).
 */
export function substitute(
  value: unknown,
  options: SubstitutionOptions
): SubstitutionResult {
  const { env, deployer = {}, unsetAsEmpty = false } = options
  const onSubstituted = options.onSubstituted ?? (() => undefined)
  const result: Omit<SubstitutionResult, 'value'> = {
    missing: [],
    denied: [],
    deployer: []
  }
  const placeholder = (node: string, variable: string, path: JsonPath) => {
    const reason = refusalOf(variable, path)
    if (reason) {
      result.denied.push({ path, variable, reason })
      return node
    }
    const fromDeployer = isDeployerVariable(variable)
    const found = fromDeployer ? deployer[variable] : env[variable]
    if (fromDeployer) {
      result.deployer.push({ path, variable, known: Boolean(found) })
    } else if (!found) result.missing.push({ path, variable })
    if (!found) return unsetAsEmpty ? '' : node
    onSubstituted(found, path, variable)
    return found
  }
  const walk = (node: unknown, path: JsonPath): unknown => {
    const variable = placeholderName(node)
    if (variable !== undefined) {
      return placeholder(node as string, variable, path)
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
  return { value: walk(value, []), ...result }
}

/** A placeholder replaced when its variable is set, else kept as written: for names and emails of any config, selected or not. */
export function substituteLeniently(value: string, env: Environment): string {
  const variable = placeholderName(value)
  if (variable === undefined || isDeniedVariable(variable)) return value
  return env[variable] || value
}
