// `npm run long-functions`: lists the functions of src/ (or the folders and
// files given) longer than 60 lines, and fails when there is one. A
// function's lines run from its first to its last, nested functions
// included: a nested function counts toward the one holding it, not on its
// own (eslint's max-lines-per-function also reports the nested ones).
// Methods count one by one; a class is not a function.
//
//   node scripts/long-functions.mjs [--max 60] [path ...]
import { readFileSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import ts from 'typescript'

const { values, positionals } = parseArgs({
  options: { max: { type: 'string', default: '60' } },
  allowPositionals: true
})
const max = Number(values.max)

function sourceFiles(target) {
  if (!statSync(target).isDirectory()) return [target]
  return readdirSync(target, { recursive: true })
    .map(name => path.join(target, String(name)))
    .filter(file => /\.(ts|mts|cts)$/.test(file) && !file.endsWith('.d.ts'))
    .sort()
}

/** A function's name as a reader finds it: `Class.method`, `const name`. */
function nameOf(node) {
  const own = node.name?.getText()
  const holder = node.parent
  if (ts.isClassLike(holder) || ts.isObjectLiteralExpression(holder)) {
    const owner = holder.name?.getText() ?? ''
    const member = ts.isConstructorDeclaration(node) ? 'constructor' : own
    return owner ? `${owner}.${member}` : member
  }
  if (own) return own
  if (ts.isVariableDeclaration(holder) || ts.isPropertyAssignment(holder)) {
    return holder.name.getText()
  }
  return '(anonymous)'
}

/** Outermost functions of `file`, each with its line span. */
function functionsOf(file) {
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true
  )
  const found = []
  const visit = node => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const line = at => source.getLineAndCharacterOfPosition(at).line + 1
      const first = line(node.getStart(source))
      const lines = line(node.getEnd()) - first + 1
      found.push({ file, line: first, name: nameOf(node), lines })
      return
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

const targets = positionals.length ? positionals : ['src']
const long = targets
  .flatMap(sourceFiles)
  .flatMap(functionsOf)
  .filter(fn => fn.lines > max)
  .sort((a, b) => b.lines - a.lines)
for (const fn of long) {
  console.log(`${fn.file}:${fn.line}  ${fn.name}  ${fn.lines} lines`)
}
if (long.length) {
  console.error(`${long.length} function(s) longer than ${max} lines`)
  process.exit(1)
}
console.log(`No function in ${targets.join(', ')} is longer than ${max} lines`)
