/**
 * Fetch: the mails of one series. The lore thread of the cover letter (or patch 1) comes first: it holds
 * the review replies whose trailers b4 would add. Patchwork's series mbox is the fallback when lore does
 * not have the thread (or is unreachable); it carries the patches only.
 */
import { splitMbox } from '../assemble/mbox.js'
import { parseMail } from '../assemble/mail.js'
import type { Mail, SeriesRef } from '../model.js'
import { Lore, LoreError } from '../services/lore.js'
import { HttpError } from '../http.js'
import type { Patchwork } from '../services/patchwork.js'

export interface FetchedMails {
  mails: Mail[]
  source: 'lore' | 'patchwork'
  warnings: string[]
}

export class FetchError extends Error {
  override name = 'FetchError'
  constructor(
    message: string,
    /** True when a later run may succeed (service down, bot challenge). */
    readonly transient: boolean
  ) {
    super(message)
  }
}

export async function parseMbox(
  data: Buffer,
  format: 'mboxrd' | 'mbox'
): Promise<{ mails: Mail[]; warnings: string[] }> {
  const mails: Mail[] = []
  const warnings: string[] = []
  for (const raw of splitMbox(data, format)) {
    try {
      mails.push(await parseMail(raw))
    } catch (error) {
      warnings.push(`skipped an unreadable message: ${(error as Error).message}`)
    }
  }
  return { mails, warnings }
}

export async function fetchSeriesMails(
  ref: SeriesRef,
  sources: { lore?: Lore; loreList?: string; patchwork?: Patchwork }
): Promise<FetchedMails> {
  const warnings: string[] = []
  const anchor = ref.coverMsgid ?? ref.patchMsgids[0]
  if (sources.lore && sources.loreList && anchor) {
    try {
      const thread = await sources.lore.thread(sources.loreList, anchor)
      if (thread) {
        const parsed = await parseMbox(thread, 'mboxrd')
        const have = new Set(parsed.mails.map(m => m.messageId))
        const missing = ref.patchMsgids.filter(id => !have.has(id))
        if (missing.length === 0)
          return { mails: parsed.mails, source: 'lore', warnings: [...warnings, ...parsed.warnings] }
        warnings.push(
          `lore thread lacks ${missing.length} of the series' patches; using Patchwork's series mbox`
        )
      } else {
        warnings.push(
          `lore has no thread for <${anchor}> in ${sources.loreList}; using Patchwork's series mbox`
        )
      }
    } catch (error) {
      if (!(error instanceof LoreError)) throw error
      warnings.push(`lore: ${error.message}; using Patchwork's series mbox`)
      if (!sources.patchwork) throw new FetchError(error.message, error.transient)
    }
  }
  if (!sources.patchwork || !ref.mboxUrl)
    throw new FetchError(`No source has the mails of series ${ref.key}`, true)
  let data: Buffer
  try {
    data = await sources.patchwork.seriesMbox(ref)
  } catch (error) {
    // Network trouble and server errors pass; a refused origin or a 404 will not get better by waiting.
    const message = (error as Error).message
    const transient = error instanceof HttpError ? error.transient : /answered (5\d\d|429)\b/.test(message)
    throw new FetchError(`Patchwork series mbox: ${message}`, transient)
  }
  const parsed = await parseMbox(data, 'mbox')
  return { mails: parsed.mails, source: 'patchwork', warnings: [...warnings, ...parsed.warnings] }
}
