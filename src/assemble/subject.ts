import type { Mail, ParsedSubject } from '../model.js'

/**
 * Parses a mail subject the way b4's LoreSubject does, plus what Patchwork's parser also reads
 * (getpatchwork/patchwork `parser.py` `clean_subject`, `parse_series_marker`, `parse_version`), so both
 * tools' users see the same series:
 * - comma-joined prefixes (`[net,v2,1/2]`), which b4 would take as one token;
 * - counters glued to a word (`[PATCH1/8]`, `[PATCH100/123]`, `[v2PATCH1/4]`) and Mercurial's `[PATCH 1 of 2]`;
 * - a version after the subject, `fs: fix (v2)`, when the brackets name none;
 * - `Re meep` / `RE meep`, a reply marker without its colon.
 */
export function parseSubject(subject: string): ParsedSubject {
  const full = subject.replace(/\s+/g, ' ').trim()
  let rest = full
  let isReply = false
  // `Re:`, `Aw:`, `Fwd:`, a localized 2-3 letter reply marker in front of a bracket (`AW: [PATCH`), or
  // Patchwork's `Re ` without a colon.
  if (/^(re|aw|fwd):/i.test(rest) || /^\w{2,3}:\s*\[/.test(rest) || /^re\s/i.test(rest)) {
    isReply = true
    // All stacked markers go (`Re: Re: [PATCH`, `Re: AW: [PATCH`), so the brackets are still read.
    rest = stripReplyMarkers(rest).replace(/^re\s+/i, '')
    for (;;) {
      const next = rest.replace(/^\w{2,3}:\s*\[/, '[')
      if (next === rest) break
      rest = next
    }
  }
  rest = flattenNestedBrackets(rest)

  const parsed: ParsedSubject = {
    full,
    title: '',
    isReply,
    revision: 1,
    revisionInferred: true,
    counter: 1,
    expected: 1,
    countersInferred: true,
    isRfc: false,
    isResend: false,
    isPatch: false,
    prefixes: []
  }
  for (;;) {
    const group = /^\[([^\]]*)\]/.exec(rest)
    if (!group) break
    const bracketed = group[1]
      .trim()
      .replace(/(patch)(v\d+)/gi, '$1 $2')
      // Mercurial's `[PATCH 1 of 2]`.
      .replace(/(\d+) of (\d+)/gi, '$1/$2')
    for (const token of bracketed.split(/[\s,;]+/)) {
      if (token) readToken(token, parsed)
    }
    rest = rest.replace(/^\s*\[[^\]]*\]\s*/, '')
  }
  // `[PATCH 6/5]`: the counter wins.
  if (parsed.counter > parsed.expected) parsed.expected = parsed.counter
  // git mailinfo also drops a colon left after the brackets (`[PATCH]: fix x`).
  parsed.title = stripReplyMarkers(rest.replace(/^[\s:]+/, '')).trim()
  // Patchwork's `parse_version`: a version after the subject counts when the brackets give none.
  const trailing = /\([vV](\d+)\)/.exec(parsed.title)
  if (parsed.revisionInferred && trailing && Number(trailing[1]) > 0) {
    parsed.revision = Number(trailing[1])
    parsed.revisionInferred = false
  }
  return parsed
}

function readToken(token: string, parsed: ParsedSubject): void {
  const lower = token.toLowerCase()
  // Patchwork's series marker allows a word glued in front of the counter (`PATCH1/8`, `v2PATCH12/15`);
  // the shortest such word, so `PATCH100/123` is 100 of 123.
  const counters = /^(.*?)(\d{1,4})\/(\d{1,4})$/.exec(token)
  if (counters) {
    parsed.counter = Number(counters[2])
    parsed.expected = Number(counters[3])
    parsed.countersInferred = false
    const glued = counters[1]
    // `v2PATCH`: the version and the word are read as if they were apart.
    const parts = /^(v\d+)(patch|rfc|resend)$/i.exec(glued)
    for (const part of parts ? [parts[1], parts[2]] : glued ? [glued] : []) readToken(part, parsed)
    return
  }
  const revision = /^(?:rfc)?v(\d+)$/i.exec(token)
  if (revision && Number(revision[1]) > 0) {
    parsed.revision = Number(revision[1])
    parsed.revisionInferred = false
    if (lower.startsWith('rfc')) parsed.isRfc = true
    return
  }
  if (lower.startsWith('rfc')) parsed.isRfc = true
  else if (lower.startsWith('resend')) parsed.isResend = true
  else if (lower.startsWith('patch')) parsed.isPatch = true
  else parsed.prefixes.push(token)
}

/** `[PATCH [net] 1/2]` and `[PATCH] net] x` become single groups, as b4 does. */
function flattenNestedBrackets(subject: string): string {
  let current = subject
  for (;;) {
    const next = current
      .replace(/\[([^\]]*)\[([^[\]]*)\]/, '[$1$2]')
      .replace(/\[([^\]]*)\]([^[\]]*)\]/, '[$1$2]')
    if (next === current) return current
    current = next
  }
}

function stripReplyMarkers(text: string): string {
  let current = text
  for (;;) {
    const next = current.replace(/^\s*(re|aw|fwd?|sv|antw)\s*:\s*/i, '')
    if (next === current) return current
    current = next
  }
}

/**
 * Patchwork's `parse_pull_request`: the text `git request-pull` writes, naming the repository to pull.
 * Mail text is untrusted, so the pattern is anchored line by line and cannot backtrack across the body.
 */
const REQUEST_PULL_RE =
  /^The following changes since commit [^\n]*\n(?:[^\n]*\n){0,40}?are available in the git repository at:[ \t]*\n(?:[ \t]*\n){0,3}[ \t]*[\w+-]+(?::\/\/|@)[\w/.@:~-]+/im

/**
 * A pull request, never a patch series: `[GIT PULL]`, `[PULL 0/5]`, `[GIT,PULL]` in the subject, or a body
 * with `git request-pull` text (as Patchwork reads it), even when an inline diff comes with it.
 */
export function isPullRequest(subject: ParsedSubject, mail?: Pick<Mail, 'body'>): boolean {
  if (subject.prefixes.some(p => p.toLowerCase() === 'pull')) return true
  return mail !== undefined && REQUEST_PULL_RE.test(mail.body)
}
