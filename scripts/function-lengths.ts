// The 60-line rule (CONTRIBUTING, Style): every function in src/ whose
// outermost enclosing function spans more than 60 lines, nested functions
// counted as part of the one that holds them. Prints `file:line name lines`
// for each and exits 1 when any is found.
import { readdirSync, readFileSync } from 'node:fs'
import * as path from 'node:path'
import ts from 'typescript'

const MAX_LINES = 60
const ROOT = path.resolve(import.meta.dirname, '..')

interface LongFunction {
  file: string
  line: number
  name: string
  lines: number
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter(entry => entry.isFile() && /\.(c|m)?tsx?$/.test(entry.name))
    .filter(entry => !entry.name.endsWith('.d.ts'))
    .map(entry => path.join(entry.parentPath, entry.name))
    .sort()
}

/** A readable name: the declaration's, or the variable or property it is assigned to. */
function nameOf(node: ts.SignatureDeclaration, source: ts.SourceFile): string {
  if (node.name) return node.name.getText(source)
  const parent = node.parent
  if (
    ts.isVariableDeclaration(parent) ||
    ts.isPropertyAssignment(parent) ||
    ts.isPropertyDeclaration(parent)
  ) {
    return parent.name.getText(source)
  }
  return '(anonymous)'
}

/** The outermost function-like nodes of a file (nested ones count as part of them). */
function longFunctions(file: string): LongFunction[] {
  const text = readFileSync(file, 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const found: LongFunction[] = []
  const lineOf = (position: number) =>
    source.getLineAndCharacterOfPosition(position).line + 1
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = lineOf(node.getStart(source))
      const lines = lineOf(node.getEnd()) - start + 1
      if (lines > MAX_LINES) {
        found.push({
          file: path.relative(ROOT, file).split(path.sep).join('/'),
          line: start,
          name: nameOf(node, source),
          lines
        })
      }
      return // nested functions are part of this one
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

const long = sourceFiles(path.join(ROOT, 'src')).flatMap(longFunctions)
for (const { file, line, name, lines } of long) {
  console.log(`${file}:${line} ${name} ${lines}`)
}
if (long.length) {
  console.log(
    `${long.length} function(s) longer than ${MAX_LINES} lines (nested functions included)`
  )
  process.exit(1)
}
