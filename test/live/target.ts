// Where the contract suite runs: the five variables a CLI user already has
// (`exh login` writes them), and EXH_LIVE=1 to say a real account is meant.

import { CREDENTIAL_VARIABLES } from '../../src/task.js'

/** The variables the suite reads: the CLI's, the same a task's credentials get. */
export const LIVE_VARIABLES = CREDENTIAL_VARIABLES

/** An Extra Horizon account reached with an OAuth1 token. */
export interface LiveTarget {
  host: string
  consumerKey: string
  consumerSecret: string
  token: string
  tokenSecret: string
}

export type LiveGate =
  | { run: true; target: LiveTarget }
  | { run: false; exitCode: 0 | 1; message: string }

/** What the suite needs, said before anything runs. */
export const NEEDS = [
  'The live contract suite checks what the fake Extra Horizon API assumes against a real cluster.',
  'It runs only with EXH_LIVE=1 and the five variables a CLI user has:',
  `  ${LIVE_VARIABLES.join(', ')}`,
  'It creates, executes and deletes functions named exh-tasks-action-live-<random> (see CONTRIBUTING.md, "The live contract suite").'
].join('\n')

/** Whether to run, from the environment alone: no request is made here. */
export function liveGate(
  env: Readonly<Record<string, string | undefined>>
): LiveGate {
  if (env.EXH_LIVE !== '1') {
    return {
      run: false,
      exitCode: 0,
      message: `${NEEDS}\nEXH_LIVE is not 1: nothing was run.`
    }
  }
  const missing = LIVE_VARIABLES.filter(name => !env[name]?.trim())
  if (missing.length) {
    return {
      run: false,
      exitCode: 1,
      message: `${NEEDS}\nEXH_LIVE=1, but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set: nothing was run.`
    }
  }
  const value = (name: (typeof LIVE_VARIABLES)[number]): string =>
    (env[name] ?? '').trim()
  return {
    run: true,
    target: {
      host: value('API_HOST'),
      consumerKey: value('API_OAUTH_CONSUMER_KEY'),
      consumerSecret: value('API_OAUTH_CONSUMER_SECRET'),
      token: value('API_OAUTH_TOKEN'),
      tokenSecret: value('API_OAUTH_TOKEN_SECRET')
    }
  }
}
