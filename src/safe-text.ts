// Untrusted text (file names, config values, symlink targets, emails, API
// messages) made safe to print (SPEC section 8). A pull request controls all
// of it, so it must never form a workflow command in the log, nor a link,
// image, heading, HTML or @mention in the step summary or the PR comment.

const WORD_JOINER = '\u2060'

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g

/**
 * Unicode format characters (category Cf): bidirectional overrides and
 * isolates (U+202E turns `txt.exe` around), zero-width spaces and joiners,
 * U+FEFF. Invisible, so a name could look like another; shown escaped.
 */
const FORMAT = /\p{Cf}/gu

function escapeControl(char: string): string {
  if (char === '\n') return '\\n'
  if (char === '\r') return '\\r'
  if (char === '\t') return '\\t'
  return escapeCodePoint(char)
}

/** `\u202e`, or `\u{e0001}` beyond the basic plane. */
function escapeCodePoint(char: string): string {
  const code = char.codePointAt(0) ?? 0
  return code > 0xffff
    ? `\\u{${code.toString(16)}}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}

/**
 * Format characters escaped. The log keeps a word joiner right after `@`:
 * it is the one `breakMentions` adds, when the summary is printed to the log.
 */
function escapeFormat(text: string, keepMentionJoiner = false): string {
  return text.replace(FORMAT, (char: string, offset: number) =>
    keepMentionJoiner && char === WORD_JOINER && text[offset - 1] === '@'
      ? char
      : escapeCodePoint(char)
  )
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
  const line = escapeFormat(text.replace(CONTROL, escapeControl), true).replace(
    /##\[/g,
    '##\\u005b'
  )
  const indent = /^\s*/.exec(line)?.[0] ?? ''
  return line.startsWith('::', indent.length)
    ? `${indent}\\u003a${line.slice(indent.length + 1)}`
    : line
}

/**
 * `forLog`, then at most `limit` characters: cut after escaping (an escape
 * is several characters, so a cut before it could print far more), never
 * in the middle of an escape.
 */
export function forLogCut(text: string, limit: number): string {
  const { head, more } = cutText(forLog(text), limit)
  if (!more) return head
  const whole = head.replace(/\\(?:u[0-9a-fA-F]{0,3}|x[0-9a-fA-F]?)?$/, '')
  const left = more + Array.from(head).length - Array.from(whole).length
  return `${whole}${moreCharacters(left)}`
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
  const line = breakMentions(escapeFormat(text.replace(CONTROL, ' '))).replace(
    /\|/g,
    '\\|'
  )
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
  return breakMentions(escapeFormat(text.replace(CONTROL, ' ')))
    .replace(/[!"#$%'()*+,\-./:;=?[\\\]^_`{|}~]/g, char => `\\${char}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\\:\\\/\\\//g, `\\:${WORD_JOINER}\\/\\/`)
    .replace(/www\\\./gi, match => `${match.slice(0, 3)}${WORD_JOINER}\\.`)
}

/** The most raw characters a summary or comment table cell shows. */
export const CELL_LIMIT = 300

/**
 * At most `limit` characters (code points) of `text`, and how many were
 * left out. Cut in the raw text, before any escaping, so an escape or a
 * code span is never broken.
 */
export function cutText(
  text: string,
  limit = CELL_LIMIT
): { head: string; more: number } {
  if (text.length <= limit) return { head: text, more: 0 }
  const chars = Array.from(text)
  if (chars.length <= limit) return { head: text, more: 0 }
  return { head: chars.slice(0, limit).join(''), more: chars.length - limit }
}

/** ` … (N more characters)`: what every cut text ends with; nothing when nothing was cut. */
export function moreCharacters(more: number): string {
  return more ? ` … (${more} more character${more === 1 ? '' : 's'})` : ''
}

/** `markdownCode` of at most `limit` characters, then what was left out. */
export function markdownCodeCut(text: string, limit = CELL_LIMIT): string {
  const { head, more } = cutText(text, limit)
  return `${markdownCode(head)}${moreCharacters(more)}`
}

/** `markdownText` of at most `limit` characters, then what was left out. */
export function markdownTextCut(text: string, limit = CELL_LIMIT): string {
  const { head, more } = cutText(text, limit)
  return `${markdownText(head)}${moreCharacters(more)}`
}
