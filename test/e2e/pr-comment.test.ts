import { describe, expect, it } from 'vitest'
import { writeFile } from 'node:fs/promises'
import { startFakeExh } from '../fake-exh/index.js'
import {
  makeWorkspace,
  taskConfig,
  type Workspace
} from '../support/workspace.js'
import { startFakeGitHub } from '../support/fake-github.js'
import { syncWith } from './harness.js'

const TOKEN = 'ghs_fake_github_token_0123456789'

/** The runner's environment for a pull_request event, with the API at `apiUrl`. */
async function pullRequestEnv(
  ws: Workspace,
  apiUrl: string,
  number: number
): Promise<Record<string, string>> {
  const event = ws.path('event.json')
  await writeFile(event, JSON.stringify({ pull_request: { number } }))
  return {
    GITHUB_API_URL: apiUrl,
    GITHUB_EVENT_NAME: 'pull_request',
    GITHUB_EVENT_PATH: event
  }
}

describe('comment-on-pr', () => {
  it('posts one comment with the plan and updates it in place on the next run', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    const env = await pullRequestEnv(ws, gh.url, 7)
    const inputs = {
      path: 'tasks',
      'dry-run': 'true',
      'comment-on-pr': 'true',
      'github-token': TOKEN
    }
    const first = await syncWith(fake, ws.dir, inputs, { env })
    expect(first.exitCode, first.log).toBe(0)
    expect(gh.comments).toHaveLength(1)
    expect(gh.comments[0]?.body).toContain(
      '1 to create, 0 to update, 0 unchanged'
    )
    expect(gh.authorizations.every(a => a === `token ${TOKEN}`)).toBe(true)

    await ws.write({
      'tasks/b/task-config.json': taskConfig('b'),
      'tasks/b/build/index.js': 'y'
    })
    const second = await syncWith(fake, ws.dir, inputs, { env })
    expect(second.exitCode, second.log).toBe(0)
    expect(gh.comments).toHaveLength(1)
    expect(gh.comments[0]?.body).toContain('2 to create')
    expect(second.log).toContain(
      'comment-on-pr: updated the comment on pull request #7'
    )
    expect(gh.comments[0]?.body).not.toContain(fake.consumer.secret)
    expect(fake.writeRequests()).toEqual([])
  })

  it('keeps every masked value out of the comment of a failing run', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    const email = 'svc-reporter-7f3k@internal.example.com'
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a', {
        executionCredentials: { permissions: [], email: '$TASK_EMAIL' }
      }),
      'tasks/a/build/index.js': 'x'
    })
    // The user exists but the function holds no tokens: the error names it.
    fake.addUser({ email, password: 'Existing-Passw0rd' })
    const prEnv = await pullRequestEnv(ws, gh.url, 7)
    const run = await syncWith(
      fake,
      ws.dir,
      { 'dry-run': 'true', 'comment-on-pr': 'true', 'github-token': TOKEN },
      {
        env: {
          TASK_EMAIL: email,
          ...prEnv
        }
      }
    )
    expect(run.exitCode).toBe(1)
    expect(run.log).toContain(`::add-mask::${email}`)
    const comment = gh.comments[0]?.body ?? ''
    expect(comment).toContain('remove the user ***')
    for (const text of [comment, run.summary, JSON.stringify(run.outputs)]) {
      expect(text).not.toContain(email)
    }
    // The summary names the host; the public comment and the outputs do not.
    for (const text of [comment, JSON.stringify(run.outputs)]) {
      expect(text).not.toContain(fake.url.replace('http://', ''))
    }
  })

  it('only warns when the comment cannot be posted', async () => {
    await using fake = await startFakeExh()
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('a'),
      'tasks/a/build/index.js': 'x'
    })
    // Nothing listens on port 9: the comment cannot be posted.
    const env = await pullRequestEnv(ws, 'http://localhost:9', 9)
    const run = await syncWith(
      fake,
      ws.dir,
      { 'dry-run': 'true', 'comment-on-pr': 'true', 'github-token': TOKEN },
      { env }
    )
    expect(run.exitCode, run.log).toBe(0)
    expect(run.log).toContain('::warning::comment-on-pr: could not comment')
    expect(run.log.replace(/^::add-mask::.*$/gm, '')).not.toContain(TOKEN)
  })
})
