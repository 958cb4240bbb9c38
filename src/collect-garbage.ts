// A full garbage collection on demand. The workers' segments reach the main
// thread as transferred buffers, which V8 counts as external memory and
// collects only once it has grown by tens of MB: without this the main
// thread held ~25 MB of finished segments while packaging. A full
// collection of this heap takes a few ms.

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
