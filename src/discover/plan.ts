/**
 * Which series to handle this run (pure). Patchwork's series-completed events move a cursor in server
 * time; every completed series goes into the pending list first, and leaves it only when handled. So a
 * grace period, the per-run budget, a transient fetch failure or a killed run all mean "next run", never
 * "lost".
 */
import type { PendingSeries, RunState } from './state.js'

export interface CompletedSeries {
  key: string
  completedAt: string
}

export interface DiscoveryPlan {
  /** Handle these now, oldest completion first. */
  due: PendingSeries[]
  /** Everything not due yet (grace period), kept for the next run. */
  waiting: PendingSeries[]
  cursor?: string
}

/** Patchwork dates are naive UTC (`2026-11-28T02:24:46.830765`): read them as UTC. */
export function parseServerDate(date: string): number {
  return Date.parse(/[Zz]|[+-]\d\d:?\d\d$/.test(date) ? date : `${date}Z`)
}

/** A naive UTC timestamp in Patchwork's own format, for `since=`. */
export function toServerDate(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '')
}

export function planDiscovery(
  state: RunState,
  completed: CompletedSeries[],
  now: Date,
  graceMinutes: number
): DiscoveryPlan {
  const pending = new Map<string, PendingSeries>()
  for (const p of state.pending) pending.set(p.key, { ...p })
  let cursor = state.patchworkCursor
  for (const event of completed) {
    const known = pending.get(event.key)
    // The event can fire more than once (an extra patch arrived): the latest completion restarts the grace.
    if (!known || parseServerDate(event.completedAt) > parseServerDate(known.completedAt)) {
      pending.set(event.key, {
        key: event.key,
        completedAt: event.completedAt,
        reason: 'new',
        attempts: known?.attempts ?? 0
      })
    }
    if (!cursor || parseServerDate(event.completedAt) > parseServerDate(cursor)) cursor = event.completedAt
  }
  const graceMs = graceMinutes * 60_000
  const all = [...pending.values()].sort(
    (a, b) => parseServerDate(a.completedAt) - parseServerDate(b.completedAt) || a.key.localeCompare(b.key)
  )
  const isDue = (p: PendingSeries): boolean => parseServerDate(p.completedAt) + graceMs <= now.getTime()
  return {
    due: all.filter(isDue),
    waiting: all.filter(p => !isDue(p)).map(p => ({ ...p, reason: 'grace period' })),
    cursor
  }
}
