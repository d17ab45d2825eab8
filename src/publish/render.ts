/**
 * PR titles, bodies and comments, rendered from data. The layout of the body follows the PRs the first ml2pr
 * deployment opened (Series / Submitter / Version / Patches / Message-ID / Base / Lore, then the footer), so
 * maintainers see what they know, with additions below the Lore line. Every piece of mail text goes through
 * sanitize.ts; only ml2pr writes the marker on the first line.
 */
import type { ApplyFailure, SeriesRef } from '../model.js'
import {
  cleanText,
  codeBlock,
  codeSpan,
  encodeMessageId,
  safeUrl,
  sanitizeInline,
  sanitizeTitle,
  truncate,
  wellFormed
} from './sanitize.js'

export const FOOTER = '\n\n---\n*Automated by ml2pr*'

/** Body budget: GitHub refuses bodies over 65536 characters; 60000 leaves room (Renovate's figure). */
export const BODY_MAX = 60_000

/** A public-inbox archive: `https://lore.kernel.org` and the list's inbox name, e.g. `linux-fsdevel`. */
export interface LoreArchive {
  url: string
  list: string
}

/** Why the series was applied onto the base commit it was. */
export type BaseReason =
  | { kind: 'default' }
  | { kind: 'base-map'; prefix: string; branch: string }
  | { kind: 'base-commit' }
  | { kind: 'input' }

export interface PrBodyInput {
  ref: SeriesRef
  /** The series' Message-ID: the cover letter's, else patch 1's (Series.messageId). */
  messageId: string
  /** The PR's base branch. */
  base: string
  /** The branch whose tip the series was applied onto, when it is not `base` (`vfs.base` under `vfs.base.ci`). */
  applyBranch?: string
  /** The commit the series was applied onto. */
  baseSha: string
  baseReason: BaseReason
  /** `base-commit:` as the author wrote it in the cover letter or patch 1 (Series.baseCommit). */
  authorBaseCommit?: string
  /** `change-id:` from the cover letter or patch 1 (Series.changeId). */
  changeId?: string
  lore: LoreArchive
  /** The open PR of the previous version that this one replaces. */
  supersedes?: { pr: number; version: number }
  rangeDiff?: { againstVersion: number; text: string }
  /** The cover letter's body (Series.cover.body), shown collapsed. */
  coverLetter?: string
}

/** What ml2pr records about a PR in the first line of its body. */
export interface PrMarker {
  key: string
  version: number
  messageId: string
  /** PR base branch. */
  base: string
  /** The commit the series was applied onto. */
  applyBase: string
  /** The series name, normalised (see normalizeSeriesName), to find other versions of it. */
  name: string
  submitter: string
  changeId?: string
}

const MARKER_PREFIX = '<!-- ml2pr:v1 '
const MARKER_SUFFIX = ' -->'

/** Leading `[PATCH v2 3/5]`-style groups, which Patchwork leaves in some series names. */
function stripBracketGroups(name: string): string {
  return name.replace(/^(\s*\[[^\]]*\])+\s*/, '')
}

/** The PR title: the series name without leading `[...]` groups, sanitised, at most 256 characters. */
export function renderTitle(seriesName: string): string {
  return sanitizeTitle(stripBracketGroups(seriesName)) || sanitizeTitle(seriesName) || '(untitled series)'
}

/** The series name as versions of one series share it: no prefixes, case or extra whitespace. */
export function normalizeSeriesName(name: string): string {
  const withoutReply = cleanText(name).replace(/^\s*((re|aw|fwd?):\s*)+/i, '')
  return truncate(cleanText(stripBracketGroups(withoutReply)).toLowerCase(), 256)
}

/** The lore URL of a message: `<archive>/<list>/<percent-encoded msgid>`. */
export function loreUrl(lore: LoreArchive, messageId: string): string {
  const base = lore.url.replace(/\/+$/, '')
  return `${base}/${encodeURIComponent(cleanText(lore.list))}/${encodeMessageId(messageId)}`
}

/**
 * JSON that cannot end the HTML comment or open another (`<`, `>`, `&` as \u escapes), and without a raw `@`
 * or `#`: notification mails carry the body as plain text, and replies quoting it must not ping anyone.
 */
function markerJson(marker: PrMarker): string {
  const ordered: PrMarker = {
    key: marker.key,
    version: marker.version,
    messageId: wellFormed(marker.messageId),
    base: marker.base,
    applyBase: marker.applyBase,
    name: wellFormed(marker.name),
    submitter: wellFormed(marker.submitter),
    ...(marker.changeId === undefined ? {} : { changeId: wellFormed(marker.changeId) })
  }
  return JSON.stringify(ordered).replace(
    /[<>&@#\u2028\u2029]/g,
    c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
  )
}

export function renderMarker(marker: PrMarker): string {
  return `${MARKER_PREFIX}${markerJson(marker)}${MARKER_SUFFIX}`
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * ml2pr's marker, read only from the first line of a PR body (mail text never lands there, and everywhere else
 * `<!--` is escaped), with every field checked. Undefined for anything else.
 */
export function parseMarker(body: string): PrMarker | undefined {
  const firstLine = body.split('\n', 1)[0].replace(/\r$/, '')
  if (!firstLine.startsWith(MARKER_PREFIX) || !firstLine.endsWith(MARKER_SUFFIX)) return undefined
  let data: unknown
  try {
    data = JSON.parse(firstLine.slice(MARKER_PREFIX.length, -MARKER_SUFFIX.length))
  } catch {
    return undefined
  }
  if (!isRecord(data)) return undefined
  const { key, version, messageId, base, applyBase, name, submitter, changeId } = data
  const valid =
    typeof key === 'string' &&
    key !== '' &&
    typeof version === 'number' &&
    Number.isSafeInteger(version) &&
    version > 0 &&
    typeof messageId === 'string' &&
    messageId !== '' &&
    typeof base === 'string' &&
    base !== '' &&
    typeof applyBase === 'string' &&
    /^[0-9a-f]{7,64}$/.test(applyBase) &&
    typeof name === 'string' &&
    typeof submitter === 'string' &&
    (changeId === undefined || typeof changeId === 'string')
  if (!valid) return undefined
  return {
    key,
    version,
    messageId,
    base,
    applyBase,
    name,
    submitter,
    ...(changeId === undefined ? {} : { changeId })
  }
}

function describeBase(reason: BaseReason): string {
  switch (reason.kind) {
    case 'default':
      return 'the configured base'
    case 'base-map':
      return `base-map: ${codeSpan(reason.prefix)} → ${sanitizeInline(reason.branch)}`
    case 'base-commit':
      return "the author's base-commit"
    case 'input':
      return 'requested for this run'
  }
}

function details(summary: string, block: string): string {
  return `<details><summary>${summary}</summary>\n\n${block}\n\n</details>`
}

/** Inline fields are single lines; this keeps a 10,000-character display name from eating the budget. */
const FIELD_MAX = 512

function field(label: string, value: string): string {
  return `**${label}:** ${value}`
}

function headerLines(input: PrBodyInput, lore: string): string[] {
  const { ref } = input
  const seriesPage = safeUrl(ref.webUrl)
  const lines = [
    renderMarker({
      key: ref.key,
      version: ref.version,
      messageId: input.messageId,
      base: input.base,
      applyBase: input.baseSha,
      name: normalizeSeriesName(ref.name),
      submitter: ref.submitter.email,
      ...(input.changeId === undefined ? {} : { changeId: input.changeId })
    })
  ]
  if (seriesPage) lines.push(field('Series', seriesPage))
  lines.push(
    field('Submitter', sanitizeInline(truncate(cleanText(ref.submitter.name), FIELD_MAX, '…'))),
    field('Version', String(ref.version)),
    field('Patches', `${ref.receivedTotal}/${ref.total}`),
    field('Message-ID', codeSpan(`<${truncate(input.messageId, FIELD_MAX)}>`)),
    field('Base', sanitizeInline(input.base)),
    field('Lore', lore)
  )
  // Additions to the seed layout, below the fields maintainers already know.
  if (ref.patchworkId === undefined) {
    lines.push(field('Identity', `lore series ${codeSpan(ref.key)} (no Patchwork)`))
  }
  lines.push(field('Applied onto', `${codeSpan(input.baseSha)} (${describeBase(input.baseReason)})`))
  if (input.applyBranch !== undefined && input.applyBranch !== input.base) {
    lines.push(field('Apply branch', sanitizeInline(input.applyBranch)))
  }
  if (input.authorBaseCommit) {
    lines.push(field("Author's base-commit", codeSpan(truncate(input.authorBaseCommit, 80))))
  }
  if (input.supersedes) {
    const { pr, version } = input.supersedes
    lines.push(field('Supersedes', `#${integer(pr)} (v${integer(version)})`))
  }
  return lines
}

function integer(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a PR or version number: ${n}`)
  return n
}

interface Block {
  summary: string
  text: string
}

function bodyBlocks(input: PrBodyInput): Block[] {
  const blocks: Block[] = []
  if (input.coverLetter) blocks.push({ summary: 'Cover letter', text: input.coverLetter })
  if (input.rangeDiff) {
    blocks.push({
      summary: `Range-diff against v${integer(input.rangeDiff.againstVersion)}`,
      text: input.rangeDiff.text
    })
  }
  return blocks
}

function assemble(header: string[], blocks: string[], note: string): string {
  return [header.join('\n'), ...blocks, ...(note ? [note] : [])].join('\n\n') + FOOTER
}

/**
 * The PR body: the marker, the seed's fields, ml2pr's additions, then collapsed cover letter and range-diff.
 * Kept within BODY_MAX by shortening the collapsed blocks first, with a note pointing to lore.
 */
export function renderBody(input: PrBodyInput): string {
  const lore = loreUrl(input.lore, input.messageId)
  const header = headerLines(input, lore)
  const blocks = bodyBlocks(input)
  const render = (b: Block, max: number): string =>
    details(b.summary, codeBlock(truncate(b.text, max, '\n[… truncated]')))

  if (blocks.reduce((n, b) => n + b.text.length, 0) < BODY_MAX) {
    const full = assemble(
      header,
      blocks.map(b => render(b, Infinity)),
      ''
    )
    if (full.length <= BODY_MAX) return full
  }

  const note = `*Shortened to fit GitHub's size limit; the full text is at ${lore}*`
  const fixed = assemble(header, [], note).length
  // Each block gets an equal share of what is left. Escaping can lengthen the text (a ZWSP per mention), so
  // shrink the share by the overflow and try again.
  let share = Math.floor((BODY_MAX - fixed) / Math.max(1, blocks.length)) - 200
  for (let attempt = 0; attempt < 4 && share > 1000; attempt++) {
    const shortened = assemble(
      header,
      blocks.map(b => render(b, share)),
      note
    )
    if (shortened.length <= BODY_MAX) return shortened
    share -= Math.ceil((shortened.length - BODY_MAX) / blocks.length) + 200
  }
  const bare = assemble(header, [], note)
  if (bare.length <= BODY_MAX) return bare
  return truncate(bare, BODY_MAX - FOOTER.length, `\n\n${note}`) + FOOTER
}

export function renderStaleComment(days: number): string {
  return (
    `This PR is older than ${integer(days)} days. Closing automatically. ` +
    'If the series is still relevant, a new version will create a new PR.' +
    FOOTER
  )
}

export function renderSupersededComment(newPr: number, newVersion: number): string {
  return `Superseded by #${integer(newPr)} (v${integer(newVersion)}). Closing automatically.${FOOTER}`
}

/** The commits that landed; the list is capped so a huge series still fits a comment. */
export function renderMergedComment(base: string, commits: { sha: string; subject: string }[]): string {
  const shown = commits.slice(0, 200)
  const list = shown.map(c => `- ${codeSpan(c.sha.slice(0, 12))} ${sanitizeInline(truncate(c.subject, 300))}`)
  if (commits.length > shown.length) list.push(`- … and ${commits.length - shown.length} more`)
  const head = `All patches in this series have landed in ${codeSpan(base)}. Closing automatically.`
  return (list.length ? `${head}\n\n${list.join('\n')}` : head) + FOOTER
}

const STATE_TEXT: Record<string, string> = {
  accepted: 'accepted',
  rejected: 'rejected',
  superseded: 'superseded',
  'changes-requested': 'changes requested',
  'not-applicable': 'not applicable',
  deferred: 'deferred'
}

/** Patchwork's state for the series closed the PR; a new version of the series gets a new PR. */
export function renderStateComment(state: string): string {
  const label = STATE_TEXT[state] ?? sanitizeInline(truncate(state, 64))
  return (
    `Patchwork marks this series as **${label}**. Closing automatically. ` +
    'A new version of the series will create a new PR.' +
    FOOTER
  )
}

const FAILURE_MESSAGE_MAX = 20_000
const FILES_SHOWN = 50

function patchLabel(failure: ApplyFailure): string {
  return `patch ${failure.counter}/${failure.total} “${sanitizeInline(truncate(failure.subject, 300))}”`
}

function failureHeadline(failure: ApplyFailure): string {
  const wholeSeries = failure.counter === 0
  const onto = codeSpan(failure.baseSha)
  switch (failure.kind) {
    case 'conflict':
      return `${capitalize(patchLabel(failure))} does not apply onto ${onto}.`
    case 'protected-path':
      return wholeSeries
        ? 'The series changes protected paths, so it was not pushed.'
        : `${capitalize(patchLabel(failure))} changes protected paths, so the series was not pushed.`
    case 'policy':
      return wholeSeries
        ? 'The series was refused by policy.'
        : `${capitalize(patchLabel(failure))} was refused by policy.`
    case 'malformed':
      return wholeSeries
        ? 'The series could not be parsed as patches.'
        : `${capitalize(patchLabel(failure))} could not be parsed as a patch.`
    case 'empty':
      return wholeSeries ? 'The series has no changes.' : `${capitalize(patchLabel(failure))} is empty.`
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

/**
 * Why a series failed, as Markdown: the failing patch, later patches not attempted, the files, the base commit,
 * git's message and a command to reproduce it. Used by the job summary and the needs-rebase comment.
 */
export function renderFailure(failure: ApplyFailure, reproduce?: string): string {
  const parts = [failureHeadline(failure)]
  const notAttempted = failure.counter > 0 ? failure.total - failure.counter : 0
  if (notAttempted === 1) parts.push(`Patch ${failure.total}/${failure.total} was not attempted.`)
  if (notAttempted > 1) {
    parts.push(`Patches ${failure.counter + 1}–${failure.total} of ${failure.total} were not attempted.`)
  }
  const facts = [field('Base commit', codeSpan(failure.baseSha))]
  if (failure.files.length > 0) {
    const files = failure.files.slice(0, FILES_SHOWN).map(f => codeSpan(truncate(f, 300)))
    const more = failure.files.length - FILES_SHOWN
    facts.push(field('Files', files.join(', ') + (more > 0 ? ` and ${more} more` : '')))
  }
  parts.push(facts.join('\n'))
  if (failure.message.trim() !== '') {
    parts.push(codeBlock(truncate(failure.message, FAILURE_MESSAGE_MAX, '\n[… truncated]')))
  }
  if (reproduce) parts.push(`To reproduce:\n\n${codeBlock(reproduce, 'sh')}`)
  return parts.join('\n\n')
}

/** The series stopped applying to its base; says why and how to reproduce it. */
export function renderNeedsRebaseComment(failure: ApplyFailure, base: string, reproduce: string): string {
  return (
    `This series no longer applies to ${codeSpan(base)}.\n\n${renderFailure(failure, reproduce)}` + FOOTER
  )
}

/** Single-quoted for POSIX shells: the only character that needs care inside is `'` itself. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`
}

export interface ReproduceInput {
  /** The archive the series was taken from: b4 then reads that public-inbox (default: lore.kernel.org). */
  lore?: LoreArchive
  messageId: string
  /** The commit the series was applied onto. */
  baseSha: string
  /** The branch that commit came from, fetched first so the commit is present. */
  baseBranch?: string
  /** Patchwork's series mbox, for a variant without b4. */
  mboxUrl?: string
}

/**
 * Shell commands a maintainer can paste to see the same failure: fetch and check out the base commit, then
 * apply the series with b4 (given the message's lore URL, b4 reads that archive), or with git am from
 * Patchwork's series mbox. The Message-ID is percent-encoded and every value is single-quoted.
 */
export function reproduceCommand(input: ReproduceInput): string {
  const sha = /^[0-9a-f]{4,64}$/i.test(input.baseSha) ? input.baseSha : shellQuote(cleanText(input.baseSha))
  const lines: string[] = []
  if (input.baseBranch) lines.push(`git fetch origin ${shellQuote(cleanText(input.baseBranch))}`)
  lines.push(`git checkout --detach ${sha}`)
  // b4 takes a message URL only when the Message-ID part shows an `@`, then reads that archive.
  const url = input.lore ? safeUrl(`${loreUrl(input.lore, input.messageId)}/`) : undefined
  const msgid = cleanText(input.messageId)
  const target = url && /\/[^/]+@[^/]+\/$/.test(url) ? url : msgid
  lines.push(`b4 shazam ${target.startsWith('-') ? '-- ' : ''}${shellQuote(target)}`)
  const mbox = safeUrl(input.mboxUrl)
  if (mbox) lines.push('# or, without b4:', `curl -sL ${shellQuote(mbox)} | git am -3`)
  return lines.join('\n')
}
