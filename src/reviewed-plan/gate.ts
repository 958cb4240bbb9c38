// Where the pipeline meets the reviewed-plan check: after the fresh plan
// and its packages, before the first write (SPEC section 10). The GitHub
// side is passed in through `RunIo.reviewedPlan`, so the pipeline runs
// without it.

import { shortCommit } from '../helpers.js'
import type { Settings } from '../inputs.js'
import type { ReadyTask } from '../package/stage.js'
import { describeError } from '../errors.js'
import { freshPlan, type FreshPlan } from './fresh-plan.js'
import type { ReviewedPlanOutcome } from './check.js'

/** The runner's check: the pull request, its comment and reviews. */
export type ReviewedPlanCheck = (
  fresh: FreshPlan,
  settings: Settings
) => Promise<ReviewedPlanOutcome>

/**
 * The plan just made (for a dry run's record), and with `reviewed-plan:
 * required` outside a dry run, the check's outcome: a run that did not
 * match writes nothing.
 */
export async function reviewedPlanGate(
  settings: Settings,
  check: ReviewedPlanCheck | undefined,
  ready: readonly ReadyTask[],
  deletes: readonly string[]
): Promise<{ plan: FreshPlan; outcome?: ReviewedPlanOutcome }> {
  const plan = freshPlan(settings, ready, deletes)
  // A dry run is what makes the record: the check is for deploys.
  if (settings.dryRun || settings.reviewedPlan !== 'required') return { plan }
  if (!check) {
    return {
      plan,
      outcome: {
        matched: false,
        lines: ['reviewed-plan: required, but GitHub cannot be read here']
      }
    }
  }
  try {
    return { plan, outcome: await check(plan, settings) }
  } catch (error) {
    // Not a verdict on the plan (GitHub could not answer): no reason.
    return {
      plan,
      outcome: {
        matched: false,
        lines: [
          `reviewed-plan: the pull request could not be read from GitHub (${describeError(error)})`
        ]
      }
    }
  }
}

/** `not started: …` for every task when the check failed. */
export function refusalReason(outcome: ReviewedPlanOutcome): string {
  return `the reviewed-plan check failed${outcome.failureReason ? ` (${outcome.failureReason})` : ''}`
}

/** The log's line for a plan that matched: which pull request, approved by whom. */
export function matchedLine(outcome: ReviewedPlanOutcome): string {
  const pull = outcome.pullRequest
  if (!pull) return 'reviewed-plan: the plan matches the one reviewed'
  const approvers = pull.approvals.map(review => review.user)
  const approved = approvers.length
    ? `, approved by ${approvers.join(', ')}`
    : ''
  return `reviewed-plan: the plan matches the one reviewed on pull request #${pull.number} at ${shortCommit(pull.head)}${approved}`
}
