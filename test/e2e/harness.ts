// Running the bundled action as the GitHub runner does, for the runner
// contract: stdout commands, output and summary files, signals, exit codes.

import { writeFile } from 'node:fs/promises'
import { expect } from 'vitest'
import { pullUrl, type FakeGitHub } from '../support/fake-github.js'
import type { FakeExh } from '../fake-exh/index.js'
import type { Workspace } from '../support/workspace.js'
import {
  runAction,
  type ActionRun,
  type RunOptions
} from '../support/run-action.js'
import { credentialInputs } from '../support/with-fake.js'

/** Runs the bundled action against the fake, as a push would. */
export function syncWith(
  fake: FakeExh,
  workspace: string,
  inputs: Record<string, string> = {},
  extra: Partial<RunOptions> = {}
) {
  return runAction({
    workspace,
    inputs: { ...credentialInputs(fake), ...inputs },
    ...extra
  })
}

/** The runner's environment for a pull_request event, with the GitHub API at `apiUrl`. */
export async function pullRequestEnv(
  ws: Workspace,
  apiUrl: string,
  number: number,
  headSha = 'feedc0de'.repeat(5)
): Promise<Record<string, string>> {
  const event = ws.path('event.json')
  await writeFile(
    event,
    JSON.stringify({
      pull_request: {
        number,
        html_url: pullUrl('org', 'tasks-repo', number),
        head: { sha: headSha }
      }
    })
  )
  return {
    GITHUB_API_URL: apiUrl,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: event
  }
}

/** The runner's environment for a push of `sha` to main (a merge, say). */
export async function pushEnv(
  ws: Workspace,
  apiUrl: string,
  sha: string,
  runId = '5001'
): Promise<Record<string, string>> {
  const event = ws.path('push-event.json')
  await writeFile(event, JSON.stringify({ ref: 'refs/heads/main', after: sha }))
  return {
    GITHUB_API_URL: apiUrl,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_EVENT_PATH: event,
    GITHUB_SHA: sha,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: runId,
    GITHUB_SERVER_URL: 'https://github.com'
  }
}

/** The plan of a pull request: a dry run that comments, tasks under `tasks/`. */
export async function planPullRequest(
  fake: FakeExh,
  ws: Workspace,
  pr: { apiUrl: string; number: number; token: string },
  env: Record<string, string> = {}
) {
  return syncWith(
    fake,
    ws.dir,
    {
      path: 'tasks',
      'dry-run': 'true',
      'comment-on-pr': 'true',
      'github-token': pr.token
    },
    { env: { ...(await pullRequestEnv(ws, pr.apiUrl, pr.number)), ...env } }
  )
}

/**
 * Fails when a secret, raw or URL-encoded, is in any channel: stdout (its
 * own `::add-mask::` lines aside), stderr, outputs, summary, comments, the
 * report folder.
 */
export function expectNowhere(
  run: ActionRun,
  secrets: string[],
  gh?: FakeGitHub
): void {
  const channels = {
    stdout: run.stdout.replace(/^::add-mask::.*$/gm, ''),
    stderr: run.stderr,
    outputs: JSON.stringify(run.outputs),
    summary: run.summary,
    comment: (gh?.comments ?? []).map(c => c.body).join('\n'),
    // The deployment report's folder: the JSON, the Markdown, the checksums.
    report: Object.values(run.report?.files ?? {})
      .map(file => file.text)
      .join('\n')
  }
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      for (const [channel, text] of Object.entries(channels)) {
        expect(text.includes(form), `${form} in ${channel}`).toBe(false)
      }
    }
  }
}
