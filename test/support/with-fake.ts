// Helpers for tests that talk to the fake API, in-process or on the bundle.
import AdmZip from 'adm-zip'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import { makeWorkspace, type FileSpec, type Workspace } from './workspace.js'

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

export interface ZipEntryView {
  name: string
  mode: number
  type: 'file' | 'directory' | 'symlink'
  data: string
}

/** What the fake received as a function's code, entry by entry. */
export function zipEntries(code: Buffer): ZipEntryView[] {
  return new AdmZip(code).getEntries().map(entry => {
    const attr = entry.header.attr >>> 16
    const kind = attr & 0o170000
    return {
      name: entry.entryName,
      mode: attr & 0o777,
      type:
        kind === 0o120000
          ? 'symlink'
          : kind === 0o040000 || entry.isDirectory
            ? 'directory'
            : 'file',
      data: entry.isDirectory ? '' : entry.getData().toString('utf8')
    }
  })
}

/** A fresh fake API and a workspace with `files`, disposed together. */
export async function fakeWithWorkspace(
  files: Record<string, FileSpec>
): Promise<{ fake: FakeExh; ws: Workspace } & AsyncDisposable> {
  const fake = await startFakeExh()
  const ws = await makeWorkspace(files)
  return {
    fake,
    ws,
    async [Symbol.asyncDispose]() {
      await fake.close()
      await ws[Symbol.asyncDispose]()
    }
  }
}
