// Small helpers that belong to no stage: here so stages need not import
// each other for them.

/** A plain object (not null, not an array): a JSON object as parsed. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A commit as people quote it: its first 7 characters. */
export function shortCommit(commit: string): string {
  return commit.slice(0, 7)
}

/**
 * The deepest JSON the action reads, a config or an API answer (objects
 * and arrays; the top-level value is level 1): the recursive parsers and
 * comparisons past it could overflow the stack.
 */
export const MAX_JSON_DEPTH = 64
