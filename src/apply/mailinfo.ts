/**
 * The parts of `git am` that happen around `git mailinfo`, reproduced byte for byte so a commit ml2pr makes
 * is the commit `git am` makes (builtin/am.c: split_mail_mbox, parse_mail, do_commit).
 */

export interface MailInfo {
  author: string
  email: string
  /** The cleaned subject (mailinfo drops `Re:` and `[...]` groups), as bytes. */
  subject: Buffer
  /** The date string exactly as the mail gave it; git parses it when committing. */
  date: string
}

/** What `git mailsplit` does to a message before mailinfo sees it: CRLF line ends become LF. */
export function normaliseLineEndings(raw: Buffer): Buffer {
  if (!raw.includes('\r\n')) return raw
  const out = Buffer.alloc(raw.length)
  let j = 0
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x0d && raw[i + 1] === 0x0a) continue
    out[j++] = raw[i] ?? 0
  }
  return out.subarray(0, j)
}

/** Parses the `Author:`/`Email:`/`Subject:`/`Date:` lines mailinfo prints. */
export function parseMailInfo(info: Buffer): MailInfo {
  const result: MailInfo = { author: '', email: '', subject: Buffer.alloc(0), date: '' }
  for (const line of splitLines(info)) {
    const text = line.toString('utf8')
    if (text.startsWith('Subject: ')) result.subject = line.subarray('Subject: '.length)
    else if (text.startsWith('Author: ')) result.author = text.slice('Author: '.length)
    else if (text.startsWith('Email: ')) result.email = text.slice('Email: '.length)
    else if (text.startsWith('Date: ')) result.date = text.slice('Date: '.length)
  }
  return result
}

/** git am's commit message: subject, a blank line, the body, then `git stripspace` (no comment removal). */
export function commitMessage(subject: Buffer, body: Buffer): Buffer {
  return stripspace(Buffer.concat([subject, Buffer.from('\n\n'), body]))
}

/** git's isspace: space, \t, \n, \r (not \v or \f). */
function isGitSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d
}

/**
 * strbuf_stripspace(sb, 0): trailing whitespace removed from each line, runs of empty lines collapsed to one,
 * leading and trailing empty lines dropped, every line ending in `\n`.
 */
export function stripspace(input: Buffer): Buffer {
  const parts: Buffer[] = []
  let empties = 0
  let i = 0
  while (i < input.length) {
    const eol = input.indexOf(0x0a, i)
    const end = eol === -1 ? input.length : eol + 1
    let len = end - i
    while (len > 0 && isGitSpace(input[i + len - 1])) len--
    if (len > 0) {
      if (empties > 0 && parts.length > 0) parts.push(Buffer.from('\n'))
      empties = 0
      parts.push(input.subarray(i, i + len), Buffer.from('\n'))
    } else {
      empties++
    }
    i = end
  }
  return Buffer.concat(parts)
}

function splitLines(buf: Buffer): Buffer[] {
  const lines: Buffer[] = []
  let start = 0
  while (start < buf.length) {
    const eol = buf.indexOf(0x0a, start)
    const end = eol === -1 ? buf.length : eol
    lines.push(buf.subarray(start, end))
    start = end + 1
  }
  return lines
}
