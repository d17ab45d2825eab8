/**
 * Open PRs follow their base: when the apply branch moved past the commit a PR was applied onto, the series is
 * applied again from its mails onto the new tip (index-only, seconds) and force-pushed with a lease on the PR's
 * head; the marker then names the new base. When it no longer applies the PR is left as it was, gets one
 * comment per episode and the `needs-rebase` label, and is tried again only once the base moves again.
 */
import { failedId, type FailedSeries } from '../discover/state.js'
import type { FetchedMails } from '../fetch/mails.js'
import type { GitHubPulls } from '../github/pulls.js'
import type { ApplyFailure, SeriesRef } from '../model.js'
import { patchInputs, selectSeries } from '../assemble/select.js'
import type { ApplyFn, BotPull, Log } from '../ports.js'
import { renderNeedsRebaseComment, reproduceCommand, type LoreArchive } from '../publish/render.js'
import type { Settings } from '../settings.js'
import { withApplyBase } from './body.js'
import type { LifecycleRepo } from './history.js'

export const NEEDS_REBASE_LABEL = 'needs-rebase'

export interface RefreshContext {
  settings: Readonly<Settings>
  pulls: GitHubPulls
  repo: LifecycleRepo
  apply: ApplyFn
  /** Fetches a series' mails as processing does (lore thread, else Patchwork's mbox). */
  fetchMails: (ref: SeriesRef) => Promise<FetchedMails>
  lore: LoreArchive
  log: Log
  /** Apply-branch tips fetched in this run, shared with processing. */
  tips: Map<string, string>
  /**
   * Failures saved in the run state, with the tip they happened on. A PR's refresh is kept under
   * kind `refresh`, apart from the series' own entry, which processing clears when it adopts the PR.
   */
  failed: Map<string, FailedSeries>
  now: () => Date
}

export type RefreshResult =
  | { kind: 'current' }
  | { kind: 'refreshed'; onto: string; head: string; pushed: boolean }
  | { kind: 'needs-rebase'; onto: string; failure: ApplyFailure }
  | { kind: 'unavailable'; reason: string }
  /** Failed on this very tip before: commented and labelled then, nothing new to try. */
  | { kind: 'still-failing' }

/** The branch a PR's series is applied onto: the apply branch for the default base, else the base itself. */
export function applyBranchOf(base: string, settings: Pick<Settings, 'baseBranch' | 'applyBranch'>): string {
  return base === settings.baseBranch ? settings.applyBranch : base
}

/** A SeriesRef for a series known only from its marker (lore-only mode): lore finds it by Message-ID. */
export function refFromMarker(bot: BotPull): SeriesRef {
  const { marker } = bot
  return {
    key: marker.key,
    name: marker.name,
    version: marker.version,
    total: 0,
    receivedTotal: 0,
    receivedAll: true,
    submitter: { name: marker.submitter, email: marker.submitter },
    coverMsgid: marker.messageId,
    patchMsgids: [],
    patchIds: [],
    date: ''
  }
}

export async function refreshPull(ctx: RefreshContext, bot: BotPull, ref: SeriesRef): Promise<RefreshResult> {
  const { marker, pull } = bot
  const onto = applyBranchOf(marker.base, ctx.settings)
  let tip = ctx.tips.get(onto)
  if (!tip) {
    tip = await ctx.repo.fetchBranch(onto, 1)
    ctx.tips.set(onto, tip)
  }
  if (tip === marker.applyBase) return { kind: 'current' }
  const failedKey = failedId({ key: marker.key, kind: 'refresh' })
  const failedBefore = ctx.failed.get(failedKey)
  if (failedBefore?.baseSha === tip)
    return { kind: 'unavailable', reason: `failed before on ${tip.slice(0, 12)}` }

  const fetched = await ctx.fetchMails(ref)
  const selected = selectSeries(ref, fetched.mails)
  if ('reason' in selected) return { kind: 'unavailable', reason: selected.reason }
  const { series } = selected
  const patches = patchInputs(series)
  const applied = await ctx.apply(tip, patches)

  if (!applied.ok) {
    const reproduce = reproduceCommand({
      baseSha: tip,
      messageId: marker.messageId,
      lore: ctx.lore,
      baseBranch: onto,
      mboxUrl: ref.mboxUrl
    })
    // One comment per episode: the episode is the base the PR still sits on, which stays until it applies again.
    await ctx.pulls.commentOnce(
      pull.number,
      `needs-rebase-${marker.applyBase}`,
      renderNeedsRebaseComment(applied.failure, onto, reproduce)
    )
    if (!pull.labels.includes(NEEDS_REBASE_LABEL)) await ctx.pulls.addLabel(pull.number, NEEDS_REBASE_LABEL)
    const reason = `patch ${applied.failure.counter}/${applied.failure.total} does not apply to ${onto}`
    ctx.failed.set(failedKey, {
      key: marker.key,
      kind: 'refresh',
      baseSha: tip,
      reason,
      at: ctx.now().toISOString()
    })
    return { kind: 'needs-rebase', onto: tip, failure: applied.failure }
  }

  // The same commits as on the PR (a push whose body update was lost): only the body is behind.
  let pushed = false
  if (applied.head !== pull.headSha) {
    const foreign = await foreignCommits(ctx, bot, patches.length)
    if (foreign) return { kind: 'unavailable', reason: foreign }
    const branch = pull.headRef
    const result = await ctx.repo.push(branch, applied.head, pull.headSha)
    if (!result.ok) return { kind: 'unavailable', reason: `push of ${branch} rejected: ${result.reason}` }
    pushed = true
  }
  const body = withApplyBase(pull.body, tip)
  if (body !== undefined && body !== pull.body) await ctx.pulls.update(pull.number, { body })
  if (pull.labels.includes(NEEDS_REBASE_LABEL)) await ctx.pulls.removeLabel(pull.number, NEEDS_REBASE_LABEL)
  ctx.failed.delete(failedKey)
  return { kind: 'refreshed', onto: tip, head: applied.head, pushed }
}

/**
 * Why the PR's branch is not ml2pr's to replace, if it is not: someone pushed to it (other commits, another
 * committer), or its commits cannot be found. A force-push would throw their work away.
 */
async function foreignCommits(
  ctx: RefreshContext,
  bot: BotPull,
  patchCount: number
): Promise<string | undefined> {
  const { marker, pull } = bot
  // A little deeper than the series, so a few commits pushed on top are recognised as such.
  if (!(await ctx.repo.fetchRange(marker.applyBase, pull.headSha, patchCount + 16))) {
    return `${pull.headRef} no longer holds the ${patchCount} commits ml2pr pushed onto ${marker.applyBase.slice(0, 12)}`
  }
  const commits = await ctx.repo.rangeCommits(marker.applyBase, pull.headSha)
  const committer = ctx.settings.committerEmail.toLowerCase()
  const others = commits.filter(c => c.committerEmail.toLowerCase() !== committer)
  if (commits.length !== patchCount || others.length > 0) {
    return `${pull.headRef} has commits ml2pr did not make (${commits.length} commits, ${others.length} by others); left as it is`
  }
  return undefined
}
