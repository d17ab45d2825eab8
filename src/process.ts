/**
 * One series, from its SeriesRef to an Outcome: look up what already exists, fetch, assemble, apply,
 * guard, push, open the PR. Every step is safe to repeat: a re-run finds the PR (open or closed) or the
 * pushed branch and continues from there instead of duplicating anything.
 */
import { patchInputs, selectSeries } from './assemble/select.js'
import { tooManyPatches } from './assemble/series.js'
import { chooseBase } from './discover/base.js'
import { failedId, type FailedSeries } from './discover/state.js'
import { fetchSeriesMails, FetchError } from './fetch/mails.js'
import type { GitHubPulls, PullSummary } from './github/pulls.js'
import type { Series, SeriesRef } from './model.js'
import { findSuperseded } from './lifecycle/decide.js'
import type { LifecycleRepo } from './lifecycle/history.js'
import { supersededRangeDiff } from './lifecycle/range-diff.js'
import { normalizeSeriesName, renderBody, renderTitle, reproduceCommand } from './publish/render.js'
import type { Lore } from './services/lore.js'
import type { Patchwork } from './services/patchwork.js'
import type { Repo } from './apply/repo.js'
import type { ApplyFn, BotPull, Log, PatchInput, RemoteRepo, SeriesResult, VersionFacts } from './ports.js'
import type { Settings } from './settings.js'
import type { Writes } from './writes.js'

/** The RemoteRepo of a private repository, its pushes going through the write gate (dry run, budget). */
export function remoteRepo(repo: Repo, writes: Writes): RemoteRepo {
  return {
    fetchBranch: branch => repo.fetchBranch(branch),
    fetchCommit: sha => repo.fetchCommit(sha),
    remoteBranchSha: async branch => (await repo.listRemoteBranches(branch)).get(branch),
    push: async (branch, sha, expectedOld) => {
      const result = await writes.perform(`push ${branch} → ${sha.slice(0, 12)}`, () =>
        repo.push(branch, sha, { expectedOld })
      )
      return !result || result.status === 'ok' ? { ok: true } : { ok: false, reason: result.message }
    }
  }
}

export interface SeriesContext {
  settings: Readonly<Settings>
  loreList: string
  pulls: GitHubPulls
  remote: RemoteRepo
  apply: ApplyFn
  lore?: Lore
  patchwork?: Patchwork
  log: Log
  /** Series that failed before, with the base they failed on. */
  failed: Map<string, FailedSeries>
  /** Branch tips fetched in this run. */
  tips: Map<string, string>
  /** ml2pr's open PRs at the start of the run (to link a new version to the one it supersedes). */
  openBotPulls: BotPull[]
  /** Git for the range-diff against a superseded version (none without it). */
  lifecycleRepo?: LifecycleRepo
}

export function branchName(prefix: string, key: string, base: string): string {
  return `${prefix}/${key}/${base}`
}

/** The newest PR (open first) on any branch this series could have been given. */
async function findExistingPull(
  ctx: SeriesContext,
  key: string
): Promise<{ pull: PullSummary; branch: string } | undefined> {
  const bases = new Set([ctx.settings.baseBranch, ...ctx.settings.baseMap.map(rule => rule.branch)])
  for (const base of bases) {
    const branch = branchName(ctx.settings.branchPrefix, key, base)
    const pulls = await ctx.pulls.findByHead(branch)
    const pull = pulls.find(p => p.state === 'open') ?? pulls[0]
    if (pull) return { pull, branch }
  }
  return undefined
}

/** A branch's tip, fetched once per run. */
export async function tipOf(ctx: Pick<SeriesContext, 'remote' | 'tips'>, branch: string): Promise<string> {
  let sha = ctx.tips.get(branch)
  if (!sha) {
    sha = await ctx.remote.fetchBranch(branch)
    ctx.tips.set(branch, sha)
  }
  return sha
}

export async function processSeries(ctx: SeriesContext, ref: SeriesRef): Promise<SeriesResult> {
  const { settings, log } = ctx
  const title = ref.name

  if (!ref.receivedAll) {
    return {
      outcome: {
        kind: 'skipped',
        key: ref.key,
        title,
        reason: `incomplete: ${ref.receivedTotal}/${ref.total} patches received`
      },
      retry: true
    }
  }
  const tooMany = tooManyPatches(ref.total, settings.maxPatches)
  if (tooMany) return { outcome: { kind: 'refused', key: ref.key, title, reason: tooMany, files: [] } }
  if (settings.excludeSubject?.test(ref.name)) {
    return {
      outcome: {
        kind: 'skipped',
        key: ref.key,
        title,
        reason: `excluded by exclude-subject (${settings.excludeSubject.source})`
      }
    }
  }

  // 1. Already handled? GitHub is the authority: an open PR is adopted, a closed one is never re-created.
  //    Checked before any mail is fetched, for every base the series could go to.
  const existing = await findExistingPull(ctx, ref.key)
  if (existing) {
    const { pull, branch } = existing
    return {
      outcome: {
        kind: 'adopted',
        key: ref.key,
        title,
        pr: pull.number,
        url: pull.url,
        branch,
        state: pull.state
      }
    }
  }

  // 2. Fetch and assemble (the base depends on the subject's tags).
  let fetched
  try {
    fetched = await fetchSeriesMails(ref, {
      lore: ctx.lore,
      loreList: ctx.loreList,
      patchwork: ctx.patchwork
    })
  } catch (error) {
    const transient = error instanceof FetchError && error.transient
    return {
      outcome: { kind: 'failed', key: ref.key, title, reason: `fetching mails: ${(error as Error).message}` },
      retry: transient
    }
  }
  fetched.warnings.forEach(w => log.warning(`series ${ref.key}: ${w}`))
  const selected = selectSeries(ref, fetched.mails)
  if ('reason' in selected)
    return { outcome: { kind: 'failed', key: ref.key, title, reason: selected.reason } }
  const { series } = selected
  const assembledTooMany = tooManyPatches(series.patches.length, settings.maxPatches)
  if (assembledTooMany) {
    return { outcome: { kind: 'refused', key: ref.key, title, reason: assembledTooMany, files: [] } }
  }
  // Patchwork names a series by its cover letter's subject without the `[RFC PATCH …]` prefixes: the
  // exclusion also looks at the subject as sent.
  if (settings.excludeSubject?.test(series.subject.full)) {
    return {
      outcome: {
        kind: 'skipped',
        key: ref.key,
        title,
        reason: `excluded by exclude-subject (${settings.excludeSubject.source})`
      }
    }
  }
  selected.warnings.forEach(w => log.info(`series ${ref.key}: ${w}`))
  log.info(
    `series ${ref.key}: v${series.revision}, ${series.patches.length} patches from ${fetched.source} (${fetched.mails.length} mails)`
  )

  const base = chooseBase(series.subject.prefixes, settings)
  const branch = branchName(settings.branchPrefix, ref.key, base.base)
  const newer = versionFacts(ref, series)

  // 3. Apply onto the tip of the apply branch; a failure on this same tip is not retried.
  const baseSha = await tipOf(ctx, base.applyOnto)
  // A manual run (series-id) always tries again: someone asked for it.
  const previous = settings.seriesId ? undefined : ctx.failed.get(failedId(ref))
  if (previous && previous.baseSha === baseSha) {
    return {
      outcome: {
        kind: 'skipped',
        key: ref.key,
        title,
        reason: `failed before on this base (${baseSha.slice(0, 12)}): ${previous.reason}`
      },
      series,
      base,
      failedOn: baseSha
    }
  }
  const patches = patchInputs(series)
  const applied = await ctx.apply(baseSha, patches)
  if (!applied.ok) {
    const failure = applied.failure
    const reproduce = reproduceCommand({
      baseSha,
      messageId: series.messageId,
      lore: { url: settings.loreUrl, list: ctx.loreList },
      baseBranch: base.applyOnto,
      mboxUrl: ref.mboxUrl
    })
    if (failure.kind === 'protected-path') {
      return {
        outcome: {
          kind: 'refused',
          key: ref.key,
          title,
          reason: `touches protected paths (${settings.protectedPaths.join(', ')}); never pushed`,
          files: failure.files
        },
        series,
        base
      }
    }
    let reason = `patch ${failure.counter}/${failure.total} does not apply to ${base.applyOnto}`
    if (failure.kind === 'conflict' && series.baseCommit && !series.baseCommit.startsWith(baseSha)) {
      if (await appliesOnBaseCommit(ctx, series.baseCommit, patches)) {
        reason = `needs rebase onto ${base.applyOnto}: applies to its base-commit ${series.baseCommit.slice(0, 12)}, not to ${base.applyOnto} (${baseSha.slice(0, 12)})`
      }
    } else if (failure.kind !== 'conflict') {
      reason = `patch ${failure.counter}/${failure.total}: ${failure.kind}`
    }
    return {
      outcome: { kind: 'failed', key: ref.key, title, reason, failure, reproduce },
      series,
      base,
      failedOn: baseSha
    }
  }

  log.info(
    `series ${ref.key}: applied onto ${base.applyOnto} ${baseSha.slice(0, 12)} → ${applied.head.slice(0, 12)}`
  )

  // 4. Push (idempotent: identical commits on a re-run, and a lease so a racing run cannot clobber).
  const remoteSha = await ctx.remote.remoteBranchSha(branch)
  if (remoteSha !== applied.head) {
    const pushed = await ctx.remote.push(branch, applied.head, remoteSha ?? null)
    // A racing run applying the same mails pushes the very same commits: that is not a failure.
    if (!pushed.ok && (await ctx.remote.remoteBranchSha(branch)) !== applied.head) {
      return {
        outcome: {
          kind: 'failed',
          key: ref.key,
          title,
          reason: `push of ${branch} rejected: ${pushed.reason}`
        },
        series,
        base,
        retry: true
      }
    }
  } else {
    log.info(`series ${ref.key}: ${branch} already holds these commits (adopting the orphan branch)`)
  }

  // 5. Open the PR (or adopt the one a racing run opened meanwhile).
  const replaced = findSuperseded(newer, ctx.openBotPulls).pop()
  const rangeDiff =
    replaced && ctx.lifecycleRepo
      ? await supersededRangeDiff(ctx.lifecycleRepo, replaced, { base: baseSha, head: applied.head }, log)
      : undefined
  const body = renderBody({
    ref,
    messageId: series.messageId,
    base: base.base,
    applyBranch: base.applyOnto !== base.base ? base.applyOnto : undefined,
    baseSha,
    baseReason: base.reason,
    authorBaseCommit: series.baseCommit,
    changeId: series.changeId,
    lore: { url: settings.loreUrl, list: ctx.loreList },
    supersedes: replaced && { pr: replaced.pull.number, version: replaced.marker.version },
    rangeDiff,
    coverLetter: series.cover?.body
  })
  const created = await ctx.pulls.create({
    head: branch,
    base: base.base,
    title: renderTitle(ref.name),
    body
  })
  if (!created) {
    return {
      outcome: { kind: 'opened', key: ref.key, title, pr: 0, url: '(dry run)', branch },
      series,
      base,
      newer
    }
  }
  const { pull } = created
  log.info(`series ${ref.key}: ${created.created ? 'opened' : 'adopted'} #${pull.number} ${pull.url}`)
  return {
    outcome: created.created
      ? { kind: 'opened', key: ref.key, title, pr: pull.number, url: pull.url, branch }
      : { kind: 'adopted', key: ref.key, title, pr: pull.number, url: pull.url, branch, state: pull.state },
    series,
    base,
    newer
  }
}

/** Tells "stale base" apart from "broken patch": does the series apply where its author said it was based? */
async function appliesOnBaseCommit(
  ctx: SeriesContext,
  baseCommit: string,
  patches: PatchInput[]
): Promise<boolean> {
  if (!/^[0-9a-f]{40}$/.test(baseCommit)) return false
  try {
    if (!(await ctx.remote.fetchCommit(baseCommit))) return false
    return (await ctx.apply(baseCommit, patches)).ok
  } catch {
    return false
  }
}

export function versionFacts(ref: SeriesRef, series: Series): VersionFacts {
  const head = series.cover ?? series.patches[0]?.mail
  return {
    key: ref.key,
    version: ref.version,
    messageId: series.messageId,
    submitterEmail: ref.submitter.email,
    name: normalizeSeriesName(ref.name),
    changeId: series.changeId,
    repliesTo: head ? [...(head.inReplyTo ? [head.inReplyTo] : []), ...head.references] : []
  }
}
