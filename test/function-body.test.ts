import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { functionRequestBody } from '../src/exh/function-body.js'
import {
  checkRequestSize,
  MAX_REQUEST_BYTES,
  maxZipBytes
} from '../src/package/zip.js'
import type { FunctionBody } from '../src/exh/types.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'function-body-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = []
  for await (const part of stream) {
    parts.push(typeof part === 'string' ? Buffer.from(part) : (part as Buffer))
  }
  return Buffer.concat(parts)
}

async function zipOf(bytes: Buffer): Promise<{ file: string; bytes: number }> {
  const file = path.join(dir, `zip-${bytes.length}-${Math.random()}`)
  await writeFile(file, bytes)
  return { file, bytes: bytes.length }
}

const CHUNK = 3 * 64 * 1024
const bodies: [string, FunctionBody][] = [
  ['no fields', {}],
  ['a name', { name: 'task-a' }],
  [
    'non-ASCII values and environment',
    {
      name: 'task-é',
      description: 'ünïcode ✓ "quoted" \\ and 𝄞',
      environmentVariables: { KEY: { value: 'line\nbreak' } },
      timeLimit: 30
    }
  ]
]
const sizes = [1, 2, 3, 4, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 2]

describe('functionRequestBody', () => {
  for (const [label, body] of bodies) {
    for (const size of sizes) {
      it(`is JSON.stringify({...body, code}) for ${label}, a ${size}-byte zip`, async () => {
        const bytes = randomBytes(size)
        const zip = await zipOf(bytes)
        const request = functionRequestBody(body, zip)
        const sent = await collect(request.open())
        const expected = Buffer.from(
          JSON.stringify({ ...body, code: bytes.toString('base64') })
        )
        expect(sent.equals(expected)).toBe(true)
        expect(request.length).toBe(expected.length)
      })
    }
    it(`is the body alone without a zip (${label})`, async () => {
      const request = functionRequestBody(body)
      const sent = await collect(request.open())
      expect(sent.toString()).toBe(JSON.stringify(body))
      expect(request.length).toBe(sent.length)
    })
  }

  it('is within the request limit when the size check passes, over it when not', () => {
    // The length needs no file: the zip's size is enough.
    const body: FunctionBody = { name: 'sized', description: 'é'.repeat(99) }
    const largest = maxZipBytes(body)
    const fits = functionRequestBody(body, { file: 'unread', bytes: largest })
    expect(fits.length).toBeLessThanOrEqual(MAX_REQUEST_BYTES)
    expect(checkRequestSize(body, largest)).toBeUndefined()
    const over = largest + 3
    const tooLarge = functionRequestBody(body, { file: 'unread', bytes: over })
    expect(tooLarge.length).toBeGreaterThan(MAX_REQUEST_BYTES)
    expect(checkRequestSize(body, over)).toMatch(/over the API's limit/)
  })

  it('gives a new stream per attempt, each the whole body', async () => {
    const bytes = randomBytes(CHUNK * 2)
    const request = functionRequestBody({ name: 'retry' }, await zipOf(bytes))
    const first = await collect(request.open())
    const second = await collect(request.open())
    expect(second.equals(first)).toBe(true)
    expect(first.length).toBe(request.length)
  })

  it('fails the stream when the zip is shorter than when it was packaged', async () => {
    const zip = await zipOf(randomBytes(CHUNK * 2))
    const request = functionRequestBody({ name: 'shrunk' }, zip)
    await truncate(zip.file, CHUNK)
    await expect(collect(request.open())).rejects.toThrow(
      /shorter than when it was packaged/
    )
  })
})
