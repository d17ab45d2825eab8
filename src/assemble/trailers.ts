import type { Mail, Person, Trailer } from '../model.js'

/**
 * Follow-up trailers (`Reviewed-by:` and friends given in replies), found and added the way b4 does
 * (mricon/b4 `LoreMessage.find_trailers`, `get_trailers`, `fix_trailers`).
 */

/** Never trailers: contact details in signatures and b4's own metadata. */
const IGNORED = new Set(['phone', 'mail', 'email', 'e-mail', 'prerequisite-message-id'])
/** Mail headers and series metadata that look like trailers in replies but are not review tags. */
const NOT_FOLLOWUP = new Set([
  'from',
  'author',
  'cc',
  'to',
  'date',
  'subject',
  'subscribe',
  'unsubscribe',
  'base-commit',
  'change-id'
])
const HEADERS = new Set(['subject', 'date', 'from'])
const LINKS = new Set(['link', 'buglink', 'closes'])
const NON_PERSON = new Set([...LINKS, 'fixes', 'subject', 'date', 'obsoleted-by', 'change-id', 'base-commit'])
const UTILITY = new Set([
  'fixes',
  'link',
  'buglink',
  'closes',
  'obsoleted-by',
  'message-id',
  'change-id',
  'base-commit',
  'based-on'
])
/** Characters that make a display name need quotes (b4's `qspecials`). */
const QSPECIALS = /[()<>@,:;."[\]\\]/

const TRAILER_LINE = /^\s*(\w\S+):\s+(\S.*)/
const EMAIL_LIKE = /\S+@\S+\.\S+/

/** The trailers a reply gives (rule 17 of b4's series rules): no sender check yet. */
export function findFollowupTrailers(mail: Mail): Trailer[] {
  return findTrailerLines(mail.body)
    .filter(t => !NOT_FOLLOWUP.has(t.name.toLowerCase()))
    .map(t => ({ name: t.name, value: normalizeValue(t.name, t.value) }))
}

/** Raw trailer candidates of a reply body (the part above the `-- ` signature). */
function findTrailerLines(text: string): Trailer[] {
  let body = text.replace(/\r\n/g, '\n').split('\n-- \n', 1)[0].trim() + '\n'
  // Copy-pasted trailers that got wrapped: `Fixes: abc (subject\nrest)` and `Name\n<addr>`.
  body = body.replace(/^(\S+:\s+[\da-f]+\s+\([^)\n]+)\n([^\n]+\))/gm, '$1 $2')
  body = body.replace(/^(\S+:\s+[^<\n]+)\n(<[^>\n]+>)$/gm, '$1 $2')
  const trailers: Trailer[] = []
  let sawOther = false
  for (const line of body.split('\n')) {
    const match = TRAILER_LINE.exec(line)
    if (!match) {
      // `[for the foo bits]` under a trailer is extra info, not message text.
      if (!/^\s*\[[^\]]+\]\s*$/.test(line) && line.trim()) sawOther = true
      continue
    }
    const name = match[1]
    let value = match[2].trimEnd()
    const lname = name.toLowerCase()
    if (IGNORED.has(lname)) continue
    if (sawOther && HEADERS.has(lname)) continue
    if (!/^[\x21-\x7e]+$/.test(name)) continue
    if (!EMAIL_LIKE.test(value) && !NON_PERSON.has(lname)) continue
    if (/https?:\/\//.test(value) && !LINKS.has(lname)) continue
    // `Fixes:` must name a commit, not be prose that happens to start with "Fixes:".
    if (lname === 'fixes' && !/^[0-9a-f]{6,}\b/i.test(value)) continue
    const comment = /^(.*\S)(\s+#[^#]+)$/.exec(value)
    if (comment) value = comment[1] + comment[2]
    trailers.push({ name, value })
  }
  return trailers
}

/**
 * True when the body has a review trailer (b4 rule 5 uses this to spot replies without `Re:`). Unlike b4,
 * an in-body `From:` (git send-email on behalf of another author) does not count.
 */
export function hasFollowupTrailers(mail: Mail): boolean {
  return findFollowupTrailers(mail).length > 0
}

export interface SenderCheck {
  /** Trailers the reply's sender may give: non-person trailers and person trailers about the sender. */
  trailers: Trailer[]
  /** Person trailers naming someone else (b4 reports and skips these unless `--sloppy-trailers`). */
  mismatches: Trailer[]
  /** Accepted because the display names match although the addresses differ (worth a note). */
  nameOnly: Trailer[]
}

/**
 * Rule 19: a person trailer counts only if its address is the reply's From address, or its name is the
 * From name exactly. (b4 also accepts `+tag` and one-level-subdomain address variants; those are reported
 * as mismatches here, so nothing is dropped silently.)
 */
export function checkTrailerSenders(mail: Mail, trailers: Trailer[]): SenderCheck {
  const result: SenderCheck = { trailers: [], mismatches: [], nameOnly: [] }
  for (const trailer of trailers) {
    const lname = trailer.name.toLowerCase()
    const person = parsePerson(stripComment(trailer.value))
    if (UTILITY.has(lname) || trailer.value.includes('://') || !EMAIL_LIKE.test(trailer.value)) {
      result.trailers.push(trailer)
    } else if (person && person.email.toLowerCase() === mail.from.email.toLowerCase()) {
      result.trailers.push(trailer)
    } else if (person && person.name && person.name.toLowerCase() === mail.from.name.toLowerCase()) {
      result.trailers.push(trailer)
      result.nameOnly.push(trailer)
    } else {
      result.mismatches.push(trailer)
    }
  }
  return result
}

/**
 * Adds trailers to a commit message as b4 does: right after the existing trailer block (or as a new
 * paragraph), skipping any already present, keeping the message's trailing newlines. The title paragraph
 * is never taken for a trailer block (`net: fix x` looks like one).
 */
export function appendTrailers(message: string, trailers: Trailer[]): string {
  if (trailers.length === 0) return message
  const suffix = /\n*$/.exec(message)?.[0] ?? ''
  const text = message.slice(0, message.length - suffix.length)
  const lines = text.split('\n')
  let lastBlank = -1
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i].trim() === '') {
      lastBlank = i
      break
    }
  }
  const lastParagraph = lastBlank === -1 ? [] : lines.slice(lastBlank + 1)

  const present = new Set<string>()
  for (const line of lastParagraph) {
    const match = TRAILER_LINE.exec(line)
    if (match) present.add(trailerKey(match[1], match[2]))
  }
  const add: string[] = []
  for (const trailer of trailers) {
    const key = trailerKey(trailer.name, trailer.value)
    if (present.has(key)) continue
    present.add(key)
    add.push(`${trailer.name}: ${trailer.value}`)
  }
  if (add.length === 0) return message
  const separator = isTrailerBlock(lastParagraph) ? '\n' : '\n\n'
  return text + separator + add.join('\n') + suffix
}

/**
 * A trailer block: every line a trailer (or a continuation / `[extra info]` line), or git's looser rule
 * of a `Signed-off-by:` with at least a quarter of the lines being trailers.
 */
function isTrailerBlock(paragraph: string[]): boolean {
  if (paragraph.length === 0) return false
  let trailerLines = 0
  let other = 0
  let signedOff = false
  for (const line of paragraph) {
    if (/^\s*\S[^\s:]*:\s/.test(line) && !/^\s/.test(line)) {
      trailerLines++
      if (/^signed-off-by:/i.test(line)) signedOff = true
    } else if (/^\s+\S/.test(line) || /^\s*\[[^\]]+\]\s*$/.test(line)) {
      continue
    } else {
      other++
    }
  }
  if (trailerLines === 0) return false
  return other === 0 || (signedOff && trailerLines * 4 >= trailerLines + other)
}

/** Trailers compare by name and value, case-insensitively, ignoring ` # comment` suffixes (as b4). */
function trailerKey(name: string, value: string): string {
  return `${name.toLowerCase()}: ${normalizeValue(name, stripComment(value)).replace(/\s+/g, ' ').toLowerCase()}`
}

function stripComment(value: string): string {
  return value.replace(/\s+#[^#]+$/, '')
}

/**
 * Person trailers are rewritten the way b4 prints them: `<mailto:...>` left by HTML mailers removed and a
 * display name with special characters quoted (`"Name (corp)" <addr>`). Other values stay as written.
 */
function normalizeValue(name: string, value: string): string {
  const lname = name.toLowerCase()
  if (UTILITY.has(lname) || value.includes('://') || !EMAIL_LIKE.test(value)) return value
  const comment = /\s+#[^#]+$/.exec(value)?.[0] ?? ''
  const bare = value
    .slice(0, value.length - comment.length)
    .replace(/<mailto:[^>]+>/g, '')
    .trim()
  const person = parsePerson(bare)
  if (!person) return value
  return formatPerson(person) + comment
}

/** `Name <addr>`, `"Name" <addr>`, `<addr>`, `addr` or `addr (Name)`. */
export function parsePerson(value: string): Person | undefined {
  const angle = /^(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(value)
  if (angle) return { name: unquote(angle[1].trim()), email: angle[2] }
  const bare = /^([^\s<>()"]+@[^\s<>()"]+)(?:\s*\(([^()]*)\))?$/.exec(value.trim())
  if (bare) return { name: (bare[2] ?? '').trim(), email: bare[1] }
  return undefined
}

function unquote(name: string): string {
  const quoted = /^"(.*)"$/.exec(name)
  return quoted ? quoted[1].replace(/\\(.)/g, '$1') : name
}

function formatPerson(person: Person): string {
  if (!person.name) return person.email
  const name = QSPECIALS.test(person.name) ? `"${person.name.replace(/(["\\])/g, '\\$1')}"` : person.name
  return `${name} <${person.email}>`
}
