import * as path from 'node:path'

/** `candidate` is `root` itself or lies below it (both absolute, resolved). */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate)
  return (
    rel === '' ||
    (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel))
  )
}
