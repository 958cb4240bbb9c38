// Untrusted text (file names, config values, symlink targets, emails, API
// messages) made safe to print (SPEC section 8). A pull request controls all
// of it, so it must never form a workflow command in the log, nor a link,
// image, heading, HTML or @mention in the step summary or the PR comment.

const WORD_JOINER = '\u2060'

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

function escapeControl(char: string): string {
  if (char === '\n') return '\\n'
  if (char === '\r') return '\\r'
  if (char === '\t') return '\\t'
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/**
 * For the log (and annotations): one line, controls escaped, so the runner
 * can never read a workflow command (`::add-mask::`, `::stop-commands::`)
 * from it; a leading `::` is escaped too, after any leading spaces, since
 * the runner trims them before it looks (text printed indented), and so is
 * `##[` wherever it stands.
 */
export function forLog(text: string): string {
  // The runner also reads the older `##[command]` form anywhere in a line.
  const line = text
    .replace(CONTROL, escapeControl)
    .replace(/##\[/g, '##\\u005b')
  const indent = /^\s*/.exec(line)?.[0] ?? ''
  return line.startsWith('::', indent.length)
    ? `${indent}\\u003a${line.slice(indent.length + 1)}`
    : line
}

/** Breaks `@mention`s: GitHub ignores a backslash before `@`, not a word joiner. */
function breakMentions(text: string): string {
  return text.replace(/@/g, `@${WORD_JOINER}`)
}

/**
 * Inline code for Markdown (a table cell included): one line, `|` escaped for
 * tables, a fence longer than any run of backticks inside, so nothing in the
 * text can close the span and render.
 */
export function markdownCode(text: string): string {
  const line = breakMentions(text.replace(CONTROL, ' ')).replace(/\|/g, '\\|')
  const longestRun = Math.max(
    0,
    ...(line.match(/`+/g) ?? []).map(run => run.length)
  )
  const fence = '`'.repeat(longestRun + 1)
  // A span that starts or ends with a backtick needs a space inside the fence.
  const pad = line.startsWith('`') || line.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${line}${pad}${fence}`
}

/**
 * Plain text for Markdown: every ASCII punctuation mark backslash-escaped
 * (CommonMark allows it for all of them), `<`, `>` and `&` as entities,
 * one line, mentions and bare-URL autolinks broken with a word joiner.
 */
export function markdownText(text: string): string {
  return breakMentions(text.replace(CONTROL, ' '))
    .replace(/[!"#$%'()*+,\-./:;=?[\\\]^_`{|}~]/g, char => `\\${char}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\\:\\\/\\\//g, `\\:${WORD_JOINER}\\/\\/`)
    .replace(/www\\\./gi, match => `${match.slice(0, 3)}${WORD_JOINER}\\.`)
}
