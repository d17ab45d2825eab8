/**
 * Lifecycle decisions, pure: is a PR stale, which older PR does a new series version supersede, are all
 * of a series' patches decided on Patchwork. The runner (run.ts) only fetches facts and carries these out.
 */
import type { PullSummary } from '../github/pulls.js'
import type { BotPull, SeriesIdentity, VersionFacts } from '../ports.js'
import { parseMarker, type PrMarker } from '../publish/render.js'

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

/** ml2pr's PRs among these: the ones whose body starts with ml2pr's marker. */
export function botPullsOf(pulls: PullSummary[]): BotPull[] {
  return pulls.flatMap(pull => {
    const marker = parseMarker(pull.body)
    return marker ? [{ pull, marker }] : []
  })
}

/** The open PRs an incoming series version replaces, oldest version first. */
export function findSuperseded(newer: VersionFacts, open: BotPull[]): BotPull[] {
  return open
    .filter(b => supersedes(newer, identityOf(b.marker)))
    .sort((a, b) => a.marker.version - b.marker.version)
}

export type { SeriesIdentity, VersionFacts }
