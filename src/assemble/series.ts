import type { Mail, Patch, Series, Trailer } from '../model.js'
import { buildMailbox, classify, parentOf, type Entry, type Mailbox } from './mailbox.js'
import { patchId } from './patch-id.js'
import { isPullRequest } from './subject.js'
import { findFollowupTrailers } from './trailers.js'

export type SeriesAssembly = { ok: true; series: Series; warnings: string[] } | { ok: false; reason: string }

export interface SeriesWanted {
  /** A Message-ID of the wanted revision (cover, patch, or a reply to one). */
  messageId?: string
  revision?: number
}

/**
 * Assembles one revision of a series from a thread's mails (b4's rules): the revision containing
 * `want.messageId`, else `want.revision`, else the latest. Patches come in counter order, without the
 * cover letter and without replies, each with the follow-up trailers given in review.
 *
 * Only patch mails from the series' author are taken: someone replying into the thread with their own
 * `[PATCH 2/3]` must not land in the series (Patchwork and b4 do not check this).
 */
export function assembleSeries(mails: Mail[], want: SeriesWanted = {}): SeriesAssembly {
  let box = buildMailbox(mails)
  let chosen = chooseRevision(box, want)
  if (!chosen.ok) return chosen
  const author = authorOf(box, chosen.revision, chosen.anchor)
  const own = mails.filter(mail => !isForeignPatch(mail, author))
  const dropped = mails.length - own.length
  if (dropped > 0) {
    box = buildMailbox(own)
    chosen = chooseRevision(box, want)
    if (!chosen.ok) return chosen
  }
  const built = buildSeries(box, chosen.revision)
  if (built.series.patches.length === 0) {
    return {
      ok: false,
      reason: `all patches of v${chosen.revision} are missing (only the cover letter is here)`
    }
  }
  const warnings = [...box.warnings, ...chosen.warnings, ...built.warnings]
  if (dropped > 0)
    warnings.push(`ignored ${dropped} patch mail(s) in the thread sent by others than <${author}>`)
  return { ok: true, series: built.series, warnings }
}

/**
 * Every series revision in an unordered bag of mails (search results from many threads, with replies,
 * pull requests and bug reports): one per cover letter or first patch and revision, incomplete ones
 * included so the caller can wait for the rest.
 */
export function findSeries(mails: Mail[]): Series[] {
  const found: Series[] = []
  for (const thread of threads(mails)) {
    for (const bag of byAuthor(thread)) {
      const box = buildMailbox(bag)
      for (const revision of [...box.revisions.keys()].sort((a, b) => a - b)) {
        const slots = box.revisions.get(revision)
        if (!slots || (!slots.cover && !slots.slots.some(Boolean))) continue
        found.push(buildSeries(box, revision).series)
      }
    }
  }
  return found.sort((a, b) => firstDate(a) - firstDate(b))
}

type Choice =
  { ok: true; revision: number; anchor?: Entry; warnings: string[] } | { ok: false; reason: string }

function chooseRevision(box: Mailbox, want: SeriesWanted): Choice {
  const known = [...box.revisions.keys()].sort((a, b) => a - b)
  const list = known.map(r => `v${r}`).join(', ')
  if (want.messageId !== undefined) {
    let entry = box.byId.get(want.messageId)
    if (!entry)
      return { ok: false, reason: `<${want.messageId}> is not among the ${box.entries.length} mails` }
    const seen = new Set<string>()
    while (entry && entry.kind === 'followup' && !seen.has(entry.mail.messageId)) {
      seen.add(entry.mail.messageId)
      entry = parentOf(box, entry)
    }
    if (entry && (entry.kind === 'cover' || entry.kind === 'patch')) {
      return { ok: true, revision: entry.revision, anchor: entry, warnings: [] }
    }
    const answered =
      entry && box.entries.find(e => e.kind === 'patch' && e.mail.inReplyTo === entry.mail.messageId)
    if (entry && answered) return { ok: true, revision: answered.revision, anchor: answered, warnings: [] }
    return {
      ok: false,
      reason: `<${want.messageId}> is neither a patch nor a cover letter, nor a reply to one`
    }
  }
  if (want.revision !== undefined) {
    if (!box.revisions.has(want.revision)) {
      return { ok: false, reason: `no v${want.revision} among the mails (found: ${list || 'none'})` }
    }
    return { ok: true, revision: want.revision, warnings: [] }
  }
  // Rule 12: the revision whose first patch was sent last.
  const dated = known
    .map(revision => ({ revision, first: box.revisions.get(revision)?.slots.find(Boolean) }))
    .filter((r): r is { revision: number; first: Entry } => r.first !== undefined)
  if (dated.length === 0) {
    const covers = known.length > 0
    return {
      ok: false,
      reason: covers
        ? `a cover letter (${list}) but none of its patches is among the ${box.entries.length} mails`
        : `no patch among the ${box.entries.length} mails`
    }
  }
  dated.sort((a, b) => dateOf(a.first) - dateOf(b.first) || a.revision - b.revision)
  const latest = dated[dated.length - 1].revision
  const warnings = known.length > 1 ? [`the thread has ${list}; using v${latest}, the latest`] : []
  return { ok: true, revision: latest, warnings }
}

function dateOf(entry: Entry): number {
  return entry.mail.date?.getTime() ?? 0
}

function firstDate(series: Series): number {
  const mail = series.cover ?? series.patches[0]?.mail
  return mail?.date?.getTime() ?? 0
}

/** The address of whoever sent the wanted mail, else the chosen revision's cover or first patch. */
function authorOf(box: Mailbox, revision: number, anchor: Entry | undefined): string {
  const slots = box.revisions.get(revision)
  const entry = anchor ?? slots?.cover ?? slots?.slots[1] ?? slots?.slots.find(Boolean)
  return entry?.mail.from.email.toLowerCase() ?? ''
}

function isForeignPatch(mail: Mail, author: string): boolean {
  const kind = classify(mail, 0).kind
  return (kind === 'patch' || kind === 'cover') && mail.from.email.toLowerCase() !== author
}

/** One revision as a Series, with the warnings that concern it. */
function buildSeries(box: Mailbox, revision: number): { series: Series; warnings: string[] } {
  const warnings: string[] = []
  const own = box.revisions.get(revision) ?? { revision, expected: 1, slots: [undefined] }
  let slots = own.slots.slice()
  while (slots.length <= Math.max(own.expected, 1)) slots.push(undefined)
  const ownIds = new Set(slots.filter((e): e is Entry => e !== undefined).map(e => e.mail.messageId))

  let partialReroll = false
  if (missingCounters(slots).length > 0 && slots.some(Boolean)) {
    const filled = rerolledSlots(box, revision, slots)
    if (filled) {
      slots = filled.slots
      partialReroll = true
      warnings.push(
        `v${revision} re-sends only some patches; [${filled.taken.join(', ')}] taken from v${revision - 1}`
      )
    }
  }

  // Rule 15: without a `0/N` cover, the mail the first patch answers may be the cover letter.
  let cover = own.cover
  if (!cover) {
    for (const entry of slots) {
      const parent = entry?.mail.inReplyTo ? box.byId.get(entry.mail.inReplyTo) : undefined
      if (entry && parent && isImplicitCover(parent, entry)) {
        cover = parent
        break
      }
    }
  }
  const ownCover = cover !== undefined && (cover.kind === 'other' || cover.revision === revision)

  const expected = slots.length - 1
  const coverTrailers = cover ? (box.trailers.get(cover.mail.messageId) ?? []) : []
  const others = otherRevisionPatches(box, revision)
  const carriedFrom = new Set<string>()
  const patches: Patch[] = []
  for (let counter = 1; counter < slots.length; counter++) {
    const entry = slots[counter]
    if (!entry) continue
    const given = box.trailers.get(entry.mail.messageId) ?? []
    const carry = carriedTrailers(box, entry, given, others)
    for (const source of carry.sources) carriedFrom.add(source)
    for (const [from, count] of carry.counts) {
      warnings.push(
        `[${counter}/${expected}] carried ${count} trailer(s) over from v${from} (unchanged patch)`
      )
    }
    const followupTrailers = dedupe([...given, ...carry.trailers, ...coverTrailers])
    patches.push({ counter, mail: entry.mail, followupTrailers })
  }

  const missing = missingCounters(slots)
  if (patches.length > 0 && missing.length > 0) {
    warnings.push(`v${revision} is incomplete: missing ${missing.map(n => `[${n}/${expected}]`).join(', ')}`)
  }
  const first = slots[1] ?? slots.find(Boolean)
  const lead = cover ?? first
  if (!lead) throw new Error(`v${revision} has neither patches nor a cover letter`)
  // The series is known by its own cover, else its own first patch: a partial reroll borrows v(N-1)'s cover
  // and patches, and must not take v(N-1)'s identity (it would look like a series already handled).
  const firstOwn = slots.find(e => e !== undefined && ownIds.has(e.mail.messageId))
  const identity = ownCover ? cover : (firstOwn ?? first ?? lead)

  const ids = new Set([cover?.mail.messageId, ...patches.map(p => p.mail.messageId), ...carriedFrom])
  for (const note of box.trailerNotes) if (ids.has(note.target)) warnings.push(note.text)

  const metadataBodies = [cover?.mail.body, slots[1]?.mail.body]
  const baseCommit = firstMatch(metadataBodies, /^base-commit:[ \t]*([0-9a-f]{7,40})\b/im)?.toLowerCase()
  const changeId = firstMatch(metadataBodies, /^change-id:[ \t]+(\S+)/im)
  const series: Series = {
    revision,
    expected,
    title: lead.subject.title,
    subject: lead.subject,
    author: lead.mail.from,
    ...(cover ? { cover: cover.mail } : {}),
    patches,
    complete: patches.length > 0 && missing.length === 0,
    missing,
    partialReroll,
    ...(baseCommit ? { baseCommit } : {}),
    ...(changeId ? { changeId } : {}),
    messageId: (identity ?? lead).mail.messageId
  }
  return { series, warnings }
}

/** Patches of the thread's other revisions, oldest first: where carried trailers come from. */
function otherRevisionPatches(box: Mailbox, revision: number): Entry[] {
  return box.entries
    .filter(e => e.kind === 'patch' && e.revision !== revision)
    .sort((a, b) => a.revision - b.revision || dateOf(a) - dateOf(b) || a.order - b.order)
}

interface Carried {
  trailers: Trailer[]
  /** Trailers carried per revision they were given to. */
  counts: Map<number, number>
  /** Message-IDs of the unchanged patches of other revisions (their trailer notes concern this patch too). */
  sources: string[]
}

/**
 * Rule 21 (b4 `trailer_map`): trailers given to a patch of another revision whose `git patch-id --stable`
 * equals this patch's carry over, unless the patch already has them (in its message or from its own
 * reviews). A patch whose diff changed gets nothing: it has to be reviewed again.
 */
function carriedTrailers(box: Mailbox, patch: Entry, given: Trailer[], others: Entry[]): Carried {
  const carried: Carried = { trailers: [], counts: new Map(), sources: [] }
  if (others.length === 0) return carried
  const id = patchIdOf(patch.mail)
  if (id === undefined) return carried
  const have = [...messageTrailers(patch.mail), ...given]
  for (const source of others) {
    if (source.mail.messageId === patch.mail.messageId || patchIdOf(source.mail) !== id) continue
    carried.sources.push(source.mail.messageId)
    for (const trailer of box.trailers.get(source.mail.messageId) ?? []) {
      if (have.some(t => sameTrailer(t, trailer))) continue
      have.push(trailer)
      carried.trailers.push(trailer)
      carried.counts.set(source.revision, (carried.counts.get(source.revision) ?? 0) + 1)
    }
  }
  return carried
}

/** findSeries builds every revision of a thread from one mailbox: each mail's id is computed once. */
const patchIds = new WeakMap<Mail, string | null>()

function patchIdOf(mail: Mail): string | undefined {
  let id = patchIds.get(mail)
  if (id === undefined) {
    id = patchId(mail.body) ?? null
    patchIds.set(mail, id)
  }
  return id ?? undefined
}

/** The trailers already in a patch's commit message (the text before the `---` or the diff). */
function messageTrailers(mail: Mail): Trailer[] {
  const end = mail.body.search(/^(?:---[ \t]*$|diff -|Index: )/m)
  return findFollowupTrailers({ ...mail, body: end === -1 ? mail.body : mail.body.slice(0, end) })
}

function sameTrailer(a: Trailer, b: Trailer): boolean {
  return a.name.toLowerCase() === b.name.toLowerCase() && a.value.toLowerCase() === b.value.toLowerCase()
}

function missingCounters(slots: (Entry | undefined)[]): number[] {
  const missing: number[] = []
  for (let n = 1; n < slots.length; n++) if (!slots[n]) missing.push(n)
  return missing
}

/**
 * Rule 14, partial reroll: v(N) re-sends only some patches, each as a reply to the same `n/M` of v(N-1);
 * the gaps are filled from v(N-1). Used only when that makes the series complete.
 */
function rerolledSlots(
  box: Mailbox,
  revision: number,
  slots: (Entry | undefined)[]
): { slots: (Entry | undefined)[]; taken: number[] } | undefined {
  const previous = box.revisions.get(revision - 1)
  if (revision <= 1 || !previous) return undefined
  for (const patch of slots) {
    if (patch && !answersSameCounter(box, patch)) return undefined
  }
  const filled = slots.slice()
  const taken: number[] = []
  for (let n = 1; n < filled.length; n++) {
    const earlier = previous.slots[n]
    if (!filled[n] && earlier) {
      filled[n] = earlier
      taken.push(n)
    }
  }
  return missingCounters(filled).length === 0 ? { slots: filled, taken } : undefined
}

function answersSameCounter(box: Mailbox, patch: Entry): boolean {
  let parent = patch.mail.inReplyTo ? box.byId.get(patch.mail.inReplyTo) : undefined
  const seen = new Set<string>()
  while (parent && !seen.has(parent.mail.messageId)) {
    if (parent.counter === patch.counter && parent.expected === patch.expected) return true
    seen.add(parent.mail.messageId)
    parent = parent.mail.inReplyTo ? box.byId.get(parent.mail.inReplyTo) : undefined
  }
  return false
}

/**
 * A cover letter without `0/N`: a mail without a diff that has a diffstat, or a "naked" cover: the
 * thread root, from the patch's author, not a reply (a bug report by someone else is not a cover).
 */
function isImplicitCover(parent: Entry, patch: Entry): boolean {
  if (parent.kind === 'patch' || parent.kind === 'followup' || parent.mail.hasDiff) return false
  if (isPullRequest(parent.subject, parent.mail)) return false
  if (parent.mail.hasDiffstat) return true
  const root = parent.mail.inReplyTo === undefined && parent.mail.references.length === 0
  return root && parent.mail.from.email.toLowerCase() === patch.mail.from.email.toLowerCase()
}

function dedupe(trailers: Trailer[]): Trailer[] {
  const seen = new Set<string>()
  return trailers.filter(t => {
    const key = `${t.name.toLowerCase()}: ${t.value.toLowerCase()}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function firstMatch(texts: (string | undefined)[], re: RegExp): string | undefined {
  for (const text of texts) {
    const match = text === undefined ? null : re.exec(text)
    if (match) return match[1]
  }
  return undefined
}

/** Threads: mails linked by In-Reply-To/References (also through messages not in the bag). */
function threads(mails: Mail[]): Mail[][] {
  const parent = new Map<string, string>()
  const find = (id: string): string => {
    let root = id
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root) ?? root
    parent.set(id, root)
    return root
  }
  const union = (a: string, b: string): void => {
    const ra = find(a)
    const rb = find(b)
    if (ra !== rb) parent.set(rb, ra)
  }
  for (const mail of mails) {
    find(mail.messageId)
    for (const id of [mail.inReplyTo, ...mail.references]) if (id) union(mail.messageId, id)
  }
  const groups = new Map<string, Mail[]>()
  for (const mail of mails) {
    const root = find(mail.messageId)
    groups.set(root, [...(groups.get(root) ?? []), mail])
  }
  return mergeUnthreaded([...groups.values()])
}

/** Patchwork's series-marker rule: unthreaded patches of one series are within 20 minutes of each other. */
const MARKER_WINDOW_MS = 20 * 60 * 1000

/**
 * Numbered patches sent without threading (no In-Reply-To, no References) are joined into one series when
 * author, version and total match and they were sent close together (getpatchwork/patchwork
 * `parser.py` `_find_series_by_markers`).
 */
function mergeUnthreaded(groups: Mail[][]): Mail[][] {
  const merged: Mail[][] = []
  const open = new Map<string, { mails: Mail[]; start: number }>()
  for (const group of groups) {
    const only = group.length === 1 ? group[0] : undefined
    const entry = only ? classify(only, 0) : undefined
    const unthreaded =
      only && entry && entry.kind === 'patch' && !entry.subject.countersInferred && entry.expected > 1
        ? only.inReplyTo === undefined && only.references.length === 0
        : false
    if (!only || !entry || !unthreaded) {
      merged.push(group)
      continue
    }
    const key = `${only.from.email.toLowerCase()}|${entry.revision}|${entry.expected}`
    const time = only.date?.getTime() ?? 0
    const current = open.get(key)
    if (current && Math.abs(time - current.start) <= MARKER_WINDOW_MS) {
      current.mails.push(only)
    } else {
      const fresh = { mails: [only], start: time }
      open.set(key, fresh)
      merged.push(fresh.mails)
    }
  }
  return merged
}

/**
 * Splits a thread by the sender of its patches and covers (replies and other mails go to every part), so
 * two people's series in one thread never mix.
 */
function byAuthor(thread: Mail[]): Mail[][] {
  const shared: Mail[] = []
  const authors = new Map<string, Mail[]>()
  for (const mail of thread) {
    const kind = classify(mail, 0).kind
    if (kind === 'patch' || kind === 'cover') {
      const email = mail.from.email.toLowerCase()
      authors.set(email, [...(authors.get(email) ?? []), mail])
    } else {
      shared.push(mail)
    }
  }
  return [...authors.values()].map(own => [...own, ...shared])
}

/**
 * A series longer than `max` patches is refused before it is fetched or applied: thousands of patches cost
 * minutes of runner time and no maintainer reviews them as one pull request.
 */
export function tooManyPatches(count: number, max: number): string | undefined {
  return count > max ? `refused: too many patches (${count}; max-patches is ${max})` : undefined
}
