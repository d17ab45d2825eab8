/**
 * Escaping of untrusted mail text (subjects, names, cover letters, git's messages) for GitHub.
 *
 * Everything a mail sender controls goes through one of these functions before it reaches a PR title, a PR
 * body, a comment, the job summary or the log. The goals, in order: nobody is pinged, no issue or PR gets a
 * backlink or is closed, no raw HTML (and so no `<!--` that could spoof ml2pr's marker), no link or image,
 * no layout break, no invisible or reordering characters, and no workflow command in the log.
 */

/** Zero-width space: breaks GitHub's mention and reference autolinkers without changing what people read. */
export const ZWSP = '\u200B'

const REPLACEMENT = '\uFFFD'

/** Replaces lone UTF-16 surrogates (left by bad decoding) with U+FFFD so JSON and the API get valid text. */
export function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, REPLACEMENT)
}

/** Characters that move to a new line: CR, LF, VT, FF, NEL, LINE/PARAGRAPH SEPARATOR. */
function isLineBreak(cp: number): boolean {
  return (cp >= 0x0a && cp <= 0x0d) || cp === 0x85 || cp === 0x2028 || cp === 0x2029
}

/**
 * Control, bidi and invisible format characters that have no business in a title or a log line:
 * Trojan-Source reordering (CVE-2021-42574), terminal escapes, NUL, BOM, and tag characters that hide text.
 * Tab and line breaks are not listed here; callers decide what they become.
 */
function isHidden(cp: number): boolean {
  return (
    (cp <= 0x1f && cp !== 0x09 && !isLineBreak(cp)) ||
    (cp >= 0x7f && cp <= 0x9f && cp !== 0x85) ||
    cp === 0xad || // soft hyphen
    cp === 0x061c || // Arabic letter mark
    cp === 0x180e ||
    cp === 0x200b || // our own ZWSP is re-added where needed, so sanitising twice gives the same text
    cp === 0x200e ||
    cp === 0x200f ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x2064) ||
    (cp >= 0x2066 && cp <= 0x206f) ||
    cp === 0xfeff ||
    (cp >= 0xfff9 && cp <= 0xfffb) ||
    (cp >= 0xe0000 && cp <= 0xe007f)
  )
}

/**
 * Well-formed text without hidden characters. `multiline` keeps tabs and line breaks (CRLF and lone CR become
 * LF, the other breaks too); otherwise every whitespace run becomes one space and the ends are trimmed.
 */
export function cleanText(text: string, multiline = false): string {
  let out = ''
  let afterCR = false
  for (const ch of wellFormed(text)) {
    const cp = ch.codePointAt(0) ?? 0
    const crlf = afterCR && cp === 0x0a
    afterCR = cp === 0x0d
    if (crlf || isHidden(cp)) continue
    out += isLineBreak(cp) ? (multiline ? '\n' : ' ') : ch
  }
  if (multiline) return out
  return out.replace(/\s+/g, ' ').trim()
}

/** `@user` and `@org/team` when not glued to a preceding letter or digit (`a@b.c` is an address, not a mention). */
const MENTION = /(^|[^A-Za-z0-9])@(?=[A-Za-z0-9])/g
/** `#123`, `owner/repo#123`, `GH-123`: each links and leaves a cross-reference in the target issue. */
const ISSUE_REF = /#(?=\d)/g
const GH_REF = /\b(GH-)(?=\d)/gi
/** github.com as a URL host (with or without scheme or `www.`): links to issues and PRs leave backlinks. */
const GITHUB_HOST = /(^|[^A-Za-z0-9.-])(?:www\.)?github\.com(?=[/:?#])/gi

/**
 * Breaks mentions, issue references and GitHub links with a zero-width space or the redirect host Dependabot
 * uses. Closing keywords (`Fixes #1`) are inert once the reference they need is broken.
 */
export function neutralizeGitHub(text: string): string {
  return text
    .replace(GITHUB_HOST, '$1redirect.github.com')
    .replace(MENTION, `$1@${ZWSP}`)
    .replace(ISSUE_REF, `#${ZWSP}`)
    .replace(GH_REF, `$1${ZWSP}`)
}

/** `<!--` must never appear in text ml2pr did not write: its state marker is an HTML comment. */
function breakComments(text: string): string {
  return text.replace(/<!--/g, `<${ZWSP}!--`)
}

const MARKDOWN_PUNCT = /[\\`*_[\]|~$]/g
const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' }

/**
 * Untrusted text for use inside a line of Markdown (after a label, in a table cell, in a heading):
 * one line, no hidden characters, HTML and Markdown syntax shown as typed, no mention, reference or backlink.
 */
export function sanitizeInline(text: string): string {
  let s = cleanText(text)
  s = s.replace(/[&<>]/g, c => HTML_ENTITIES[c] ?? c).replace(MARKDOWN_PUNCT, c => `\\${c}`)
  // Block syntax only matters at the start of a line; callers may put the text there (headings, lists).
  s = s.replace(/^([#+=-])/, '\\$1').replace(/^(\d+)([.)])/, '$1\\$2')
  return neutralizeGitHub(s)
}

/** Longest PR title GitHub accepts ("title is too long (maximum is 256 characters)"). */
export const TITLE_MAX = 256

/**
 * A PR title: plain text on GitHub (no Markdown or HTML is rendered), but references still link, so only
 * hidden characters, line breaks, mentions, references and comment openers are dealt with.
 */
export function sanitizeTitle(text: string): string {
  return truncate(breakComments(neutralizeGitHub(cleanText(text))), TITLE_MAX, '…')
}

/** Cuts `text` to at most `max` UTF-16 units including `note`, never inside a surrogate pair. */
export function truncate(text: string, max: number, note = ''): string {
  if (text.length <= max) return text
  if (note.length >= max) return cutAtCodePoint(note, max)
  return cutAtCodePoint(text, max - note.length) + note
}

function cutAtCodePoint(text: string, end: number): string {
  const code = text.charCodeAt(end - 1)
  const splitsPair = code >= 0xd800 && code <= 0xdbff
  return text.slice(0, splitsPair ? end - 1 : end)
}

function longestBacktickRun(text: string): number {
  let longest = 0
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length)
  return longest
}

/**
 * An inline code span that no backtick in the text can close. Mentions get a ZWSP too, because GitHub's
 * notification mails show the body as plain text.
 */
export function codeSpan(text: string): string {
  const s = breakComments(neutralizeMentions(cleanText(text)))
  if (s === '') return '` `'
  const fence = '`'.repeat(longestBacktickRun(s) + 1)
  const pad = /^[` ]|[` ]$/.test(s) ? ' ' : ''
  return `${fence}${pad}${s}${pad}${fence}`
}

function neutralizeMentions(text: string): string {
  return text.replace(MENTION, `$1@${ZWSP}`)
}

/**
 * A fenced code block for multi-line untrusted text (git's messages, range-diffs, cover letters): the fence is
 * longer than any backtick run inside, so `` ``` ``, `</details>` or `---` lines stay content.
 */
export function codeBlock(text: string, info = ''): string {
  const s = breakComments(neutralizeMentions(cleanText(text, true))).replace(/\n+$/, '')
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(s) + 1))
  return `${fence}${info.replace(/[`\s]/g, '')}\n${s}\n${fence}`
}

/**
 * A URL from Patchwork, the settings or the GitHub API, printable as bare text in Markdown: http(s) only,
 * normalised by the URL parser (which percent-encodes spaces, quotes, `<` and `>`), no fragment (a `#1`
 * fragment would read as an issue reference), and no `@` that could start a mention. Undefined if unusable.
 */
export function safeUrl(raw: string | undefined): string | undefined {
  if (!raw) return undefined
  let url: URL
  try {
    url = new URL(cleanText(raw))
  } catch {
    return undefined
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined
  url.hash = ''
  return url.href.replace(/(^|[^A-Za-z0-9])@/g, '$1%40').replace(/[*`[\]|$\\]/g, c => percent(c))
}

function percent(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
}

/**
 * A Message-ID (without angle brackets) as one URL path segment, as lore and Patchwork expect it: `/` is
 * `%2F`, `?` and `#` are encoded, a `.`/`..` segment cannot walk up, and `@` is kept readable unless it could
 * start a mention.
 */
export function encodeMessageId(msgid: string): string {
  const id = cleanText(msgid)
  if (/^\.+$/.test(id)) return id.replace(/\./g, '%2E')
  return encodeURIComponent(id)
    .replace(/[!'()*]/g, c => percent(c))
    .replace(/%40/g, '@')
    .replace(/(^|[^A-Za-z0-9])@/g, '$1%40')
}
