import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { exhError } from './errors.js'
import { parseQueryPairs, percentDecode } from './query.js'

/** RFC 3986 encoding as the SDK's signer does it. */
export function percentEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!*'()]/g,
    c => '%' + c.charCodeAt(0).toString(16).toUpperCase()
  )
}

/** Parses `OAuth k="v", k="v"`; undefined when it is not an OAuth header. */
export function parseOAuthHeader(
  header: string | undefined
): Map<string, string> | undefined {
  if (!header?.startsWith('OAuth ')) return undefined
  const params = new Map<string, string>()
  for (const item of header.slice('OAuth '.length).split(',')) {
    const match = /^\s*([^=\s]+)="([^"]*)"\s*$/.exec(item)
    if (!match?.[1] || match[2] === undefined) continue
    params.set(percentDecode(match[1]), percentDecode(match[2]))
  }
  return params
}

/** The signature base string of reference 2.3. */
export function signatureBaseString(
  method: string,
  baseUri: string,
  params: [string, string][]
): string {
  const normalized = params
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => compare(ak, bk) || compare(av, bv))
    .map(([k, v]) => `${k}=${v}`)
    .join('&')
  return [method.toUpperCase(), baseUri, normalized]
    .map(percentEncode)
    .join('&')
}

function compare(a: string, b: string): number {
  return a > b ? 1 : a < b ? -1 : 0
}

export function hmacSha1Signature(
  baseString: string,
  consumerSecret: string,
  tokenSecret: string
): string {
  const key = `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`
  return createHmac('sha1', key).update(baseString).digest('base64')
}

export interface OAuthCredentials {
  consumerKey: string
  consumerSecret: string
  /** Token secret by token; undefined for an unknown token. */
  tokenSecret(token: string): string | undefined
}

/** Who signed a request: the consumer only, or the consumer and a token. */
export type OAuthIdentity =
  | { kind: 'none' }
  | { kind: 'consumer' }
  | { kind: 'token'; token: string }

/**
 * Verifies the OAuth1 header of a request. Throws the EXH error the real
 * server gives (107 / 108 / 109); a request without an OAuth header is
 * `none`, for the route to decide (104 on protected routes).
 */
export function verifyOAuth1(
  req: IncomingMessage,
  credentials: OAuthCredentials
): OAuthIdentity {
  const oauth = parseOAuthHeader(req.headers.authorization)
  if (!oauth) return { kind: 'none' }
  if (oauth.get('oauth_consumer_key') !== credentials.consumerKey) {
    throw exhError(107)
  }
  const token = oauth.get('oauth_token')
  const tokenSecret = token ? credentials.tokenSecret(token) : ''
  if (tokenSecret === undefined) throw exhError(108)

  const signature = oauth.get('oauth_signature')
  if (
    !signature ||
    oauth.get('oauth_signature_method') !== 'HMAC-SHA1' ||
    !oauth.get('oauth_timestamp') ||
    !oauth.get('oauth_nonce')
  ) {
    throw exhError(109)
  }

  // Host header + raw pathname (any /localhost prefix included), as signed.
  const host = req.headers.host
  if (!host || !URL.canParse(`http://${host}`)) throw exhError(109)
  const url = new URL(req.url ?? '/', `http://${host}`)
  const baseUri = `${url.protocol}//${url.host}${url.pathname}`
  // Query params first, oauth params override, as the SDK's object spread.
  const params = parseQueryPairs(url.search.replace(/^\?/, '')).filter(
    ([name]) => name === 'oauth_signature' || !oauth.has(name)
  )
  for (const [name, value] of oauth) {
    if (name !== 'oauth_signature') params.push([name, value])
  }
  const expected = hmacSha1Signature(
    signatureBaseString(req.method ?? 'GET', baseUri, params),
    credentials.consumerSecret,
    tokenSecret
  )
  if (!sameText(expected, signature)) throw exhError(109)
  return token ? { kind: 'token', token } : { kind: 'consumer' }
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}
