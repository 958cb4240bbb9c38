// Loaded when a comment is posted: octokit is a large part of the bundle,
// and most runs never comment. The one module that imports @actions/github.
import { shortCommit } from '../helpers.js'
import type * as GitHub from '@actions/github'
import { markdownCode } from '../safe-text.js'

/** GitHub refuses comments over 65,536 characters; keep a margin. */
const MAX_COMMENT = 65_000

/** The login of the workflow's own token, which cannot call `GET /user`. */
const WORKFLOW_TOKEN_LOGIN = 'github-actions[bot]'

/** Which comment is ours: one per label and scope. */
export interface CommentKey {
  label: string
  scope: string
}

/** Where the comment points: the run and the commit it planned. */
export interface CommentLinks {
  runUrl?: string
  commit?: string
}

/** Percent-encoded, `-` included, so no value can close the HTML comment. */
function encodeKey(value: string): string {
  return encodeURIComponent(value).replace(/-/g, '%2D')
}

/** The hidden first line that finds our comment again. */
export function commentMarker(key: CommentKey): string {
  return `<!-- exh-tasks-action label=${encodeKey(key.label)} scope=${encodeKey(key.scope)} -->`
}

/** The marker of versions before `label`: still ours for the same scope with no label. */
function legacyMarker(scope: string): string {
  return `<!-- exh-tasks-action scope: ${scope.replace(/--/g, '- -')} -->`
}

/** Whether a comment body starts with our marker for this key. */
export function hasMarker(body: string, key: CommentKey): boolean {
  const firstLine = body.split('\n', 1)[0] ?? ''
  return (
    firstLine === commentMarker(key) ||
    (key.label === '' && firstLine === legacyMarker(key.scope))
  )
}

/**
 * The run's page and the commit: the pull request's head (GITHUB_SHA is the
 * merge commit there), else GITHUB_SHA.
 */
export function commentLinks(
  env: Record<string, string | undefined>,
  payload: { pull_request?: Record<string, unknown> }
): CommentLinks {
  const { GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID } = env
  const head = (payload.pull_request?.head as { sha?: unknown } | undefined)
    ?.sha
  const commit = typeof head === 'string' && head ? head : env.GITHUB_SHA
  return {
    runUrl:
      GITHUB_REPOSITORY && GITHUB_RUN_ID
        ? `${GITHUB_SERVER_URL || 'https://github.com'}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}`
        : undefined,
    commit: commit ? shortCommit(commit) : undefined
  }
}

/**
 * The comment: marker, the summary's title (which holds the label), a line
 * with the run and the commit, then the rest of the summary, cut to
 * GitHub's limit.
 */
export function renderComment(
  summary: string,
  key: CommentKey,
  links: CommentLinks,
  /** The plan record's line (SPEC section 10): second, never cut. */
  record?: string
): string {
  const marker = record
    ? `${commentMarker(key)}\n${record}`
    : commentMarker(key)
  const [title = '', ...rest] = summary.split('\n')
  const about = [
    links.runUrl && `[View the run](<${encodeURI(links.runUrl)}>)`,
    links.commit && `commit ${markdownCode(links.commit)}`
  ].filter(Boolean)
  const head = about.length ? `${title}\n\n${about.join(' · ')}` : title
  const body = [head, ...rest].join('\n')
  const room = MAX_COMMENT - marker.length - 60
  const cut =
    body.length > room
      ? `${body.slice(0, Math.max(0, body.lastIndexOf('\n', room)))}\n\n… (cut; the job's summary has it all)`
      : body
  return `${marker}\n${cut}`
}

export type Octokit = ReturnType<typeof GitHub.getOctokit>

/**
 * The login the token acts as: `GET /user` where the token may call it (a
 * personal or app user token); the workflow token is refused (403) and is
 * the bot. Any other failure stops the comment: guessing the bot for a
 * person's token could edit a bot comment that is not ours.
 */
async function tokenLogin(octokit: Octokit): Promise<string> {
  try {
    const { data } = await octokit.rest.users.getAuthenticated()
    return data.login
  } catch (error) {
    if ((error as { status?: unknown }).status === 403) {
      return WORKFLOW_TOKEN_LOGIN
    }
    throw error
  }
}

/** @actions/github, loaded on first use (once: the module cache keeps it). */
const loadGitHub = (): Promise<typeof GitHub> => import('@actions/github')

/** The event that started the run (its pull request, head commit). */
export async function eventPayload(): Promise<typeof GitHub.context.payload> {
  return (await loadGitHub()).context.payload
}

/** An octokit for the token, and the repository of the run. */
export async function githubFor(
  token: string
): Promise<{ octokit: Octokit; owner: string; repo: string }> {
  const github = await loadGitHub()
  return { octokit: github.getOctokit(token), ...github.context.repo }
}

/**
 * This action's comment for the key on an issue or pull request, among the
 * comments the token's own identity wrote: anyone can write our marker,
 * and a comment by anyone else is never ours.
 */
export async function findOwnComment(
  octokit: Octokit,
  where: { owner: string; repo: string; issue_number: number },
  key: CommentKey
): Promise<{ id: number; body: string } | undefined> {
  const login = await tokenLogin(octokit)
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    ...where,
    per_page: 100
  })
  const ours = comments.find(
    comment =>
      comment.user?.login === login && hasMarker(comment.body ?? '', key)
  )
  return ours && { id: ours.id, body: ours.body ?? '' }
}

/**
 * Posts the comment on the pull request, or updates the one this action left
 * there before for the same label and scope (`findOwnComment`). Returns
 * what happened, for the log.
 */
export async function upsertPullRequestComment(
  token: string,
  body: string,
  key: CommentKey
): Promise<string> {
  const github = await loadGitHub()
  const pullRequest = github.context.payload.pull_request
  if (!pullRequest) return 'not a pull request event: no comment posted'
  const { octokit, owner, repo } = await githubFor(token)
  const issue_number = pullRequest.number
  const ours = await findOwnComment(octokit, { owner, repo, issue_number }, key)
  if (ours) {
    await octokit.rest.issues.updateComment({
      owner,
      repo,
      comment_id: ours.id,
      body
    })
    return `updated the comment on pull request #${issue_number}`
  }
  await octokit.rest.issues.createComment({ owner, repo, issue_number, body })
  return `commented on pull request #${issue_number}`
}
