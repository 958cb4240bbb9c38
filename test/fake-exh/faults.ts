/**
 * A fault to inject on matching requests. Rules match in the order added,
 * on method (case-insensitive) and path (without query; a string is an
 * exact match, a RegExp is tested). Each match consumes one of `times`.
 */
export interface FaultRule {
  method?: string
  path?: string | RegExp
  /** How many requests the rule hits; default 1, Infinity allowed. */
  times?: number
  /** Answer with this status (and `body`, `headers`) without acting. */
  status?: number
  /** Body for `status`; a string is sent as is (e.g. an HTML 502 page). */
  body?: unknown
  /**
   * With `status`: the error's message quotes the request body, as some
   * validation errors do (to test that the client redacts what it prints).
   */
  echoBody?: boolean
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>
  /**
   * `before`: destroy the socket without acting. `after`: act on the state,
   * then destroy the socket without answering (the answer is lost).
   */
  drop?: 'before' | 'after'
  /** Wait this long before handling the request. */
  delayMs?: number
  /**
   * Hold the request until this settles (the test releases it): a request
   * kept in flight for as long as the test needs, whatever the machine's
   * speed.
   */
  hold?: Promise<unknown>
}

interface ActiveRule {
  rule: FaultRule
  remaining: number
}

export class FaultRules {
  private rules: ActiveRule[] = []

  add(rule: FaultRule): void {
    const times = rule.times ?? 1
    if (!(times > 0)) throw new Error('fake-exh: fault times must be > 0')
    this.rules.push({ rule, remaining: times })
  }

  /** The first rule matching the request, consuming one of its uses. */
  take(method: string, path: string): FaultRule | undefined {
    const active = this.rules.find(({ rule }) => matches(rule, method, path))
    if (!active) return undefined
    active.remaining -= 1
    if (active.remaining <= 0) {
      this.rules = this.rules.filter(r => r !== active)
    }
    return active.rule
  }

  /** Rules not used up yet (a test can assert they all fired). */
  get pending(): readonly FaultRule[] {
    return this.rules.map(r => r.rule)
  }

  clear(): void {
    this.rules = []
  }
}

function matches(rule: FaultRule, method: string, path: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) {
    return false
  }
  if (rule.path === undefined) return true
  if (typeof rule.path === 'string') return rule.path === path
  rule.path.lastIndex = 0 // a /g or /y RegExp keeps state between tests
  return rule.path.test(path)
}
