/**
 * A small MIME walker over raw bytes: header fields and the leaf parts of a message, transfer-decoded.
 *
 * mailparser decodes headers well, but for bodies it joins all text/plain parts, applies format=flowed
 * and converts charsets its own way; b4 (and git mailinfo) look at each part on its own, so the parts
 * that may carry a patch are walked here.
 */

export interface HeaderField {
  /** Lower-case field name. */
  name: string
  /** Unfolded raw value (bytes as latin1 characters). */
  value: string
}

export interface LeafPart {
  /** Lower-case `type/subtype`. */
  contentType: string
  charset?: string
  /** Content with the transfer encoding (base64, quoted-printable) undone. */
  content: Buffer
}

const MAX_DEPTH = 16
const MAX_PARTS = 1000

/** The header block and the body of a message. */
export function splitHeaderBody(raw: Buffer): { headers: HeaderField[]; body: Buffer } {
  const text = raw.toString('latin1')
  const match = /\r?\n\r?\n/.exec(text)
  const headerText = match ? text.slice(0, match.index) : text
  const bodyStart = match ? match.index + match[0].length : raw.length
  return { headers: parseHeaderFields(headerText), body: raw.subarray(bodyStart) }
}

/** Unfolds and lists header fields in order; junk lines are skipped. */
export function parseHeaderFields(headerText: string): HeaderField[] {
  const fields: HeaderField[] = []
  for (const line of headerText.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) {
      fields[fields.length - 1].value += ' ' + line.trim()
      continue
    }
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon).trim().toLowerCase()
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue
    fields.push({ name, value: line.slice(colon + 1).trim() })
  }
  return fields
}

/** The first value of a header field, if any. */
export function headerValue(fields: HeaderField[], name: string): string | undefined {
  return fields.find(f => f.name === name)?.value
}

/** Every leaf part of the message in walk order (multiparts and attached messages descended into). */
export function leafParts(raw: Buffer): LeafPart[] {
  const parts: LeafPart[] = []
  walk(raw, 0, 'text/plain', parts)
  return parts
}

function walk(raw: Buffer, depth: number, defaultType: string, out: LeafPart[]): void {
  if (out.length >= MAX_PARTS) return
  const { headers, body } = splitHeaderBody(raw)
  const { type, params } = parseContentType(headerValue(headers, 'content-type'), defaultType)
  if (depth < MAX_DEPTH && type.startsWith('multipart/') && params.boundary) {
    const childDefault = type === 'multipart/digest' ? 'message/rfc822' : 'text/plain'
    for (const child of splitMultipart(body, params.boundary)) walk(child, depth + 1, childDefault, out)
    return
  }
  if (depth < MAX_DEPTH && type === 'message/rfc822') {
    walk(body, depth + 1, 'text/plain', out)
    return
  }
  const encoding = (headerValue(headers, 'content-transfer-encoding') ?? '').trim().toLowerCase()
  out.push({ contentType: type, charset: params.charset, content: decodeTransfer(body, encoding) })
}

/** `type/subtype; name=value; name="quoted value"` with lower-case type and parameter names. */
export function parseContentType(
  value: string | undefined,
  defaultType: string
): { type: string; params: Record<string, string> } {
  const params: Record<string, string> = {}
  if (!value) return { type: defaultType, params }
  const semicolon = value.indexOf(';')
  const type = (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase()
  const paramRe = /;\s*([^=\s;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)/g
  for (const m of value.matchAll(paramRe)) {
    const raw = m[2].startsWith('"') ? m[2].slice(1, -1).replace(/\\(.)/g, '$1') : m[2]
    params[m[1].toLowerCase()] = raw
  }
  return { type: /^[^/\s]+\/[^/\s]+$/.test(type) ? type : defaultType, params }
}

/** The body parts between `--boundary` lines (preamble and epilogue dropped). */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const text = body.toString('latin1')
  const delimiter = '--' + boundary
  const parts: Buffer[] = []
  let partStart = -1
  let pos = 0
  while (pos <= text.length) {
    const nl = text.indexOf('\n', pos)
    const lineEnd = nl === -1 ? text.length : nl
    const line = text.slice(pos, lineEnd).replace(/\r$/, '')
    if (line.startsWith(delimiter)) {
      const rest = line.slice(delimiter.length)
      const closing = rest.startsWith('--')
      if (/^\s*$/.test(closing ? rest.slice(2) : rest)) {
        if (partStart >= 0) {
          // The line break before a delimiter belongs to the delimiter.
          let end = Math.max(partStart, pos - 1)
          if (end > partStart && text[end - 1] === '\r') end--
          parts.push(Buffer.from(text.slice(partStart, end), 'latin1'))
        }
        if (closing) return parts
        partStart = nl === -1 ? text.length : nl + 1
      }
    }
    if (nl === -1) break
    pos = nl + 1
  }
  // No closing delimiter: keep what the last part had.
  if (partStart >= 0 && partStart < text.length) parts.push(Buffer.from(text.slice(partStart), 'latin1'))
  return parts
}

function decodeTransfer(body: Buffer, encoding: string): Buffer {
  if (encoding === 'base64') {
    return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/]/g, ''), 'base64')
  }
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body)
  return body
}

/** RFC 2045 quoted-printable: `=XX` bytes and `=` soft line breaks; anything malformed stays as is. */
export function decodeQuotedPrintable(body: Buffer): Buffer {
  const out = Buffer.alloc(body.length)
  let n = 0
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]
    if (byte !== 0x3d) {
      out[n++] = byte
      continue
    }
    // Soft line break: `=` then optional whitespace then (CR)LF.
    let j = i + 1
    while (j < body.length && (body[j] === 0x20 || body[j] === 0x09)) j++
    if (j < body.length && (body[j] === 0x0a || (body[j] === 0x0d && body[j + 1] === 0x0a))) {
      i = body[j] === 0x0d ? j + 1 : j
      continue
    }
    if (j >= body.length) break
    const hex = body.subarray(i + 1, i + 3).toString('latin1')
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16)
      i += 2
    } else {
      out[n++] = byte
    }
  }
  return out.subarray(0, n)
}

/** Decodes text in its declared charset; unknown charsets fall back to UTF-8, bad bytes become U+FFFD. */
export function decodeText(content: Buffer, charset: string | undefined): string {
  const label = (charset ?? 'utf-8').trim().toLowerCase()
  try {
    return new TextDecoder(label, { fatal: false }).decode(content)
  } catch {
    return new TextDecoder('utf-8', { fatal: false }).decode(content)
  }
}
