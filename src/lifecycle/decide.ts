/**
 * Lifecycle decisions, pure: is a PR stale, which older PR does a new series version supersede, are all
 * of a series' patches decided on Patchwork. The runner (run.ts) only fetches facts and carries these out.
 */

/** What ml2pr wrote about a series in its PR's hidden marker. */
export interface SeriesIdentity {
  key: string
  version: number
  messageId: string
  submitterEmail?: string
  /** Series name normalised by normalizeSeriesName. */
  name?: string
  changeId?: string
}

export interface VersionFacts extends SeriesIdentity {
  /** Message-IDs this series' cover (or patch 1) replies to: a v2 sent In-Reply-To v1's cover. */
  repliesTo: string[]
}

export function isStale(createdAt: string, now: Date, closeAfterDays: number): boolean {
  return now.getTime() - Date.parse(createdAt) >= closeAfterDays * 86_400_000
}

/**
 * Does `newer` supersede `older`? Same series family (change-id, a reply to the old cover, or the same
 * submitter and normalised name) with a higher version. Patchwork never links versions itself.
 */
export function supersedes(newer: VersionFacts, older: SeriesIdentity): boolean {
  if (newer.key === older.key || newer.version <= older.version) return false
  if (newer.changeId && older.changeId) return newer.changeId === older.changeId
  if (newer.repliesTo.includes(older.messageId)) return true
  return (
    !!newer.submitterEmail &&
    !!newer.name &&
    newer.submitterEmail.toLowerCase() === older.submitterEmail?.toLowerCase() &&
    newer.name === older.name
  )
}

/** A series is decided on Patchwork when every patch is in one of the closing states; the reason names them. */
export function decidedState(states: string[], closeOnStates: string[]): string | undefined {
  if (states.length === 0) return undefined
  const closing = new Set(closeOnStates.map(s => s.toLowerCase()))
  if (!states.every(s => closing.has(s.toLowerCase()))) return undefined
  return [...new Set(states)].join(', ')
}
