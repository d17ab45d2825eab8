/**
 * Merge detection from git, cheaply: the base branch is fetched once per run with a bounded history
 * (commits and trees only) and every open PR on it is checked against that. Message-IDs in trailers are read
 * from commit messages, which costs nothing more; the patch-id fallback fetches the PR's commits and computes
 * patch-ids only for base commits that change exactly the same files as one of them, so its blobs stay few.
 */
import type { BotPull } from '../ports.js'
import type { HistoryCommit, LifecycleRepo } from './history.js'
import { findLanded, seriesPatches, trailerMessageIds, type BaseCommitFacts, type Landing } from './landed.js'

/** How far back the base is searched: enough for weeks of a subsystem tree, bounded for mainline. */
export const BASE_HISTORY_DEPTH = 500

interface LoadedBase {
  tip: string
  commits: HistoryCommit[]
  facts: BaseCommitFacts[]
  files?: Map<string, string[]>
}

/** The recent history of base branches, fetched at most once per branch and run. */
export class BaseHistory {
  private readonly loaded = new Map<string, Promise<LoadedBase>>()

  constructor(
    private readonly repo: LifecycleRepo,
    private readonly depth = BASE_HISTORY_DEPTH
  ) {}

  load(branch: string): Promise<LoadedBase> {
    let base = this.loaded.get(branch)
    if (!base) {
      base = (async () => {
        const tip = await this.repo.fetchBranch(branch, this.depth)
        const commits = await this.repo.history(tip, this.depth)
        const facts = commits.map(c => ({
          sha: c.sha,
          subject: c.subject,
          msgids: trailerMessageIds(c.message)
        }))
        return { tip, commits, facts }
      })()
      this.loaded.set(branch, base)
    }
    return base
  }

  async files(branch: string): Promise<Map<string, string[]>> {
    const base = await this.load(branch)
    base.files ??= await this.repo.changedFiles(
      base.commits.filter(c => c.parents.length === 1).map(c => c.sha)
    )
    return base.files
  }
}

export interface LandingQuery {
  bot: BotPull
  /** The series' patch Message-IDs in counter order (empty when only lore knows them). */
  msgids: string[]
  /** Number of patches when known, to fetch the PR's commits no deeper than needed. */
  patchCount?: number
  /**
   * The tip of the branch the series was applied onto, when known: equal to the PR's `applyBase`, nothing
   * can have landed since, and the base's history is not fetched at all.
   */
  applyTip?: string
}

/** Whether every patch of the PR's series is in its base branch, and as which commits. */
export async function detectLanding(
  repo: LifecycleRepo,
  history: BaseHistory,
  query: LandingQuery
): Promise<Landing> {
  const { bot, msgids } = query
  const none: Landing = { landed: false, matches: [], missing: [] }
  if (query.applyTip === bot.marker.applyBase) return none
  const branch = bot.marker.base
  const base = await history.load(branch)
  if (base.tip === bot.marker.applyBase) return none

  const byTrailer = findLanded(seriesPatches(msgids, []), base.facts)
  if (byTrailer.landed) return byTrailer

  // Fallback: patch-ids of the PR's commits against base commits touching the same files.
  const head = bot.pull.headSha
  const maxDepth = Math.min((query.patchCount ?? BASE_HISTORY_DEPTH - 1) + 1, BASE_HISTORY_DEPTH)
  if (!/^[0-9a-f]{40}$/.test(head) || !(await repo.fetchRange(bot.marker.applyBase, head, maxDepth))) {
    return byTrailer
  }
  const prCommits = await repo.rangeCommits(bot.marker.applyBase, head)
  if (prCommits.length === 0) return byTrailer
  const prFiles = await repo.changedFiles(prCommits.map(c => c.sha))
  const wanted = new Set([...prFiles.values()].map(fileSetKey))
  const baseFiles = await history.files(branch)
  const candidates = [...baseFiles.entries()]
    .filter(([, files]) => wanted.has(fileSetKey(files)))
    .map(([sha]) => sha)
  if (candidates.length === 0) return byTrailer

  const ids = await repo.patchIds([...prCommits.map(c => c.sha), ...candidates])
  const facts = base.facts.map(f => (ids.has(f.sha) ? { ...f, patchId: ids.get(f.sha) } : f))
  const patchIds = prCommits.map(c => ids.get(c.sha) ?? '')
  const patches = seriesPatches(msgids, patchIds).map(p =>
    p.patchId === '' ? { counter: p.counter, msgid: p.msgid } : p
  )
  return findLanded(patches, facts)
}

function fileSetKey(files: string[]): string {
  return [...files].sort().join('\0')
}
