// Where the pipeline meets the reviewed-plan check (SPEC section 10): its
// first half before any build, its second after the fresh plan and its
// packages, before the first write. The GitHub side is passed in through
// `RunIo.reviewedPlan`, so the pipeline runs without it.

import { shortCommit } from '../helpers.js'
import type { Settings } from '../inputs.js'
import type { ReadyTask } from '../package/stage.js'
import { describeError } from '../errors.js'
import { freshPlan, type FreshPlan } from './fresh-plan.js'
import type { ReviewedPlanOutcome } from './check.js'

/**
 * The runner's check, in two halves (`check.ts`): `start`, before any
 * build, gives a refusal or nothing; `check` then compares the fresh plan.
 */
export interface ReviewedPlanCheck {
  start(settings: Settings): Promise<ReviewedPlanOutcome | undefined>
  check(fresh: FreshPlan, settings: Settings): Promise<ReviewedPlanOutcome>
}

const NO_GITHUB: ReviewedPlanOutcome = {
  matched: false,
  lines: ['reviewed-plan: required, but GitHub cannot be read here']
}

/** Not a verdict on the plan (GitHub could not answer): no reason. */
function unreadable(error: unknown): ReviewedPlanOutcome {
  return {
    matched: false,
    lines: [
      `reviewed-plan: the pull request could not be read from GitHub (${describeError(error)})`
    ]
  }
}

/** Whether this run checks its plan: a deploy with `reviewed-plan: required`. */
function checksPlan(settings: Settings): boolean {
  // A dry run is what makes the record: the check is for deploys.
  return !settings.dryRun && settings.reviewedPlan === 'required'
}

/**
 * The check's first half, started with the build stage: a refusal GitHub
 * alone can give (not a push, no merged pull request, no record, a stale
 * plan, no approval) comes before any build. Undefined: nothing refused.
 */
export async function reviewedPlanStart(
  settings: Settings,
  check: ReviewedPlanCheck | undefined
): Promise<ReviewedPlanOutcome | undefined> {
  if (!checksPlan(settings)) return undefined
  if (!check) return NO_GITHUB
  try {
    return await check.start(settings)
  } catch (error) {
    return unreadable(error)
  }
}

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
  if (!checksPlan(settings)) return { plan }
  if (!check) return { plan, outcome: NO_GITHUB }
  try {
    return { plan, outcome: await check.check(plan, settings) }
  } catch (error) {
    return { plan, outcome: unreadable(error) }
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
