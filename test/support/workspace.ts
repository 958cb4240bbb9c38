import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import * as path from 'node:path'

export type FileSpec =
  | string
  | { content: string | Buffer; mode?: number }
  | { symlink: string }

export interface Workspace extends AsyncDisposable {
  dir: string
  /** Writes files relative to the workspace (parent folders created). */
  write(files: Record<string, FileSpec>): Promise<void>
  remove(relative: string): Promise<void>
  path(relative: string): string
}

/** A real temporary folder, removed on dispose. */
export async function makeWorkspace(
  files: Record<string, FileSpec> = {}
): Promise<Workspace> {
  const dir = await mkdtemp(path.join(tmpdir(), 'exh-ws-'))
  const workspace: Workspace = {
    dir,
    path: relative => path.join(dir, relative),
    async write(specs) {
      for (const [relative, spec] of Object.entries(specs)) {
        const file = path.join(dir, relative)
        await mkdir(path.dirname(file), { recursive: true })
        await rm(file, { force: true })
        if (typeof spec === 'string') {
          await writeFile(file, spec)
        } else if ('symlink' in spec) {
          await symlink(spec.symlink, file)
        } else {
          await writeFile(file, spec.content)
          if (spec.mode !== undefined) await chmod(file, spec.mode)
        }
      }
    },
    async remove(relative) {
      await rm(path.join(dir, relative), { recursive: true, force: true })
    },
    async [Symbol.asyncDispose]() {
      await rm(dir, { recursive: true, force: true })
    }
  }
  await workspace.write(files)
  return workspace
}

/** A task-config.json text with sensible defaults, fields overridable. */
export function taskConfig(
  name: string,
  fields: Record<string, unknown> = {}
): string {
  return (
    JSON.stringify(
      {
        name,
        description: `The ${name} task`,
        path: 'build',
        entryPoint: 'index.handler',
        runtime: 'nodejs22.x',
        ...fields
      },
      null,
      2
    ) + '\n'
  )
}

/** A task with a task-verify.json (`{}` unless given) and its handler in build/index.js. */
export function verifiedTask(
  name: string,
  handler: string,
  options: { verify?: string; config?: Record<string, unknown> } = {}
): Record<string, string> {
  return {
    [`tasks/${name}/task-config.json`]: taskConfig(name, options.config),
    [`tasks/${name}/task-verify.json`]: options.verify ?? '{}',
    [`tasks/${name}/build/index.js`]: handler
  }
}
