/**
 * Lore-only discovery: no Patchwork, only the list's public-inbox archive.
 *
 * Each run searches the mails lore *received* since the last run (`rt:`, the server's clock, so wrong
 * sender clocks do not hide mail), a little earlier than the cursor so that mail indexed late is not
 * lost. The hits only say which series moved; each of them is then assembled from its whole thread (b4's
 * rules), so patches and cover letters outside the search window count too. A series is due when it is
 * complete and its newest mail is older than the grace period; otherwise it waits in the pending list,
 * which keeps the Message-ID to look the thread up again. Running twice over the same mail is harmless:
 * the key is derived from the Message-ID, and the PR lookup by branch makes the second sighting a no-op.
 */
import { createHash } from 'node:crypto'
import { splitHeaderBody } from '../assemble/mime.js'
import { assembleSeries, findSeries } from '../assemble/series.js'
import { parseMbox } from '../fetch/mails.js'
import type { Mail, Series, SeriesRef } from '../model.js'
import { LoreError, type Lore } from '../services/lore.js'
import type { PendingSeries, RunState } from './state.js'

/** How far before the cursor each search starts: lore may index a mail after it was received. */
export const OVERLAP_SECONDS = 3600

/** How long patches whose cover letter is referenced but not archived wait for it. */
export const COVER_WAIT_MINUTES = 60

/** Hex digits of sha256 in a lore key: 48 bits keep collisions unlikely over a list's lifetime. */
const KEY_HEX_DIGITS = 12

export type LoreSource = Pick<Lore, 'search' | 'thread'>

export interface LoreDiscoverySettings {
  lookbackDays: number
  graceMinutes: number
  /** Stop fetching threads once this many series are due (the rest are checked next run). */
  maxSeries?: number
}

/** A lore series waiting in the run state; the Message-ID finds its thread again. */
export interface LorePendingSeries extends PendingSeries {
  /** The series' cover letter or patch Message-ID (without angle brackets). */
  messageId: string
}

export interface LoreDiscovery {
  /** Complete series past their grace period, newest mail oldest first. */
  refs: SeriesRef[]
  /** The same series as pending entries, in the same order (for the run's budget and retries). */
  due: LorePendingSeries[]
  /** Incomplete series, series in their grace period, and candidates not checked this run. */
  pending: LorePendingSeries[]
  /** The new `RunState.loreCursor` (epoch seconds). */
  cursor: number
  /** The search query sent. */
  query: string
  /** Messages the search returned. */
  hits: number
  warnings: string[]
}

/**
 * The key of a lore series in branch names and state: `l` and the first hex digits of the SHA-256 of its
 * Message-ID. The letter keeps it apart from Patchwork's numeric ids; hex keeps it a valid ref component.
 */
export function loreSeriesKey(messageId: string): string {
  const id = messageId.trim().replace(/^<|>$/g, '')
  return `l${createHash('sha256').update(id, 'utf8').digest('hex').slice(0, KEY_HEX_DIGITS)}`
}

/** True for keys made by loreSeriesKey. */
export function isLoreSeriesKey(key: string): boolean {
  return new RegExp(`^l[0-9a-f]{${KEY_HEX_DIGITS}}$`).test(key)
}

/** The public-inbox search for everything received since `sinceSeconds` (results only, no threads). */
export function receivedSinceQuery(sinceSeconds: number): string {
  return `rt:${Math.max(0, Math.floor(sinceSeconds))}..`
}

/** Where this run's search starts: a little before the cursor, or `lookbackDays` ago on a first run. */
export function searchStart(cursor: number | undefined, now: Date, lookbackDays: number): number {
  const nowSeconds = Math.floor(now.getTime() / 1000)
  if (cursor === undefined) return nowSeconds - Math.round(lookbackDays * 86_400)
  return Math.min(cursor, nowSeconds) - OVERLAP_SECONDS
}

/**
 * When lore received a mail: the date of its topmost dated `Received:` header (the archive's own hop, as
 * public-inbox's `rt:` reads it), else its `Date:`. Never later than `now`: a sender clock in the future
 * must not hold a series back.
 */
export function receivedAt(mail: Mail, now: Date): number {
  const { headers } = splitHeaderBody(mail.raw)
  let time = mail.date?.getTime() ?? now.getTime()
  for (const { name, value } of headers) {
    const stamp =
      name === 'received' && value.includes(';') ? Date.parse(value.slice(value.lastIndexOf(';') + 1)) : NaN
    if (Number.isFinite(stamp)) {
      time = stamp
      break
    }
  }
  return Math.min(time, now.getTime())
}

/** The mails that make the series: its cover letter and its patches. */
function seriesMails(series: Series): Mail[] {
  return [...(series.cover ? [series.cover] : []), ...series.patches.map(p => p.mail)]
}

/** The time the newest mail of the series arrived: the grace period runs from here. */
export function newestMailTime(series: Series, now: Date): number {
  return Math.max(...seriesMails(series).map(m => receivedAt(m, now)))
}

/** The SeriesRef of an assembled lore series (pure). */
export function loreSeriesRef(series: Series): SeriesRef {
  const patchMsgids = series.patches.map(p => p.mail.messageId)
  const dates = seriesMails(series).flatMap(m => (m.date ? [m.date.getTime()] : []))
  return {
    key: loreSeriesKey(series.messageId),
    // The subject with its `[...]` tags: exclude-subject matches on them, the PR title drops them.
    name: stripReplyMarker(series.subject.full) || series.title,
    version: series.revision,
    total: series.expected,
    receivedTotal: series.patches.length,
    receivedAll: series.complete,
    submitter: series.author,
    // Re-assembly anchors at `coverMsgid ?? patchMsgids[0]`; a partial reroll's patch 1 is borrowed
    // from the previous version, so its identifying patch goes here to select the same revision again.
    coverMsgid: series.messageId !== patchMsgids[0] ? series.messageId : undefined,
    patchMsgids,
    patchIds: [],
    date: new Date(dates.length > 0 ? Math.min(...dates) : 0).toISOString()
  }
}

function stripReplyMarker(subject: string): string {
  return subject.replace(/^\s*((re|aw|fwd):\s*)+/i, '').trim()
}

/** One candidate series: a Message-ID seen in the search or remembered from an earlier run. */
interface Candidate {
  messageId: string
  /** Newest mail time known so far (ms), kept while the thread cannot be checked. */
  newest: number
  attempts: number
}

type Checked =
  | { kind: 'series'; ref: SeriesRef; entry: LorePendingSeries; due: boolean }
  | { kind: 'waiting'; entry: LorePendingSeries }
  | { kind: 'dropped'; warning: string }

/** Due when this run's pending reason says so; everything else waits. */
const DUE = 'new'

/**
 * Finds the lore series that are due this run. Throws LoreError when the search fails (a bot challenge
 * or an outage): the cursor must not move then. A thread that cannot be fetched only keeps its series
 * pending.
 */
export async function discoverLoreSeries(
  lore: LoreSource,
  list: string,
  state: RunState,
  now: Date,
  settings: LoreDiscoverySettings
): Promise<LoreDiscovery> {
  const warnings: string[] = []
  const query = receivedSinceQuery(searchStart(state.loreCursor, now, settings.lookbackDays))
  const found = await parseMbox(await lore.search(list, query), 'mboxrd')
  warnings.push(...found.warnings)

  // Pending series first (they waited longest), then what moved in the window, each Message-ID once.
  const candidates = new Map<string, Candidate>()
  for (const entry of state.pending) {
    if (!isLorePending(entry)) continue
    const newest = Date.parse(entry.completedAt)
    candidates.set(entry.messageId, {
      messageId: entry.messageId,
      newest: Number.isFinite(newest) ? newest : now.getTime(),
      attempts: entry.attempts
    })
  }
  for (const series of findSeries(found.mails)) {
    if (candidates.has(series.messageId)) continue
    candidates.set(series.messageId, {
      messageId: series.messageId,
      newest: newestMailTime(series, now),
      attempts: 0
    })
  }

  const threads = new Map<string, Mail[]>()
  const seen = new Map<string, Extract<Checked, { kind: 'series' }>>()
  const waiting: LorePendingSeries[] = []
  let dueCount = 0
  for (const candidate of candidates.values()) {
    const checked =
      settings.maxSeries !== undefined && dueCount >= settings.maxSeries
        ? { kind: 'waiting' as const, entry: pendingEntry(candidate, 'max-series budget') }
        : await checkCandidate(lore, list, candidate, threads, now, settings)
    if (checked.kind === 'dropped') {
      warnings.push(checked.warning)
    } else if (checked.kind === 'waiting') {
      if (checked.entry.reason.startsWith('lore:'))
        warnings.push(`<${candidate.messageId}>: ${checked.entry.reason}`)
      waiting.push(checked.entry)
    } else if (!seen.has(checked.ref.key)) {
      // A pending entry and a new hit can be two sightings of one series: it counts once.
      seen.set(checked.ref.key, checked)
      if (checked.due) dueCount++
    }
  }

  const series = [...seen.values()].sort((a, b) => byTime(a.entry, b.entry))
  const due = series.filter(s => s.due)
  // A candidate that could not be checked is dropped when its series was assembled under another id.
  const assembledIds = new Set(series.map(s => s.entry.messageId))
  const pending = dedupeByKey([
    ...series.filter(s => !s.due).map(s => s.entry),
    ...waiting.filter(p => !assembledIds.has(p.messageId) && !seen.has(p.key))
  ]).sort(byTime)
  return {
    refs: due.map(s => s.ref),
    due: due.map(s => s.entry),
    pending,
    cursor: Math.floor(now.getTime() / 1000),
    query,
    hits: found.mails.length,
    warnings
  }
}

/** Assembles one candidate from its whole thread and decides: due, waiting, or given up. */
async function checkCandidate(
  lore: LoreSource,
  list: string,
  candidate: Candidate,
  threads: Map<string, Mail[]>,
  now: Date,
  settings: LoreDiscoverySettings
): Promise<Checked> {
  const expired = (newest: number): boolean => newest < now.getTime() - settings.lookbackDays * 86_400_000
  const want = { messageId: candidate.messageId }
  let mails = threads.get(candidate.messageId)
  let assembled = mails && assembleSeries(mails, want)
  try {
    // public-inbox also joins threads by subject, and not symmetrically: a thread fetched for another
    // message may hold this one without all of its patches, so anything short of complete asks again.
    if (!assembled?.ok || !assembled.series.complete) {
      mails = await fetchThread(lore, list, candidate.messageId, threads)
      assembled = mails && assembleSeries(mails, want)
    }
  } catch (error) {
    if (!(error instanceof LoreError)) throw error
    // Transient or not, the next run asks again; the lookback window bounds how long.
    if (expired(candidate.newest))
      return { kind: 'dropped', warning: `gave up on <${candidate.messageId}>: lore: ${error.message}` }
    return {
      kind: 'waiting',
      entry: { ...pendingEntry(candidate, `lore: ${error.message}`), attempts: candidate.attempts + 1 }
    }
  }
  if (!assembled?.ok) {
    // A cover letter whose patches are not archived yet, or a thread lore has not indexed yet.
    const reason = assembled ? assembled.reason : 'lore has no thread for it yet'
    if (expired(candidate.newest))
      return { kind: 'dropped', warning: `gave up on <${candidate.messageId}>: ${reason}` }
    return { kind: 'waiting', entry: pendingEntry(candidate, `waiting: ${reason}`) }
  }
  const { series } = assembled
  const ref = loreSeriesRef(series)
  const newest = newestMailTime(series, now)
  if (!series.complete && expired(newest)) {
    return {
      kind: 'dropped',
      warning: `gave up on "${ref.name}" <${series.messageId}>: ${ref.receivedTotal}/${ref.total} patches after ${settings.lookbackDays} days`
    }
  }
  const reason = waitReason(series, mails ?? [], newest, now, settings) ?? DUE
  const entry: LorePendingSeries = {
    key: ref.key,
    messageId: series.messageId,
    completedAt: new Date(newest).toISOString(),
    reason,
    attempts: candidate.attempts
  }
  return { kind: 'series', ref, entry, due: reason === DUE }
}

/**
 * Why a series assembled from its thread is not due yet, if it is not. Patches that answer a mail the
 * thread lacks were most likely sent under a cover letter lore has not archived yet: taking the series now
 * would key it by patch 1, and the cover arriving later would make it a second series. So it waits for
 * the cover, but not forever (the cover may have gone to another list only).
 */
export function waitReason(
  series: Series,
  thread: Mail[],
  newest: number,
  now: Date,
  settings: Pick<LoreDiscoverySettings, 'graceMinutes'>
): string | undefined {
  if (!series.complete) return `incomplete: ${series.patches.length}/${series.expected} patches`
  const first = series.patches[0]?.mail
  const orphaned =
    series.cover === undefined &&
    series.expected > 1 &&
    first?.inReplyTo !== undefined &&
    !thread.some(m => m.messageId === first.inReplyTo)
  if (orphaned && newest + Math.max(settings.graceMinutes, COVER_WAIT_MINUTES) * 60_000 > now.getTime()) {
    return 'waiting for its cover letter'
  }
  if (newest + settings.graceMinutes * 60_000 > now.getTime()) return 'grace period'
  return undefined
}

function pendingEntry(candidate: Candidate, reason: string): LorePendingSeries {
  return {
    key: loreSeriesKey(candidate.messageId),
    messageId: candidate.messageId,
    completedAt: new Date(candidate.newest).toISOString(),
    reason,
    attempts: candidate.attempts
  }
}

function byTime(a: PendingSeries, b: PendingSeries): number {
  return a.completedAt.localeCompare(b.completedAt) || a.key.localeCompare(b.key)
}

function isLorePending(entry: PendingSeries): entry is LorePendingSeries {
  const messageId = (entry as Partial<LorePendingSeries>).messageId
  return typeof messageId === 'string' && messageId !== ''
}

function dedupeByKey(entries: LorePendingSeries[]): LorePendingSeries[] {
  const map = new Map<string, LorePendingSeries>()
  for (const entry of entries) if (!map.has(entry.key)) map.set(entry.key, entry)
  return [...map.values()]
}

/** The whole thread holding `messageId`, remembered for the other messages in it. */
async function fetchThread(
  lore: LoreSource,
  list: string,
  messageId: string,
  cache: Map<string, Mail[]>
): Promise<Mail[] | undefined> {
  const data = await lore.thread(list, messageId)
  if (!data) return undefined
  const { mails } = await parseMbox(data, 'mboxrd')
  for (const mail of mails) cache.set(mail.messageId, mails)
  return mails
}
