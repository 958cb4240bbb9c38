// The last lines a command printed, kept as it prints them, for an error to
// quote. Each stream is decoded on its own (a character split between two
// reads stays whole) and cut into lines on its own (one stream's partial
// line never joins another's), and a line too long to keep is left out
// whole: a part of a line may be part of a secret, which redaction and the
// runner's masking would then miss.

import { StringDecoder } from 'node:string_decoder'

/** One stream's bytes, as they come. */
export interface TailStream {
  write: (chunk: Buffer) => void
  /** The stream ended: its last line counts even without a newline. */
  end: () => void
}

/** A line that names the failure: `npm ERR! …`, `Error: …`, `error TS2307: …`. */
const ERROR_LINE = /error|ERR!/i
/**
 * An error line that says nothing of the cause: npm 10 opens with
 * `npm error code EUSAGE` and blank `npm error` lines before the sentence
 * that says what went wrong.
 */
const CAUSELESS = /^(?:npm )?(?:error|ERR!)(?:\s+code\s+\S+)?\s*$/i

/** Whether a line says `error` or `ERR!` and more than an error code. */
function namesCause(text: string): boolean {
  return ERROR_LINE.test(text) && !CAUSELESS.test(text)
}

export class OutputTail {
  private readonly kept: string[] = []
  /** Lines kept so far, to tell whether the first error is still in the tail. */
  private seen = 0
  private firstError: { line: string; index: number } | undefined

  /**
   * @param count how many non-blank lines to keep
   * @param longest the longest line kept; a longer one is left out
   */
  constructor(
    private readonly count: number,
    private readonly longest: number
  ) {}

  /** The last non-blank lines, trimmed, in the order they ended. */
  lines(): string[] {
    return [...this.kept]
  }

  /**
   * The first line that says `error` or `ERR!` (any case), when it is not
   * among the last lines: npm prints the cause at the top (`can only
   * install with an existing package-lock.json`) and its advice at the end.
   */
  firstErrorBeforeTail(): string | undefined {
    const first = this.firstError
    if (!first || first.index >= this.seen - this.kept.length) return undefined
    return first.line
  }

  stream(): TailStream {
    const decoder = new StringDecoder('utf8')
    let partial = ''
    // The line being read grew past `longest`: the rest of it is left out.
    let dropping = false
    const take = (text: string): void => {
      const parts = (partial + text).split('\n')
      partial = parts.pop() ?? ''
      for (const line of parts) {
        if (dropping) dropping = false
        else if (line.length <= this.longest) this.keep(line)
      }
      if (partial.length > this.longest) {
        partial = ''
        dropping = true
      }
    }
    return {
      write: chunk => {
        take(decoder.write(chunk))
      },
      end: () => {
        take(decoder.end())
        if (!dropping) this.keep(partial)
        partial = ''
      }
    }
  }

  private keep(line: string): void {
    const text = line.trim()
    if (!text) return
    if (!this.firstError && namesCause(text)) {
      this.firstError = { line: text, index: this.seen }
    }
    this.seen++
    this.kept.push(text)
    if (this.kept.length > this.count) this.kept.shift()
  }
}
