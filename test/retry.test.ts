import { describe, expect, it } from 'vitest'
import {
  DEFAULT_RETRY,
  credentialHint,
  decideRetry,
  parseRetryAfter,
  type FailedAttempt
} from '../src/retry.js'

const half = () => 0.5

describe('decideRetry', () => {
  it.each<[string, FailedAttempt, boolean]>([
    ['connection reset', { noResponse: true }, true],
    ['503', { status: 503, noResponse: false }, true],
    ['500', { status: 500, noResponse: false }, true],
    ['429', { status: 429, noResponse: false }, true],
    ['400 validation', { status: 400, apiCode: 15, noResponse: false }, false],
    ['401 bad token', { status: 401, apiCode: 108, noResponse: false }, false],
    [
      '401 failed login',
      { status: 401, apiCode: 106, noResponse: false },
      false
    ],
    ['login frozen', { status: 401, apiCode: 212, noResponse: false }, false],
    ['login too fast', { status: 401, apiCode: 211, noResponse: false }, true],
    ['404', { status: 404, noResponse: false }, false],
    ['cancelled', { noResponse: true, cancelled: true }, false]
  ])('%s → retry %s', (_label, failure, retry) => {
    expect(decideRetry(failure, 1, DEFAULT_RETRY, half).retry).toBe(retry)
  })

  it('stops after the last attempt', () => {
    const verdict = decideRetry({ noResponse: true }, 4, DEFAULT_RETRY, half)
    expect(verdict).toEqual({
      retry: false,
      reason: 'gave up after 4 attempts'
    })
  })

  it('backs off exponentially, capped, with jitter', () => {
    const delays = [1, 2, 3, 4, 5, 6].map(attempt => {
      const verdict = decideRetry(
        { noResponse: true },
        attempt,
        { ...DEFAULT_RETRY, attempts: 10 },
        () => 1
      )
      return verdict.retry ? verdict.delayMs : -1
    })
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 8000])
    const low = decideRetry({ noResponse: true }, 1, DEFAULT_RETRY, () => 0)
    expect(low).toEqual({ retry: true, delayMs: 250 })
  })

  it('waits at least Retry-After, and refuses a wait over 60 s', () => {
    expect(
      decideRetry(
        { status: 429, noResponse: false, retryAfterMs: 3000 },
        1,
        DEFAULT_RETRY,
        half
      )
    ).toEqual({ retry: true, delayMs: 3000 })
    const verdict = decideRetry(
      { status: 429, noResponse: false, retryAfterMs: 120_000 },
      1,
      DEFAULT_RETRY,
      half
    )
    expect(verdict.retry).toBe(false)
    expect(!verdict.retry && verdict.reason).toContain('wait 120 s')
  })

  it('waits at least 1 s after a login throttled with 211', () => {
    const verdict = decideRetry(
      { status: 401, apiCode: 211, noResponse: false },
      1,
      DEFAULT_RETRY,
      () => 0
    )
    expect(verdict).toEqual({ retry: true, delayMs: 1000 })
  })
})

describe('parseRetryAfter', () => {
  it.each<[unknown, number | undefined]>([
    ['3', 3000],
    ['0.5', 500],
    ['', undefined],
    [undefined, undefined],
    ['soon', undefined],
    ['Thu, 01 Jan 1970 00:00:10 GMT', 10_000]
  ])('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, 0)).toBe(expected)
  })
})

describe('credentialHint', () => {
  it.each<[string, 'token' | 'password', FailedAttempt, string]>([
    [
      'an unknown consumer',
      'token',
      { status: 401, apiCode: 107, noResponse: false },
      'check that consumer-key and consumer-secret belong to this host (an OAuth1 application registered there)'
    ],
    [
      'an unknown token',
      'token',
      { apiCode: 108, noResponse: false },
      'check that token and token-secret belong to this host and to the consumer of consumer-key and consumer-secret'
    ],
    [
      'a bad signature',
      'token',
      { status: 401, apiCode: 109, noResponse: false },
      "check that consumer-secret and token-secret belong to this host and match consumer-key and token (the request's signature did not match)"
    ],
    [
      'an unknown email and password',
      'password',
      { status: 401, apiCode: 106, noResponse: false },
      'check that email and password are a user of this host (the API knows no such combination)'
    ],
    [
      'a refusal without a code',
      'token',
      { noResponse: false },
      'check that consumer-key, consumer-secret, token and token-secret belong to this host and to one another'
    ]
  ])('says what to check for %s', (_label, kind, failure, hint) => {
    expect(credentialHint(kind, failure)).toBe(hint)
  })

  it.each<[string, FailedAttempt]>([
    ['a 500', { status: 500, noResponse: false }],
    ['a timeout', { noResponse: true }],
    ['a throttled login', { status: 401, apiCode: 211, noResponse: false }],
    ['an MFA answer', { status: 403, apiCode: 129, noResponse: false }],
    ['a cancel', { noResponse: false, cancelled: true }]
  ])('has nothing to say about %s', (_label, failure) => {
    expect(credentialHint('token', failure)).toBeUndefined()
  })
})
