/**
 * What the Patchwork stand-in needs from a raw mail (Message-ID, date, subject, submitter, headers,
 * commit message / diff split), and the `/mbox/` rendering Patchwork does.
 */
import { createHash } from 'node:crypto'
import { simpleParser } from 'mailparser'

export interface Person {
  name: string
  email: string
}

export interface ParsedMail {
  /** With angle brackets, as Patchwork shows it. */
  msgid: string
  /** Naive UTC ISO date without `Z`, from the Date header. */
  date: string
  subject: string
  from: Person
  /** Header name → value (a list when repeated), unfolded, in mail order. */
  headers: Record<string, string | string[]>
  /** Original header lines (folded), without the mbox `From ` line. */
  headerBlock: string
  /** Commit message part including the `---` postscript. */
  content: string
  /** The diff, or null for a mail without one. */
  diff: string | null
}

/** Splits an mbox(rd) file into raw messages, undoing `>From ` escaping. */
export function splitMbox(mbox: Buffer): Buffer[] {
  const text = mbox.toString('latin1')
  const parts = text.split(/^From [^\n]*\n/m).filter(p => p.trim() !== '')
  return parts.map(p => Buffer.from(p.replace(/^>(>*From )/gm, '$1').replace(/\n$/, ''), 'latin1'))
}

/** Patchwork's naive UTC timestamp (`2022-10-25T17:38:41`). */
export function naiveUtc(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '')
}

function splitHeaderBlock(raw: Buffer): { block: string; body: string } {
  const text = raw
    .toString('utf8')
    .replace(/\r\n/g, '\n')
    .replace(/^From [^\n]*\n/, '')
  const end = text.indexOf('\n\n')
  return end < 0 ? { block: text, body: '' } : { block: text.slice(0, end), body: text.slice(end + 2) }
}

function headerDict(block: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const line of block.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const i = line.indexOf(':')
    if (i <= 0) continue
    const name = line.slice(0, i)
    const value = line.slice(i + 1).trim()
    const prev = out[name]
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}

/** Splits a decoded body the way Patchwork stores it: message (+ postscript) and diff. */
export function splitPatch(text: string): { content: string; diff: string | null } {
  // Patchwork drops the mail signature (the last `-- ` line and what follows, when short).
  const sig = text.lastIndexOf('\n-- \n')
  const body = sig >= 0 && text.slice(sig).split('\n').length <= 10 ? `${text.slice(0, sig)}\n` : text
  const m = /^(diff |--- \S|Index: )/m.exec(body)
  if (!m) return { content: body.trimEnd(), diff: null }
  return { content: body.slice(0, m.index).trimEnd(), diff: `${body.slice(m.index).trimEnd()}\n` }
}

export async function parseMail(raw: Buffer): Promise<ParsedMail> {
  const parsed = await simpleParser(raw)
  const { block } = splitHeaderBlock(raw)
  const sender = parsed.from?.value[0]
  const msgid = parsed.messageId ?? `<${createHash('sha1').update(raw).digest('hex')}@standin>`
  const { content, diff } = splitPatch((parsed.text ?? '').replace(/\r\n/g, '\n'))
  return {
    msgid: msgid.startsWith('<') ? msgid : `<${msgid}>`,
    date: naiveUtc(parsed.date ?? new Date()),
    subject: (parsed.subject ?? '').replace(/\s+/g, ' ').trim(),
    from: { name: sender?.name ?? '', email: sender?.address ?? '' },
    headers: headerDict(block),
    headerBlock: block,
    content,
    diff
  }
}

/**
 * Patchwork's subject cleanup: drops `Re:`/`Fwd:`, `PATCH` and the project's link name from the leading
 * bracket groups and keeps the other prefixes comma-joined (`[v2,1/2] title`).
 */
export function cleanSubject(subject: string, linkName: string): { name: string; prefixes: string[] } {
  let rest = subject.replace(/^\s*((re|fwd?)\s*:\s*)+/i, '')
  const prefixes: string[] = []
  let m: RegExpExecArray | null
  while ((m = /^\s*\[([^\]]*)\]\s*/.exec(rest))) {
    for (const token of m[1].split(/[\s,]+/).filter(Boolean)) {
      if (token.toLowerCase() !== 'patch' && token !== linkName) prefixes.push(token)
    }
    rest = rest.slice(m[0].length)
  }
  rest = rest.trim()
  return { name: prefixes.length ? `[${prefixes.join(',')}] ${rest}` : rest, prefixes }
}

/** Version and n/N counters from cleaned prefixes, as Patchwork's parser reads them. */
export function seriesMarkers(
  prefixes: string[],
  subject: string
): { version: number; number: number; total: number } {
  let version = 1
  let number = 1
  let total = 1
  for (const p of prefixes) {
    const v = /^[vV](\d+)$/.exec(p)
    if (v) version = Number(v[1])
    const c = /^(\d+)(?:\/| of )(\d+)$/.exec(p)
    if (c) {
      number = Number(c[1])
      total = Number(c[2])
    }
  }
  const paren = /\(v(\d+)\)/.exec(subject)
  if (version === 1 && paren) version = Number(paren[1])
  return { version, number, total }
}

function ctime(naive: string): string {
  const d = new Date(`${naive}Z`)
  const day = d.toUTCString().slice(0, 3)
  const month = d.toUTCString().slice(8, 11)
  const dd = String(d.getUTCDate()).padStart(2, ' ')
  return `${day} ${month} ${dd} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()}`
}

/** One patch as Patchwork's mbox views render it (no `>From` escaping, as Patchwork does). */
export function renderPatchMbox(
  mail: ParsedMail,
  patchId: number,
  submitter: Person,
  delegate?: string
): string {
  const body = mail.diff === null ? mail.content : `${mail.content}\n\n${mail.diff}`
  const eightBit = [...body].some(c => c.charCodeAt(0) > 0x7f)
  const original = mail.headerBlock
    .split(/\n(?![ \t])/)
    .filter(h => !/^content-(type|transfer-encoding)\s*:/i.test(h))
  const headers = [
    'Content-Type: text/plain; charset="utf-8"',
    'MIME-Version: 1.0',
    `Content-Transfer-Encoding: ${eightBit ? '8bit' : '7bit'}`,
    `X-Patchwork-Submitter: ${submitter.name} <${submitter.email}>`,
    `X-Patchwork-Id: ${patchId}`,
    ...(delegate ? [`X-Patchwork-Delegate: ${delegate}`] : []),
    ...original
  ]
  return `From patchwork ${ctime(mail.date)}\n${headers.join('\n')}\n\n${body}`
}

/** A stable 40-hex id of a diff (Patchwork's `hash` field has this shape). */
export function diffHash(diff: string | null): string | null {
  return diff === null ? null : createHash('sha1').update(diff).digest('hex')
}
