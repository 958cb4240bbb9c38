// Packages a folder into a zip file and prints the outcome as one JSON line:
// a child process for tests that need their own limits (`ulimit -f`).
import { walkCodeFolder } from '../../src/fingerprint/walk.js'
import { closeFileWorkers } from '../../src/fingerprint/file-workers.js'
import { packageCodeFolder } from '../../src/package/zip.js'

const [folder = '', file = ''] = process.argv.slice(2)
try {
  const walked = await walkCodeFolder(folder)
  const { bytes } = await packageCodeFolder(walked, { file })
  process.stdout.write(JSON.stringify({ bytes }) + '\n')
} catch (error) {
  process.stdout.write(JSON.stringify({ error: String(error) }) + '\n')
} finally {
  await closeFileWorkers()
}
