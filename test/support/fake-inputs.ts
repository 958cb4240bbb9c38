import type { FakeExh } from '../fake-exh/index.js'

/** The inputs that point the action at the fake API with the admin token. */
export function credentialInputs(fake: FakeExh): Record<string, string> {
  return {
    host: fake.url,
    'consumer-key': fake.consumer.key,
    'consumer-secret': fake.consumer.secret,
    token: fake.admin.token,
    'token-secret': fake.admin.tokenSecret
  }
}
