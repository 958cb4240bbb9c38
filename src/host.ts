// The `host` input, worked out one way: a URL, a bare name taken as https://
// (as the SDK takes it). Checking it, naming it in the report and keeping it
// out of error messages all read it here.

import { isIP } from 'node:net'

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i

/** The host as a URL (a bare name gets https://), or undefined when it is none. */
function hostUrl(host: string): URL | undefined {
  try {
    return new URL(SCHEME.test(host) ? host : `https://${host}`)
  } catch {
    return undefined
  }
}

/**
 * Why a `host` value is refused, or undefined when it is a host name or an
 * http(s) URL. The SDK rewrites a host without `localhost` in it to
 * `https://api.<host>`, so an IP address can never work.
 */
export function hostProblem(raw: string): string | undefined {
  const url = hostUrl(raw)
  if (!url) return 'must be a host name or an http(s) URL'
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return 'must use http or https'
  }
  if (/\s/.test(raw) || !url.hostname) {
    return 'must be a host name or an http(s) URL'
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(hostname) && !raw.includes('localhost')) {
    return 'must be a host name, not an IP address (the SDK would call https://api.<ip>); use http://localhost:<port> for a local API'
  }
  return undefined
}

/** The host as written, without scheme, path, query or fragment: `user@api.example.io:8080`. */
function authorityOf(host: string): string {
  return host.replace(SCHEME, '').replace(/[/?#].*$/s, '')
}

/** Only the host's name (and port): never a path, a query or user info. */
export function hostNameOf(host: string): string {
  return authorityOf(host).replace(/^.*@/s, '')
}

/**
 * Every form in which a message may name the host, as written: with and
 * without the `api.`/`apx.` prefix the SDK adds, with and without user info.
 */
export function hostForms(host: string): string[] {
  const names = [...new Set([authorityOf(host), hostNameOf(host)])]
  return names.flatMap(name => {
    const bare = name.replace(/^ap[ix]\./, '')
    return [`api.${bare}`, `apx.${bare}`, name, bare]
  })
}
