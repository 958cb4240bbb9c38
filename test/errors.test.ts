import { describe, expect, it } from 'vitest'
import { describeError, scrubHost } from '../src/errors.js'

describe('scrubHost', () => {
  it.each([
    ['sandbox.example.io', 'getaddrinfo ENOTFOUND api.sandbox.example.io'],
    [
      'https://api.sandbox.example.io/',
      'connect to api.sandbox.example.io:443'
    ],
    ['http://localhost:8080', 'connect ECONNREFUSED localhost:8080']
  ])('keeps %s out of %j', (host, text) => {
    const scrubbed = scrubHost(text, host)
    expect(scrubbed).toContain('<host>')
    expect(scrubbed).not.toContain(
      host.replace(/^https?:\/\//, '').replace(/\/$/, '')
    )
  })

  it('leaves other text alone', () => {
    expect(scrubHost('HTTP 500: boom', 'sandbox.example.io')).toBe(
      'HTTP 500: boom'
    )
  })
})

describe('describeError', () => {
  it('keeps class, status and message, never the request', () => {
    const error = Object.assign(new Error('Requested resource is unknown'), {
      name: 'ResourceUnknownError',
      status: 404,
      request: {
        headers: { Authorization: 'OAuth secret' },
        payloadData: '{"x":"y"}'
      }
    })
    const line = describeError(error)
    expect(line).toBe(
      'ResourceUnknownError, HTTP 404: Requested resource is unknown'
    )
    expect(line).not.toContain('secret')
  })

  it('uses only the first line of a message', () => {
    expect(describeError(new Error('first\nsecond'))).toBe('Error: first')
  })
})
