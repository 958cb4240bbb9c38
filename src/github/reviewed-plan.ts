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
  compareWithReviewed,
  findReviewedPlan,
  type CheckContext,
  type FoundPlan,
  type PullFacts,
  type ReviewedPlanOutcome,
  type ReviewFacts,
  type ReviewSource
} from '../reviewed-plan/check.js'
import type { Settings } from '../inputs.js'
import {
  makeRecord,
  MAX_RECORD_LINE,
  recordLine,
  replaceRecord,
  type PlanRecord
} from '../reviewed-plan/record.js'
import type { ReviewedPlanCheck } from '../reviewed-plan/gate.js'
import type { FreshPlan } from '../reviewed-plan/fresh-plan.js'
import { describeError } from '../errors.js'
import { markdownCode } from '../safe-text.js'

const text = (value: unknown): string =>
  typeof value === 'string' ? value : ''
const optional = (value: unknown): string | undefined =>
  typeof value === 'string' && value ? value : undefined

/** An octokit for the run's token, and the run's repository. */
type GitHubRepo = Awaited<ReturnType<typeof githubFor>>

/** `ReviewSource` over GitHub's REST API, with the run's token. */
function gitHubReviewSource(
  { octokit, owner, repo }: GitHubRepo,
  key: CommentKey
): ReviewSource {
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

/** The comment whose record matched, as the check found it. */
type MatchedComment = NonNullable<ReviewedPlanOutcome['comment']>

/** What a deploy says of itself under the comment's title. */
const DEPLOYED_LINE = /^(Deployed|Deploy failed) in /

/**
 * The comment after a deploy that matched: its record applied by this run
 * (a re-run attempt may deploy it again, no other run), and a line naming
 * the run and the deployed commit under the title; a re-run attempt's
 * line replaces the one before it.
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
  const at = title < 0 ? lines.length : title + 1
  const before = lines[at + 1]
  if (lines[at] === '' && before !== undefined && DEPLOYED_LINE.test(before)) {
    lines[at + 1] = line
  } else {
    lines.splice(at, 0, '', line)
  }
  return lines.join('\n')
}

/**
 * Marks the matched record applied by this run before its first write, so
 * that a re-run attempt resumes a deploy whose runner died before the end,
 * and no other run deploys the plan meanwhile. A record this run applied
 * already (a re-run attempt) is left as it is. The comment is read before
 * (a build may take minutes since the check found it, and another run may
 * have claimed it meanwhile) and after the write (two runs that read it at
 * once both write; the last one holds it). Undefined: another run has it.
 * GitHub cannot make this read-write-read atomic; the deploy workflow's
 * `concurrency` group is what keeps two deploys apart.
 */
async function claimRecord(
  { octokit, owner, repo }: GitHubRepo,
  comment: MatchedComment,
  runId: string
): Promise<MatchedComment | undefined> {
  if (comment.record.applied?.run === runId) return comment
  const where = { owner, repo, comment_id: comment.id }
  const before = await octokit.rest.issues.getComment(where)
  if (before.data.body !== comment.body) return undefined
  const record = { ...comment.record, applied: { run: runId } }
  const body = replaceRecord(comment.body, record)
  await octokit.rest.issues.updateComment({ ...where, body })
  const after = await octokit.rest.issues.getComment(where)
  if (after.data.body !== body) return undefined
  return { ...comment, body, record }
}

/** A matched outcome with its record claimed (`claimRecord`), or a refusal when it could not be. */
async function claimed(
  github: GitHubRepo,
  outcome: ReviewedPlanOutcome,
  runId: string
): Promise<ReviewedPlanOutcome> {
  if (!outcome.matched) return outcome
  const pull = `pull request #${outcome.pullRequest?.number ?? 0}`
  const refused = (line: string): ReviewedPlanOutcome => ({
    ...outcome,
    matched: false,
    comment: undefined,
    lines: [line]
  })
  // Never deployed unclaimed, even if a match ever came without its comment.
  if (!outcome.comment) return refused(`the plan of ${pull} cannot be marked`)
  try {
    const comment = await claimRecord(github, outcome.comment, runId)
    if (comment) return { ...outcome, comment }
    return {
      ...refused(
        `the plan's comment on ${pull} changed during this run (another run is deploying it, or it was planned again)`
      ),
      failureReason: 'plan-missing'
    }
  } catch (error) {
    return refused(
      `reviewed-plan: could not mark the plan of ${pull} as deployed by run ${runId} before the first write (${describeError(error)})`
    )
  }
}

const needs = (what: string): ReviewedPlanOutcome => ({
  matched: false,
  lines: [`reviewed-plan: required needs ${what}`]
})

/** The check as the runner runs it, then the mark after the deploy. */
export interface RunnerPlanCheck extends ReviewedPlanCheck {
  /**
   * After a deploy whose plan matched: its comment says so. Returns what
   * happened, for the log; undefined when no plan matched.
   */
  markDeployed(deployed: {
    runUrl?: string
    sha: string
    failed: boolean
  }): Promise<string | undefined>
}

/** `RunIo.reviewedPlan` over GitHub, with the run's environment. */
export function runnerPlanCheck(
  env: Record<string, string | undefined>
): RunnerPlanCheck {
  const runId = env.GITHUB_RUN_ID ?? ''
  const contextOf = (settings: Settings): CheckContext => ({
    label: settings.label,
    scope: settings.pruneScope,
    event: env.GITHUB_EVENT_NAME ?? '',
    sha: env.GITHUB_SHA ?? '',
    ref: env.GITHUB_REF ?? '',
    runId,
    requireApproval: settings.requireApproval
  })
  let started: { github: GitHubRepo; found: FoundPlan } | undefined
  let matched: { github: GitHubRepo; comment: MatchedComment } | undefined
  return {
    async start(settings) {
      const token = settings.githubToken
      // The run id tells a re-run attempt from another run (`applied`).
      if (!token || !runId) {
        return needs(
          token
            ? 'the run id GITHUB_RUN_ID, which the runner sets'
            : 'the github-token input'
        )
      }
      const github = await githubFor(token)
      const key = { label: settings.label, scope: settings.pruneScope }
      const search = await findReviewedPlan(
        gitHubReviewSource(github, key),
        contextOf(settings)
      )
      if ('refused' in search) return search.refused
      started = { github, found: search.found }
      return undefined
    },
    async check(fresh, settings) {
      if (!started) throw new Error('the check was not started')
      const { github, found } = started
      const compared = compareWithReviewed(found, fresh, contextOf(settings))
      const outcome = await claimed(github, compared, runId)
      if (outcome.matched && outcome.comment) {
        matched = { github, comment: outcome.comment }
      }
      return outcome
    },
    markDeployed: async deployed =>
      matched && (await markDeployed(matched, { ...deployed, runId }))
  }
}

/** The claimed comment after the deploy: its line, and what happened, for the log. */
async function markDeployed(
  { github, comment }: { github: GitHubRepo; comment: MatchedComment },
  deployed: Parameters<typeof deployedBody>[2]
): Promise<string> {
  await github.octokit.rest.issues.updateComment({
    owner: github.owner,
    repo: github.repo,
    comment_id: comment.id,
    body: deployedBody(comment.body, comment.record, deployed)
  })
  const run = `run ${deployed.runId}`
  return deployed.failed
    ? `marked the reviewed plan's deploy failed in ${run}: the plan is this run's, and only a re-run of it (Re-run jobs) deploys it`
    : `marked the reviewed plan deployed by ${run}`
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
