// The reviewed-plan check of a deploy (SPEC section 10), in two halves.
// Before any build: the pull request this push merged, the action's comment
// on it and its record, the record's head, the approval. Before the first
// write: the fresh plan against the record. The GitHub reads come through
// `ReviewSource` (`src/github/reviewed-plan.ts`); every judgement here is
// pure.

import { shortCommit } from '../helpers.js'
import type { FreshPlan } from './fresh-plan.js'
import { comparePlans } from './compare.js'
import { findRecord, makeRecord, type PlanRecord } from './record.js'

export type FailureReason =
  | 'plan-missing'
  | 'plan-stale'
  | 'plan-changed'
  | 'not-approved'

/** A pull request as the check reads it (GitHub's fields, renamed). */
export interface PullFacts {
  number: number
  /** `html_url`: the digests' salt. */
  url: string
  head: string
  author: string
  /** The branch it was merged into. */
  base: string
  mergedAt?: string
  mergeCommit?: string
}

export interface ReviewFacts {
  user: string
  state: string
  commit: string
  submittedAt?: string
  /** GitHub's `author_association`: the reviewer's standing in the repository. */
  association: string
}

/**
 * The associations whose approval counts: the repository's owner, a member
 * of its organisation, an invited collaborator. On a public repository
 * anyone can submit an `APPROVED` review; `CONTRIBUTOR`, `FIRST_TIMER`,
 * `NONE` and the like have no standing. Standing is not write access (a
 * member or collaborator may only read): branch protection's required
 * reviews, which count writers only, are what ensure that.
 */
const APPROVING_ASSOCIATIONS = ['OWNER', 'MEMBER', 'COLLABORATOR']

/** The check's outcome, for the report (and the deployment report). */
export interface ReviewedPlanOutcome {
  matched: boolean
  failureReason?: FailureReason
  /** Why it failed, in words: the reason, then one line per difference. */
  lines: string[]
  pullRequest?: {
    number: number
    url: string
    head: string
    approvals: { user: string; submittedAt?: string; commit: string }[]
  }
  /** The comment that holds the record, to mark it applied after the deploy. */
  comment?: { id: number; body: string; record: PlanRecord }
}

/** What GitHub is asked; implemented over octokit in `src/github/`. */
export interface ReviewSource {
  pullsOf(sha: string): Promise<PullFacts[]>
  /** The token's own comment for the label and scope, if any. */
  ourComment(pull: number): Promise<{ id: number; body: string } | undefined>
  reviews(pull: number): Promise<ReviewFacts[]>
}

export interface CheckContext {
  /** GITHUB_EVENT_NAME, GITHUB_SHA, GITHUB_REF, GITHUB_RUN_ID. */
  event: string
  sha: string
  ref: string
  runId: string
  label: string
  scope: string
  requireApproval: boolean
}

const failed = (
  failureReason: FailureReason,
  lines: string[],
  pull?: PullFacts
): ReviewedPlanOutcome => ({
  matched: false,
  failureReason,
  lines,
  pullRequest: pull && evidence(pull, [])
})

/** What the first half of the check found on GitHub, for the second. */
export interface FoundPlan {
  pull: PullFacts
  /** The comment that holds the record. */
  comment: { id: number; body: string }
  record: PlanRecord
  approvals: ReviewFacts[]
}

/**
 * The check's first half, before any build: what GitHub alone can refuse
 * (the event, the pull request this push merged, its record and its head,
 * the approval). The first failure ends it.
 */
export async function findReviewedPlan(
  source: ReviewSource,
  context: CheckContext
): Promise<{ found: FoundPlan } | { refused: ReviewedPlanOutcome }> {
  if (context.event !== 'push') {
    return {
      refused: failed('plan-missing', [
        `reviewed-plan: required needs a push that merges a pull request; this run is a ${context.event || 'run without an event'}`
      ])
    }
  }
  const merged = mergedPull(await source.pullsOf(context.sha), context)
  if ('failure' in merged) {
    return { refused: failed('plan-missing', [merged.failure]) }
  }
  const { pull } = merged
  const comment = await source.ourComment(pull.number)
  const record = comment && findRecord(comment.body)
  if (!comment || !record) {
    return {
      refused: failed(
        'plan-missing',
        [
          `pull request #${pull.number} has no plan record of this action for this label and scope among the token's own comments (a plan is a dry run with comment-on-pr)`
        ],
        pull
      )
    }
  }
  const problem = recordProblem(record, pull, context)
  if (problem) return { refused: failed(problem.reason, [problem.text], pull) }
  const approvals = approvalsOf(await source.reviews(pull.number), pull)
  if (context.requireApproval && !approvals.length) {
    return {
      refused: {
        ...failed(
          'not-approved',
          [
            `pull request #${pull.number} has no approving review by an owner, member or collaborator other than its author on its head commit ${shortCommit(pull.head)}`
          ],
          pull
        ),
        pullRequest: evidence(pull, approvals)
      }
    }
  }
  return { found: { pull, comment, record, approvals } }
}

/**
 * The check's second half, before the first write: the fresh plan against
 * the record found, task by task (SPEC section 10).
 */
export function compareWithReviewed(
  { pull, comment, record, approvals }: FoundPlan,
  fresh: FreshPlan,
  context: CheckContext
): ReviewedPlanOutcome {
  const now = makeRecord(fresh, { ...context, salt: pull.url, head: pull.head })
  const referenced = new Map(fresh.tasks.map(t => [t.name, t.referenced]))
  // A re-run attempt of the run that applied it finishes what it started.
  const resumed = record.applied?.run === context.runId
  const differences = comparePlans(record, now, referenced, resumed)
  if (differences.length) {
    return failed(
      'plan-changed',
      [
        `the plan differs from the one reviewed on pull request #${pull.number}:`,
        ...differences
      ],
      pull
    )
  }
  return {
    matched: true,
    lines: [],
    pullRequest: evidence(pull, approvals),
    comment: { ...comment, record }
  }
}

function evidence(
  pull: PullFacts,
  approvals: ReviewFacts[]
): ReviewedPlanOutcome['pullRequest'] {
  return { number: pull.number, url: pull.url, head: pull.head, approvals }
}

/** The one pull request merged into the pushed branch as this very commit. */
export function mergedPull(
  pulls: readonly PullFacts[],
  context: Pick<CheckContext, 'sha' | 'ref'>
): { pull: PullFacts } | { failure: string } {
  const branch = context.ref.replace(/^refs\/heads\//, '')
  const merged = pulls.filter(
    pull =>
      pull.mergedAt !== undefined &&
      pull.mergeCommit === context.sha &&
      pull.base === branch
  )
  if (merged.length === 1) return { pull: merged[0] as PullFacts }
  if (!merged.length) {
    return {
      failure: `no pull request merged into ${branch} has ${shortCommit(context.sha)} as its merge commit: was it pushed directly?`
    }
  }
  return {
    failure: `several pull requests were merged as ${shortCommit(context.sha)}: ${merged.map(p => `#${p.number}`).join(', ')}`
  }
}

/** Why the record found cannot be the reviewed plan, if it cannot. */
function recordProblem(
  record: PlanRecord,
  pull: PullFacts,
  context: CheckContext
): { reason: FailureReason; text: string } | undefined {
  const where = `pull request #${pull.number}`
  if (record.label !== context.label || record.scope !== context.scope) {
    return {
      reason: 'plan-missing',
      text: `the plan record on ${where} is for another label or scope`
    }
  }
  if (record.applied && record.applied.run !== context.runId) {
    return {
      reason: 'plan-missing',
      // Claimed before its first write: that run may also have failed.
      text: `the plan of ${where} was deployed already, by run ${record.applied.run} (or that run took it and failed: only a re-run of it deploys the plan)`
    }
  }
  if (record.head !== pull.head) {
    return {
      reason: 'plan-stale',
      text: `the plan on ${where} was made on ${shortCommit(record.head)}, not on its last commit ${shortCommit(pull.head)}`
    }
  }
  return undefined
}

/**
 * Approving reviews by someone other than the author, with standing in the
 * repository (`APPROVING_ASSOCIATIONS`), on the head commit.
 * Each reviewer's last verdict counts (GitHub lists reviews oldest first):
 * an approval later dismissed or followed by a request for changes is none.
 */
export function approvalsOf(
  reviews: readonly ReviewFacts[],
  pull: Pick<PullFacts, 'author' | 'head'>
): ReviewFacts[] {
  const last = new Map<string, ReviewFacts>()
  for (const review of reviews) {
    if (['APPROVED', 'CHANGES_REQUESTED', 'DISMISSED'].includes(review.state)) {
      last.set(review.user, review)
    }
  }
  return [...last.values()].filter(
    review =>
      review.state === 'APPROVED' &&
      review.user !== pull.author &&
      APPROVING_ASSOCIATIONS.includes(review.association) &&
      review.commit === pull.head
  )
}
