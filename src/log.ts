// The only way to print: each message redacted and made one safe line
// (messages are built plain and escaped here).

import { randomUUID } from 'node:crypto'
import * as core from '@actions/core'
import { forLogCut } from './safe-text.js'
import type { SecretRegistry } from './secrets.js'
import { replaceNames } from './name-refs.js'

/**
 * The one way the action prints to the log: every message redacted of every
 * secret known so far, then made one safe line (`forLog`), so no config
 * path, symlink target, email or API message can form a workflow command.
 */
export interface Log {
  info: (message: string) => void
  warning: (message: string) => void
  /** `::debug::` lines, or undefined when step debugging is off. */
  debug: ((message: string) => void) | undefined
  /** One log group, printed at once so concurrent tasks never interleave. */
  group: (title: string, lines: string[]) => void
  /** A group around async work (a build). */
  groupAround: <T>(title: string, work: () => Promise<T>) => Promise<T>
  /** For values the action wrote itself (errors, warnings) before publishing. */
  redact: (text: string) => string
  /** Whether `value` is one of the secrets the action holds. */
  holds: (value: string) => boolean
  /** From now on, each of these names (value → `$VAR`) is shown as its reference. */
  referNames: (refs: Readonly<Record<string, string>>) => void
}

/** Step debugging: the runner sets RUNNER_DEBUG=1 for ACTIONS_STEP_DEBUG. */
function stepDebugging(): boolean {
  return core.isDebug() || process.env.ACTIONS_STEP_DEBUG === 'true'
}

/**
 * A log line's most characters: any message of the action's fits whole; an
 * API answer quoted in one (an execution's result) cannot flood the log.
 */
const LOG_LINE_LIMIT = 16_384

export function safeLog(secrets: SecretRegistry): Log {
  let names: Readonly<Record<string, string>> = {}
  // Cut once redacted: a cut first could split a secret and so hide it
  // from the redaction, printing its first characters.
  const line = (text: string): string =>
    forLogCut(secrets.redact(replaceNames(text, names)), LOG_LINE_LIMIT)
  return {
    info: message => {
      core.info(line(message))
    },
    warning: message => {
      core.warning(line(message))
    },
    // Redacted by the action itself too: a debug line may hold an API answer.
    debug: stepDebugging()
      ? message => {
          core.debug(line(message))
        }
      : undefined,
    group: (title, lines) => {
      core.startGroup(line(title))
      for (const text of lines) core.info(line(text))
      core.endGroup()
    },
    groupAround: (title, work) => core.group(line(title), work),
    redact: text => secrets.redact(replaceNames(text, names)),
    holds: value => secrets.holds(value),
    referNames: refs => {
      names = { ...names, ...refs }
    }
  }
}

/**
 * Runs `work` (a build) with the runner's workflow commands off: a build
 * script a pull request wrote prints straight to the log, and could
 * otherwise print `::stop-commands::` (so the action's later masks are
 * ignored), `::add-mask::`, or annotations in the action's name. The token
 * that turns them back on is random, so the build cannot print it.
 */
export async function withoutWorkflowCommands<T>(
  work: () => Promise<T>
): Promise<T> {
  const token = randomUUID()
  core.info(`::stop-commands::${token}`)
  try {
    return await work()
  } finally {
    core.info(`::${token}::`)
  }
}
