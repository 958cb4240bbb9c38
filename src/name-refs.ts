// Names substituted from `$VAR`, shown as their references: the config's
// author chose the variable, so its value may be anything in the step's
// environment, a secret too (SPEC section 8). One replacement for every
// channel: the log, the outputs, the summary and the comment.

/** `text` with each whole-word `name` of `refs` (value → `$VAR`) replaced. */
export function replaceNames(
  text: string,
  refs: Readonly<Record<string, string>>
): string {
  // Longest first: a name holding another is replaced whole.
  const pairs = Object.entries(refs).sort(([a], [b]) => b.length - a.length)
  return pairs.reduce((out, [name, ref]) => replaceWord(out, name, ref), text)
}

/**
 * `word` replaced only as a whole function name (`[A-Za-z0-9-]` around it),
 * so `api` never changes `api-gateway`.
 */
function replaceWord(text: string, word: string, by: string): string {
  if (!word || !text.includes(word)) return text
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const pattern = new RegExp(`(?<![A-Za-z0-9-])${escaped}(?![A-Za-z0-9-])`, 'g')
  return text.replace(pattern, () => by)
}
