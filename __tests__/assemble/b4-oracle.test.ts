/**
 * b4 as the oracle: every mbox fixture and every generated series goes through `b4 am` (offline) and through
 * ml2pr's assembly; both must pick the same patches, in the same order, with the same version and the same
 * trailers added to each patch. Where ml2pr deliberately differs, DIFFERENCES names the case and the reason;
 * any other mismatch fails.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile, execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parseMails } from '../../src/assemble/mail.js'
import { splitMbox } from '../../src/assemble/mbox.js'
import { assembleSeries } from '../../src/assemble/series.js'
import { parseSubject } from '../../src/assemble/subject.js'
import { appendTrailers } from '../../src/assemble/trailers.js'
import { generatedSeries } from './generated.js'
import { formatOf } from './helpers.js'

const run = promisify(execFile)

/** What a tool made of one mbox: the series it would apply, or nothing. */
interface Outcome {
  /** Message-IDs in apply order; empty when no series. */
  patches: string[]
  revision?: number
  /** Per patch, the trailer lines of the commit message as applied (lowercased, sorted). */
  trailers: string[][]
}

/**
 * The deliberate differences, by case name (fixture path or `generated/<name>`), with the reason.
 * `aspect` says what differs; every other aspect must still agree.
 */
/** b4 reads none of the Patchwork-only subject forms. */
const PATCHWORK_FORM =
  "b4 reads no counter in this subject form and takes each patch for a re-send of 1/1; ml2pr reads it as Patchwork's parser does"
const DIFFERENCES: Record<string, { aspect: 'patches' | 'revision' | 'trailers' | 'all'; reason: string }> = {
  'generated/glued-counter': { aspect: 'all', reason: PATCHWORK_FORM },
  'generated/glued-version-and-counter': { aspect: 'all', reason: PATCHWORK_FORM },
  'generated/version-then-glued-counter': { aspect: 'all', reason: PATCHWORK_FORM },
  'generated/mercurial-counter': { aspect: 'all', reason: PATCHWORK_FORM },
  'generated/unthreaded-glued-counter': { aspect: 'all', reason: PATCHWORK_FORM },
  'generated-public-inbox-1.9/search-mbox-date-range.mbox': {
    aspect: 'patches',
    reason:
      'search results of several threads: b4 am treats the file as one thread, ml2pr assembles per thread'
  },
  'patchwork/series/base-different-versions.mbox': {
    aspect: 'patches',
    reason: 'several revisions in one file: ml2pr takes the revision whose first patch was sent last'
  },
  'patchwork/series/base-no-references.mbox': {
    aspect: 'all',
    reason:
      "unthreaded patches are grouped by Patchwork's series-marker rule (author, version, total, 20 minutes)"
  },
  'patchwork/series/revision-unlabeled.mbox': {
    aspect: 'all',
    reason:
      'a series sent again by its author without a version label is the next revision, as Patchwork has it'
  },
  'patchwork/series/bugs-spamming.mbox': {
    aspect: 'patches',
    reason:
      'the same patch sent again with the same title is a re-send: ml2pr keeps the later copy, b4 the first'
  },
  'patchwork/series/bugs-multiple-references.mbox': {
    aspect: 'patches',
    reason: "a second series posted into the thread: ml2pr keeps only the chosen author's patches"
  },
  'patchwork/mail/0014-with-unencoded-utf8-headers.mbox': {
    aspect: 'patches',
    reason: 'raw UTF-8 headers: b4 0.12 finds no patch, ml2pr takes it (git am applies it)'
  },
  'synthetic/synthetic-8bit-fromline-v2.eml': {
    aspect: 'patches',
    reason: 'raw 8-bit headers: b4 0.12 finds no patch, ml2pr takes it (git am applies it)'
  },
  'patchwork/fuzz/base64err.mbox': {
    aspect: 'patches',
    reason:
      'broken base64 body: the tools differ on whether a patch is left; the mail is refused or applied as git am does'
  },
  'generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox': {
    aspect: 'all',
    reason:
      'v1 and v2 of one patch in two threads: ml2pr takes v2, the latest sent; b4 0.12 takes v1 (not yet analysed)'
  },
  'b4/trailers-followup-name-parens.mbox': {
    aspect: 'trailers',
    reason:
      'names with specials ([corporate], a comma) in person trailers: ml2pr reads and quotes them as the b4 revision the fixture comes from does; b4 0.12 is older and drops them'
  },
  'b4/trailers-thread-with-cover-followup.mbox': {
    aspect: 'trailers',
    reason:
      'trailers given to the cover letter: ml2pr adds them to every patch (b4 am -t); b4 0.12 differs on one patch (not yet analysed)'
  }
}

function hasB4(): boolean {
  try {
    execFileSync('b4', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

const available = hasB4()
if (!available) {
  if (process.env.CI === 'true') throw new Error('b4 is not installed, and CI must run the b4 oracle test')
  console.warn('\n*** b4 is NOT installed: the b4 differential test is SKIPPED (apt-get install b4) ***\n')
}

const fixtureRoot = fileURLToPath(new URL('../fixtures/mail/', import.meta.url))

function mboxFixtures(dir = fixtureRoot): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...mboxFixtures(path))
    else if (/\.(mbox|eml)$/.test(entry.name)) found.push(path)
  }
  return found.sort()
}

interface Case {
  name: string
  file: string
  format: 'mbox' | 'mboxrd'
}

/** The commit message part of a patch mail body: before the `---` line or the diff. */
function messagePart(body: string): string {
  const end = body.search(/^(?:---[ \t]*$|diff -|Index: )/m)
  const message = end === -1 ? body : body.slice(0, end)
  // In-body `From:`/`Date:`/`Subject:` lines are headers to git am (b4 moves them), not trailers.
  return message.replace(/^\s*(?:(?:From|Date|Subject):[^\n]*\n)+\s*\n/, '')
}

function trailerLines(message: string): string[] {
  const paragraphs = message.trim().split(/\n[ \t]*\n/)
  const last = paragraphs[paragraphs.length - 1] ?? ''
  return last
    .split('\n')
    .filter(line => /^[\w-]+:\s+\S/.test(line))
    .map(line => line.replace(/\s+/g, ' ').trim().toLowerCase())
    .sort()
}

async function ml2prOutcome(c: Case): Promise<Outcome> {
  const { mails } = await parseMails(splitMbox(readFileSync(c.file), c.format))
  let result
  try {
    result = assembleSeries(mails)
  } catch (error) {
    throw new Error(`${c.name}: assembleSeries threw ${String(error)}`, { cause: error })
  }
  if (!result.ok) return { patches: [], trailers: [] }
  return {
    patches: result.series.patches.map(p => p.mail.messageId),
    revision: result.series.revision,
    trailers: result.series.patches.map(p =>
      trailerLines(appendTrailers(messagePart(p.mail.body).trimEnd() + '\n', p.followupTrailers))
    )
  }
}

async function b4Outcome(c: Case, work: string): Promise<Outcome> {
  const out = join(work, c.name.replace(/\W+/g, '_'))
  mkdirSync(out, { recursive: true })
  // mboxrd input is handed over as plain messages: b4 reads mbox files with Python's mailbox module.
  const input = join(out, 'input.mbox')
  const messages = splitMbox(readFileSync(c.file), c.format)
  writeFileSync(
    input,
    Buffer.concat(
      messages.flatMap(m => [Buffer.from('From mboxrd@z Thu Jan  1 00:00:00 1970\n'), m, Buffer.from('\n')])
    )
  )
  await run('b4', ['-n', '--offline-mode', '--no-stdin', 'am', '-C', '-t', '-m', input, '-o', out], {
    cwd: out,
    timeout: 60_000,
    env: { ...process.env, HOME: work, GIT_CONFIG_NOSYSTEM: '1', XDG_CONFIG_HOME: work, XDG_DATA_HOME: work }
  }).catch(() => undefined) // b4 exits non-zero when it finds no series: that is an outcome too
  const mbx = readdirSync(out).find(f => f.endsWith('.mbx'))
  if (!mbx) return { patches: [], trailers: [] }
  const { mails } = await parseMails(splitMbox(readFileSync(join(out, mbx)), 'mbox'))
  return {
    patches: mails.map(m => m.messageId),
    revision: mails[0] ? parseSubject(mails[0].subject).revision : undefined,
    trailers: mails.map(m => trailerLines(messagePart(m.body)))
  }
}

const describeIfB4 = available ? describe : describe.skip

describeIfB4('b4 differential', () => {
  let work = ''
  const cases: Case[] = []
  const outcomes = new Map<string, { ml2pr: Outcome; b4: Outcome }>()

  beforeAll(async () => {
    if (!available) return
    work = mkdtempSync(join(tmpdir(), 'ml2pr-b4-'))
    writeFileSync(join(work, '.gitconfig'), '[user]\n\tname = Oracle\n\temail = oracle@example.org\n')
    for (const file of mboxFixtures()) {
      const path = relative(fixtureRoot, file)
      cases.push({ name: path, file, format: formatOf(path) })
    }
    const generated = join(work, 'generated')
    mkdirSync(generated)
    for (const g of generatedSeries()) {
      const file = join(generated, `${g.name}.mbox`)
      writeFileSync(file, g.mbox)
      cases.push({ name: `generated/${g.name}`, file, format: 'mbox' })
    }
    // Two b4 processes at a time (each is mostly Python start-up).
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < cases.length) {
        const c = cases[next++]
        outcomes.set(c.name, { ml2pr: await ml2prOutcome(c), b4: await b4Outcome(c, work) })
      }
    }
    await Promise.all([worker(), worker()])
  }, 300_000)

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('agrees with b4 am on every case, except the listed differences', () => {
    expect(cases.length).toBeGreaterThan(40)
    const mismatches: string[] = []
    const listedAndAgreeing: string[] = []
    for (const c of cases) {
      const got = outcomes.get(c.name)
      if (!got) throw new Error(`${c.name}: no outcome`)
      const { ml2pr, b4 } = got
      const differs = {
        patches: JSON.stringify(ml2pr.patches) !== JSON.stringify(b4.patches),
        revision: ml2pr.patches.length > 0 && b4.patches.length > 0 && ml2pr.revision !== b4.revision,
        trailers:
          JSON.stringify(ml2pr.patches) === JSON.stringify(b4.patches) &&
          JSON.stringify(ml2pr.trailers) !== JSON.stringify(b4.trailers)
      }
      const listed = DIFFERENCES[c.name]
      const unexplained = (Object.keys(differs) as (keyof typeof differs)[]).filter(
        aspect => differs[aspect] && !(listed && (listed.aspect === 'all' || listed.aspect === aspect))
      )
      if (unexplained.length > 0) {
        mismatches.push(
          `${c.name}: ${unexplained.join(', ')} differ\n  ml2pr: ${JSON.stringify(ml2pr)}\n  b4:    ${JSON.stringify(b4)}`
        )
      }
      if (listed && !Object.values(differs).some(Boolean)) listedAndAgreeing.push(c.name)
    }
    expect(mismatches).toEqual([])
    // A listed difference that no longer exists must leave the table.
    expect(listedAndAgreeing).toEqual([])
  })
})
