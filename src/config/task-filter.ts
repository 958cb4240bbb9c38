/**
 * The `tasks` input: names or `*` patterns, one per line. Empty selects all.
 */
export interface TaskFilter {
  matches: (name: string) => boolean
  /** Patterns that matched none of `names`. */
  unmatched: (names: readonly string[]) => string[]
}

export function createTaskFilter(patterns: readonly string[]): TaskFilter {
  const compiled = patterns.map(pattern => ({
    pattern,
    regex: new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`)
  }))
  return {
    matches: name =>
      compiled.length === 0 || compiled.some(({ regex }) => regex.test(name)),
    unmatched: names =>
      compiled
        .filter(({ regex }) => !names.some(name => regex.test(name)))
        .map(({ pattern }) => pattern)
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
