/**
 * Lifecycle over the open PRs ml2pr made (recognised by the marker on the first line of the body and the
 * branch prefix; a human's PR on a similar branch has no marker and is never touched): superseded by a
 * newer version, decided on Patchwork, or older than close-after-days. Each close is comment (once) →
 * close → delete branch, so a run killed half-way is finished by the next.
 */
import type { GitHubPulls, PullSummary } from '../github/pulls.js'
import type { Outcome } from '../model.js'
import type { SeriesResult, Log } from '../process.js'
import { parseMarker, renderStaleComment, renderStateComment, renderSupersededComment, type PrMarker } from '../publish/render.js'
import type { Patchwork } from '../services/patchwork.js'
import type { Settings } from '../settings.js'
import { decidedState, isStale, supersedes, type SeriesIdentity, type VersionFacts } from './decide.js'

export interface BotPull {
  pull: PullSummary
  marker: PrMarker
}

export interface LifecycleContext {
  settings: Readonly<Settings>
  pulls: GitHubPulls
  patchwork?: Patchwork
  log: Log
  now: () => Date
}

export function identityOf(marker: PrMarker): SeriesIdentity {
  return {
    key: marker.key,
    version: marker.version,
    messageId: marker.messageId,
    submitterEmail: marker.submitter,
    name: marker.name,
    changeId: marker.changeId
  }
}

/** ml2pr's open PRs: same repository, our branch prefix, and our marker. */
export async function listBotPulls(pulls: GitHubPulls, branchPrefix: string): Promise<BotPull[]> {
  const open = await pulls.listOpen(`${branchPrefix}/`)
  return open.flatMap(pull => {
    const marker = parseMarker(pull.body)
    return marker ? [{ pull, marker }] : []
  })
}

/** The open PRs an incoming series version replaces, oldest version first. */
export function findSuperseded(newer: VersionFacts, open: BotPull[]): BotPull[] {
  return open.filter(b => supersedes(newer, identityOf(b.marker))).sort((a, b) => a.marker.version - b.marker.version)
}

export async function runLifecycle(ctx: LifecycleContext, fresh: SeriesResult[]): Promise<Outcome[]> {
  const { settings, pulls, log } = ctx
  const outcomes: Outcome[] = []
  const open = await listBotPulls(pulls, settings.branchPrefix)
  const closed = new Set<number>()

  const close = async (bot: BotPull, key: string, comment: string, reason: string): Promise<void> => {
    if (closed.has(bot.pull.number)) return
    await pulls.closeWithComment(bot.pull, key, comment)
    closed.add(bot.pull.number)
    outcomes.push({ kind: 'closed', key: bot.marker.key, title: bot.pull.title, pr: bot.pull.number, url: bot.pull.url, reason })
    log.info(`closed #${bot.pull.number} (${bot.marker.key}): ${reason}`)
  }

  // Superseded: a PR opened this run for a newer version of the same series.
  for (const result of fresh) {
    const o = result.outcome
    if ((o.kind !== 'opened' && o.kind !== 'adopted') || !result.newer || o.pr === 0) continue
    for (const old of findSuperseded(result.newer, open)) {
      if (old.pull.number === o.pr) continue
      await close(old, 'superseded', renderSupersededComment(o.pr, result.newer.version), `superseded by #${o.pr} (v${result.newer.version})`)
    }
  }

  for (const bot of open) {
    if (closed.has(bot.pull.number)) continue
    try {
      // Decided on Patchwork (accepted, rejected, superseded, changes requested…).
      const seriesId = Number(bot.marker.key)
      if (ctx.patchwork && Number.isInteger(seriesId) && settings.closeOnStates.length > 0) {
        const states = (await ctx.patchwork.patchStates(seriesId)).map(s => s.state)
        const decided = decidedState(states, settings.closeOnStates)
        if (decided) {
          await close(bot, `state-${decided}`, renderStateComment(decided), `Patchwork: ${decided}`)
          continue
        }
      }
      if (isStale(bot.pull.createdAt, ctx.now(), settings.closeAfterDays)) {
        await close(bot, 'stale', renderStaleComment(settings.closeAfterDays), `older than ${settings.closeAfterDays} days`)
      }
    } catch (error) {
      // One PR's trouble (a ruleset blocking the delete, say) must not stop the others.
      log.warning(`lifecycle of #${bot.pull.number}: ${(error as Error).message}`)
    }
  }
  return outcomes
}
