// `npm run build`: bundles src/index.ts into dist/index.js (an ES module,
// what action.yml runs; `import()`ed code such as @actions/github goes in
// chunks beside it, read only when used), the file worker
// src/fingerprint/file-worker.ts into dist/file-worker.js (started by
// file-workers.ts from beside the bundle; code both use goes in a shared
// chunk), and writes dist/licenses.txt, the
// licenses of every package in the bundle. esbuild replaced ncc: the same
// source reached its first request ~85 ms sooner (docs/benchmark.md).
//
//   node scripts/build.mjs [outdir]     (default dist; check-dist builds elsewhere)
import { build } from 'esbuild'
import {
  existsSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import path from 'node:path'

const outdir = process.argv[2] ?? 'dist'
// Chunk names carry a hash: an earlier build's chunks must not linger.
rmSync(outdir, { recursive: true, force: true })

const result = await build({
  // Named entries keep dist/ flat: each file finds the others beside it.
  entryPoints: {
    index: 'src/index.ts',
    'file-worker': 'src/fingerprint/file-worker.ts'
  },
  outdir,
  splitting: true,
  chunkNames: '[name]-[hash]',
  plugins: [sideEffectFree(['@actions/http-client'])],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // jsonc-parser's `main` is a UMD build that requires its parts by
  // computed names, which no bundler follows; its ES build is plain.
  mainFields: ['module', 'main'],
  // The CommonJS dependencies call `require` for Node's modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'\nconst require = __createRequire(import.meta.url)"
  },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning'
})

writeFileSync(path.join(outdir, 'package.json'), '{\n  "type": "module"\n}\n')
writeFileSync(path.join(outdir, 'licenses.txt'), licenses(result.metafile))

/**
 * Packages whose import does nothing but define: unused, they are left out,
 * and @actions/core's OIDC client (never called) no longer pulls the HTTP
 * stack of @actions/github (undici, ~0.8 MB) into the start-up.
 */
function sideEffectFree(packages) {
  return {
    name: 'side-effect-free',
    setup(builder) {
      const filter = new RegExp(`^(${packages.join('|')})(/|$)`)
      builder.onResolve({ filter }, async args => {
        if (args.pluginData === 'resolved') return undefined
        const resolved = await builder.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          pluginData: 'resolved'
        })
        return { ...resolved, sideEffects: false }
      })
    }
  }
}

/** Each bundled package once, sorted: name, license, license text. */
function licenses(metafile) {
  const roots = new Set()
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match) roots.add(match[1])
  }
  const entries = [...roots].map(root => {
    const pkg = JSON.parse(
      readFileSync(path.join(root, 'package.json'), 'utf8')
    )
    const text = licenseText(root)
    return {
      name: pkg.name,
      version: pkg.version,
      license: pkg.license ?? '',
      text
    }
  })
  // A package bundled at two versions is listed twice.
  const unique = new Map(entries.map(e => [`${e.name}@${e.version}`, e]))
  return (
    [...unique.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map(({ name, license, text }) =>
        [name, license, text].join('\n').trimEnd()
      )
      .join('\n\n') + '\n'
  )
}

function licenseText(root) {
  const file = readdirSync(root).find(name => /^licen[cs]e/i.test(name))
  return file && existsSync(path.join(root, file))
    ? readFileSync(path.join(root, file), 'utf8').replace(/\r\n/g, '\n')
    : ''
}
