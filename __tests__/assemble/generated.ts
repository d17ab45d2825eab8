/**
 * Series in the subject and threading forms seen in the wild (and read by Patchwork's parser), built from
 * `git send-email`-shaped mails. Shared by the assembly tests and the b4 differential test, so every series
 * the tests generate is also checked against b4.
 */
import { makeSeries, type SeriesMails } from '../e2e/mails.js'

export interface GeneratedSeries {
  name: string
  /** The thread as an mbox (plain mbox, `From ` separators). */
  mbox: Buffer
  /** Message-IDs of the patches that form the series, in order. */
  patchIds: string[]
  coverId?: string
  revision: number
}

/** Rewrites the Subject of message `n` (0 = cover) of a series. */
function withSubject(raw: Buffer, subject: string): Buffer {
  return Buffer.from(raw.toString('utf8').replace(/^Subject: .*$/m, `Subject: ${subject}`))
}

/** Drops In-Reply-To and References: a series sent by a script or mailer that does not thread. */
function unthreaded(raw: Buffer): Buffer {
  return Buffer.from(raw.toString('utf8').replace(/^(In-Reply-To|References): .*\n/gim, ''))
}

/** Messages joined into a plain mbox, as `git format-patch --stdout` writes one. */
export function toMbox(messages: Buffer[]): Buffer {
  const parts: Buffer[] = []
  for (const message of messages) {
    parts.push(Buffer.from('From git@z Thu Jan  1 00:00:00 1970\n'), message)
    if (!message.toString('latin1').endsWith('\n')) parts.push(Buffer.from('\n'))
    parts.push(Buffer.from('\n'))
  }
  return Buffer.concat(parts)
}

interface FormSpec {
  name: string
  count: number
  /** Subject of message n of count (n = 0 is the cover letter). */
  subject: (n: number, count: number, title: string) => string
  cover?: boolean
  threaded?: boolean
  revision: number
}

function build(spec: FormSpec): GeneratedSeries {
  const series: SeriesMails = makeSeries({
    tag: spec.name,
    title: `fs: ${spec.name.replace(/-/g, ' ')}`,
    count: spec.count,
    cover: spec.cover ?? true
  })
  const title = (n: number): string => `fs: ${spec.name.replace(/-/g, ' ')}${n > 0 ? `: part ${n}` : ''}`
  const thread = (raw: Buffer): Buffer => (spec.threaded === false ? unthreaded(raw) : raw)
  const messages: Buffer[] = []
  if (series.cover) messages.push(thread(withSubject(series.cover, spec.subject(0, spec.count, title(0)))))
  series.patches.forEach((raw, i) => {
    messages.push(thread(withSubject(raw, spec.subject(i + 1, spec.count, title(i + 1)))))
  })
  return {
    name: spec.name,
    mbox: toMbox(messages),
    patchIds: series.patchIds,
    ...(series.coverId ? { coverId: series.coverId } : {}),
    revision: spec.revision
  }
}

/** The forms of issue reports and Patchwork's parser tests, each as a whole series. */
export function generatedSeries(): GeneratedSeries[] {
  return [
    build({
      name: 'glued-counter',
      count: 12,
      revision: 1,
      subject: (n, c, t) => `[PATCH${n}/${c}] ${t}`
    }),
    build({
      name: 'glued-version-and-counter',
      count: 4,
      revision: 2,
      subject: (n, c, t) => `[v2PATCH${n}/${c}] ${t}`
    }),
    build({
      name: 'version-then-glued-counter',
      count: 4,
      revision: 2,
      subject: (n, c, t) => `[v2 PATCH${n}/${c}] ${t}`
    }),
    build({
      name: 'mercurial-counter',
      count: 3,
      revision: 1,
      subject: (n, c, t) => `[PATCH ${n} of ${c}] ${t}`
    }),
    build({
      name: 'version-after-subject',
      count: 3,
      revision: 2,
      subject: (n, c, t) => `[PATCH ${n}/${c}] ${t} (v2)`
    }),
    build({
      name: 'uppercase-version-after-subject',
      count: 3,
      revision: 6,
      cover: false,
      subject: (n, c, t) => `[PATCH ${n}/${c}] ${t} (V6)`
    }),
    build({
      name: 'unthreaded-series',
      count: 3,
      revision: 1,
      cover: false,
      threaded: false,
      subject: (n, c, t) => `[PATCH ${n}/${c}] ${t}`
    }),
    build({
      name: 'unthreaded-glued-counter',
      count: 3,
      revision: 1,
      cover: false,
      threaded: false,
      subject: (n, c, t) => `[PATCH${n}/${c}] ${t}`
    })
  ]
}
