// The fake's Node.js "Lambda": run in a child process whose working folder
// holds a function's unpacked code. It receives {entryPoint, task} over IPC,
// loads the entry point's module as the Node.js runtime does (file.js, .mjs
// or .cjs; `file.export`), calls the handler with the task, and answers
// {result} or {error: {name, message}} with the runtime's error names.
import { existsSync } from 'node:fs'
import * as path from 'node:path'
import { pathToFileURL } from 'node:url'

/** An error in the runtime's words (`Runtime.ImportModuleError`). */
function runtimeError(name, message) {
  return Object.assign(new Error(message), { runtimeName: name })
}

async function loadHandler(entryPoint) {
  const dot = entryPoint.lastIndexOf('.')
  if (dot <= 0 || entryPoint.slice(dot).includes('/')) {
    throw runtimeError('Runtime.MalformedHandlerName', 'Bad handler')
  }
  const moduleName = entryPoint.slice(0, dot)
  const exported = entryPoint.slice(dot + 1)
  const file = ['.js', '.mjs', '.cjs']
    .map(ext => path.resolve(moduleName + ext))
    .find(candidate => existsSync(candidate))
  if (!file) {
    throw runtimeError(
      'Runtime.ImportModuleError',
      `Error: Cannot find module '${moduleName}'`
    )
  }
  let loaded
  try {
    loaded = await import(pathToFileURL(file).href)
  } catch (error) {
    const missing = /MODULE_NOT_FOUND/.test(String(error?.code))
    const first = String(error?.message ?? error).split('\n')[0]
    if (missing) {
      throw runtimeError('Runtime.ImportModuleError', `Error: ${first}`)
    }
    throw runtimeError(
      'Runtime.UserCodeSyntaxError',
      `${error?.name ?? 'Error'}: ${first}`
    )
  }
  const handler = loaded[exported] ?? loaded.default?.[exported]
  if (typeof handler !== 'function') {
    throw runtimeError(
      'Runtime.HandlerNotFound',
      `${entryPoint} is undefined or not exported`
    )
  }
  return handler
}

function answer(message) {
  process.send(message, () => process.exit(0))
}

process.once('message', async ({ entryPoint, task }) => {
  try {
    const handler = await loadHandler(entryPoint)
    const result = await handler(task, { functionName: task.functionName })
    answer({ result: result === undefined ? null : result })
  } catch (error) {
    const name = error?.runtimeName ?? error?.name ?? 'Error'
    const message = String(error?.message ?? error)
    console.error(`ERROR\t${name}: ${message}`)
    answer({ error: { name, message } })
  }
})
