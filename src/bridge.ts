/**
 * One run of the bridge: discover → (fetch → assemble → apply → publish) per series → lifecycle → state.
 * Every dependency is passed in, so tests drive the real logic against stand-ins.
 */
import { discoverLoreSeries } from './discover/lore.js'
import { parseServerDate, planDiscovery, toServerDate } from './discover/plan.js'
import {
  failedId,
  mergeStates,
  serializeState,
  type FailedSeries,
  type PendingSeries,
  type RunState,
  type StateStore
} from './discover/state.js'
import type { GitHubPulls } from './github/pulls.js'
import type { LifecycleRepo } from './lifecycle/history.js'
import { listBotPulls, runLifecycle } from './lifecycle/run.js'
import type { Outcome, SeriesRef } from './model.js'
import { reportChecks } from './report/checks.js'
import type { RunReport } from './report/summary.js'
import type { ApplyFn, Log, RemoteRepo, RunLog, SeriesResult } from './ports.js'
import { processSeries, tipOf } from './process.js'
import type { Lore } from './services/lore.js'
import type { Patchwork } from './services/patchwork.js'
import type { Settings } from './settings.js'
import { failureKind } from './errors.js'
import type { Writes } from './writes.js'

export interface BridgeDeps {
  settings: Readonly<Settings>
  pulls: GitHubPulls
  remote: RemoteRepo
  apply: ApplyFn
  lore?: Lore
  patchwork?: Patchwork
  state: StateStore
  writes: Writes
  log: RunLog
  now: () => Date
  /** Git for merge detection, refreshing open PRs and range-diffs (without it those are skipped). */
  lifecycleRepo?: LifecycleRepo
}

export interface BridgeReport extends RunReport {
  results: SeriesResult[]
  /** Series still pending (grace period, budget, retries) after this run. */
  waiting: number
}

/** Gives up on a series whose fetch keeps failing after this many runs. */
const MAX_ATTEMPTS = 6

export async function runBridge(deps: BridgeDeps): Promise<BridgeReport> {
  const { settings, log } = deps
  const warnings: string[] = []

  let loreList = settings.loreList
  if (deps.patchwork) {
    const project = await deps.patchwork.project(settings.patchworkProject)
    if (!loreList) loreList = defaultLoreList(project.listArchiveUrl, project.listId, settings.loreUrl)
    log.info(`Patchwork project ${project.linkName} (list ${project.listId}); lore inbox ${loreList}`)
  }

  const loaded = await deps.state.load()
  const state = loaded.state
  const failed = new Map(state.failed.map(f => [failedId(f), f]))
  const ctx = {
    settings,
    loreList,
    pulls: deps.pulls,
    remote: deps.remote,
    apply: deps.apply,
    lore: deps.lore,
    patchwork: deps.patchwork,
    log,
    failed,
    tips: new Map<string, string>(),
    openBotPulls: await listBotPulls(deps.pulls, settings.branchPrefix),
    lifecycleRepo: deps.lifecycleRepo
  }
  const checks = { patchwork: deps.patchwork, token: settings.patchworkToken, writes: deps.writes, log }

  // Discover.
  let due: PendingSeries[]
  let waiting: PendingSeries[] = []
  let cursor = state.patchworkCursor
  let patchworkSeen = state.patchworkSeen
  // Patches whose Patchwork state changed since the cursor (undefined: not known, as in a dispatch run).
  let stateChanged: number[] | undefined
  let loreCursor = state.loreCursor
  const loreRefs = new Map<string, SeriesRef>()
  if (settings.seriesId) {
    due = [
      {
        key: settings.seriesId,
        completedAt: toServerDate(deps.now().getTime()),
        reason: 'manual',
        attempts: 0
      }
    ]
  } else if (deps.patchwork) {
    const since =
      state.patchworkCursor ?? toServerDate(deps.now().getTime() - settings.lookbackDays * 86_400_000)
    // One paged list: new work, and (for close-on-states) the patches whose state changed.
    const categories =
      settings.closeOnStates.length > 0 ? ['series-completed', 'patch-state-changed'] : ['series-completed']
    const events = await deps.patchwork.events(settings.patchworkProject, since, categories)
    // Patchwork's `since` is inclusive: the events at the cursor that were handled already are not new.
    const seen = new Set(state.patchworkSeen ?? [])
    const fresh = events.filter(e => !(e.date === state.patchworkCursor && seen.has(e.id)))
    const completed = fresh
      .filter(e => e.category === 'series-completed' && e.seriesId !== undefined)
      .map(e => ({ key: String(e.seriesId), completedAt: e.date }))
    const plan = planDiscovery(state, completed, deps.now(), settings.graceMinutes)
    due = plan.due
    waiting = plan.waiting
    cursor = fresh.reduce(
      (latest, e) => (!latest || parseServerDate(e.date) > parseServerDate(latest) ? e.date : latest),
      plan.cursor
    )
    stateChanged = fresh.flatMap(e =>
      e.category === 'patch-state-changed' && e.patchId !== undefined ? [e.patchId] : []
    )
    patchworkSeen = [
      ...(cursor === state.patchworkCursor ? seen : []),
      ...fresh.filter(e => e.date === cursor).map(e => e.id)
    ]
    log.info(
      `Discovered ${completed.length} completion event(s) since ${since}; ${due.length} due, ${waiting.length} in grace period`
    )
  } else if (deps.lore) {
    // Lore-only mode: discovery assembles each series from its thread, so the refs are known already.
    // Failed series whose base moved go back to discovery, which finds their thread again.
    const retries = (await seriesToRetry(failed, [], branch => tipOf(ctx, branch))).flatMap(p => {
      const messageId = failed.get(failedId(p))?.messageId
      return messageId ? [{ ...p, messageId }] : []
    })
    const found = await discoverLoreSeries(
      deps.lore,
      loreList,
      { ...state, pending: [...state.pending, ...retries] },
      deps.now(),
      settings
    )
    due = found.due
    waiting = found.pending
    loreCursor = found.cursor
    for (const ref of found.refs) loreRefs.set(ref.key, ref)
    found.warnings.forEach(w => log.warning(w))
    log.info(
      `Searched ${loreList} for ${found.query}: ${found.hits} message(s); ${due.length} series due, ${waiting.length} waiting`
    )
  } else {
    throw new Error('lore-only discovery needs the lore search (not configured)')
  }
  if (!settings.seriesId && deps.patchwork) {
    due.push(...(await seriesToRetry(failed, due, branch => tipOf(ctx, branch))))
  }

  // Process, oldest first, within the per-run budget; whatever is left stays pending.
  const results: SeriesResult[] = []
  const handled = new Set<string>()
  const stillPending: PendingSeries[] = [...waiting]
  let processed = 0
  for (const [index, item] of due.entries()) {
    if (processed >= settings.maxSeries) {
      stillPending.push(...due.slice(index).map(p => ({ ...p, reason: 'max-series budget' })))
      warnings.push(
        `max-series (${settings.maxSeries}) reached; ${due.length - index} series wait for the next run`
      )
      break
    }
    const result = await log.group(`Series ${item.key}`, () =>
      handleOne(deps, ctx, item, loreRefs.get(item.key))
    )
    if (!result) continue
    await reportChecks(checks, result)
    results.push(result)
    if (result.outcome.kind !== 'adopted' && result.outcome.kind !== 'skipped') processed++
    if (result.retry && !settings.seriesId && item.attempts + 1 < MAX_ATTEMPTS) {
      stillPending.push({
        ...item,
        reason: result.outcome.kind === 'skipped' ? result.outcome.reason : 'retry',
        attempts: item.attempts + 1
      })
    } else {
      handled.add(item.key)
    }
    if (result.failedOn) {
      failed.set(failedId(item), {
        key: item.key,
        baseSha: result.failedOn,
        branch: result.base?.applyOnto,
        messageId: result.ref?.patchworkId === undefined ? result.series?.messageId : undefined,
        reason: reasonOf(result.outcome),
        at: deps.now().toISOString()
      })
    } else if (result.outcome.kind === 'opened' || result.outcome.kind === 'adopted') {
      failed.delete(failedId(item))
    }
    if (result.budgetSpent) {
      stillPending.push(...due.slice(index + 1).map(p => ({ ...p, reason: 'max-writes budget' })))
      warnings.push(
        `max-writes (${settings.maxWrites}) reached; ${due.length - index} series wait for the next run`
      )
      break
    }
  }

  // Which PRs may have been decided on Patchwork: those whose patches changed state since the cursor. Each
  // changed patch names its series with one request, unless that costs more than asking per open PR.
  let decidedCandidates: Set<string> | undefined
  if (stateChanged && deps.patchwork) {
    const patchwork = deps.patchwork
    const changed = [...new Set(stateChanged)]
    if (changed.length === 0) decidedCandidates = new Set()
    else if (changed.length <= ctx.openBotPulls.length) {
      decidedCandidates = new Set()
      for (const id of changed) {
        const series = await patchwork.patchSeries(id).catch(() => undefined)
        if (series !== undefined) decidedCandidates.add(String(series))
      }
    }
  }

  // Lifecycle over ml2pr's open PRs (superseded, decided on Patchwork, stale).
  const closed = await log.group('Lifecycle of open PRs', () =>
    runLifecycle(
      {
        settings,
        pulls: deps.pulls,
        patchwork: deps.patchwork,
        log,
        now: deps.now,
        repo: deps.lifecycleRepo,
        apply: deps.apply,
        lore: deps.lore,
        loreList,
        tips: ctx.tips,
        failed,
        checks,
        decidedCandidates
      },
      results
    )
  )

  // Save what this run learned (not in dry-run: a dry run changes nothing).
  const ours: RunState = {
    version: 1,
    patchworkCursor: cursor,
    patchworkSeen,
    loreCursor,
    pending: stillPending,
    failed: [...failed.values()]
  }
  // A dispatch run changes only its series' branch and PR; a run that learned nothing changes no ref.
  if (!deps.writes.dryRun && !settings.seriesId) {
    if (serializeState(ours, deps.now()) === serializeState(state, deps.now()))
      log.info('run state unchanged; not saved')
    else await saveState(deps.state, loaded, ours, handled, log)
  }

  return {
    dryRun: deps.writes.dryRun,
    discovered: due.length + waiting.length,
    outcomes: [...results.map(r => r.outcome), ...closed],
    series: results.flatMap(r => (r.ref ? [r.ref] : [])),
    lore: { url: settings.loreUrl, list: loreList },
    bases: [...ctx.tips.entries()].map(([branch, sha]) => ({ branch, sha })),
    plannedWrites: deps.writes.planned,
    warnings,
    results,
    waiting: stillPending.length
  }
}

/**
 * Series that failed to apply are tried again once the branch they failed on has moved (not on every run
 * against the same base). Lifecycle entries (`refresh/…`) are the lifecycle's own business.
 */
async function seriesToRetry(
  failed: Map<string, FailedSeries>,
  due: PendingSeries[],
  tipOf: (branch: string) => Promise<string>
): Promise<PendingSeries[]> {
  const queued = new Set(due.map(p => p.key))
  const retry: PendingSeries[] = []
  for (const f of failed.values()) {
    if (!f.branch || f.kind === 'refresh' || queued.has(f.key)) continue
    if ((await tipOf(f.branch)) !== f.baseSha) {
      retry.push({ key: f.key, completedAt: f.at, reason: `${f.branch} moved`, attempts: 0 })
    }
  }
  return retry
}

async function handleOne(
  deps: BridgeDeps,
  ctx: Parameters<typeof processSeries>[0],
  item: PendingSeries,
  known?: SeriesRef
): Promise<SeriesResult | undefined> {
  if (known) return processRef(deps, ctx, known)
  const id = Number(item.key)
  let ref: SeriesRef | undefined
  try {
    ref = await deps.patchwork!.series(id)
  } catch (error) {
    return {
      outcome: {
        kind: 'failed',
        key: item.key,
        title: `series ${item.key}`,
        reason: (error as Error).message
      },
      retry: true
    }
  }
  if (!ref) {
    return {
      outcome: {
        kind: 'failed',
        key: item.key,
        title: `series ${item.key}`,
        reason: `Patchwork has no series ${item.key}`
      }
    }
  }
  if (
    deps.settings.patchworkDelegate &&
    !(await delegatedTo(deps.patchwork!, id, deps.settings.patchworkDelegate))
  ) {
    return {
      outcome: {
        kind: 'skipped',
        key: ref.key,
        title: ref.name,
        reason: `not delegated to ${deps.settings.patchworkDelegate}`
      },
      ref
    }
  }
  return processRef(deps, ctx, ref)
}

async function processRef(
  deps: BridgeDeps,
  ctx: Parameters<typeof processSeries>[0],
  ref: SeriesRef
): Promise<SeriesResult> {
  try {
    return { ...(await processSeries(ctx, ref)), ref }
  } catch (error) {
    // ml2pr's own trouble (no access, a base branch that does not exist) is not the series' fault: fail the run.
    const kind = failureKind(error)
    if (kind === 'own') throw error
    // One broken series never stops the others; a spent budget stops everything that writes.
    const message = kind === 'budget' ? `budget: ${(error as Error).message}` : (error as Error).message
    deps.log.warning(`series ${ref.key}: ${message}`)
    if (kind === 'budget') {
      return {
        outcome: { kind: 'failed', key: ref.key, title: ref.name, reason: message },
        retry: true,
        ref,
        budgetSpent: true
      }
    }
    return { outcome: { kind: 'failed', key: ref.key, title: ref.name, reason: message }, retry: true, ref }
  }
}

async function delegatedTo(patchwork: Patchwork, seriesId: number, delegate: string): Promise<boolean> {
  const states = await patchwork.patchStates(seriesId)
  const want = delegate.toLowerCase()
  return states.some(
    s =>
      s.delegate &&
      (s.delegate.username.toLowerCase() === want ||
        String(s.delegate.id) === want ||
        s.delegate.email.toLowerCase() === want)
  )
}

function reasonOf(outcome: Outcome): string {
  return 'reason' in outcome ? outcome.reason : outcome.kind
}

/** Saves with a lease; when another run saved meanwhile, merges into its state and tries again. */
async function saveState(
  store: StateStore,
  loaded: { state: RunState; version: string | null },
  ours: RunState,
  handled: Set<string>,
  log: Log
): Promise<void> {
  let base = loaded
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const next = attempt === 0 ? ours : mergeStates(base.state, ours, handled)
      if (await store.save(next, base.version)) return
      log.info('state ref moved during this run (an overlapping run?); merging and retrying')
      base = await store.load()
    }
  } catch (error) {
    // The state only saves work; without it the next run re-scans (PRs are still looked up first).
    log.warning(`could not save the run state: ${(error as Error).message}`)
    return
  }
  log.warning(
    'could not save the run state after 5 attempts; the next run will re-scan (no duplicates: PRs are looked up first)'
  )
}

/** The lore inbox of a Patchwork project: its archive URL on the lore host, else the list-id's first label. */
export function defaultLoreList(listArchiveUrl: string, listId: string, loreUrl: string): string {
  try {
    const archive = new URL(listArchiveUrl)
    if (archive.origin === new URL(loreUrl).origin) {
      const name = archive.pathname.split('/').filter(Boolean)[0]
      if (name && name !== 'r' && name !== 'all') return name
    }
  } catch {
    // not a URL: fall through
  }
  return listId.split('.')[0]
}

export type { FailedSeries }
