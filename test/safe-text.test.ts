import { describe, expect, it } from 'vitest'
import { forLog, markdownCode, markdownText } from '../src/safe-text.js'

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
