// Fails when dist/ is not the bundle of src/: rebuilds into a temporary
// folder and compares it file by file with the committed dist/. Every file
// counts (index.js, the file worker, the chunks, licenses.txt): one that
// differs, is missing, or is left over from an earlier build is stale. The
// schemas compiled into src/ (scripts/compile-schemas.mjs) are checked first.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { COMPILED, compiledSchemas } from './compile-schemas.mjs'

if (readFileSync(COMPILED, 'utf8') !== compiledSchemas()) {
  console.error(
    `${relative('.', COMPILED)} is stale (differs from the schemas in schema/).`
  )
  console.error('Run `npm run build` and commit it with dist/.')
  process.exit(1)
}

const out = mkdtempSync(join(tmpdir(), 'exh-dist-'))
try {
  execFileSync(process.execPath, ['scripts/build.mjs', out], {
    stdio: 'inherit'
  })
  const list = dir =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter(entry => entry.isFile())
      .map(entry =>
        relative(dir, join(entry.parentPath ?? entry.path, entry.name))
      )
      .sort()
  const fresh = list(out)
  const committed = list('dist')
  const stale = [...new Set([...fresh, ...committed])].filter(file => {
    try {
      return !readFileSync(join(out, file)).equals(
        readFileSync(join('dist', file))
      )
    } catch {
      return true
    }
  })
  if (stale.length) {
    console.error(
      `dist/ is stale (differs from a fresh build of src/): ${stale.join(', ')}`
    )
    console.error('Run `npm run build` and commit dist/.')
    process.exit(1)
  }
  console.log(`dist/ is the bundle of src/ (${fresh.length} files)`)
} finally {
  rmSync(out, { recursive: true, force: true })
}
