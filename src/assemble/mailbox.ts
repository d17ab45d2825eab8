import type { Mail, ParsedSubject, Trailer } from '../model.js'
import { isPullRequest, parseSubject } from './subject.js'
import { checkTrailerSenders, findFollowupTrailers, hasFollowupTrailers } from './trailers.js'

/**
 * The mails of one thread sorted the way b4's LoreMailbox sorts them (mricon/b4 `src/b4/__init__.py`,
 * rules 4-10 and 17-19 in the project's protocol notes): cover letters and patches filed per revision,
 * replies kept as follow-ups whose trailers are attached to the patch or cover they answer.
 *
 * Differences from b4, all deliberate:
 * - mails are filed in date order, covers before patches, so the result does not depend on the order in
 *   which a search returned them;
 * - a cover letter sent again without a version label by the same author becomes a new revision (b4 does
 *   this only for single patches; Patchwork treats it as a new series);
 * - the same `[n/N]` sent twice with the same title is a re-send: the later copy is kept (b4 would shift
 *   it into an extra slot);
 * - trailers of intermediate replies in a chain are sender-checked like any other (b4 takes them as is),
 *   and a reply without In-Reply-To is attached to its nearest, not its oldest, reference.
 */

export type EntryKind = 'cover' | 'patch' | 'followup' | 'other'

export interface Entry {
  mail: Mail
  subject: ParsedSubject
  kind: EntryKind
  counter: number
  expected: number
  /** The revision the entry was filed under (may differ from the subject's, see rules 8 and 9). */
  revision: number
  /** Position in the input, to keep sorting stable. */
  order: number
}

export interface RevisionSlots {
  revision: number
  expected: number
  /** Index n holds patch n/N; index 0 is unused (covers are kept apart). */
  slots: (Entry | undefined)[]
  cover?: Entry
}

export interface TrailerNote {
  /** Message-ID of the patch or cover the trailer was meant for. */
  target: string
  text: string
}

export interface Mailbox {
  byId: Map<string, Entry>
  entries: Entry[]
  revisions: Map<number, RevisionSlots>
  /** Follow-up trailers per target Message-ID (patch or cover), in arrival order, deduplicated. */
  trailers: Map<string, Trailer[]>
  /** Mismatched and name-only trailers, to be reported with the series they concern. */
  trailerNotes: TrailerNote[]
  /** Decisions worth telling the maintainer about (re-sends, renumbered revisions, extra patches). */
  warnings: string[]
}

/** Sorts one thread's mails into revisions and follow-ups. */
export function buildMailbox(mails: Mail[]): Mailbox {
  const byId = new Map<string, Entry>()
  const entries: Entry[] = []
  for (const mail of mails) {
    if (!mail.messageId || byId.has(mail.messageId)) continue // duplicates: the first copy is kept
    const entry = classify(mail, entries.length)
    byId.set(mail.messageId, entry)
    entries.push(entry)
  }
  const box: Mailbox = {
    byId,
    entries,
    revisions: new Map(),
    trailers: new Map(),
    trailerNotes: [],
    warnings: []
  }
  const sorted = [...entries].sort(byDate)
  for (const entry of sorted) if (entry.kind === 'cover') fileCover(box, entry)
  for (const entry of sorted) if (entry.kind === 'patch') filePatch(box, entry)
  for (const entry of sorted) if (entry.kind === 'followup') collectTrailers(box, entry)
  return box
}

/** What a mail is, from its subject and body alone. */
export function classify(mail: Mail, order: number): Entry {
  const subject = parseSubject(mail.subject)
  const hasParent = mail.inReplyTo !== undefined || mail.references.length > 0
  // Rule 5: trailers in a threaded mail without a diff make it a reply even without `Re:`.
  const reply = subject.isReply || (!mail.hasDiff && hasParent && hasFollowupTrailers(mail))
  // A pull request opens nothing, even when an inline diff comes with it (Patchwork reads the body too).
  const pull = isPullRequest(subject, mail)
  let kind: EntryKind = 'other'
  if (reply) kind = 'followup'
  else if (pull) kind = 'other'
  else if (subject.counter === 0 && (!subject.countersInferred || mail.hasDiffstat)) kind = 'cover'
  else if (mail.hasDiff) kind = 'patch'
  return {
    mail,
    subject,
    kind,
    counter: subject.counter,
    expected: subject.expected,
    revision: subject.revision,
    order
  }
}

function byDate(a: Entry, b: Entry): number {
  const ta = a.mail.date?.getTime() ?? Number.POSITIVE_INFINITY
  const tb = b.mail.date?.getTime() ?? Number.POSITIVE_INFINITY
  return ta === tb ? a.order - b.order : ta < tb ? -1 : 1
}

function isEarlier(a: Entry, b: Entry): boolean {
  return byDate(a, b) < 0
}

function sameAuthor(a: Entry, b: Entry): boolean {
  return a.mail.from.email.toLowerCase() === b.mail.from.email.toLowerCase()
}

function revisionSlots(box: Mailbox, revision: number): RevisionSlots {
  let slots = box.revisions.get(revision)
  if (!slots) {
    slots = { revision, expected: 0, slots: [undefined] }
    box.revisions.set(revision, slots)
  }
  return slots
}

function nextRevision(box: Mailbox): number {
  let max = 0
  for (const revision of box.revisions.keys()) max = Math.max(max, revision)
  for (const entry of box.entries) if (!entry.subject.revisionInferred) max = Math.max(max, entry.revision)
  return max + 1
}

function describe(entry: Entry): string {
  return `"${entry.mail.subject}" <${entry.mail.messageId}>`
}

function fileCover(box: Mailbox, cover: Entry): void {
  const existing = box.revisions.get(cover.revision)?.cover
  if (existing) {
    if (
      cover.subject.revisionInferred &&
      !cover.subject.isResend &&
      sameAuthor(existing, cover) &&
      isEarlier(existing, cover)
    ) {
      cover.revision = nextRevision(box)
      box.warnings.push(
        `${describe(cover)} repeats an earlier cover letter without a version label; taken as v${cover.revision}`
      )
    } else {
      box.warnings.push(`two cover letters for v${cover.revision}; using the later one, ${describe(cover)}`)
    }
  }
  const slots = revisionSlots(box, cover.revision)
  slots.cover = cover
  slots.expected = Math.max(slots.expected, cover.expected)
}

function filePatch(box: Mailbox, patch: Entry): void {
  patch.revision = inheritedRevision(box, patch, new Set())
  // Rule 9: `[PATCH]` sent again by its author without `v2` is the next revision.
  const earlier = box.revisions.get(patch.revision)?.slots[1]
  if (
    patch.counter === 1 &&
    patch.subject.countersInferred &&
    patch.subject.isPatch &&
    !patch.subject.isResend &&
    earlier &&
    earlier.subject.countersInferred &&
    sameAuthor(earlier, patch) &&
    isEarlier(earlier, patch)
  ) {
    patch.revision = nextRevision(box)
    box.warnings.push(
      `${describe(patch)} re-sends a patch without a version label; taken as v${patch.revision}`
    )
  }
  addPatch(box, revisionSlots(box, patch.revision), patch)
}

/**
 * Rule 8: a patch without a version label that answers a cover letter (or patch 1 of a series) belongs to
 * that mail's revision (`[PATCH n/4]` under `[PATCH v3 0/4]`).
 */
function inheritedRevision(box: Mailbox, entry: Entry, seen: Set<string>): number {
  if (!entry.subject.revisionInferred || entry.kind === 'cover') return entry.revision
  const parent = entry.mail.inReplyTo ? box.byId.get(entry.mail.inReplyTo) : undefined
  if (!parent || seen.has(parent.mail.messageId)) return entry.revision
  seen.add(entry.mail.messageId)
  const coverLike = parent.kind === 'cover' || (parent.mail.hasDiffstat && !parent.mail.hasDiff)
  if (coverLike) return parent.kind === 'cover' ? parent.revision : parent.subject.revision
  if (entry.counter > 0 && parent.kind === 'patch' && parent.counter === 1) {
    return inheritedRevision(box, parent, seen)
  }
  return entry.revision
}

/** Rule 10, with re-sends told apart from genuinely extra patches. */
function addPatch(box: Mailbox, revision: RevisionSlots, patch: Entry): void {
  revision.expected = Math.max(revision.expected, patch.expected)
  while (revision.slots.length <= revision.expected) revision.slots.push(undefined)
  const existing = revision.slots[patch.counter]
  if (!existing) {
    revision.slots[patch.counter] = patch
    return
  }
  const label = `[${patch.counter}/${revision.expected}] of v${revision.revision}`
  if (patch.subject.countersInferred && !existing.subject.countersInferred) {
    box.warnings.push(
      `${describe(patch)} has no [n/N] and answers a numbered series; ignored as a stray patch`
    )
  } else if (existing.subject.countersInferred && !patch.subject.countersInferred) {
    revision.slots[patch.counter] = patch
    box.warnings.push(`${label}: ${describe(patch)} replaces the unnumbered ${describe(existing)}`)
  } else if (existing.subject.title === patch.subject.title) {
    revision.slots[patch.counter] = patch
    box.warnings.push(`${label} was sent more than once; using the later copy ${describe(patch)}`)
  } else {
    revision.slots.splice(patch.counter, 0, patch)
    revision.expected = revision.slots.length - 1
    box.warnings.push(
      `${label}: two different patches carry this number; ${describe(patch)} taken as an extra patch`
    )
  }
}

/** Rules 17-19: walk each reply up to the patch or cover it answers and attach its trailers there. */
function collectTrailers(box: Mailbox, reply: Entry): void {
  const own = checkedTrailers(box, reply)
  if (own.length === 0) return
  let parent = parentOf(box, reply)
  const gathered = [...own]
  const seen = new Set([reply.mail.messageId])
  while (parent && !seen.has(parent.mail.messageId)) {
    seen.add(parent.mail.messageId)
    if (parent.kind !== 'followup') {
      const list = box.trailers.get(parent.mail.messageId) ?? []
      for (const trailer of gathered) if (!list.some(t => sameTrailer(t, trailer))) list.push(trailer)
      box.trailers.set(parent.mail.messageId, list)
      return
    }
    // A `Tested-by` given in reply to a `Reviewed-by` reply counts for the patch too.
    gathered.push(...checkedTrailers(box, parent, false))
    parent = parentOf(box, parent)
  }
}

/** The mail a reply answers: In-Reply-To, else its nearest known reference. */
export function parentOf(box: Mailbox, entry: Entry): Entry | undefined {
  if (entry.mail.inReplyTo) return box.byId.get(entry.mail.inReplyTo)
  const references = entry.mail.references.filter(id => id !== entry.mail.messageId)
  for (let i = references.length - 1; i >= 0; i--) {
    const parent = box.byId.get(references[i])
    if (parent) return parent
  }
  return undefined
}

function checkedTrailers(box: Mailbox, reply: Entry, note = true): Trailer[] {
  const found = findFollowupTrailers(reply.mail)
  if (found.length === 0) return []
  const check = checkTrailerSenders(reply.mail, found)
  if (note) {
    const target = targetOf(box, reply)
    const from = `${reply.mail.from.name} <${reply.mail.from.email}>`
    for (const t of check.mismatches) {
      box.trailerNotes.push({
        target,
        text: `ignored "${t.name}: ${t.value}" from ${from} in <${reply.mail.messageId}>: not the sender's own address or name`
      })
    }
    for (const t of check.nameOnly) {
      box.trailerNotes.push({
        target,
        text: `accepted "${t.name}: ${t.value}" from ${from} in <${reply.mail.messageId}> on the name alone`
      })
    }
  }
  return check.trailers
}

/** The patch or cover a reply chain ends at (its Message-ID), for reporting. */
function targetOf(box: Mailbox, reply: Entry): string {
  let current: Entry | undefined = reply
  const seen = new Set<string>()
  while (current && current.kind === 'followup' && !seen.has(current.mail.messageId)) {
    seen.add(current.mail.messageId)
    current = parentOf(box, current)
  }
  return current?.mail.messageId ?? reply.mail.messageId
}

function sameTrailer(a: Trailer, b: Trailer): boolean {
  return a.name.toLowerCase() === b.name.toLowerCase() && a.value.toLowerCase() === b.value.toLowerCase()
}
