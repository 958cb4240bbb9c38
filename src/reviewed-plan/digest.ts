// The digests of a reviewed plan (SPEC section 10): sha256 of a canonical
// JSON text, salted with the pull request's URL, and which changed fields
// hold a `$NAME` reference. Pure.

import { createHash } from 'node:crypto'

/** JSON with object keys sorted at every level: one text for one value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  const object = value as Record<string, unknown>
  return Object.fromEntries(
    Object.keys(object)
      .sort()
      .map(key => [key, sortKeys(object[key])])
  )
}

/**
 * sha256 (hex) of `text` salted with `salt`. The salt (the pull request's
 * URL) ties a digest to its pull request, so one cannot be carried to
 * another; the length prefix keeps salt and text apart.
 */
export function saltedDigest(salt: string, text: string): string {
  return createHash('sha256')
    .update(`${salt.length}:${salt}\n`)
    .update(text)
    .digest('hex')
}

/** Whether a string is a whole `$NAME` reference (as substitution reads one). */
function isReference(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith('$')
}

function holdsReference(value: unknown): boolean {
  if (isReference(value)) return true
  if (Array.isArray(value)) return value.some(holdsReference)
  if (value !== null && typeof value === 'object') {
    return Object.values(value).some(holdsReference)
  }
  return false
}

/**
 * The change names (as `changes` spells them) whose configured value is or
 * holds a `$NAME` reference, or comes from the `env` input
 * (`envInputKeys`): a change of such a value alone (a rotated secret) is no
 * difference from the reviewed plan.
 */
export function referencedFields(
  written: Record<string, unknown>,
  envInputKeys: readonly string[] = []
): string[] {
  const fields: string[] = []
  for (const [key, value] of Object.entries(written)) {
    if (key === 'environment' && value !== null && typeof value === 'object') {
      for (const [name, item] of Object.entries(value)) {
        if (isReference(item) || envInputKeys.includes(name)) {
          fields.push(`environment.${name}`)
        }
      }
    } else if (key === 'executionCredentials') {
      const permissions = (value as { permissions?: unknown } | null)
        ?.permissions
      if (holdsReference(permissions)) {
        fields.push('executionCredentials.permissions')
      }
    } else if (holdsReference(value)) {
      fields.push(key)
    }
  }
  return fields.sort()
}
