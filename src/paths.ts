// Path rules shared by the stages: inside a folder, POSIX relative paths.

import * as path from 'node:path'

/** `candidate` is `root` itself or lies below it (both absolute, resolved). */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate)
  return (
    rel === '' ||
    (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
  )
}

/** A path with `/` separators, as configs, zips and reports write it. */
function toPosix(p: string): string {
  return p.split(path.sep).join('/')
}

/** `to` relative to `from` with `/` separators; `.` for the same folder. */
export function posixRelative(from: string, to: string): string {
  return toPosix(path.relative(from, to)) || '.'
}
