/**
 * The range-diff a new version's PR shows against the version it supersedes: `git range-diff` of the old PR's
 * commits and the new ones. Optional by nature: any trouble (the old head gone, history too deep, git failing)
 * means no range-diff, never a failed series.
 */
import type { BotPull, Log } from '../ports.js'
import type { LifecycleRepo } from './history.js'

/** Larger range-diffs are cut here; the body renderer shortens further if the whole body must shrink. */
export const RANGE_DIFF_MAX = 30_000
const OLD_SERIES_MAX_DEPTH = 500

export async function supersededRangeDiff(
  repo: LifecycleRepo,
  old: BotPull,
  newer: { base: string; head: string },
  log: Log
): Promise<{ againstVersion: number; text: string } | undefined> {
  try {
    const oldBase = old.marker.applyBase
    const oldHead = old.pull.headSha
    if (!/^[0-9a-f]{40}$/.test(oldBase) || !/^[0-9a-f]{40}$/.test(oldHead)) return undefined
    if (!(await repo.fetchRange(oldBase, oldHead, OLD_SERIES_MAX_DEPTH))) {
      log.info(`range-diff against #${old.pull.number} skipped: its commits are out of reach`)
      return undefined
    }
    const text = (await repo.rangeDiff(oldBase, oldHead, newer.base, newer.head)).trimEnd()
    if (text === '') return undefined
    const capped = text.length > RANGE_DIFF_MAX ? `${text.slice(0, RANGE_DIFF_MAX)}\n[… truncated]` : text
    return { againstVersion: old.marker.version, text: capped }
  } catch (error) {
    log.info(`range-diff against #${old.pull.number} skipped: ${(error as Error).message}`)
    return undefined
  }
}
