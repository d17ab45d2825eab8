/**
 * Splitting mailbox files into raw messages, on bytes (mails need not be UTF-8, and the bytes given to
 * git must be the bytes that were sent).
 *
 * Two dialects arrive here:
 * - lore/public-inbox serves mboxrd: `From mboxrd@z Thu Jan  1 00:00:00 1970` separators, and every body
 *   line matching `^>*From ` got one more `>`, which we strip again.
 * - Patchwork's series mbox is plain mbox (`From patchwork Wed Jun 11 15:48:58 2025`) and does NOT escape
 *   body lines, so a commit message line `From x ... 12:00:00 2024` must not start a new message. git's
 *   mailsplit would split there; we only accept a separator at the start of the data or after a blank line,
 *   when it looks like git's `is_from_line` and the next line looks like a header.
 */

export type MboxFormat = 'mboxrd' | 'mbox'

const LF = 0x0a
const CR = 0x0d

/** True when the data starts with the gzip magic bytes. */
export function isGzip(data: Buffer): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b
}

/** Splits an mbox into raw messages (separator line removed, CRLF turned into LF as git mailsplit does). */
export function splitMbox(data: Buffer, format: MboxFormat): Buffer[] {
  const lines = splitLines(data)
  const starts: number[] = []
  for (let i = 0; i < lines.length; i++) {
    const previousBlank = i === 0 || isBlank(lines[i - 1])
    if (previousBlank && isSeparator(lines[i]) && (i + 1 >= lines.length || looksLikeHeader(lines[i + 1]))) {
      starts.push(i)
    }
  }
  if (starts.length === 0) {
    // A single RFC 822 message without a `From ` line.
    const single = joinLines(lines, 0, lines.length, false)
    return isBlankBuffer(single) ? [] : [single]
  }
  const messages: Buffer[] = []
  // Text before the first separator counts only if it is itself a message (starts with a header).
  if (starts[0] > 0 && looksLikeHeader(lines[0])) messages.push(joinLines(lines, 0, starts[0], false))
  for (let k = 0; k < starts.length; k++) {
    const end = k + 1 < starts.length ? starts[k + 1] : lines.length
    const message = joinLines(lines, starts[k] + 1, end, format === 'mboxrd')
    if (!isBlankBuffer(message)) messages.push(message)
  }
  return messages
}

/** Lines without their terminator; a CR before LF is dropped (git mailsplit without --keep-cr). */
function splitLines(data: Buffer): Buffer[] {
  const lines: Buffer[] = []
  let start = 0
  while (start < data.length) {
    let end = data.indexOf(LF, start)
    const next = end === -1 ? data.length : end + 1
    if (end === -1) end = data.length
    const contentEnd = end > start && data[end - 1] === CR ? end - 1 : end
    lines.push(data.subarray(start, contentEnd))
    start = next
  }
  return lines
}

function joinLines(lines: Buffer[], from: number, to: number, unescapeMboxrd: boolean): Buffer {
  const parts: Buffer[] = []
  const newline = Buffer.from('\n')
  for (let i = from; i < to; i++) {
    const line = lines[i]
    parts.push(unescapeMboxrd && isEscapedFrom(line) ? line.subarray(1) : line, newline)
  }
  return Buffer.concat(parts)
}

/** `^>+From ` */
function isEscapedFrom(line: Buffer): boolean {
  let i = 0
  while (i < line.length && line[i] === 0x3e) i++
  return i > 0 && line.subarray(i, i + 5).toString('latin1') === 'From '
}

function isBlank(line: Buffer): boolean {
  for (const byte of line) if (byte !== 0x20 && byte !== 0x09) return false
  return true
}

function isBlankBuffer(data: Buffer): boolean {
  for (const byte of data) if (byte !== 0x20 && byte !== 0x09 && byte !== LF && byte !== CR) return false
  return true
}

/**
 * git's `is_from_line` (builtin/mailsplit.c): `From `, at least 20 characters, a `HH:MM:SS` time before the
 * last colon pair and a year above 90 after it.
 */
function isSeparator(line: Buffer): boolean {
  if (line.length < 20 || line.subarray(0, 5).toString('latin1') !== 'From ') return false
  const text = line.toString('latin1')
  const colon = text.lastIndexOf(':')
  if (colon < 5 + 4) return false
  const digit = (i: number): boolean =>
    i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57
  if (!digit(colon - 4) || !digit(colon - 2) || !digit(colon - 1) || !digit(colon + 1) || !digit(colon + 2)) {
    return false
  }
  const year = /^\s*(\d+)/.exec(text.slice(colon + 3))
  return year !== null && Number(year[1]) > 90
}

/** A header field (`Name: value`, RFC 5322 field-name characters) or a folded continuation. */
function looksLikeHeader(line: Buffer): boolean {
  return /^[\x21-\x39\x3b-\x7e]+:/.test(line.toString('latin1'))
}
