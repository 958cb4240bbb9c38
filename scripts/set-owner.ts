// `npm run set-owner -- <owner>`: the GitHub owner of this repository is one
// constant, the `repository` URL in package.json. This script changes it
// there and everywhere it is repeated for users (README `uses:` lines and
// badges, the schema's `$id`, the contributor documents).
// test/repository.test.ts fails when one of them disagrees.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
export const REPOSITORY_NAME = 'exh-tasks-action'
/** The files that name the repository as `<owner>/exh-tasks-action`. */
export const OWNER_FILES = [
  'package.json',
  'README.md',
  'CHANGELOG.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  'action.yml',
  'schema/task-config.schema.json',
  'schema/task-verify.schema.json'
]

/** The owner in package.json's `repository` URL. */
export function readOwner(root = ROOT): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    repository?: { url?: string }
  }
  const owner = new RegExp(`github\\.com/([^/]+)/${REPOSITORY_NAME}`).exec(
    pkg.repository?.url ?? ''
  )?.[1]
  if (!owner) throw new Error('package.json has no GitHub repository URL')
  return owner
}

/** Every `<owner>/exh-tasks-action` in a text, with its owner. */
export function ownersIn(text: string): string[] {
  const pattern = new RegExp(`([A-Za-z0-9-]+)/${REPOSITORY_NAME}\\b`, 'g')
  return [...text.matchAll(pattern)].map(match => match[1] ?? '')
}

export function setOwner(owner: string, root = ROOT): void {
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/.test(owner)) {
    throw new Error(`"${owner}" is not a GitHub owner name`)
  }
  const pattern = new RegExp(`[A-Za-z0-9-]+/${REPOSITORY_NAME}\\b`, 'g')
  for (const file of OWNER_FILES) {
    const text = readFileSync(join(root, file), 'utf8')
    writeFileSync(
      join(root, file),
      text.replace(pattern, `${owner}/${REPOSITORY_NAME}`)
    )
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const owner = process.argv[2] ?? ''
  setOwner(owner)
  console.log(`The repository is now ${owner}/${REPOSITORY_NAME}`)
}
