/**
 * Parses a query string into [name, value] pairs the way the SDK's signer
 * sees it: `qs.parse` (defaults) followed by the signer's flattening.
 *
 * qs semantics kept here: `&`-separated, empty parts skipped, a part without
 * `=` is a name with value '', `+` is a space, percent-decoding happens once
 * (a malformed escape leaves the text as is), repeated names and `a[]` /
 * `a[0]` (index ≤ 20) become arrays (one pair per value). `a[b]=c` becomes an
 * object that the signer flattens back to `a[b]`, so it stays as written.
 * So RQL such as `eq(email,x%252E)` is one name, `eq(email,x%2E)`, value ''.
 */
export function parseQueryPairs(query: string): [string, string][] {
  const pairs: [string, string][] = []
  for (const part of query.split('&')) {
    if (part === '') continue
    // qs splits at `]=` when present, so `a[b=c]=d` keeps its bracket.
    const bracketEquals = part.indexOf(']=')
    const at = bracketEquals === -1 ? part.indexOf('=') : bracketEquals + 1
    const name = qsDecode(at === -1 ? part : part.slice(0, at))
    const value = at === -1 ? '' : qsDecode(part.slice(at + 1))
    const signedName = arrayBaseName(name) ?? name
    // qs drops names that would shadow Object.prototype members.
    if (name === '' || signedName in Object.prototype) continue
    pairs.push([signedName, value])
  }
  return pairs
}

/** Decodes like qs: `+` → space, then one percent-decoding pass. */
export function qsDecode(text: string): string {
  return percentDecode(text.replace(/\+/g, ' '))
}

/** One percent-decoding pass; a malformed escape leaves the text as is. */
export function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

/** `a[]` and `a[3]` are qs arrays; the signer then signs them as `a`. */
function arrayBaseName(name: string): string | undefined {
  const match = /^([^[\]]+)\[(\d*)\]$/.exec(name)
  if (!match?.[1]) return undefined
  const index = match[2] ?? ''
  if (index !== '' && Number(index) > 20) return undefined
  return match[1]
}
