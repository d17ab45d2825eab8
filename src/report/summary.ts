/**
 * The job summary and the action outputs, rendered from what the run did. Maintainers read the summary to
 * learn why a series has no PR, so every failure carries its reason, git's message and a command to
 * reproduce it; the table links each series to lore and Patchwork.
 */
import type { Outcome, SeriesRef } from '../model.js'
import { loreUrl, renderFailure, reproduceCommand, type LoreArchive } from '../publish/render.js'
import { codeSpan, safeUrl, sanitizeInline, truncate } from '../publish/sanitize.js'

/** GitHub drops a step summary over 1024 KiB; the rest of the budget is slack for the omission note. */
export const SUMMARY_MAX_BYTES = 1024 * 1024
const SUMMARY_BUDGET = SUMMARY_MAX_BYTES - 4 * 1024

export interface RunReport {
  dryRun: boolean
  /** Series discovery found this run, before any was skipped. */
  discovered: number
  outcomes: Outcome[]
  /** What discovery knew about the series, for links and Message-IDs (looked up by key). */
  series: SeriesRef[]
  /** The public-inbox archive the series came from, for lore links. */
  lore: LoreArchive
  /** The base branches used and the commits they pointed at. */
  bases: { branch: string; sha: string }[]
  /** Writes a dry run left out, described by the code that would have made them. */
  plannedWrites: string[]
  warnings: string[]
}

export type OutcomeKind = Outcome['kind']

export type Counters = Record<OutcomeKind | 'discovered', number>

export function countOutcomes(run: Pick<RunReport, 'discovered' | 'outcomes'>): Counters {
  const counters: Counters = {
    discovered: run.discovered,
    opened: 0,
    adopted: 0,
    skipped: 0,
    failed: 0,
    refused: 0,
    closed: 0,
    updated: 0
  }
  for (const o of run.outcomes) counters[o.kind]++
  return counters
}

function messageIdOf(ref: SeriesRef | undefined): string | undefined {
  return ref?.coverMsgid ?? ref?.patchMsgids[0]
}

/** A table cell: `|` must be escaped even inside code spans (GFM tables split on it first). */
function cell(markdown: string): string {
  return markdown.replace(/(?<!\\)\|/g, '\\|')
}

function link(text: string, url: string | undefined): string {
  const safe = safeUrl(url)
  return safe ? `[${text}](${safe})` : ''
}

function prOrReason(o: Outcome): string {
  switch (o.kind) {
    case 'opened':
    case 'adopted':
    case 'closed':
    case 'updated': {
      const pr = link(`#${o.pr}`, o.url) || `#${o.pr}`
      return 'reason' in o ? `${pr}: ${sanitizeInline(truncate(o.reason, 300))}` : pr
    }
    case 'skipped':
    case 'failed':
    case 'refused':
      return sanitizeInline(truncate(o.reason, 300))
  }
}

function tableRow(o: Outcome, ref: SeriesRef | undefined, run: RunReport): string {
  const msgid = messageIdOf(ref)
  const patchwork = ref?.patchworkId !== undefined ? link(String(ref.patchworkId), ref.webUrl) : ''
  const cells = [
    o.kind,
    prOrReason(o),
    sanitizeInline(truncate(o.title, 300)),
    msgid ? link('lore', loreUrl(run.lore, msgid)) : '',
    patchwork,
    msgid ? codeSpan(`<${truncate(msgid, 300)}>`) : ''
  ]
  return `| ${cells.map(cell).join(' | ')} |`
}

function countersTable(c: Counters): string {
  const names: (keyof Counters)[] = [
    'discovered',
    'opened',
    'adopted',
    'skipped',
    'failed',
    'refused',
    'closed',
    'updated'
  ]
  return [
    `| ${names.map(n => n.charAt(0).toUpperCase() + n.slice(1)).join(' | ')} |`,
    `| ${names.map(() => '---:').join(' | ')} |`,
    `| ${names.map(n => String(c[n])).join(' | ')} |`
  ].join('\n')
}

function failedSection(
  o: Extract<Outcome, { kind: 'failed' }>,
  ref: SeriesRef | undefined,
  run: RunReport
): string {
  const heading = `### Failed: ${sanitizeInline(truncate(o.title, 300))}`
  const reason = sanitizeInline(truncate(o.reason, 1000))
  if (!o.failure) return `${heading}\n\n${reason}`
  const msgid = messageIdOf(ref)
  const reproduce =
    o.reproduce ??
    (msgid
      ? reproduceCommand({
          lore: run.lore,
          messageId: msgid,
          baseSha: o.failure.baseSha,
          mboxUrl: ref?.mboxUrl
        })
      : undefined)
  return `${heading}\n\n${reason}\n\n${renderFailure(o.failure, reproduce)}`
}

function refusedSection(o: Extract<Outcome, { kind: 'refused' }>): string {
  const files = o.files.slice(0, 50).map(f => `- ${codeSpan(truncate(f, 300))}`)
  if (o.files.length > 50) files.push(`- … and ${o.files.length - 50} more`)
  const body = [sanitizeInline(truncate(o.reason, 1000)), ...(files.length ? [files.join('\n')] : [])]
  return [`### Refused: ${sanitizeInline(truncate(o.title, 300))}`, ...body].join('\n\n')
}

/**
 * Joins pieces until the byte budget is used up, then says how many were left out. Pieces are rendered only
 * when needed, so a run with thousands of failures renders only what fits.
 */
function fit(pieces: (() => string)[], separator: string, budget: number, what: string): string {
  let out = ''
  let used = 0
  for (let i = 0; i < pieces.length; i++) {
    const add = (i === 0 ? '' : separator) + pieces[i]()
    const bytes = Buffer.byteLength(add)
    if (used + bytes > budget) {
      const note = `*${pieces.length - i} more ${what} left out: the job summary is limited to 1 MiB. See the log.*`
      return out + separator + note
    }
    out += add
    used += bytes
  }
  return out
}

function bulletList(items: string[]): string {
  return items.map(item => `- ${sanitizeInline(truncate(item, 1000))}`).join('\n')
}

/**
 * Markdown for `$GITHUB_STEP_SUMMARY`, at most SUMMARY_MAX_BYTES: counters, the table, warnings, the planned
 * writes of a dry run, then one section per failed or refused series (cut first when space runs out).
 */
export function renderSummary(run: RunReport): string {
  const refs = new Map(run.series.map(r => [r.key, r]))
  const head: string[] = [`## ml2pr${run.dryRun ? ' (dry run: nothing was written)' : ''}`]
  head.push(countersTable(countOutcomes(run)))
  if (run.bases.length > 0) {
    head.push(run.bases.map(b => `**Base:** ${sanitizeInline(b.branch)} at ${codeSpan(b.sha)}`).join('\n'))
  }
  if (run.outcomes.length === 0) head.push('No series to handle this run.')

  const sections: (() => string)[] = []
  if (run.outcomes.length > 0) {
    const header = [
      '| Outcome | PR or reason | Series | Lore | Patchwork | Message-ID |',
      '| --- | --- | --- | --- | --- | --- |'
    ].join('\n')
    const rows = run.outcomes.map(o => () => tableRow(o, refs.get(o.key), run))
    const table = `### Series\n\n${header}\n${fit(rows, '\n', SUMMARY_BUDGET / 2, 'rows')}`
    sections.push(() => table)
  }
  if (run.warnings.length > 0) sections.push(() => `### Warnings\n\n${bulletList(run.warnings)}`)
  if (run.dryRun) {
    const writes = run.plannedWrites.length > 0 ? bulletList(run.plannedWrites) : 'Nothing.'
    sections.push(() => `### Would have done\n\n${writes}`)
  }
  for (const o of run.outcomes) {
    if (o.kind === 'failed') sections.push(() => failedSection(o, refs.get(o.key), run))
    if (o.kind === 'refused') sections.push(() => refusedSection(o))
  }
  const top = head.join('\n\n')
  return `${top}\n\n${fit(sections, '\n\n', SUMMARY_BUDGET - Buffer.byteLength(top), 'sections')}\n`
}

export interface RunOutputs {
  /** JSON array of `{key, pr, url}` for PRs opened this run. */
  opened: string
  /** JSON array of `{key, kind, patch?}`: `kind` is the failure kind (or `error`), `patch` the failing counter. */
  failed: string
  /** JSON array of `{key}`. */
  skipped: string
}

/**
 * Action outputs. They hold keys, numbers and URLs only, never mail text: workflows interpolate outputs into
 * scripts, where a subject could become code.
 */
export function renderOutputs(run: RunReport): RunOutputs {
  const opened = run.outcomes.flatMap(o =>
    o.kind === 'opened' ? [{ key: o.key, pr: o.pr, url: o.url }] : []
  )
  const failed = run.outcomes.flatMap(o =>
    o.kind === 'refused'
      ? [{ key: o.key, kind: 'refused' }]
      : o.kind === 'failed'
        ? [
            {
              key: o.key,
              kind: o.failure?.kind ?? 'error',
              ...(o.failure && o.failure.counter > 0 ? { patch: o.failure.counter } : {})
            }
          ]
        : []
  )
  const skipped = run.outcomes.flatMap(o => (o.kind === 'skipped' ? [{ key: o.key }] : []))
  return { opened: JSON.stringify(opened), failed: JSON.stringify(failed), skipped: JSON.stringify(skipped) }
}
