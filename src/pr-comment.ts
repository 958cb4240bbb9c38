import * as github from '@actions/github'

/** GitHub refuses comments over 65,536 characters; keep a margin. */
const MAX_COMMENT = 65_000

/** A hidden line that finds our comment again, one per scope. */
export function commentMarker(scope: string): string {
  return `<!-- exh-tasks-action scope: ${scope.replace(/--/g, '- -')} -->`
}

/** The comment: the step summary under its marker, cut to GitHub's limit. */
export function renderComment(summary: string, scope: string): string {
  const marker = commentMarker(scope)
  const room = MAX_COMMENT - marker.length - 60
  const body =
    summary.length > room
      ? `${summary.slice(0, room)}\n\n… (cut; the job's summary has it all)`
      : summary
  return `${marker}\n${body}`
}

/**
 * Posts the comment on the pull request, or updates the one this action left
 * there before (for the same scope), so a pull request holds one comment.
 * Returns what happened, for the log.
 */
export async function upsertPullRequestComment(
  token: string,
  body: string,
  marker: string
): Promise<string> {
  const { context } = github
  const pullRequest = context.payload.pull_request
  if (!pullRequest) return 'not a pull request event: no comment posted'
  const octokit = github.getOctokit(token)
  const { owner, repo } = context.repo
  const issue_number = pullRequest.number
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number,
    per_page: 100
  })
  // Ours starts with the marker; a comment quoting it does not.
  const ours = comments.find(comment => comment.body?.startsWith(marker))
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
