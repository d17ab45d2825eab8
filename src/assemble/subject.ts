import type { ParsedSubject } from '../model.js'

/**
 * Parses a mail subject the way b4's LoreSubject does, plus Patchwork's comma-joined prefixes
 * (`[net,v2,1/2]`), which real lists send and b4 would take as one token.
 */
export function parseSubject(subject: string): ParsedSubject {
  const full = subject.replace(/\s+/g, ' ').trim()
  let rest = full
  let isReply = false
  // `Re:`, `Aw:`, `Fwd:`, or a localized 2-3 letter reply marker in front of a bracket (`AW: [PATCH`).
  if (/^(re|aw|fwd):/i.test(rest) || /^\w{2,3}:\s*\[/.test(rest)) {
    isReply = true
    // All stacked markers go (`Re: Re: [PATCH`, `Re: AW: [PATCH`), so the brackets are still read.
    rest = stripReplyMarkers(rest)
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
    const bracketed = group[1].trim().replace(/(patch)(v\d+)/gi, '$1 $2')
    for (const token of bracketed.split(/[\s,;]+/)) {
      if (token) readToken(token, parsed)
    }
    rest = rest.replace(/^\s*\[[^\]]*\]\s*/, '')
  }
  // `[PATCH 6/5]`: the counter wins.
  if (parsed.counter > parsed.expected) parsed.expected = parsed.counter
  // git mailinfo also drops a colon left after the brackets (`[PATCH]: fix x`).
  parsed.title = stripReplyMarkers(rest.replace(/^[\s:]+/, '')).trim()
  return parsed
}

function readToken(token: string, parsed: ParsedSubject): void {
  const lower = token.toLowerCase()
  const counters = /^(\d{1,4})\/(\d{1,4})$/.exec(token)
  if (counters) {
    parsed.counter = Number(counters[1])
    parsed.expected = Number(counters[2])
    parsed.countersInferred = false
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

/** `[GIT PULL]`, `[PULL 0/5]`, `[GIT,PULL]`: a pull request, never a patch series. */
export function isPullRequest(subject: ParsedSubject): boolean {
  return subject.prefixes.some(p => p.toLowerCase() === 'pull')
}
