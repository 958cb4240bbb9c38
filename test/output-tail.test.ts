import { describe, expect, it } from 'vitest'
import { OutputTail } from '../src/output-tail.js'

/** Feeds each stream's chunks in the given order (stream index, text or bytes). */
function tailOf(
  chunks: [number, string | Buffer][],
  options = { count: 3, longest: 40 }
): string[] {
  const tail = new OutputTail(options.count, options.longest)
  const streams = [tail.stream(), tail.stream()]
  for (const [index, chunk] of chunks) {
    streams[index]?.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk))
  }
  for (const stream of streams) stream.end()
  return tail.lines()
}

const ae = Buffer.from('ä')

describe('OutputTail: the last lines a command printed', () => {
  it.each<[string, [number, string | Buffer][], string[]]>([
    [
      'the last three non-blank lines',
      [[0, 'a\nb\n\n  c  \nd\n']],
      ['b', 'c', 'd']
    ],
    [
      'a last line without a newline',
      [[0, 'a\nsh: 1: yarn: not found']],
      ['a', 'sh: 1: yarn: not found']
    ],
    [
      'a character split between two reads, whole',
      [
        [0, Buffer.concat([Buffer.from('p'), ae.subarray(0, 1)])],
        [0, Buffer.concat([ae.subarray(1), Buffer.from('ssword\n')])]
      ],
      ['pässword']
    ],
    [
      "one stream's partial line never joined to another's",
      [
        [0, 'pass'],
        [1, 'error\n'],
        [0, 'word\n']
      ],
      ['error', 'password']
    ],
    [
      'a line longer than kept left out whole, in one write or several',
      [
        [0, `short\n${'x'.repeat(50)}tail-of-a-secret\nafter\n`],
        [1, 'y'.repeat(25)],
        [1, 'y'.repeat(25)],
        [1, 'rest\nlast']
      ],
      ['short', 'after', 'last']
    ]
  ])('%s', (_label, chunks, lines) => {
    expect(tailOf(chunks)).toEqual(lines)
  })
})

describe('OutputTail: the first error line, when it is not in the tail', () => {
  it.each<[string, string, string | undefined]>([
    [
      "npm's cause at the top, its advice at the end",
      'npm ERR! code EUSAGE\nnpm ERR! can only install with an existing package-lock.json\na\nb\nc\n',
      'npm ERR! can only install with an existing package-lock.json'
    ],
    [
      "npm 10's cause after its code and a blank error line",
      'npm error code EUSAGE\nnpm error\nnpm error The `npm ci` command can only install with an existing package-lock.json\na\nb\nc\n',
      'npm error The `npm ci` command can only install with an existing package-lock.json'
    ],
    [
      'a code alone when nothing else says error',
      'x\nerror code E42\na\nb\nc\n',
      undefined
    ],
    ['any case', 'x\nTypeError: boom\na\nb\nc\n', 'TypeError: boom'],
    ['none that says error', 'x\ny\na\nb\nc\n', undefined],
    [
      'the error already among the last lines',
      'x\na\nerror: b\nc\n',
      undefined
    ],
    [
      'only the first of several',
      'error one\nerror two\na\nb\nc\n',
      'error one'
    ]
  ])('%s', (_label, output, first) => {
    const tail = new OutputTail(3, 100)
    const stream = tail.stream()
    stream.write(Buffer.from(output))
    stream.end()
    expect(tail.firstErrorBeforeTail()).toBe(first)
  })
})
