import { describe, expect, it } from 'vitest'
import { hostForms, hostNameOf, hostProblem } from '../src/host.js'

describe('the host, read one way', () => {
  it.each([
    ['sandbox.example.io', 'sandbox.example.io'],
    ['https://api.sandbox.example.io/', 'api.sandbox.example.io'],
    ['http://localhost:8080/path?query#x', 'localhost:8080'],
    ['https://user:secret@api.example.io', 'api.example.io']
  ])('names %s as %s', (host, name) => {
    expect(hostNameOf(host)).toBe(name)
  })

  it('gives every form a message may use, user info too', () => {
    expect(hostForms('https://user:pw@api.example.io/')).toEqual(
      expect.arrayContaining([
        'user:pw@api.example.io',
        'api.example.io',
        'apx.example.io',
        'example.io'
      ])
    )
  })

  it.each([
    ['example.io', undefined],
    ['http://localhost:4000', undefined],
    ['ftp://example.io', 'must use http or https'],
    ['exa mple.io', 'must be a host name or an http(s) URL'],
    ['10.0.0.1', expect.stringContaining('not an IP address')]
  ])('checks %s', (raw, problem) => {
    expect(hostProblem(raw)).toEqual(problem)
  })
})
