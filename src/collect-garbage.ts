// A full garbage collection on demand. Uploads leave a zip's several copies
// (file bytes, base64, JSON, request body: mostly external memory) as
// garbage; V8 collects external memory only after it grows by tens of MB,
// so without this the process holds many uploads' worth at once. A full
// collection of this heap takes a few ms, well inside an upload's wait.

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let gc: (() => void) | undefined

/** Collects garbage now; a no-op where `gc` cannot be exposed. */
export function collectGarbage(): void {
  try {
    if (!gc) {
      // The flag takes effect for contexts made after it, hence the new one.
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
    }
    gc()
  } catch {
    gc = () => undefined
  }
}
