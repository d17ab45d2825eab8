import { simpleParser } from 'mailparser'
import type { Mail, Person } from '../model.js'
import { decodeText, headerValue, leafParts, splitHeaderBody, type HeaderField } from './mime.js'

/** Larger mails are refused before parsing (mail libraries have had size-driven DoS bugs). */
export const MAX_MAIL_BYTES = 20 * 1024 * 1024

/** b4's has_diff and has_diffstat. */
export const DIFF_RE = /^(---.*\n\+\+\+|GIT binary patch|diff --git \w\/\S+ \w\/\S+)/im
export const DIFFSTAT_RE = /^\s*\d+ file.*\d+ (insertion|deletion)/im

/** A mail that cannot be used, with the reason in words. */
export class MailError extends Error {
  override name = 'MailError'
}

/** Parses one raw message. Rejects with a MailError, never anything else, on junk. */
export async function parseMail(raw: Buffer): Promise<Mail> {
  if (raw.length > MAX_MAIL_BYTES) {
    throw new MailError(`mail of ${raw.length} bytes is over the ${MAX_MAIL_BYTES}-byte limit`)
  }
  let parsed: Awaited<ReturnType<typeof simpleParser>>
  try {
    parsed = await simpleParser(raw, {
      skipHtmlToText: true,
      skipTextToHtml: true,
      skipTextLinks: true,
      skipImageLinks: true
    })
  } catch (error) {
    throw new MailError(`unparseable mail: ${error instanceof Error ? error.message : String(error)}`)
  }
  const { headers } = splitHeaderBody(raw)
  const messageId = firstMessageId(headers, 'message-id')
  if (!messageId) throw new MailError('mail has no Message-ID')

  const inReplyTo = firstMessageId(headers, 'in-reply-to')
  const references = referenceIds(headers)
  const body = patchBody(raw)
  const listId = headerValue(headers, 'list-id')
  return {
    messageId,
    ...(inReplyTo ? { inReplyTo } : {}),
    references,
    from: sender(parsed.from?.value ?? [], headerValue(headers, 'from')),
    ...optionalDate(headerValue(headers, 'date')),
    subject: cleanText(parsed.subject ?? ''),
    body,
    raw,
    hasDiff: DIFF_RE.test(body),
    hasDiffstat: DIFFSTAT_RE.test(body),
    ...(listId ? { listId: (/<([^>]+)>/.exec(listId)?.[1] ?? listId).trim() } : {})
  }
}

/**
 * Parses many raw messages; the ones that fail are reported, not thrown, so one broken mail does not
 * hide a whole thread.
 */
export async function parseMails(raws: Buffer[]): Promise<{ mails: Mail[]; errors: string[] }> {
  const mails: Mail[] = []
  const errors: string[] = []
  for (const [i, raw] of raws.entries()) {
    try {
      mails.push(await parseMail(raw))
    } catch (error) {
      errors.push(`message ${i + 1}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  return { mails, errors }
}

/** Message-ID text is ASCII by RFC; anything else (or whitespace) would be a broken or hostile id. */
function cleanId(id: string): string | undefined {
  const trimmed = id.trim().replace(/^<+|>+$/g, '')
  return trimmed && /^[\x21-\x7e]+$/.test(trimmed) ? trimmed : undefined
}

/** The first `<id>` of the first such header that has one, else a bare token (b4 takes the first header). */
function firstMessageId(headers: HeaderField[], name: string): string | undefined {
  const fields = headers.filter(f => f.name === name)
  for (const field of fields) {
    const bracketed = /<([^<>\s]+)>/.exec(field.value)
    if (bracketed) {
      const id = cleanId(bracketed[1])
      if (id) return id
    }
  }
  for (const field of fields) {
    const token = field.value.split(/\s+/)[0] ?? ''
    const id = cleanId(token)
    if (id) return id
  }
  return undefined
}

/** All References (every such header), oldest first, without duplicates. */
function referenceIds(headers: HeaderField[]): string[] {
  const ids: string[] = []
  for (const field of headers.filter(f => f.name === 'references')) {
    const bracketed = [...field.value.matchAll(/<([^<>\s]+)>/g)].map(m => m[1])
    const tokens = bracketed.length > 0 ? bracketed : field.value.split(/\s+/)
    for (const token of tokens) {
      const id = cleanId(token)
      if (id && !ids.includes(id)) ids.push(id)
    }
  }
  return ids
}

/**
 * The text that carries the patch: the first text/plain (or x-patch/x-diff) part, unless a later such
 * part has a diff (b4's rule). Line ends are normalized to LF.
 */
function patchBody(raw: Buffer): string {
  let body: string | undefined
  for (const part of leafParts(raw)) {
    if (!/\/(plain|x-patch|x-diff)$/.test(part.contentType)) continue
    const text = decodeText(part.content, part.charset).replace(/\r\n/g, '\n')
    if (body === undefined) body = text
    else if (DIFF_RE.test(text)) body = text
  }
  return body ?? ''
}

/**
 * The From person. mailparser decodes RFC 2047 and raw UTF-8; raw 8-bit bytes that are not UTF-8 come
 * back as U+FFFD, in which case the header is read as latin-1 (what such mailers usually meant).
 */
function sender(addresses: { name?: string; address?: string }[], rawFrom: string | undefined): Person {
  const first = addresses.find(a => a.address) ?? addresses[0]
  const email = cleanText(first?.address ?? '')
  let name = cleanText(first?.name ?? '')
  if (name.includes('\ufffd') && rawFrom && !rawFrom.includes('=?')) {
    const latin1 = /^\s*"?([^"<]*?)"?\s*</.exec(rawFrom)?.[1]
    if (latin1) name = cleanText(latin1)
  }
  return { name: name || email, email }
}

function optionalDate(value: string | undefined): { date?: Date } {
  if (!value) return {}
  const date = new Date(value.replace(/\s*\([^)]*\)\s*$/, ''))
  const time = date.getTime()
  // Absurd dates (the fuzz corpus has year overflows) are treated as missing.
  if (Number.isNaN(time) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) return {}
  return { date }
}

/**
 * Decoded header text as it may be shown: control characters and bidirectional overrides removed (they can
 * fake what a reader sees), whitespace collapsed.
 */
export function cleanText(text: string): string {
  return text
    .replace(/[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim()
}
