import { describe, expect, it } from 'vitest'
import { worthMasking } from '../src/secrets.js'

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
