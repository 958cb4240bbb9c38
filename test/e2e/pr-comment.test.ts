import { describe, expect, it } from 'vitest'
import { startFakeExh } from '../fake-exh/index.js'
import { makeWorkspace, taskConfig } from '../support/workspace.js'
import { startFakeGitHub } from '../support/fake-github.js'
import { planPullRequest, pullRequestEnv, syncWith } from './harness.js'

const TOKEN = 'ghs_fake_github_token_0123456789'

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

describe('comment-on-pr identity and content', () => {
  const inputs = {
    path: 'tasks',
    'prune-scope': 'tasks',
    'dry-run': 'true',
    'comment-on-pr': 'true',
    'github-token': TOKEN
  }
  const files = {
    'tasks/a/task-config.json': taskConfig('a'),
    'tasks/a/build/index.js': 'x'
  }

  it("never edits a stranger's comment that starts with our marker: it posts its own", async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace(files)
    const forged = [
      '<!-- exh-tasks-action label= scope=tasks -->\nnot yours',
      '<!-- exh-tasks-action scope: tasks -->\nnot yours either'
    ].map(body => gh.addComment('mallory', body))
    const env = await pullRequestEnv(ws, gh.url, 7)
    const run = await syncWith(fake, ws.dir, inputs, { env })
    expect(run.exitCode, run.log).toBe(0)
    expect(run.log).toContain('comment-on-pr: commented on pull request #7')
    expect(run.log).not.toContain('could not comment')
    expect(gh.refusedEdits).toEqual([])
    expect(forged.map(c => c.body)).toEqual([
      '<!-- exh-tasks-action label= scope=tasks -->\nnot yours',
      '<!-- exh-tasks-action scope: tasks -->\nnot yours either'
    ])
    const ours = gh.comments.filter(c => c.user.login === 'github-actions[bot]')
    expect(ours).toHaveLength(1)
    expect(ours[0]?.body).toContain('1 to create')
  })

  it('looks for its comment among those of the user the token acts as (GET /user)', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7, {
      login: 'deploy-bot',
      userEndpoint: true
    })
    await using ws = await makeWorkspace(files)
    const bots = gh.addComment(
      'github-actions[bot]',
      '<!-- exh-tasks-action label= scope=tasks -->\nthe workflow token wrote this'
    )
    const mine = gh.addComment(
      'deploy-bot',
      '<!-- exh-tasks-action label= scope=tasks -->\nold plan'
    )
    const env = await pullRequestEnv(ws, gh.url, 7)
    const run = await syncWith(fake, ws.dir, inputs, { env })
    expect(run.exitCode, run.log).toBe(0)
    expect(gh.comments).toHaveLength(2)
    expect(mine.body).toContain('1 to create')
    expect(bots.body).toContain('the workflow token wrote this')
    expect(gh.refusedEdits).toEqual([])
  })

  it('updates a comment written before labels existed, for the same scope', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace(files)
    const old = gh.addComment(
      'github-actions[bot]',
      '<!-- exh-tasks-action scope: tasks -->\nold plan'
    )
    const env = await pullRequestEnv(ws, gh.url, 7)
    const run = await syncWith(fake, ws.dir, inputs, { env })
    expect(run.exitCode, run.log).toBe(0)
    expect(gh.comments).toHaveLength(1)
    expect(old.body).toContain('1 to create')
  })

  it('keeps one comment per label: staging and production do not overwrite each other', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace(files)
    const env = await pullRequestEnv(ws, gh.url, 7)
    for (const label of ['staging', 'production', 'staging']) {
      const run = await syncWith(fake, ws.dir, { ...inputs, label }, { env })
      expect(run.exitCode, run.log).toBe(0)
    }
    expect(gh.comments).toHaveLength(2)
    expect(gh.comments[0]?.body).toMatch(
      /^<!--.*-->\n<!-- exh-tasks-action plan .*-->\n## Extra Horizon tasks \(staging\): /
    )
    expect(gh.comments[1]?.body).toMatch(
      /^<!--.*-->\n<!-- exh-tasks-action plan .*-->\n## Extra Horizon tasks \(production\): /
    )
  })

  it('links the run and names the pull request head commit', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace(files)
    const env = {
      ...(await pullRequestEnv(
        ws,
        gh.url,
        7,
        'abc1234def5678'.padEnd(40, '0')
      )),
      GITHUB_SERVER_URL: 'https://github.example.com',
      GITHUB_RUN_ID: '987654',
      GITHUB_SHA: '0123456789'.repeat(4)
    }
    const run = await syncWith(fake, ws.dir, inputs, { env })
    expect(run.exitCode, run.log).toBe(0)
    const body = gh.comments[0]?.body ?? ''
    expect(body).toContain(
      '(<https://github.example.com/org/tasks-repo/actions/runs/987654>)'
    )
    expect(body).toContain('commit `abc1234`')
    expect(body).not.toContain('0123456')
  })

  it('posts the comment for a failed validation, with no live Markdown from the config', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    await using ws = await makeWorkspace({
      'tasks/a/task-config.json': taskConfig('[x](https://evil.example) @team'),
      'tasks/a/build/index.js': 'x',
      'tasks/b/task-config.json': taskConfig('![i](https://evil.example/i)'),
      'tasks/b/build/index.js': 'x'
    })
    const env = await pullRequestEnv(ws, gh.url, 7)
    const run = await syncWith(
      fake,
      ws.dir,
      { ...inputs, label: '<img src=x> @org/admins' },
      { env }
    )
    expect(run.exitCode).toBe(1)
    const body = gh.comments[0]?.body ?? ''
    expect(body).toContain('❌ failed')
    // A failed plan records nothing a deploy could take for a reviewed plan.
    expect(body).not.toContain('exh-tasks-action plan')
    for (const text of [body, run.summary]) {
      const outsideCode = text.replace(/(`+)[^`]*?\1/g, '')
      expect(outsideCode).not.toMatch(/\]\(https/)
      expect(outsideCode).not.toMatch(/<img/)
      expect(text).not.toMatch(/@team|@org/)
    }
  })

  it('keeps every row of a noisy pull request, and escapes format characters in the comment, summary and log', async () => {
    await using fake = await startFakeExh()
    await using gh = await startFakeGitHub('org', 'tasks-repo', 7)
    const rlo = '\u202e'
    const noisy = Object.fromEntries(
      Array.from({ length: 2000 }, (_, i) => [`unknownKey${i}`, i])
    )
    await using ws = await makeWorkspace({
      'tasks/ok/task-config.json': taskConfig('ok'),
      'tasks/ok/build/index.js': 'x',
      'tasks/noisy/task-config.json': taskConfig('noisy', noisy),
      'tasks/noisy/build/index.js': 'x',
      // Reads as `evil.json`-something once the override turns it around.
      [`tasks/${rlo}nosj.live/task-config.json`]: taskConfig('spoof', {
        timeLimit: 301
      }),
      [`tasks/${rlo}nosj.live/build/index.js`]: 'x',
      // A symlink out of the workspace: skipped with a ::warning:: line.
      [`tasks/${rlo}link`]: { symlink: '/' }
    })
    const run = await planPullRequest(fake, ws, {
      apiUrl: gh.url,
      number: 7,
      token: TOKEN
    })

    expect(run.exitCode, run.log).toBe(1)
    const comment = gh.comments[0]?.body ?? ''
    for (const markdown of [comment, run.summary]) {
      for (const name of ['ok', 'noisy', 'spoof']) {
        expect(markdown).toContain(`| \`${name}\` |`)
      }
      expect(markdown).toContain('error: 2000 problems (under Errors)')
      expect(markdown).toContain('… and 1990 more (the log has them all)')
      expect(markdown).toContain('tasks/\\u202enosj.live/task-config.json')
      expect(markdown).not.toContain(rlo)
      expect(markdown).not.toContain('(cut;')
    }
    expect(run.stdout).toContain('::warning::skipped tasks/\\u202elink')
    expect(run.stdout).not.toContain(rlo)
    // Each problem once in the log: the Errors list (the task's group and
    // the closing line only count them).
    expect(run.stdout.split('unknownKey1500:')).toHaveLength(2)
    expect(run.result.map(r => [r.name, r.status])).toEqual([
      ['noisy', 'failed'],
      ['ok', 'skipped'],
      ['spoof', 'failed']
    ])
  })
})
