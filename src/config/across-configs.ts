// Rules across configs: one task per name, one execution user per task.

import type { ConfigProblem } from '../task.js'
import { taskUserEmail } from '../task.js'
import { isObject } from '../helpers.js'
import { substituteLeniently, type Environment } from './substitute.js'
import type { ParsedConfig } from './read.js'
import { fileProblem, knownName } from './problems.js'

export function duplicateNames(configs: ParsedConfig[]): ConfigProblem[] {
  return duplicates(configs, config => config.name).map(
    ({ config, others }) => ({
      ...fileProblem(config, ['name']),
      rule: `duplicate task name: also in ${others.map(other => other.file).join(', ')}`
    })
  )
}

/** Two tasks with one execution user would fight over its role and tokens. */
export function sharedEmails(configs: ParsedConfig[], env: Environment) {
  return duplicates(configs, config => credentialsEmail(config, env)).map(
    ({ config, others }) => {
      const credentials = (config.document.value as Record<string, unknown>)
        .executionCredentials as Record<string, unknown>
      const field =
        credentials.email === undefined
          ? ['executionCredentials']
          : ['executionCredentials', 'email']
      const tasks = others.map(
        other => `${knownName(other) ?? '?'} (${other.file})`
      )
      return {
        ...fileProblem(config, field),
        rule: `the same execution user's email as task ${tasks.join(', ')}; each task needs its own`
      }
    }
  )
}

/** The task user's email (the rule is `taskUserEmail`), `$NAME` read leniently. */
function credentialsEmail(
  config: ParsedConfig,
  env: Environment
): string | undefined {
  const value = config.document.value
  if (!isObject(value) || !isObject(value.executionCredentials)) return
  const { email } = value.executionCredentials
  if (typeof email === 'string') {
    return taskUserEmail(config.name ?? '', substituteLeniently(email, env))
  }
  if (email !== undefined || config.name === undefined) return
  return taskUserEmail(config.name)
}

/** Each config whose key is shared, with the others sharing it. */
function duplicates(
  configs: ParsedConfig[],
  keyOf: (config: ParsedConfig) => string | undefined
): { config: ParsedConfig; others: ParsedConfig[] }[] {
  const groups = new Map<string, ParsedConfig[]>()
  for (const config of configs) {
    const key = keyOf(config)
    if (key !== undefined) groups.set(key, [...(groups.get(key) ?? []), config])
  }
  return [...groups.values()]
    .filter(group => group.length > 1)
    .flatMap(group =>
      group.map(config => ({
        config,
        others: group.filter(other => other !== config)
      }))
    )
}
