/**
 * Which mails make the series ml2pr applies (pure): b4's assembly, cross-checked against the patches
 * Patchwork lists, and the apply step's input made from it. Shared by opening a PR and refreshing one.
 */
import type { PatchInput } from '../ports.js'
import type { Mail, Series, SeriesRef } from '../model.js'
import { assembleSeries } from './series.js'

/** What the apply step needs of each patch: the raw mail and the review trailers to add. */
export function patchInputs(series: Series): PatchInput[] {
  return series.patches.map(p => ({
    counter: p.counter,
    total: series.patches.length,
    raw: p.mail.raw,
    trailers: p.followupTrailers
  }))
}

/** Picks the series' mails: b4's assembly, cross-checked against the patches Patchwork lists. */
export function selectSeries(
  ref: SeriesRef,
  mails: Mail[]
): { series: Series; warnings: string[] } | { reason: string } {
  // Patchwork's series mbox (the fallback source) has no cover letter: anchor on patch 1 then.
  const have = new Set(mails.map(m => m.messageId))
  const anchor =
    ref.coverMsgid && have.has(ref.coverMsgid) ? ref.coverMsgid : (ref.patchMsgids[0] ?? ref.coverMsgid)
  const assembled = assembleSeries(mails, { messageId: anchor, revision: ref.version })
  if (!assembled.ok) return { reason: assembled.reason }
  const { series } = assembled
  const warnings = [...assembled.warnings]
  if (ref.patchMsgids.length > 0) {
    const expected = ref.patchMsgids.join(' ')
    const got = series.patches.map(p => p.mail.messageId).join(' ')
    if (expected !== got) {
      // Patchwork's list is the series as the maintainer sees it; keep exactly those mails, in its order.
      const byId = new Map(mails.map(m => [m.messageId, m]))
      const chosen = ref.patchMsgids.map(id => byId.get(id))
      if (chosen.some(m => !m))
        return { reason: `the mails do not contain every patch Patchwork lists for series ${ref.key}` }
      const trailers = new Map(series.patches.map(p => [p.mail.messageId, p.followupTrailers]))
      series.patches = chosen.map((mail, index) => ({
        counter: index + 1,
        mail: mail!,
        followupTrailers: trailers.get(mail!.messageId) ?? []
      }))
      warnings.push('the thread holds other patch mails too; used the patches Patchwork lists')
    }
  }
  // The series is known by its cover letter's Message-ID even when the mails came without it.
  if (ref.coverMsgid) series.messageId = ref.coverMsgid
  if (!series.complete && ref.patchMsgids.length === 0) {
    return { reason: `incomplete: missing patch ${series.missing.join(', ')} of ${series.expected}` }
  }
  // A third party replying into the thread with a [PATCH n/N] must not become part of someone's series.
  const sender = (series.cover ?? series.patches[0]?.mail)?.from.email.toLowerCase()
  const stranger = series.patches.find(p => p.mail.from.email.toLowerCase() !== sender)
  if (stranger) {
    return {
      reason: `patch ${stranger.counter} was sent by ${stranger.mail.from.email}, not by the series' sender ${sender ?? '?'}`
    }
  }
  return { series, warnings }
}
