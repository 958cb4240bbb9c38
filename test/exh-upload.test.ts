// Function writes stream their zip from the spooled file (function-body.ts)
// through the real SDK to the fake API: what a user sees, and what the API
// is left with, when that file cannot be read whole.
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { connectExh } from '../src/exh/client.js'
import { startFakeExh, type FakeExh } from './fake-exh/index.js'
import { tempDir } from './support/tree.js'

function client(fake: FakeExh) {
  return connectExh({
    host: fake.url,
    credentials: {
      kind: 'token',
      consumerKey: fake.consumer.key,
      consumerSecret: fake.consumer.secret,
      token: fake.admin.token,
      tokenSecret: fake.admin.tokenSecret
    },
    requestTimeoutMs: 30_000,
    signal: new AbortController().signal,
    mask: () => undefined,
    log: () => undefined
  })
}

/** Resolves once the fake has logged a dropped write, or after 3 s. */
async function droppedWrite(fake: FakeExh, method: string): Promise<boolean> {
  for (let waited = 0; waited < 3000; waited += 20) {
    if (fake.requests.some(r => r.method === method && r.status === 0)) {
      return true
    }
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  return false
}

const body = {
  name: 'upload',
  entryPoint: 'index.handler',
  runtime: 'nodejs20.x'
}

describe('a write whose zip cannot be read whole', () => {
  it.each([
    ['is missing', () => Promise.resolve(), /ENOENT|no such file/],
    [
      'is shorter than packaged',
      async (file: string) => writeFile(file, Buffer.alloc(400_000, 1)),
      /shorter than when it was packaged/
    ]
  ])(
    'fails with the reason when the zip %s, and ends its request',
    async (_, prepare, reason) => {
      await using fake = await startFakeExh()
      const exh = await client(fake)
      const file = path.join(await tempDir(), 'upload.zip')
      await prepare(file)
      const create = exh.createFunction(body, { file, bytes: 1_000_000 })
      await expect(create).rejects.toThrow(reason)
      await expect(create).rejects.not.toThrow(/destructure|undefined/)
      expect(await droppedWrite(fake, 'POST')).toBe(true)
      expect(fake.functions.has('upload')).toBe(false)
    }
  )
})
