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
