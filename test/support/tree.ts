import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { afterEach } from 'vitest'

/** A file (content, optional mode), a folder, or a symlink (target as given; `<root>` is the tree's root). */
export type Node =
  | string
  | { content: string | Buffer; mode?: number }
  | { dir: true; mode?: number }
  | { symlink: string }

export type Tree = Record<string, Node>

const temps: string[] = []

// Every temp folder made by a test is removed after it.
afterEach(async () => {
  await Promise.all(
    temps.splice(0).map(dir => rm(dir, { recursive: true, force: true }))
  )
})

export async function tempDir(prefix = 'exh-tree-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix))
  temps.push(dir)
  return dir
}

/** `tempDir` for synchronous tests; removed after the test too. */
export function tempDirSync(prefix = 'exh-tree-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix))
  temps.push(dir)
  return dir
}

/** Creates `tree` under a new temp folder (`/code`), in the tree's own order. */
export async function makeTree(tree: Tree, base?: string): Promise<string> {
  const root = path.join(base ?? (await tempDir()), 'code')
  await mkdir(root, { recursive: true })
  for (const [rel, node] of Object.entries(tree)) {
    const full = path.join(root, rel)
    await mkdir(path.dirname(full), { recursive: true })
    if (typeof node === 'string') {
      await writeFile(full, node)
    } else if ('symlink' in node) {
      await symlink(node.symlink.replace('<root>', root), full)
    } else if ('dir' in node) {
      await mkdir(full, { recursive: true })
      if (node.mode !== undefined) await chmod(full, node.mode)
    } else {
      await writeFile(full, node.content)
      if (node.mode !== undefined) await chmod(full, node.mode)
    }
  }
  return root
}

export function hasCommand(command: string): boolean {
  try {
    execFileSync('which', [command], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
