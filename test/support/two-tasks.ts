// A repository with two valid tasks, for tests that break one of them (the
// bad-input corpus in-process, the annotations on the bundle).

import { taskConfig, type FileSpec } from './workspace.js'

/** Where the action runs: a folder of the temporary dir, so `outside` can exist beside it. */
export const REPO = 'repo'
export const A = 'tasks/a/task-config.json'
export const B = 'tasks/b/task-config.json'

/** Two valid tasks; the rows break `a` (or an input). */
export function twoTasks(): Record<string, FileSpec> {
  return {
    [A]: taskConfig('a'),
    'tasks/a/build/index.js': 'exports.handler = async () => 1\n',
    [B]: taskConfig('b'),
    'tasks/b/build/index.js': 'exports.handler = async () => 2\n'
  }
}

/** `a` with these fields set (or removed, with `undefined`). */
export function a(fields: Record<string, unknown>): Record<string, FileSpec> {
  return { [A]: taskConfig('a', fields) }
}

/** The files, under the folder the action runs in. */
export function prefixed(
  files: Record<string, FileSpec>
): Record<string, FileSpec> {
  return Object.fromEntries(
    Object.entries(files).map(([file, spec]) => [`${REPO}/${file}`, spec])
  )
}

export function textOf(files: Record<string, FileSpec>, file: string): string {
  const spec = files[file]
  if (typeof spec !== 'string') throw new Error(`${file} is not text`)
  return spec
}

/** The 1-based line of the first occurrence of `text`. */
export function lineOf(content: string, text: string): number {
  const index = content.split('\n').findIndex(line => line.includes(text))
  if (index < 0) throw new Error(`"${text}" is not in the file`)
  return index + 1
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
