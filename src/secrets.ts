/**
 * Values too trivial to mask: masking `1`, `on` or `true` would blank out
 * every such word in the log (and make the runner drop job outputs holding
 * them). Such values are no secrets; anything longer is masked, numbers too.
 */
export function worthMasking(value: string): boolean {
  return value.length >= 4 && !/^(true|false|null)$/i.test(value)
}

/**
 * An environment value read back from a function is masked unless the
 * task's own config holds it literally: a value committed to the repository
 * is no secret, and masking a common word (`error`, `production`) blanks it
 * in every later log line and makes the runner drop any job output holding
 * it. A value substituted from `$NAME` was masked when it was substituted.
 */
export function maskReadBack(
  value: string,
  committed: ReadonlySet<string>
): boolean {
  return worthMasking(value) && !committed.has(value)
}

/**
 * Every value masked in this run, to redact the texts the runner does not
 * mask itself: the pull-request comment (posted through the API), and the
 * summary and outputs (an output holding a masked value is dropped).
 */
export class SecretRegistry {
  private readonly values = new Set<string>()
  /** The values' parts as given (`values` holds their encoded forms too). */
  private readonly parts = new Set<string>()
  /** Longest first, so a secret containing another is replaced whole; sorted once per change, not per line. */
  private ordered: string[] = []

  /**
   * Holds `value`; returns its parts not held before, for the runner to mask
   * (a key substituted into twenty tasks is one `::add-mask::` line).
   */
  add(value: string): string[] {
    const added = secretParts(value).filter(part => !this.parts.has(part))
    for (const part of added) {
      this.parts.add(part)
      for (const form of encodedForms(part)) this.values.add(form)
    }
    if (added.length) {
      this.ordered = [...this.values].sort((a, b) => b.length - a.length)
    }
    return added
  }

  holds(value: string): boolean {
    return this.parts.has(value)
  }

  redact(text: string): string {
    return this.ordered.reduce(
      (out, secret) => out.split(secret).join('***'),
      text
    )
  }
}

/**
 * A secret as an API error may echo it: raw, URL-encoded (a query or a form
 * body, `+` for a space too) and JSON-escaped. The runner masks these forms
 * in the log; the summary, outputs and comment need them redacted too.
 */
function encodedForms(value: string): string[] {
  const uri = encodeURIComponent(value)
  return [
    value,
    uri,
    uri.replace(/%20/g, '+'),
    JSON.stringify(value).slice(1, -1)
  ]
}

/**
 * A secret and, when it spans lines (a PEM key, a JSON key file), each of
 * its lines worth masking: the log is masked line by line, and an error's
 * first line may hold only part of it.
 */
function secretParts(value: string): string[] {
  if (!value) return []
  const lines = value.split(/\r?\n/).filter(line => worthMasking(line.trim()))
  return lines.length > 1 ? [value, ...lines] : [value]
}
