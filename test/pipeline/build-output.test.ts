// A failed build's output: quoted in the log, which the runner masks, and
// nowhere it cannot (SPEC sections 6 and 8).
import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace } from '../support/workspace.js'
import { runInProcess } from '../support/in-process.js'
import { credentialInputs } from '../support/with-fake.js'
import { REPO, prefixed, twoTasks } from '../support/two-tasks.js'

describe("a failed build's last output and the step's other secrets", () => {
  it('keeps a value of the step environment the build printed out of the summary and the comment (posted unmasked)', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace(prefixed(twoTasks()))
    // An NPM_TOKEN in the step's env passes to builds (SPEC section 8); the
    // runner masks it in the log, but cannot in a comment.
    const npmToken = 'npm_AbCdEf0123456789AbCdEf0123456789'
    const run = await runInProcess({
      workspace: ws.path(REPO),
      inputs: {
        ...credentialInputs(fake),
        'dry-run': 'true',
        'build-command': 'echo "401 for token $NPM_TOKEN"; exit 1'
      },
      env: { NPM_TOKEN: npmToken }
    })
    expect(run.exitCode).toBe(1)
    expect(run.errors).toContain('exited with code 1')
    expect(run.summary).not.toContain(npmToken)
  })
})
