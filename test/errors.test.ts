import { describe, expect, it } from 'vitest'
import { debugDescription, describeError, scrubHost } from '../src/errors.js'

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
  it('keeps status, API code and message, never the request', () => {
    const error = Object.assign(new Error('Requested resource is unknown'), {
      name: 'RESOURCE_UNKNOWN_EXCEPTION',
      status: 404,
      response: { code: 16, name: 'RESOURCE_UNKNOWN_EXCEPTION' },
      request: {
        headers: { Authorization: 'OAuth secret' },
        payloadData: '{"x":"y"}'
      }
    })
    const line = describeError(error)
    expect(line).toBe(
      'HTTP 404, API error 16 RESOURCE_UNKNOWN_EXCEPTION: Requested resource is unknown'
    )
    expect(line).not.toContain('secret')
  })

  class ExhLikeError extends Error {
    constructor(message: string) {
      super(message)
      this.name = 'ExhApiError'
    }
  }

  it.each([
    ['a plain error, first line only', new Error('first\nsecond'), 'first'],
    [
      'an error class name',
      new ExhLikeError('reading function a failed: HTTP 500'),
      'reading function a failed: HTTP 500'
    ],
    [
      "the SDK's token error, without status, code or the API's message",
      Object.assign(
        new Error(
          'Looks like you are not authenticated yet. Please check the README file to get started.  \n  As example …'
        ),
        { name: 'OAUTH_TOKEN_EXCEPTION' }
      ),
      'HTTP 401, API error 108 OAUTH_TOKEN_EXCEPTION: The token is unknown'
    ],
    [
      'a network error',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
        name: 'AxiosError',
        code: 'ECONNREFUSED'
      }),
      'connect ECONNREFUSED 127.0.0.1:9'
    ]
  ])('words %s in the action’s terms', (_label, error, expected) => {
    const line = describeError(error)
    expect(line).toBe(expected)
    expect(line).not.toMatch(/README|ExhApiError|AxiosError/)
  })

  it('keeps the class name for debug lines', () => {
    expect(debugDescription(new ExhLikeError('x failed'))).toBe(
      'ExhLikeError: x failed'
    )
  })
})

describe('describeError: a GitHub request that got no answer', () => {
  it('is not called HTTP 500 (Octokit gives a refused connection that status)', async () => {
    const { getOctokit } = await import('@actions/github')
    // A port nothing listens on: the connection is refused at once.
    const server = (await import('node:net')).createServer()
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    await new Promise(resolve => server.close(resolve))
    const octokit = getOctokit('token', {
      baseUrl: `http://127.0.0.1:${port}`,
      request: { retries: 0 }
    })
    const error = await octokit.rest.users
      .getAuthenticated()
      .catch((e: unknown) => e)
    expect((error as { status?: number }).status).toBe(500)
    const line = describeError(error)
    expect(line).not.toMatch(/HTTP 500/)
    expect(line).toMatch(/ECONNREFUSED/)
  })
})
