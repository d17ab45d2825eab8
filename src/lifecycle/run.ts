/**
 * Lifecycle over the open PRs ml2pr made (recognised by the marker on the first line of the body and the
 * branch prefix; a human's PR on a similar branch has no marker and is never touched), in this order:
 * superseded by a newer version, landed in the base, decided on Patchwork, older than close-after-days —
 * each close is comment (once) → close → delete branch, so a run killed half-way is finished by the next —
 * and, for the PRs that stay open, following the moving base (refresh.ts).
 */
import type { FailedSeries } from '../discover/state.js'
import { fetchSeriesMails } from '../fetch/mails.js'
import type { GitHubPulls } from '../github/pulls.js'
import type { Outcome, SeriesRef } from '../model.js'
import type { ApplyFn, BotPull, Log, SeriesResult } from '../ports.js'
import {
  parseMarker,
  renderMergedComment,
  renderStaleComment,
  renderStateComment,
  renderSupersededComment
} from '../publish/render.js'
import { postSeriesChecks, type CheckDeps } from '../report/checks.js'
import type { Lore } from '../services/lore.js'
import type { Patchwork } from '../services/patchwork.js'
import type { Settings } from '../settings.js'
import { botPullsOf, decidedState, findSuperseded, isStale } from './decide.js'
import type { LifecycleRepo } from './history.js'
import { BaseHistory, detectLanding } from './merged.js'
import { applyBranchOf, refFromMarker, refreshPull, type RefreshContext } from './refresh.js'

export interface LifecycleContext {
  settings: Readonly<Settings>
  pulls: GitHubPulls
  patchwork?: Patchwork
  log: Log
  now: () => Date
  /** Git for merge detection and refresh; without it only the rules that need no git run. */
  repo?: LifecycleRepo
  /** Applies a series (as processing does); needed to refresh open PRs. */
  apply?: ApplyFn
  lore?: Lore
  /** The lore inbox the series come from. */
  loreList?: string
  /** Branch tips fetched in this run (shared with processing). */
  tips?: Map<string, string>
  /** Series that failed to apply and the tip they failed on (saved in the run state). */
  failed?: Map<string, FailedSeries>
  /** Where Patchwork checks go when a refresh changes a series' verdict. */
  checks?: CheckDeps
  /**
   * Keys of the series whose patches changed state on Patchwork since the last run: only their PRs are asked
   * about. Undefined: not known (a dispatch run), ask for every PR.
   */
  decidedCandidates?: Set<string>
}

/** ml2pr's open PRs: same repository, our branch prefix, and our marker. */
export async function listBotPulls(pulls: GitHubPulls, branchPrefix: string): Promise<BotPull[]> {
  return botPullsOf(await pulls.listOpen(`${branchPrefix}/`))
}

/** What Patchwork knows of a PR's series, fetched at most once per PR. */
class SeriesFacts {
  private ref?: Promise<SeriesRef | undefined>
  private states?: Promise<string[]>

  constructor(
    private readonly patchwork: Patchwork | undefined,
    private readonly bot: BotPull
  ) {}

  private get id(): number | undefined {
    const id = Number(this.bot.marker.key)
    return this.patchwork && Number.isSafeInteger(id) && id > 0 ? id : undefined
  }

  /** Patchwork's series, else one made from the marker (lore-only), else undefined (Patchwork lost it). */
  seriesRef(): Promise<SeriesRef | undefined> {
    const id = this.id
    this.ref ??= id === undefined ? Promise.resolve(refFromMarker(this.bot)) : this.patchwork!.series(id)
    return this.ref
  }

  patchStates(): Promise<string[]> {
    const id = this.id
    this.states ??=
      id === undefined ? Promise.resolve([]) : this.patchwork!.patchStates(id).then(s => s.map(p => p.state))
    return this.states
  }
}

export async function runLifecycle(ctx: LifecycleContext, fresh: SeriesResult[]): Promise<Outcome[]> {
  const { settings, pulls, log } = ctx
  const outcomes: Outcome[] = []
  const open = await listBotPulls(pulls, settings.branchPrefix)
  const closed = new Set<number>()
  const history = ctx.repo && new BaseHistory(ctx.repo)

  const close = async (bot: BotPull, key: string, comment: string, reason: string): Promise<void> => {
    if (closed.has(bot.pull.number)) return
    await pulls.closeWithComment(bot.pull, key, comment)
    closed.add(bot.pull.number)
    outcomes.push({
      kind: 'closed',
      key: bot.marker.key,
      title: bot.pull.title,
      pr: bot.pull.number,
      url: bot.pull.url,
      reason
    })
    log.info(`closed #${bot.pull.number} (${bot.marker.key}): ${reason}`)
  }

  // Superseded: a PR opened this run for a newer version of the same series.
  for (const result of fresh) {
    const o = result.outcome
    if ((o.kind !== 'opened' && o.kind !== 'adopted') || !result.newer || o.pr === 0) continue
    for (const old of findSuperseded(result.newer, open)) {
      if (old.pull.number === o.pr) continue
      await close(
        old,
        'superseded',
        renderSupersededComment(o.pr, result.newer.version),
        `superseded by #${o.pr} (v${result.newer.version})`
      )
    }
  }

  for (const bot of open) {
    if (closed.has(bot.pull.number)) continue
    const facts = new SeriesFacts(ctx.patchwork, bot)
    try {
      // Landed in the base: all patches found by Message-ID trailer or patch-id.
      if (ctx.repo && history) {
        const landed = await landedIn(ctx, ctx.repo, history, bot, facts)
        if (landed) {
          const comment = renderMergedComment(bot.marker.base, landed)
          const shas = landed.map(c => c.sha.slice(0, 12)).join(', ')
          await close(bot, 'merged', comment, `landed in ${bot.marker.base} as ${shas}`)
          continue
        }
      }
      // Decided on Patchwork (accepted, rejected, superseded, changes requested…).
      if (
        settings.closeOnStates.length > 0 &&
        (ctx.decidedCandidates === undefined || ctx.decidedCandidates.has(bot.marker.key))
      ) {
        const decided = decidedState(await facts.patchStates(), settings.closeOnStates)
        if (decided) {
          await close(bot, `state-${decided}`, renderStateComment(decided), `Patchwork: ${decided}`)
          continue
        }
      }
      if (isStale(bot.pull.createdAt, ctx.now(), settings.closeAfterDays)) {
        await close(
          bot,
          'stale',
          renderStaleComment(settings.closeAfterDays),
          `older than ${settings.closeAfterDays} days`
        )
        continue
      }
      if (settings.refreshOpenPrs && ctx.repo && ctx.apply) {
        const reason = await refresh(ctx, ctx.repo, ctx.apply, bot, facts)
        if (reason) {
          const { pull, marker } = bot
          outcomes.push({
            kind: 'updated',
            key: marker.key,
            title: pull.title,
            pr: pull.number,
            url: pull.url,
            reason
          })
        }
      }
    } catch (error) {
      // One PR's trouble (a ruleset blocking the delete, say) must not stop the others.
      log.warning(`lifecycle of #${bot.pull.number}: ${(error as Error).message}`)
    }
  }
  if (ctx.repo) await sweepClosedBranches(ctx, ctx.repo, open)
  return outcomes
}

/**
 * A run killed between closing a PR and deleting its branch leaves the branch behind: delete the branches of
 * ml2pr's closed PRs now. A branch without any PR is left alone (discovery adopts it: a run was killed
 * between push and PR creation).
 */
async function sweepClosedBranches(
  ctx: LifecycleContext,
  repo: LifecycleRepo,
  open: BotPull[]
): Promise<void> {
  const openHeads = new Set(open.map(b => b.pull.headRef))
  for (const branch of (await repo.remoteBranches(`${ctx.settings.branchPrefix}/`)).keys()) {
    if (openHeads.has(branch)) continue
    try {
      const newest = (await ctx.pulls.findByHead(branch))[0]
      if (newest?.state === 'closed' && parseMarker(newest.body)) {
        ctx.log.info(`deleting ${branch}: its PR #${newest.number} is closed`)
        await ctx.pulls.deleteBranch(branch)
      }
    } catch (error) {
      ctx.log.warning(`cleaning up ${branch}: ${(error as Error).message}`)
    }
  }
}

/** The base commits the PR's patches landed as, in patch order; undefined unless every patch landed. */
async function landedIn(
  ctx: LifecycleContext,
  repo: LifecycleRepo,
  history: BaseHistory,
  bot: BotPull,
  facts: SeriesFacts
): Promise<{ sha: string; subject: string }[] | undefined> {
  const { settings, log } = ctx
  const tips = ctx.tips ?? new Map<string, string>()
  try {
    const onto = applyBranchOf(bot.marker.base, settings)
    let applyTip = tips.get(onto)
    if (!applyTip) {
      applyTip = await repo.fetchBranch(onto, 1)
      tips.set(onto, applyTip)
    }
    // Nothing can have landed while the branch it was applied onto has not moved: ask Patchwork nothing.
    if (applyTip === bot.marker.applyBase) return undefined
    const ref = await facts.seriesRef()
    const msgids = ref && ref.patchworkId !== undefined ? ref.patchMsgids : []
    const landing = await detectLanding(repo, history, {
      bot,
      msgids,
      patchCount: msgids.length || undefined,
      applyTip
    })
    if (!landing.landed) return undefined
    return [...landing.matches]
      .sort((a, b) => a.counter - b.counter)
      .map(m => ({ sha: m.sha, subject: m.subject }))
  } catch (error) {
    // Merge detection is an extra: its failure leaves the other rules to run.
    log.warning(`merge detection for #${bot.pull.number}: ${(error as Error).message}`)
    return undefined
  }
}

async function refresh(
  ctx: LifecycleContext,
  repo: LifecycleRepo,
  apply: ApplyFn,
  bot: BotPull,
  facts: SeriesFacts
): Promise<string | undefined> {
  // A PR on the current tip is current: its series is looked up only when there is something to re-apply.
  if (ctx.tips?.get(applyBranchOf(bot.marker.base, ctx.settings)) === bot.marker.applyBase) return undefined
  const ref = await facts.seriesRef()
  if (!ref) {
    ctx.log.info(`#${bot.pull.number}: Patchwork no longer has series ${bot.marker.key}; not refreshed`)
    return undefined
  }
  const refreshCtx: RefreshContext = {
    settings: ctx.settings,
    pulls: ctx.pulls,
    repo,
    apply,
    fetchMails: r =>
      fetchSeriesMails(r, { lore: ctx.lore, loreList: ctx.loreList, patchwork: ctx.patchwork }),
    lore: { url: ctx.settings.loreUrl, list: ctx.loreList ?? ctx.settings.loreList },
    log: ctx.log,
    tips: ctx.tips ?? new Map<string, string>(),
    failed: ctx.failed ?? new Map<string, FailedSeries>(),
    now: ctx.now
  }
  const result = await refreshPull(refreshCtx, bot, ref)
  const n = bot.pull.number
  switch (result.kind) {
    case 'current':
    case 'still-failing':
      return undefined
    case 'unavailable':
      ctx.log.warning(`#${n}: not refreshed: ${result.reason}`)
      return undefined
    case 'refreshed':
      ctx.log.info(
        result.pushed
          ? `#${n}: refreshed onto ${result.onto.slice(0, 12)} (head ${result.head.slice(0, 12)})`
          : `#${n}: already on ${result.onto.slice(0, 12)}; marker updated`
      )
      if (ctx.checks)
        await postSeriesChecks(ctx.checks, ref.patchIds, {
          state: 'success',
          targetUrl: bot.pull.url,
          description: `Applied cleanly; PR #${n}`
        })
      return result.pushed ? `re-applied onto ${result.onto.slice(0, 12)}` : undefined
    case 'needs-rebase':
      ctx.log.warning(`#${n}: no longer applies to ${result.onto.slice(0, 12)}; labelled needs-rebase`)
      if (ctx.checks) {
        const f = result.failure
        await postSeriesChecks(ctx.checks, ref.patchIds, {
          state: 'fail',
          description: `patch ${f.counter}/${f.total} no longer applies to ${result.onto.slice(0, 12)}`
        })
      }
      return `needs-rebase: patch ${result.failure.counter}/${result.failure.total} no longer applies to ${result.onto.slice(0, 12)}`
  }
}
