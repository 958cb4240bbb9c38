// The GitHub side of the reviewed-plan check (SPEC section 10): the pull
// requests of a commit, the action's own comment, the reviews, and marking
// a deployed record. Octokit comes from `report/pr-comment.ts`, the one
// module that loads @actions/github; GitHub's answers are read field by
// field, as untrusted data.

import { shortCommit } from '../helpers.js'
import {
  findOwnComment,
  githubFor,
  type CommentKey
} from '../report/pr-comment.js'
import {
  checkReviewedPlan,
  type PullFacts,
  type ReviewedPlanOutcome,
  type ReviewFacts,
  type ReviewSource
} from '../reviewed-plan/check.js'
import {
  makeRecord,
  MAX_RECORD_LINE,
  recordLine,
  replaceRecord,
  type PlanRecord
} from '../reviewed-plan/record.js'
import type { ReviewedPlanCheck } from '../reviewed-plan/gate.js'
import type { FreshPlan } from '../reviewed-plan/fresh-plan.js'
import { markdownCode } from '../safe-text.js'

const text = (value: unknown): string =>
  typeof value === 'string' ? value : ''
const optional = (value: unknown): string | undefined =>
  typeof value === 'string' && value ? value : undefined

/** `ReviewSource` over GitHub's REST API, with the run's token. */
async function gitHubReviewSource(
  token: string,
  key: CommentKey
): Promise<ReviewSource> {
  const { octokit, owner, repo } = await githubFor(token)
  return {
    async pullsOf(sha) {
      const pulls = await octokit.paginate(
        octokit.rest.repos.listPullRequestsAssociatedWithCommit,
        { owner, repo, commit_sha: sha, per_page: 100 }
      )
      return pulls.map(pullFacts)
    },
    ourComment: pull =>
      findOwnComment(octokit, { owner, repo, issue_number: pull }, key),
    async reviews(pull) {
      const reviews = await octokit.paginate(octokit.rest.pulls.listReviews, {
        owner,
        repo,
        pull_number: pull,
        per_page: 100
      })
      return reviews.map((review): ReviewFacts => ({
        user: text(review.user?.login),
        state: text(review.state),
        commit: text(review.commit_id),
        submittedAt: optional(review.submitted_at),
        association: text(review.author_association)
      }))
    }
  }
}

/** GitHub's answer, read as untrusted: each field checked for its type. */
function pullFacts(pull: {
  number?: unknown
  html_url?: unknown
  head?: { sha?: unknown } | null
  base?: { ref?: unknown } | null
  user?: { login?: unknown } | null
  merged_at?: unknown
  merge_commit_sha?: unknown
}): PullFacts {
  return {
    number: typeof pull.number === 'number' ? pull.number : 0,
    url: text(pull.html_url),
    head: text(pull.head?.sha),
    author: text(pull.user?.login),
    base: text(pull.base?.ref),
    mergedAt: optional(pull.merged_at),
    mergeCommit: optional(pull.merge_commit_sha)
  }
}

/**
 * The comment after a deploy that matched: its record applied by this run
 * (a re-run attempt may deploy it again, no other run), and a line naming
 * the run and the deployed commit under the title.
 */
export function deployedBody(
  body: string,
  record: PlanRecord,
  deployed: { runId: string; runUrl?: string; sha: string; failed: boolean }
): string {
  const withRecord = replaceRecord(body, {
    ...record,
    applied: { run: deployed.runId }
  })
  const run = deployed.runUrl
    ? `[run ${deployed.runId}](<${encodeURI(deployed.runUrl)}>)`
    : `run ${deployed.runId}`
  const verb = deployed.failed ? 'Deploy failed' : 'Deployed'
  const line = `${verb} in ${run} at ${markdownCode(shortCommit(deployed.sha))}`
  const lines = withRecord.split('\n')
  // Marker, record, title: the line goes under the title, never past a cut.
  const title = lines.findIndex(item => item.startsWith('## '))
  lines.splice(title < 0 ? lines.length : title + 1, 0, '', line)
  return lines.join('\n')
}

/**
 * After a deploy that matched: the comment says so and its record is
 * applied by this run. Returns what happened, for the log.
 */
export async function markPlanDeployed(
  token: string,
  comment: NonNullable<ReviewedPlanOutcome['comment']>,
  deployed: { runId: string; runUrl?: string; sha: string; failed: boolean }
): Promise<string> {
  const { octokit, owner, repo } = await githubFor(token)
  await octokit.rest.issues.updateComment({
    owner,
    repo,
    comment_id: comment.id,
    body: deployedBody(comment.body, comment.record, deployed)
  })
  return `marked the reviewed plan deployed by run ${deployed.runId}`
}

/** The check as the runner runs it, and the comment it matched, for after the deploy. */
export interface RunnerPlanCheck {
  check: ReviewedPlanCheck
  /** The comment whose record matched, once the check passed. */
  matched(): ReviewedPlanOutcome['comment']
}

/** `RunIo.reviewedPlan` over GitHub, with the run's environment. */
export function runnerPlanCheck(
  env: Record<string, string | undefined>
): RunnerPlanCheck {
  let matched: ReviewedPlanOutcome['comment']
  return {
    async check(fresh, settings) {
      const key = { label: settings.label, scope: settings.pruneScope }
      if (!settings.githubToken) {
        return {
          matched: false,
          lines: ['reviewed-plan: required needs the github-token input']
        }
      }
      const outcome = await checkReviewedPlan(
        await gitHubReviewSource(settings.githubToken, key),
        fresh,
        {
          ...key,
          event: env.GITHUB_EVENT_NAME ?? '',
          sha: env.GITHUB_SHA ?? '',
          ref: env.GITHUB_REF ?? '',
          runId: env.GITHUB_RUN_ID ?? '',
          requireApproval: settings.requireApproval
        }
      )
      if (outcome.matched) matched = outcome.comment
      return outcome
    },
    matched: () => matched
  }
}

/**
 * The record line of a pull request's plan: made only from a plan compared
 * with the remote on a pull_request event, and left out when it would not
 * fit the comment (the deploy then finds no plan).
 */
export function planRecordLine(
  plan: FreshPlan | undefined,
  key: CommentKey,
  payload: { pull_request?: Record<string, unknown> }
): string | undefined {
  const pull = payload.pull_request
  const head = (pull?.head as { sha?: unknown } | undefined)?.sha
  const url = pull?.html_url
  if (!plan || typeof head !== 'string' || typeof url !== 'string') return
  const line = recordLine(makeRecord(plan, { ...key, salt: url, head }))
  return line.length <= MAX_RECORD_LINE ? line : undefined
}
