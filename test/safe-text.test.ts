import { describe, expect, it } from 'vitest'
import { forLogCut } from '../src/safe-text.js'
import { replaceNames } from '../src/name-refs.js'
import {
  cutText,
  forLog,
  markdownCode,
  markdownCodeCut,
  markdownText
} from '../src/safe-text.js'

const WJ = '\u2060'

describe('forLog', () => {
  it.each<[string, string]>([
    ['tasks/a/task-config.json', 'tasks/a/task-config.json'],
    ['x\n::add-mask::done', 'x\\n::add-mask::done'],
    ['x\r\n::stop-commands::t', 'x\\r\\n::stop-commands::t'],
    ['::set-output name=a::b', '\\u003a:set-output name=a::b'],
    ['  ::add-mask::done', '  \\u003a:add-mask::done'],
    ['\u00a0\u3000::warning::x', '\u00a0\u3000\\u003a:warning::x'],
    ['tab\there', 'tab\\there'],
    ['bell\u0007nul\u0000', 'bell\\u0007nul\\u0000'],
    ['line\u2028sep', 'line\\u2028sep'],
    ['café ✓', 'café ✓'],
    [
      'apps/##[stop-commands]x/task-config.json',
      'apps/##\\u005bstop-commands]x/task-config.json'
    ],
    ['##[add-mask]done', '##\\u005badd-mask]done']
  ])('%j → %j', (input, expected) => {
    expect(forLog(input)).toBe(expected)
  })

  it('never leaves a line break in its output', () => {
    for (const char of ['\n', '\r', '\u2028', '\u2029', '\u0085', '\u000b']) {
      const line = forLog(`a${char}::error::x`)
      for (const lineBreak of [
        '\n',
        '\r',
        '\u2028',
        '\u2029',
        '\u0085',
        '\u000b'
      ]) {
        expect(line).not.toContain(lineBreak)
      }
    }
  })
})

describe('markdownCode', () => {
  it.each<[string, string]>([
    ['report', '`report`'],
    ['a|b', '`a\\|b`'],
    ['a`b', '``a`b``'],
    ['`x', '`` `x ``'],
    ['a```b`', '```` a```b` ````'],
    ['line\n\n# Heading\n<img src=x>', '`line  # Heading <img src=x>`'],
    ['@team', `\`@${WJ}team\``]
  ])('%j → %j', (input, expected) => {
    expect(markdownCode(input)).toBe(expected)
  })
})

describe('markdownText', () => {
  it.each<[string, string]>([
    ['plain words', 'plain words'],
    [
      '[x](https://evil.example)',
      `\\[x\\]\\(https\\:${WJ}\\/\\/evil\\.example\\)`
    ],
    ['![i](u)', '\\!\\[i\\]\\(u\\)'],
    ['# head', '\\# head'],
    ['<img src=x onerror=y>', '&lt;img src\\=x onerror\\=y&gt;'],
    ['a & b', 'a &amp; b'],
    ['ping @org/team', `ping @${WJ}org\\/team`],
    ['see www.evil.example', `see www${WJ}\\.evil\\.example`],
    ['a\n\n# b', 'a  \\# b'],
    ['*bold* _it_ ~s~ `c`', '\\*bold\\* \\_it\\_ \\~s\\~ \\`c\\`']
  ])('%j → %j', (input, expected) => {
    expect(markdownText(input)).toBe(expected)
  })
})

describe('Unicode format characters (category Cf)', () => {
  // Right-to-left override: `exe.txt` with U+202E reads as `txt.exe`.
  const spoofed = 'tasks/\u202etxt.exe/task-config.json'

  it.each<[string, string]>([
    [spoofed, 'tasks/\\u202etxt.exe/task-config.json'],
    ['a\u2066b\u2069c', 'a\\u2066b\\u2069c'],
    ['zero\u200bwidth\u200f', 'zero\\u200bwidth\\u200f'],
    ['\u061c\ufeffx', '\\u061c\\ufeffx'],
    ['tag\u{e0041}', 'tag\\u{e0041}'],
    // The word joiner the summary puts after `@` stays when it is printed.
    [`@${WJ}org`, `@${WJ}org`],
    [`a${WJ}b`, 'a\\u2060b']
  ])('forLog %j → %j', (input, expected) => {
    expect(forLog(input)).toBe(expected)
  })

  it('escapes them in Markdown code and text, and keeps its own word joiner', () => {
    expect(markdownCode(spoofed)).toBe(
      '`tasks/\\u202etxt.exe/task-config.json`'
    )
    expect(markdownText('a\u202eb')).toBe('a\\\\u202eb')
    // An untrusted word joiner is escaped; the one after `@` is added.
    expect(markdownCode(`x${WJ}@team`)).toBe(`\`x\\u2060@${WJ}team\``)
    for (const text of [markdownCode(spoofed), markdownText(spoofed)]) {
      expect(text).not.toMatch(/\p{Cf}/u)
    }
  })
})

describe('cutting a cell', () => {
  it.each<[string, number, string, number]>([
    ['short', 300, 'short', 0],
    ['x'.repeat(301), 300, 'x'.repeat(300), 1],
    // Code points, not UTF-16 units: an emoji is never split in half.
    ['😀'.repeat(5), 3, '😀😀😀', 2]
  ])('cutText(%j, %i)', (text, limit, head, more) => {
    expect(cutText(text, limit)).toEqual({ head, more })
  })

  it('cuts before escaping, so the code span stays whole', () => {
    // Cut after escaping, the span's closing fence would be lost.
    const text = `${'a'.repeat(299)}\`\`\`${'b'.repeat(2000)}`
    expect(markdownCodeCut(text)).toBe(
      `\`\` ${'a'.repeat(299)}\` \`\` … (2002 more characters)`
    )
  })
})

describe('forLogCut', () => {
  it.each<[string, string, number, string]>([
    ['short text, whole', 'abc', 10, 'abc'],
    [
      'cut after escaping',
      '\u0001'.repeat(4),
      12,
      '\\u0001\\u0001 … (12 more characters)'
    ],
    ['never inside an escape', `ab\u0001`, 5, 'ab … (6 more characters)'],
    ['plain text cut', 'x'.repeat(20), 5, 'xxxxx … (15 more characters)']
  ])('%s', (_label, text, limit, shown) => {
    expect(forLogCut(text, limit)).toBe(shown)
  })
})

describe('replaceNames', () => {
  it.each<[string, string, string]>([
    ['a whole name', 'deploying Tok3n-x now', 'deploying $TASK now'],
    [
      'in any case (an email lower-cases it)',
      'exh.tasks+tok3n-x@extrahorizon.com',
      'exh.tasks+$TASK@extrahorizon.com'
    ],
    ['never inside a longer name', 'Tok3n-x-2 stays', 'Tok3n-x-2 stays']
  ])('%s', (_label, text, shown) => {
    expect(replaceNames(text, { 'Tok3n-x': '$TASK' })).toBe(shown)
  })

  it('changes nothing more when run twice (a reference is never a name)', () => {
    const refs = { billing: '$BILLING', reports: '$REPORTS_FN' }
    const once = replaceNames('task billing failed; reports ok', refs)
    expect(once).toBe('task $BILLING failed; $REPORTS_FN ok')
    expect(replaceNames(once, refs)).toBe(once)
  })
})
