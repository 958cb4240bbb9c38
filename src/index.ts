// The bundle's entry (dist/index.js): runs the action.

import { run } from './main.js'

await run()
// Everything is reported by now. A request abandoned at its deadline (the
// SDK's login takes no abort signal) must not keep the process alive.
setTimeout(() => process.exit(), 1000).unref()
