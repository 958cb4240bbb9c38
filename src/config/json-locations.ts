// Parses a JSON file keeping node positions, so a problem found in the parsed
// value (by a JSON path) can be reported at its line and column.

import {
  createScanner,
  parseTree,
  printParseErrorCode,
  type Node,
  type ParseError
} from 'jsonc-parser'
import { MAX_JSON_DEPTH } from '../helpers.js'
import type { SourcePosition } from '../task.js'

/** A path into a JSON value: property names, and array indices as strings (as in a JSON Pointer). */
export type JsonPath = readonly string[]

/** 1-based. */
type Position = SourcePosition

export interface JsonDocument {
  value: unknown
  /**
   * Where the node at `path` is: its value, or with `key` its property name.
   * A path that does not exist falls back to its nearest existing ancestor.
   */
  locate: (path: JsonPath, key?: boolean) => Position
}

export type ParseOutcome =
  | { ok: true; document: JsonDocument }
  | { ok: false; position?: Position; message: string }

/**
 * Parses JSON as strictly as JSON.parse (no comments, no trailing commas),
 * refusing nesting deeper than MAX_JSON_DEPTH before the (recursive) parser
 * sees it: 100,000 `[` would overflow its stack.
 */
export function parseJson(source: string): ParseOutcome {
  // A byte-order mark is what some Windows editors write; it is not content.
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source
  const position = positionFinder(text)
  if (text.trim() === '') {
    return { ok: false, position: position(0), message: 'the file is empty' }
  }
  const tooDeep = tooDeepAt(text, MAX_JSON_DEPTH)
  if (tooDeep !== undefined) {
    return {
      ok: false,
      position: position(tooDeep),
      message: `nested deeper than ${MAX_JSON_DEPTH} levels (objects and arrays)`
    }
  }
  const errors: ParseError[] = []
  const tree = parseTree(text, errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false
  })
  const first = errors[0]
  if (first || !tree) {
    return {
      ok: false,
      position: position(first?.offset ?? 0),
      message: !first
        ? 'not a JSON value'
        : first.offset >= text.trimEnd().length
          ? 'the file ends too early (something is not closed)'
          : describeParseError(first)
    }
  }
  let value: unknown
  try {
    // The value comes from JSON.parse, as in the CLI: it keeps a `__proto__`
    // key as a plain property, where a hand-built object would not.
    value = JSON.parse(text)
  } catch (error) {
    return { ok: false, message: (error as Error).message }
  }
  return {
    ok: true,
    document: {
      value,
      locate: (path, key = false) => {
        const node = nodeAt(tree, path)
        const keyNode = key ? keyOf(node) : undefined
        return position((keyNode ?? node).offset)
      }
    }
  }
}

/**
 * Where `text` first nests objects and arrays deeper than `limit`, without
 * recursion: read with the parser's own tokenizer, so a comment or a string
 * is skipped exactly as the parser skips it (a `"` inside a comment must not
 * hide brackets the parser would then recurse into).
 */
export function tooDeepAt(text: string, limit: number): number | undefined {
  const scanner = createScanner(text, false)
  // The closer each open bracket waits for: the parser skips one that does
  // not match (a `}` in an array) without leaving, so only a match counts.
  const open: number[] = []
  // Plain numbers: the const enum cannot be imported (below).
  for (
    let token: number = scanner.scan();
    token !== EOF;
    token = scanner.scan()
  ) {
    if (token === OPEN_BRACE || token === OPEN_BRACKET) {
      open.push(token === OPEN_BRACE ? CLOSE_BRACE : CLOSE_BRACKET)
      if (open.length > limit) return scanner.getTokenOffset()
    } else if (token === open.at(-1)) {
      open.pop()
    }
  }
  return undefined
}

// jsonc-parser's SyntaxKind values: a `const enum` in its types, which
// verbatimModuleSyntax cannot import, so named here (tested against it).
export const OPEN_BRACE = 1
export const CLOSE_BRACE = 2
export const OPEN_BRACKET = 3
export const CLOSE_BRACKET = 4
export const EOF = 17

/** The deepest existing node along `path`. */
function nodeAt(root: Node, path: JsonPath): Node {
  let node = root
  for (const segment of path) {
    const child = childAt(node, segment)
    if (!child) return node
    node = child
  }
  return node
}

function childAt(node: Node, segment: string): Node | undefined {
  const children = node.children ?? []
  if (node.type === 'array') {
    return /^\d+$/.test(segment) ? children[Number(segment)] : undefined
  }
  if (node.type !== 'object') return undefined
  // The last of duplicate keys wins, as in JSON.parse.
  for (let i = children.length - 1; i >= 0; i--) {
    const property = children[i]
    if (property?.children?.[0]?.value === segment) {
      return property.children[1] ?? property
    }
  }
  return undefined
}

function keyOf(node: Node): Node | undefined {
  const parent = node.parent
  return parent?.type === 'property' ? parent.children?.[0] : undefined
}

/** Maps an offset to a 1-based line and column. */
function positionFinder(text: string): (offset: number) => Position {
  const lineStarts = [0]
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n') lineStarts.push(i + 1)
  }
  return offset => {
    let line = 0
    while (
      line + 1 < lineStarts.length &&
      (lineStarts[line + 1] ?? 0) <= offset
    )
      line++
    return { line: line + 1, column: offset - (lineStarts[line] ?? 0) + 1 }
  }
}

const PARSE_ERRORS: Record<string, string> = {
  InvalidSymbol: 'unexpected character',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected:
    'a property name in double quotes is expected (JSON allows no trailing comma)',
  ValueExpected: 'a value is expected',
  ColonExpected: 'a colon is expected',
  CommaExpected: 'a comma is expected',
  CloseBraceExpected: 'a closing } is expected',
  CloseBracketExpected: 'a closing ] is expected',
  EndOfFileExpected: 'unexpected content after the end of the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'unexpected end of comment',
  UnexpectedEndOfString: 'unexpected end of string',
  UnexpectedEndOfNumber: 'unexpected end of number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter:
    'invalid character in a string (control characters must be escaped)'
}

function describeParseError(error: ParseError): string {
  const code = printParseErrorCode(error.error)
  return PARSE_ERRORS[code] ?? code
}
