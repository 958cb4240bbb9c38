// `$NAME` values of a selected config replaced (each masked as it is known),
// the unset, denied and unknown deploying-credential ones reported.

import { worthMasking } from '../secrets.js'
import type { JsonPath } from './json-locations.js'
import {
  deniedPlaceholders,
  substitute,
  type DeployerCredentials,
  type Environment,
  type SubstitutionResult
} from './substitute.js'
import { formatProblem, type ConfigProblem } from '../task.js'
import type { ParsedConfig } from './read.js'
import { dotted, fileLine, fileProblem } from './problems.js'
import { valueAt } from './schema-wording.js'
import { plural } from '../words.js'

/** What substitution needs of the load options. */
export interface SubstitutionOptions {
  /** For `$NAME` substitution. */
  env: Environment
  /** Called with every value substituted from `$NAME`, the moment it is known. */
  mask?: (secret: string) => void
  /**
   * An offline dry run (a fork's pull request has no secrets): an unset
   * `$NAME` is a warning and counts as empty, instead of an error.
   */
  unsetVariablesWarn?: boolean
  /** For `$API_*` environment values; all unknown when absent. */
  deployer?: Deployer
}

/** The deploying credentials, and what it means when one is unknown. */
export interface Deployer {
  /** A token is left out when the run logs in with email and password. */
  values: DeployerCredentials
  /** A plan: an unknown token is a warning, not an error. */
  dryRun: boolean
}

export interface Substituted {
  value: unknown
  problems: ConfigProblem[]
  warnings: string[]
  /** Places left as written: the schema does not report them again. */
  unresolved: Set<string>
  /** Each substituted place (`a/b`), with its `$VAR`: errors quote that, never the value. */
  sources: Map<string, string>
  /** Environment keys holding the deploying credentials. */
  deployerKeys: string[]
  /**
   * `$API_*` references an offline dry run cannot resolve (`file:line
   * $API_HOST`): one warning names them all (`offlineCredentialsWarning`).
   */
  offlineRefs: string[]
}

/**
 * `$NAME` values replaced, each masked the moment it is known; an unset one
 * is a problem (a warning in an offline dry run, where it counts as empty).
 * `$API_*` environment values are the deploying credentials.
 */
export function substituteSelected(
  config: ParsedConfig,
  options: SubstitutionOptions
): Substituted {
  const problems: ConfigProblem[] = []
  const warnings: string[] = []
  const sources = new Map<string, string>()
  const unsetAsEmpty = options.unsetVariablesWarn === true
  const substituted = substitute(config.document.value, {
    env: options.env,
    deployer: options.deployer?.values,
    unsetAsEmpty,
    onSubstituted: (secret, at, variable) => {
      sources.set(at.join('/'), String(valueAt(config.document.value, at)))
      // The name is the function's identity, shown in every report and
      // output; masking it would hide the task everywhere (and drop outputs).
      // `$API_HOST` is the host the summary names as the target: no secret.
      const shown = at.join('.') === 'name' || variable === 'API_HOST'
      if (!shown && worthMasking(secret)) {
        options.mask?.(secret)
      }
    }
  })
  for (const { path: at, variable } of substituted.missing) {
    if (unsetAsEmpty) warnings.push(unsetVariableWarning(config, at, variable))
    else {
      problems.push({
        ...fileProblem(config, at),
        rule: `variable ${variable} is not set (or empty) in the environment`
      })
    }
  }
  const unknown = unknownDeployerValues(config, substituted.deployer, options)
  problems.push(...unknown.problems)
  warnings.push(...unknown.warnings)
  // Reported for every config by `deniedVariables`, and left as written.
  const unresolved = new Set(
    [
      ...(unsetAsEmpty ? [] : substituted.missing),
      ...substituted.denied,
      ...unknown.unresolved
    ].map(({ path: at }) => at.join('/'))
  )
  return {
    value: substituted.value,
    problems,
    warnings,
    unresolved,
    sources,
    deployerKeys: substituted.deployer.map(({ path: at }) => at[1] as string),
    offlineRefs: unknown.offlineRefs
  }
}

/**
 * A fork's plan has no secrets, so every `$API_*` reference is unknown: one
 * warning for them all rather than one per reference, each placed.
 */
export function offlineCredentialsWarning(refs: string[]): string[] {
  if (!refs.length) return []
  return [
    `${plural(refs.length, '$API_* reference')} not resolved in this offline dry run (the deploying credentials, unknown without them): ${refs.join(', ')}; counted as empty, so the environment-size check is incomplete`
  ]
}

/**
 * `$API_*` values the run does not know. Offline, none is: a warning, as
 * for any unset variable. With an email and password login no token is
 * known, and none would last: each login mints a new one.
 */
function unknownDeployerValues(
  config: ParsedConfig,
  found: SubstitutionResult['deployer'],
  options: SubstitutionOptions
): {
  problems: ConfigProblem[]
  warnings: string[]
  unresolved: typeof found
  offlineRefs: string[]
} {
  const result = {
    problems: [] as ConfigProblem[],
    warnings: [] as string[],
    unresolved: [] as typeof found,
    offlineRefs: [] as string[]
  }
  const deployer = options.deployer
  for (const item of found) {
    if (item.known) continue
    if (!deployer || options.unsetVariablesWarn) {
      result.offlineRefs.push(
        `${fileLine(config, item.path)} $${item.variable}`
      )
      continue
    }
    const where = fileProblem(config, item.path)
    const rule = `$${item.variable} needs the token and token-secret inputs: a login with email and password mints a new token every run (or give the function a user of its own with executionCredentials)`
    if (deployer.dryRun) {
      result.warnings.push(
        `${formatProblem({ ...where, rule })}; counted as unchanged in this plan`
      )
    } else {
      result.problems.push({ ...where, rule })
      result.unresolved.push(item)
    }
  }
  return result
}

/** `$NAME` placeholders that would read a credential or a runner token, or show one. */
export function deniedVariables(config: ParsedConfig): ConfigProblem[] {
  return deniedPlaceholders(config.document.value).map(
    ({ path: at, variable, reason }) => ({
      ...fileProblem(config, at),
      rule: `$${variable} is never substituted here: it ${reason}`
    })
  )
}

/** Offline, a fork's pull request has no secrets: the run goes on without the value. */
function unsetVariableWarning(
  config: ParsedConfig,
  at: JsonPath,
  variable: string
): string {
  return `${fileLine(config, at)}: ${dotted(at)}: variable ${variable} is not set (or empty); counted as empty in this offline dry run, so the environment-size check is incomplete`
}
