// The CLI's way to hand a function the credentials it was deployed with,
// as Extra Horizon's example projects write it, and what the fake stored.
import type { FakeExh } from '../fake-exh/index.js'

/** `"API_HOST": "$API_HOST"` and the four `$API_OAUTH_*`. */
export const DEPLOYER_ENVIRONMENT = {
  API_HOST: '$API_HOST',
  API_OAUTH_CONSUMER_KEY: '$API_OAUTH_CONSUMER_KEY',
  API_OAUTH_CONSUMER_SECRET: '$API_OAUTH_CONSUMER_SECRET',
  API_OAUTH_TOKEN: '$API_OAUTH_TOKEN',
  API_OAUTH_TOKEN_SECRET: '$API_OAUTH_TOKEN_SECRET'
}

/** The five API_* variables a CLI deploy step sets: the fake's admin. */
export function deployerVariables(fake: FakeExh): Record<string, string> {
  return {
    API_HOST: fake.url,
    API_OAUTH_CONSUMER_KEY: fake.consumer.key,
    API_OAUTH_CONSUMER_SECRET: fake.consumer.secret,
    API_OAUTH_TOKEN: fake.admin.token,
    API_OAUTH_TOKEN_SECRET: fake.admin.tokenSecret
  }
}

/** A function's environment variables as the fake stores them. */
export function storedVariables(
  fake: FakeExh,
  name: string
): Record<string, string> {
  const stored = fake.functions.get(name)?.environmentVariables ?? {}
  return Object.fromEntries(
    Object.entries(stored).map(([key, { value }]) => [key, value])
  )
}
