import { describe, expect, it } from 'vitest'
import { maskReadBack, SecretRegistry, worthMasking } from '../src/secrets.js'

describe('worthMasking', () => {
  it.each<[string, boolean]>([
    ['1', false],
    ['on', false],
    ['yes', false],
    ['true', false],
    ['FALSE', false],
    ['null', false],
    ['4111111111111111', true],
    ['1234', true],
    ['daily', true],
    ['sk-live-0123456789', true]
  ])('%j → %s', (value, masked) => {
    expect(worthMasking(value)).toBe(masked)
  })
})

describe('maskReadBack', () => {
  const committed = new Set(['error', 'production', 'Hello from tasks'])
  it.each<[string, boolean]>([
    ['error', false],
    ['production', false],
    ['Hello from tasks', false],
    ['staging', true],
    ['sk-live-0123456789', true],
    ['true', false],
    ['abc', false]
  ])('%j → %s', (value, masked) => {
    expect(maskReadBack(value, committed)).toBe(masked)
  })
})

describe('SecretRegistry', () => {
  it('redacts every value it holds, the longest first', () => {
    const secrets = new SecretRegistry()
    secrets.add('abcd')
    secrets.add('abcdefgh')
    secrets.add('')
    expect(secrets.redact('x abcdefgh y abcd z')).toBe('x *** y *** z')
    expect(secrets.redact('nothing here')).toBe('nothing here')
  })

  it('redacts each line of a multi-line secret on its own', () => {
    const secrets = new SecretRegistry()
    secrets.add(
      '-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\n-----END KEY-----'
    )
    expect(
      secrets.redact('HTTP 400: bad key MIIEvQIBADANBgkqhkiG9w0BAQEF')
    ).toBe('HTTP 400: bad key ***')
  })

  it('redacts a secret echoed URL-encoded or JSON-escaped', () => {
    const secrets = new SecretRegistry()
    secrets.add('p@ss word/"x"')
    expect(
      secrets.redact(
        'body password=p%40ss+word%2F%22x%22 q=p%40ss%20word%2F%22x%22 json "p@ss word/\\"x\\""'
      )
    ).toBe('body password=*** q=*** json "***"')
  })
})

describe('SecretRegistry.add', () => {
  it.each([
    ['a new value', [], 'token-abcdef', ['token-abcdef']],
    ['a value held before', ['token-abcdef'], 'token-abcdef', []],
    ['an empty value', [], '', []],
    [
      'a multi-line value, one line held before',
      ['line-two-secret'],
      'line-one-secret\nline-two-secret',
      ['line-one-secret\nline-two-secret', 'line-one-secret']
    ]
  ])('returns the parts of %s not held before', (_, held, value, added) => {
    const secrets = new SecretRegistry()
    for (const before of held) secrets.add(before)
    expect(secrets.add(value)).toEqual(added)
    expect(secrets.redact(`x ${value} y`)).toBe(value ? 'x *** y' : 'x  y')
  })
})
