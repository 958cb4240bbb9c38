// Schema errors in words, located: a validator per schema, each error as a
// sentence (did-you-mean, edit distance, the rule a pattern stands for).
// Any shipped schema uses it: task-config.json's and task-verify.json's.

import type { ErrorObject, ValidateFunction } from 'ajv'
import type { JsonPath } from './json-locations.js'
import { isObject } from '../helpers.js'

/** A schema's errors for a value (none when it is valid). */
export type SchemaValidator = (value: unknown) => readonly ErrorObject[]

/**
 * A shipped schema's validator, compiled at build time (compiled-schemas.js,
 * by scripts/compile-schemas.mjs, verbose: an error carries its schema,
 * whose known property names give "did you mean" for an unknown one).
 */
export function schemaValidator(compiled: ValidateFunction): SchemaValidator {
  return value => (compiled(value) ? [] : (compiled.errors ?? []))
}

/** The schema's patterns, said in words (its file is not in the user's repository). */
const PATTERN_RULES: Record<string, string> = {
  '^[A-Za-z0-9-]+$': 'must be one or more letters, digits or -',
  '^[A-Za-z_][A-Za-z0-9_]*$':
    'must start with a letter or _ and hold only letters, digits and _'
}

export interface SchemaIssue {
  keyword: string
  /** The offending field. */
  path: JsonPath
  /** Where to point: the field itself, or its parent object for a missing one. */
  locateAt: JsonPath
  /** Point at the property name rather than its value. */
  key: boolean
  /** The value the error is about. */
  instance: JsonPath
  rule: string
}

/** Every violation of a schema, in words. */
export function schemaIssues(
  value: unknown,
  validate: SchemaValidator
): SchemaIssue[] {
  return validate(value).flatMap(error => issueOf(error, value))
}

function issueOf(error: ErrorObject, value: unknown): SchemaIssue[] {
  const instance = parsePointer(error.instancePath)
  const params = error.params as Record<string, unknown>
  const property = (name: unknown) => [...instance, String(name)]
  const issue = (
    path: JsonPath,
    rule: string,
    where: { locateAt?: JsonPath; key?: boolean } = {}
  ): SchemaIssue[] => [
    {
      keyword: error.keyword,
      path,
      locateAt: where.locateAt ?? path,
      key: where.key ?? false,
      instance,
      rule
    }
  ]
  // The failing inner keyword carries the property name; skip its wrapper.
  if (error.keyword === 'propertyNames') return []
  if (typeof error.propertyName === 'string') {
    return issue(
      property(error.propertyName),
      `is not a valid name: ${describeRule(error, error.propertyName)}`,
      { key: true }
    )
  }
  if (error.keyword === 'required') {
    // Pointed at the object that lacks it.
    return issue(property(params.missingProperty), 'is required', {
      locateAt: instance
    })
  }
  if (error.keyword === 'additionalProperties') {
    const unknown = String(params.additionalProperty)
    const hint = unknownPropertyHint(unknown, instance, knownProperties(error))
    return issue(
      property(unknown),
      `is not allowed (unknown property)${hint}`,
      {
        key: true
      }
    )
  }
  return issue(instance, describeRule(error, valueAt(value, instance)))
}

/** "did you mean": a near name, or the fields an older CLI's shape became. */
function unknownPropertyHint(
  unknown: string,
  parent: JsonPath,
  known: string[]
): string {
  if (unknown === 'executionOptions' && parent.length === 0) {
    return '; did you mean `executionPermission` / `defaultPriority`? (older CLI versions nested them in executionOptions as permissionMode and defaultPriority)'
  }
  const guess = closestName(unknown, known)
  return guess ? `; did you mean \`${guess}\`?` : ''
}

function describeRule(error: ErrorObject, actual: unknown): string {
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'type':
      return `must be ${String(params.type)}${actual === null ? ', not null' : ''}`
    case 'enum':
      return oneOf(
        Array.isArray(params.allowedValues) ? params.allowedValues : [],
        actual
      )
    case 'pattern':
      return (
        PATTERN_RULES[String(params.pattern)] ??
        `must match the pattern ${String(params.pattern)}`
      )
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(params.comparison)} ${String(params.limit)}`
    default:
      return error.message ?? `is invalid (${error.keyword})`
  }
}

/**
 * `must be one of: …`. A long list (the runtimes) is cut to the values of the
 * same family as the given one (`nodejs8.x` → the nodejs ones); with no such
 * family the whole list is shown.
 */
function oneOf(allowed: unknown[], actual: unknown): string {
  const values = allowed.map(String)
  const family = typeof actual === 'string' ? familyOf(actual) : ''
  const near =
    values.length > 8 && family.length >= 2
      ? values.filter(candidate => familyOf(candidate).startsWith(family))
      : []
  if (!near.length) return `must be one of: ${values.join(', ')}`
  return `must be one of: ${near.join(', ')} (the ${family} ones of ${values.length} allowed values)`
}

/** The property names the schema object behind `error` allows. */
function knownProperties(error: ErrorObject): string[] {
  const parent = error.parentSchema as { properties?: object } | undefined
  return parent?.properties ? Object.keys(parent.properties) : []
}

/**
 * The known name closest to a misspelt one (`enviroment` → `environment`),
 * within an edit distance of 2, ignoring case; undefined when none is.
 */
export function closestName(
  unknown: string,
  known: string[]
): string | undefined {
  let best: { name: string; distance: number } | undefined
  for (const name of known) {
    const distance = editDistance(unknown.toLowerCase(), name.toLowerCase())
    if (distance <= 2 && (!best || distance < best.distance)) {
      best = { name, distance }
    }
  }
  return best?.name
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution =
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        substitution
      )
    }
    previous = current
  }
  return previous[b.length] ?? 0
}

function familyOf(value: string): string {
  return /^[a-z]+/i.exec(value)?.[0].toLowerCase() ?? ''
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map(segment => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
}

export function valueAt(value: unknown, at: JsonPath): unknown {
  let node = value
  for (const segment of at) {
    if (Array.isArray(node)) node = node[Number(segment)] as unknown
    else if (isObject(node)) node = node[segment]
    else return undefined
  }
  return node
}
