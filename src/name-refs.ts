// Names substituted from `$VAR`, shown as their references: the config's
// author chose the variable, so its value may be anything in the step's
// environment, a secret too (SPEC section 8). One replacement for every
// channel: the log, the outputs, the summary and the comment.

/** A `$VAR` reference in a text: already a reference, never a name. */
const REFERENCE = /(\$[A-Za-z_][A-Za-z0-9_]*)/

/**
 * `text` with each whole-word `name` of `refs` (value → `$VAR`) replaced,
 * outside the `$VAR` references it holds: replacing twice (the log's
 * redaction, then the report's) changes nothing more.
 */
export function replaceNames(
  text: string,
  refs: Readonly<Record<string, string>>
): string {
  // Longest first: a name holding another is replaced whole.
  const pairs = Object.entries(refs).sort(([a], [b]) => b.length - a.length)
  if (!pairs.length) return text
  return text
    .split(REFERENCE)
    .map((part, index) =>
      index % 2
        ? part
        : pairs.reduce((out, [name, ref]) => replaceWord(out, name, ref), part)
    )
    .join('')
}

/**
 * `word` replaced only as a whole function name (`[A-Za-z0-9-]` around it),
 * so `api` never changes `api-gateway`; in any case, since the name also
 * appears lower-cased (the default executionCredentials email).
 */
function replaceWord(text: string, word: string, by: string): string {
  if (!word || !text.toLowerCase().includes(word.toLowerCase())) return text
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const pattern = new RegExp(
    `(?<![A-Za-z0-9-])${escaped}(?![A-Za-z0-9-])`,
    'gi'
  )
  return text.replace(pattern, () => by)
}
