/**
 * Run-to-run memory, with no database.
 *
 * Where it lives: a JSON file in a commit on `refs/ml2pr/state` (settings.stateRef) in the repository itself, pushed with a
 * lease. Why: the repository is the only storage every run can reach with the token it already has, a
 * ref update is atomic, and the lease turns two overlapping runs into "one wins, the other merges and
 * retries". Why not PR bodies alone: they cannot hold a cursor or a failed series' base.
 *
 * What it is NOT: the authority on whether a series was handled. That is GitHub itself: before creating
 * anything, ml2pr looks up the PR (open or closed) for the series' branch. So a lost or stale state costs
 * a wider scan, never a duplicate PR; the state only saves work and remembers failures.
 */

export interface PendingSeries {
  /** Patchwork series id, or a lore series key. */
  key: string
  /** When the series became complete (server time for Patchwork events, ISO). */
  completedAt: string
  /** Why it is still waiting: grace period, budget, or a transient fetch failure. */
  reason: string
  attempts: number
  /** Lore-only mode: the Message-ID the series is known by (its key is a hash of it). */
  messageId?: string
}

export interface FailedSeries {
  key: string
  /** A series that failed to apply, or an open PR whose refresh onto the moved base failed. */
  kind?: 'series' | 'refresh'
  /** The apply-branch tip it failed on: retried only when the base moves. */
  baseSha: string
  /** The branch it was applied onto (to notice when that branch moves). */
  branch?: string
  /** Lore-only mode: the Message-ID the series is known by, to find its thread again. */
  messageId?: string
  reason: string
  at: string
}

export interface RunState {
  version: 1
  /** Newest Patchwork series-completed event date seen (server time, naive ISO as Patchwork sends it). */
  patchworkCursor?: string
  /** Ids of the events dated exactly at the cursor, handled already: the cursor is exclusive. */
  patchworkSeen?: number[]
  /** Lore-only mode: epoch seconds of the newest search window end. */
  loreCursor?: number
  /** Lore-only mode: Message-IDs of the mails received since the search overlap began, already seen. */
  loreSeen?: string[]
  pending: PendingSeries[]
  failed: FailedSeries[]
}

export const EMPTY_STATE: RunState = Object.freeze({ version: 1, pending: [], failed: [] })

/** Failures are forgotten after this long so the file stays small. */
const FAILED_TTL_DAYS = 30

export function parseState(text: string | undefined): RunState {
  if (!text) return { ...EMPTY_STATE, pending: [], failed: [] }
  try {
    const raw = JSON.parse(text) as Partial<RunState>
    return {
      version: 1,
      patchworkCursor: typeof raw.patchworkCursor === 'string' ? raw.patchworkCursor : undefined,
      patchworkSeen: numbers(raw.patchworkSeen),
      loreCursor: typeof raw.loreCursor === 'number' ? raw.loreCursor : undefined,
      loreSeen: strings(raw.loreSeen),
      pending: Array.isArray(raw.pending) ? raw.pending.filter(p => typeof p?.key === 'string') : [],
      failed: Array.isArray(raw.failed)
        ? raw.failed.filter(f => typeof f?.key === 'string').map(upgradeFailed)
        : []
    }
  } catch {
    // A corrupt state file must not stop the bridge: start over from the lookback window.
    return { ...EMPTY_STATE, pending: [], failed: [] }
  }
}

function numbers(value: unknown): number[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is number => typeof v === 'number') : undefined
}

function strings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined
}

/** Older states kept a PR's refresh failure under the key `refresh/<key>`. */
function upgradeFailed(f: FailedSeries): FailedSeries {
  if (f.kind === undefined && f.key.startsWith('refresh/'))
    return { ...f, key: f.key.slice('refresh/'.length), kind: 'refresh' }
  return f
}

/** Where a failure is kept: a series' own failure and its PR's refresh failure are kept apart. */
export function failedId(f: Pick<FailedSeries, 'key' | 'kind'>): string {
  return `${f.kind ?? 'series'} ${f.key}`
}

/**
 * The state as saved: sorted, failures older than FAILED_TTL_DAYS dropped. It holds no clock reading of its
 * own, so a run that learned nothing serializes exactly what it loaded (and saves nothing).
 */
export function serializeState(state: RunState, now: Date): string {
  const cutoff = now.getTime() - FAILED_TTL_DAYS * 86_400_000
  const tidy: RunState = {
    version: 1,
    patchworkCursor: state.patchworkCursor,
    patchworkSeen: state.patchworkSeen?.length ? [...state.patchworkSeen].sort((a, b) => a - b) : undefined,
    loreCursor: state.loreCursor,
    loreSeen: state.loreSeen?.length ? [...state.loreSeen].sort() : undefined,
    pending: [...state.pending].sort(
      (a, b) => a.completedAt.localeCompare(b.completedAt) || a.key.localeCompare(b.key)
    ),
    failed: state.failed
      .filter(f => Date.parse(f.at) >= cutoff)
      .sort((a, b) => failedId(a).localeCompare(failedId(b)))
  }
  return `${JSON.stringify(tidy, null, 2)}\n`
}

/**
 * Merges what this run learned into a state another run pushed meanwhile: cursors take the newer value,
 * pending and failed lists are united (this run's entry wins for a key it handled).
 */
export function mergeStates(theirs: RunState, ours: RunState, handledKeys: Set<string>): RunState {
  const maxStr = (a?: string, b?: string): string | undefined => (!a ? b : !b ? a : a > b ? a : b)
  const maxNum = (a?: number, b?: number): number | undefined =>
    a === undefined ? b : b === undefined ? a : Math.max(a, b)
  const byKey = <T extends { key: string }>(a: T[], b: T[], id: (item: T) => string = i => i.key): T[] => {
    const map = new Map<string, T>()
    for (const item of a) if (!handledKeys.has(item.key)) map.set(id(item), item)
    for (const item of b) map.set(id(item), item)
    return [...map.values()]
  }
  const newer = maxStr(theirs.patchworkCursor, ours.patchworkCursor)
  const seenAt = (s: RunState): number[] => (s.patchworkCursor === newer ? (s.patchworkSeen ?? []) : [])
  return {
    version: 1,
    patchworkCursor: newer,
    patchworkSeen: [...new Set([...seenAt(theirs), ...seenAt(ours)])],
    loreCursor: maxNum(theirs.loreCursor, ours.loreCursor),
    loreSeen: [...new Set([...(theirs.loreSeen ?? []), ...(ours.loreSeen ?? [])])],
    pending: byKey(theirs.pending, ours.pending).filter(
      p => !handledKeys.has(p.key) || ours.pending.some(o => o.key === p.key)
    ),
    failed: byKey(theirs.failed, ours.failed, failedId)
  }
}

/** Where the state is kept; a save fails (returns false) when someone else saved since our load. */
export interface StateStore {
  load(): Promise<{ state: RunState; version: string | null }>
  save(state: RunState, version: string | null): Promise<boolean>
}
