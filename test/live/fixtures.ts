// The functions the contract suite deploys: tiny Node.js handlers, zipped by
// the action's own zip writer, and a body tuned to the request-size limit.

import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'
import type { FunctionBody, ZipUpload } from '../../src/exh/types.js'
import { functionRequestBody } from '../../src/exh/function-body.js'
import { walkCodeFolder } from '../../src/fingerprint/walk.js'
import { encodeMarker, markerFor } from '../../src/marker.js'
import {
  MAX_REQUEST_BYTES,
  checkRequestSize,
  maxZipBytes,
  packageCodeFolder
} from '../../src/package/zip.js'

/** Every function the suite touches is named so; nothing else is written. */
export const LIVE_PREFIX = 'exh-tasks-action-live-'

/** This run's random part: several runs on one account never meet. */
export function liveRun(): string {
  return randomBytes(4).toString('hex')
}

export function isLiveName(name: string): boolean {
  return name.startsWith(LIVE_PREFIX) && /^[A-Za-z0-9-]+$/.test(name)
}

/** A function left by an interrupted run: ours by name, untouched for a day. */
export function isLeftover(
  fn: { name: string; updateTimestamp?: string },
  now: Date
): boolean {
  if (!isLiveName(fn.name) || !fn.updateTimestamp) return false
  const age = now.getTime() - Date.parse(fn.updateTimestamp)
  return age > 24 * 60 * 60 * 1000
}

/** A runtime AWS Lambda still creates functions with. */
export const LIVE_RUNTIME = 'nodejs22.x'

/** Lines the logging handler prints: more than any one page is likely to hold. */
export const LOG_LINES = 120

export const THROWN_MESSAGE = 'live handler failed on purpose'

/** The handlers, as `index.js` of each function. */
export const HANDLERS = {
  echo: (version: number) =>
    `exports.handler = async task => ({ version: ${version}, functionName: task.functionName, data: task.data, value: process.env.LIVE_VALUE === undefined ? null : process.env.LIVE_VALUE })\n`,
  throws: `exports.handler = async () => {\n  for (let i = 1; i <= ${LOG_LINES}; i++) console.log('live log line ' + i)\n  throw new Error(${JSON.stringify(THROWN_MESSAGE)})\n}\n`
}

/** A marker as the action writes it, for a repository that is no real one. */
export function liveMarker(run: string, at = new Date()): string {
  return encodeMarker(
    markerFor(
      { name: 'exh-tasks-action/live-contract' },
      randomBytes(32).toString('hex'),
      `live-${run}`,
      {},
      at
    )
  )
}

export function environment(
  values: Record<string, string>
): NonNullable<FunctionBody['environmentVariables']> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [key, { value }])
  )
}

/** Zips written by the action's zip writer into one scratch folder. */
export class Zips {
  private constructor(private readonly dir: string) {}

  static async open(): Promise<Zips> {
    return new Zips(await mkdtemp(path.join(tmpdir(), 'exh-live-')))
  }

  /** A code folder holding `files`, zipped as the action zips it. */
  async zip(files: Record<string, string | Buffer>): Promise<ZipUpload> {
    const id = randomBytes(6).toString('hex')
    const folder = path.join(this.dir, id)
    await mkdir(folder)
    for (const [name, content] of Object.entries(files)) {
      await writeFile(path.join(folder, name), content)
    }
    const file = path.join(this.dir, `${id}.zip`)
    const { bytes } = await packageCodeFolder(await walkCodeFolder(folder), {
      file
    })
    await rm(folder, { recursive: true, force: true })
    return { file, bytes }
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }
}

/**
 * A create body of exactly the request limit, as the action counts and
 * sends it: a handler and a random (incompressible) filler sized so the
 * zip is the largest that fits, then the description padded by the few
 * bytes base64 leaves over.
 */
export async function bodyAtRequestLimit(
  zips: Zips,
  base: FunctionBody
): Promise<{ body: FunctionBody; zip: ZipUpload }> {
  const target = maxZipBytes(base)
  let filler = target - 4096
  let zip = await zips.zip({ 'index.js': HANDLERS.echo(1) })
  for (let attempt = 0; attempt < 6; attempt++) {
    zip = await zips.zip({
      'index.js': HANDLERS.echo(1),
      'filler.bin': randomBytes(filler)
    })
    if (zip.bytes <= target && target - zip.bytes < 3) break
    filler += target - zip.bytes
  }
  if (zip.bytes > target)
    throw new Error('could not size the zip under the limit')
  const length = functionRequestBody(base, zip).length
  const body = {
    ...base,
    description: `${base.description ?? ''}${'x'.repeat(MAX_REQUEST_BYTES - length)}`
  }
  if (checkRequestSize(body, zip.bytes) !== undefined) {
    throw new Error('the body sized to the limit is refused by the action')
  }
  return { body, zip }
}
