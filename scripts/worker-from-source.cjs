// Runs a worker thread written in TypeScript when the action runs from
// source (vitest, tsx): Node 20 applies no loader hooks to a worker's first
// module, so the worker's entry is bundled once by esbuild, as
// scripts/build.mjs bundles it into dist/, and started from that file. The
// file is named by its content, so processes share it and none is left per
// run. CommonJS, so src/fingerprint/file-workers.ts can load it at once.
const { createHash } = require('node:crypto')
const { mkdirSync, renameSync, writeFileSync, existsSync } = require('node:fs')
const path = require('node:path')
const { buildSync } = require('esbuild')

const CACHE = path.join(
  __dirname,
  '..',
  'node_modules',
  '.cache',
  'exh-workers'
)
const built = new Map()

/** The path of `entry` (a .ts file) bundled as an ES module. */
function workerFromSource(entry) {
  let file = built.get(entry)
  if (file) return file
  const [output] = buildSync({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    logLevel: 'warning'
  }).outputFiles
  const digest = createHash('sha256').update(output.contents).digest('hex')
  const name = `${path.basename(entry, '.ts')}-${digest.slice(0, 16)}.mjs`
  file = path.join(CACHE, name)
  if (!existsSync(file)) {
    mkdirSync(CACHE, { recursive: true })
    const temporary = `${file}.${process.pid}.tmp`
    writeFileSync(temporary, output.contents)
    renameSync(temporary, file)
  }
  built.set(entry, file)
  return file
}

module.exports = { workerFromSource }
