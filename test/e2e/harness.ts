import AdmZip from 'adm-zip'
import { writeFile } from 'node:fs/promises'
import { startFakeExh, type FakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  type FileSpec,
  type Workspace
} from '../support/workspace.js'
import { runAction, type RunOptions } from '../support/run-action.js'
import { credentialInputs } from '../support/fake-inputs.js'

/** Runs the bundled action against the fake, as a push would. */
export function syncWith(
  fake: FakeExh,
  workspace: string,
  inputs: Record<string, string> = {},
  extra: Partial<RunOptions> = {}
) {
  return runAction({
    workspace,
    inputs: { ...credentialInputs(fake), ...inputs },
    ...extra
  })
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

export function methods(fake: FakeExh): string[] {
  return fake.requests.map(r => `${r.method} ${r.path}`)
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

/** The runner's environment for a pull_request event, with the GitHub API at `apiUrl`. */
export async function pullRequestEnv(
  ws: Workspace,
  apiUrl: string,
  number: number,
  headSha = 'feedc0de'.repeat(5)
): Promise<Record<string, string>> {
  const event = ws.path('event.json')
  await writeFile(
    event,
    JSON.stringify({ pull_request: { number, head: { sha: headSha } } })
  )
  return {
    GITHUB_API_URL: apiUrl,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: event
  }
}
