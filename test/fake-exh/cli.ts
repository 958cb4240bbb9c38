/**
 * Runs the fake as its own process (demo, benchmark):
 *   tsx test/fake-exh/cli.ts [--port N] [--latency-ms N] [--max-body-bytes N]
 *     [--log-bodies] [--zip-directory-only]
 * Prints one JSON line `{url, consumerKey, consumerSecret, token,
 * tokenSecret}` once listening; stops on SIGINT / SIGTERM.
 */
import { parseArgs } from 'node:util'
import { startFakeExh } from './server.js'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'latency-ms': { type: 'string', default: '0' },
    'max-body-bytes': { type: 'string', default: '10000000' },
    // A long-running fake should not keep every (base64 zip) body.
    'log-bodies': { type: 'boolean', default: false },
    // Check only each zip's end record, not every entry (benchmarks).
    'zip-directory-only': { type: 'boolean', default: false }
  }
})

const fake = await startFakeExh({
  port: Number(values.port),
  latencyMs: Number(values['latency-ms']),
  maxBodyBytes: Number(values['max-body-bytes']),
  logBodies: values['log-bodies'],
  zipCheck: values['zip-directory-only'] ? 'directory' : 'entries'
})

process.stdout.write(
  JSON.stringify({
    url: fake.url,
    consumerKey: fake.consumer.key,
    consumerSecret: fake.consumer.secret,
    token: fake.admin.token,
    tokenSecret: fake.admin.tokenSecret
  }) + '\n'
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0))
  })
}
