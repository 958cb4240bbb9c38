/**
 * Values too trivial to mask: masking `1`, `on` or `true` would blank out
 * every such word in the log (and make the runner drop job outputs holding
 * them). Such values are no secrets; anything longer is masked, numbers too.
 */
export function worthMasking(value: string): boolean {
  return value.length >= 4 && !/^(true|false|null)$/i.test(value)
}
