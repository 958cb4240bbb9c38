import { exhError } from './errors.js'
import { parseQueryPairs, percentDecode } from './query.js'

/** An RQL call such as `eq(email,a@b.c)`; arguments are decoded values. */
export interface RqlNode {
  op: string
  args: (RqlNode | string)[]
}

export interface RqlQuery {
  filters: RqlNode[]
  limit: number
  offset: number
}

const defaultLimit = 20

/**
 * Parses the raw query of a users-service call. The query is URL-decoded
 * once (each `&`-joined operator is a query *name*), then every argument is
 * decoded again, undoing rqlBuilder's double encoding.
 */
export function parseRql(rawQuery: string): RqlQuery {
  const query: RqlQuery = { filters: [], limit: defaultLimit, offset: 0 }
  for (const [name, value] of parseQueryPairs(rawQuery)) {
    // `eq(a,b)=` is what rqlBuilder sends; a stray value is RQL text too.
    const node = parseNode(value === '' ? name : `${name}=${value}`)
    if (node.op === 'limit') {
      query.limit = toCount(node.args[0], defaultLimit)
      query.offset = toCount(node.args[1], 0)
    } else if (!ignoredOps.has(node.op)) {
      query.filters.push(node)
    }
  }
  return query
}

const ignoredOps = new Set(['select', 'sort'])

function toCount(arg: RqlNode | string | undefined, fallback: number): number {
  if (arg === undefined) return fallback
  const n = typeof arg === 'string' ? Number(arg) : NaN
  if (!Number.isInteger(n) || n < 0) throw exhError(19)
  return n
}

function parseNode(text: string): RqlNode {
  const parser = { text, at: 0 }
  const node = readNode(parser)
  if (parser.at !== text.length) throw exhError(19)
  return node
}

function readNode(p: { text: string; at: number }): RqlNode {
  const open = p.text.indexOf('(', p.at)
  const op = p.text.slice(p.at, open)
  if (open === -1 || !/^[a-zA-Z]+$/.test(op)) throw exhError(19)
  p.at = open + 1
  const args: (RqlNode | string)[] = []
  if (p.text[p.at] === ')') {
    p.at += 1
    return { op, args }
  }
  for (;;) {
    args.push(readArg(p))
    const next = p.text[p.at]
    p.at += 1
    if (next === ')') return { op, args }
    if (next !== ',') throw exhError(19)
  }
}

function readArg(p: { text: string; at: number }): RqlNode | string {
  const rest = p.text.slice(p.at)
  if (/^[a-zA-Z]+\(/.test(rest)) return readNode(p)
  const atom = /^[^,()]*/.exec(rest)?.[0] ?? ''
  p.at += atom.length
  return percentDecode(atom)
}

/** Whether a record passes every filter; `lowerCased` fields ignore case. */
export function matchesRql(
  filters: RqlNode[],
  record: Record<string, unknown>,
  lowerCased: ReadonlySet<string> = new Set()
): boolean {
  return filters.every(node => matchesNode(node, record, lowerCased))
}

function matchesNode(
  node: RqlNode,
  record: Record<string, unknown>,
  lowerCased: ReadonlySet<string>
): boolean {
  const nested = () => node.args.filter(a => typeof a !== 'string')
  const [field, ...values] = node.args
  const actual = () => {
    if (typeof field !== 'string') throw exhError(19)
    const raw = record[field]
    if (raw === undefined) return undefined
    const text = typeof raw === 'string' ? raw : JSON.stringify(raw)
    return lowerCased.has(field) ? text.toLowerCase() : text
  }
  const wanted = () =>
    values.map(v => {
      if (typeof v !== 'string') throw exhError(19)
      return typeof field === 'string' && lowerCased.has(field)
        ? v.toLowerCase()
        : v
    })
  switch (node.op) {
    case 'and':
      return nested().every(n => matchesNode(n, record, lowerCased))
    case 'or':
      return nested().some(n => matchesNode(n, record, lowerCased))
    case 'eq':
      return actual() === wanted()[0]
    case 'ne':
      return actual() !== wanted()[0]
    case 'in':
      return wanted().some(v => v === actual())
    case 'out':
      return !wanted().some(v => v === actual())
    default:
      throw exhError(19)
  }
}
