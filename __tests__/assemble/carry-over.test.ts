import { describe, expect, it } from '@jest/globals'
import { parseMail } from '../../src/assemble/mail.js'
import { assembleSeries, findSeries, type SeriesAssembly } from '../../src/assemble/series.js'
import { appendTrailers } from '../../src/assemble/trailers.js'
import type { Mail, Trailer } from '../../src/model.js'
import { loadMails, mailinfo } from './helpers.js'

/**
 * b4's rule 21 (`trailer_map`): review trailers given to a patch of another revision in the thread carry
 * over to the chosen revision's patch when its `git patch-id --stable` is unchanged.
 */

type Assembled = Extract<SeriesAssembly, { ok: true }>

function ok(result: SeriesAssembly): Assembled {
  if (!result.ok) throw new Error(`expected a series, got: ${result.reason}`)
  return result
}

const sf = (n: string): string => `1473632524-8585-${n}-git-send-email-stephenfinucane@gmail.com`
const v2id = (n: string): string => `v2-${n}-stephenfinucane@gmail.com`
const t = (name: string, value: string): Trailer => ({ name, value })

const RITA = t('Reviewed-by', 'Rita Reviewer <rita@example.net>')
const TOM = t('Tested-by', 'Tom Tester <tom@example.net>')
const GINA = t('Reviewed-by', 'Gina Given <gina@example.net>')
const ADA = t('Acked-by', 'Ada Acker <ada@example.net>')
const CARL = t('Tested-by', 'Carl Cover <carl@example.net>')

/** A review reply as a mailing list delivers it. */
async function reply(opts: {
  id: string
  from: string
  to: string
  references: string[]
  subject: string
  date: string
  text: string
}): Promise<Mail> {
  const raw = [
    `From: ${opts.from}`,
    `Subject: Re: ${opts.subject}`,
    `Date: ${opts.date}`,
    `Message-ID: <${opts.id}>`,
    `In-Reply-To: <${opts.to}>`,
    `References: ${[...opts.references, opts.to].map(r => `<${r}>`).join(' ')}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    opts.text,
    ''
  ].join('\n')
  return parseMail(Buffer.from(raw, 'utf8'))
}

/**
 * v2 of Patchwork's sample series, made from v1's own mails the way a re-send looks: new Message-IDs and
 * date, `v2` in the subjects, threaded to v1's cover. Patch 1 only gets a new commit message and moves
 * down by two lines (same patch-id); patch 2 changes one added line (another patch-id).
 */
function asV2(mail: Mail): Buffer {
  const n = /-(\d)-git-send-email/.exec(mail.messageId)?.[1] ?? '0'
  let text = mail.raw
    .toString('utf8')
    .replace(/^(Content-Length|Lines): .*\n/gm, '')
    .replace(/^Subject: \[PATCH /m, 'Subject: [PATCH v2 ')
    .replace(/^Date: .*$/m, 'Date: Tue, 13 Sep 2016 10:00:0' + n + ' +0100')
    .replace(/^Message-ID: <.*>$/m, `Message-ID: <${v2id(n)}>`)
  if (n === '1') {
    text = text.replace(
      /^From: Stephen/m,
      `In-Reply-To: <${sf('1')}>\nReferences: <${sf('1')}>\nFrom: Stephen`
    )
  } else {
    text = text
      .replace(/^In-Reply-To: <.*>$/m, `In-Reply-To: <${v2id('1')}>`)
      .replace(/^References: <.*>$/m, `References: <${sf('1')}> <${v2id('1')}>`)
  }
  if (n === '2') {
    text = text
      .replace(
        '\n---\n',
        '\nAdd a paragraph to the test file.\n\nReviewed-by: Gina Given <gina@example.net>\n---\n'
      )
      .replace('@@ -1 +1,8 @@', '@@ -3 +3,8 @@')
      .replace('index f75ba05..a6c61c0', 'index 1234567..89abcde')
  }
  if (n === '3') text = text.replace('+# Hello, world\n', '+# Hello, world!\n')
  return Buffer.from(text, 'utf8')
}

/** v1 with reviews of both patches and of the cover, then v2 in the same thread, without reviews. */
async function thread(): Promise<{ v1: Mail[]; v2: Mail[]; reviews: Mail[] }> {
  const v1 = await loadMails('patchwork/series/base-cover-letter.mbox')
  const v2 = await Promise.all(v1.map(mail => parseMail(asV2(mail))))
  const p1 = '[PATCH 1/2] test: Add some lorem ipsum'
  const reviews = await Promise.all([
    reply({
      id: 'rita@example.net',
      from: 'Rita Reviewer <rita@example.net>',
      to: sf('2'),
      references: [sf('1')],
      subject: p1,
      date: 'Mon, 12 Sep 2016 08:00:00 +0100',
      text: '> +Lorem ipsum\n\nReviewed-by: Rita Reviewer <rita@example.net>'
    }),
    // A Tested-by answering the review counts for the patch too (rule 18).
    reply({
      id: 'tom@example.net',
      from: 'Tom Tester <tom@example.net>',
      to: 'rita@example.net',
      references: [sf('1'), sf('2')],
      subject: p1,
      date: 'Mon, 12 Sep 2016 09:00:00 +0100',
      text: 'Tested-by: Tom Tester <tom@example.net>'
    }),
    // The author put this one into v2's commit message already.
    reply({
      id: 'gina@example.net',
      from: 'Gina Given <gina@example.net>',
      to: sf('2'),
      references: [sf('1')],
      subject: p1,
      date: 'Mon, 12 Sep 2016 10:00:00 +0100',
      text: 'Reviewed-by: Gina Given <gina@example.net>'
    }),
    // Not the sender's own address: ignored, and reported with the series it would have reached.
    reply({
      id: 'mallory@example.net',
      from: 'Mallory <mallory@example.net>',
      to: sf('2'),
      references: [sf('1')],
      subject: p1,
      date: 'Mon, 12 Sep 2016 11:00:00 +0100',
      text: 'Reviewed-by: Linus Torvalds <torvalds@linux-foundation.org>'
    }),
    reply({
      id: 'ada@example.net',
      from: 'Ada Acker <ada@example.net>',
      to: sf('3'),
      references: [sf('1')],
      subject: '[PATCH 2/2] test: Convert to Markdown',
      date: 'Mon, 12 Sep 2016 12:00:00 +0100',
      text: 'Acked-by: Ada Acker <ada@example.net>'
    }),
    reply({
      id: 'carl@example.net',
      from: 'Carl Cover <carl@example.net>',
      to: sf('1'),
      references: [],
      subject: '[PATCH 0/2] A sample series',
      date: 'Mon, 12 Sep 2016 13:00:00 +0100',
      text: 'For the series:\n\nTested-by: Carl Cover <carl@example.net>'
    })
  ])
  return { v1, v2, reviews }
}

describe('trailers carried over from another revision (b4 rule 21)', () => {
  it('an unchanged patch gets v1 reviews, a changed one does not', async () => {
    const { v1, v2, reviews } = await thread()
    const { series, warnings } = ok(assembleSeries([...v1, ...reviews, ...v2]))
    expect(series.revision).toBe(2)
    expect(series.patches.map(p => p.mail.messageId)).toEqual([v2id('2'), v2id('3')])
    // Gina is in v2's commit message already; Carl reviewed v1's cover letter, which b4 does not carry.
    expect(series.patches[0].followupTrailers).toEqual([RITA, TOM])
    expect(series.patches[1].followupTrailers).toEqual([])
    expect(warnings).toContain('[1/2] carried 2 trailer(s) over from v1 (unchanged patch)')
    expect(warnings.filter(w => w.includes('carried'))).toHaveLength(1)
    expect(warnings.some(w => w.includes('Linus Torvalds') && w.includes('<mallory@example.net>'))).toBe(true)
  })

  it('v1 itself keeps its own reviews, cover trailers included', async () => {
    const { v1, v2, reviews } = await thread()
    const { series, warnings } = ok(assembleSeries([...v1, ...reviews, ...v2], { revision: 1 }))
    expect(series.patches[0].followupTrailers).toEqual([RITA, TOM, GINA, CARL])
    expect(series.patches[1].followupTrailers).toEqual([ADA, CARL])
    expect(warnings.some(w => w.includes('carried'))).toBe(false)
  })

  it('the commit message git am + the trailers give has every review once', async () => {
    const { v1, v2, reviews } = await thread()
    const { series } = ok(assembleSeries([...reviews, ...v2, ...v1]))
    const patch = series.patches[0]
    const message = appendTrailers(mailinfo(patch.mail.raw).message, patch.followupTrailers)
    expect(message).toBe(
      [
        'test: Add some lorem ipsum',
        '',
        'Add a paragraph to the test file.',
        '',
        'Reviewed-by: Gina Given <gina@example.net>',
        'Reviewed-by: Rita Reviewer <rita@example.net>',
        'Tested-by: Tom Tester <tom@example.net>',
        ''
      ].join('\n')
    )
  })

  it('a review given to v2 as well is not counted twice', async () => {
    const { v1, v2, reviews } = await thread()
    const again = await reply({
      id: 'rita-v2@example.net',
      from: 'Rita Reviewer <rita@example.net>',
      to: v2id('2'),
      references: [v2id('1')],
      subject: '[PATCH v2 1/2] test: Add some lorem ipsum',
      date: 'Wed, 14 Sep 2016 08:00:00 +0100',
      text: 'Still fine.\n\nReviewed-by: Rita Reviewer <rita@example.net>'
    })
    const { series, warnings } = ok(assembleSeries([...v1, ...reviews, ...v2, again]))
    expect(series.patches[0].followupTrailers).toEqual([RITA, TOM])
    expect(warnings).toContain('[1/2] carried 1 trailer(s) over from v1 (unchanged patch)')
  })

  it('findSeries carries them too', async () => {
    const { v1, v2, reviews } = await thread()
    const found = findSeries([...v2, ...reviews, ...v1])
    const latest = found.find(s => s.revision === 2)
    expect(latest?.patches.map(p => p.followupTrailers)).toEqual([[RITA, TOM], []])
  })

  it('a real v1/v2 thread whose patches both changed: nothing carried', async () => {
    const mails = await loadMails('patchwork/series/revision-threaded-to-cover.mbox')
    const review = await reply({
      id: 'rita@example.net',
      from: 'Rita Reviewer <rita@example.net>',
      to: sf('2'),
      references: [sf('1')],
      subject: '[PATCH 1/2] test: Add some lorem ipsum',
      date: 'Mon, 12 Sep 2016 08:00:00 +0100',
      text: 'Reviewed-by: Rita Reviewer <rita@example.net>'
    })
    const { series, warnings } = ok(assembleSeries([...mails, review]))
    expect(series.revision).toBe(2)
    expect(series.patches.map(p => p.followupTrailers)).toEqual([[], []])
    expect(warnings.some(w => w.includes('carried'))).toBe(false)
    // The review does reach v1.
    const v1 = ok(assembleSeries([...mails, review], { revision: 1 }))
    expect(v1.series.patches[0].followupTrailers).toEqual([RITA])
  })

  it('lore thread: a v1 review reaches the identical v2, after v2 own review', async () => {
    const mails = await loadMails('generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox')
    const review = await reply({
      id: 'early-review@example.com',
      from: 'Early Bird <early@example.com>',
      to: '20250303090000.12345-1-zoe@example.org',
      references: [],
      subject: '[PATCH] fs: retry lookup',
      date: 'Mon, 03 Mar 2025 18:00:00 +0100',
      text: 'Acked-by: Early Bird <early@example.com>'
    })
    const { series, warnings } = ok(assembleSeries([...mails, review]))
    expect(series.revision).toBe(2)
    expect(series.patches[0].followupTrailers).toEqual([
      t('Reviewed-by', 'Jürgen Größ <jgross@example.net>'),
      t('Acked-by', 'Early Bird <early@example.com>')
    ])
    expect(warnings).toContain('[1/1] carried 1 trailer(s) over from v1 (unchanged patch)')
  })

  it('like b4, an explicitly chosen older revision gets the reviews of an identical newer one', async () => {
    const mails = await loadMails('generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox')
    const { series, warnings } = ok(assembleSeries(mails, { revision: 1 }))
    expect(series.patches[0].followupTrailers).toEqual([t('Reviewed-by', 'Jürgen Größ <jgross@example.net>')])
    expect(warnings).toContain('[1/1] carried 1 trailer(s) over from v2 (unchanged patch)')
  })

  it("b4's partial-reroll sample: the re-sent, changed 2/2 does not inherit 2/2's review", async () => {
    const { series, warnings } = ok(
      assembleSeries(await loadMails('b4/trailers-followup-partial-reroll.mbox'))
    )
    expect(series.revision).toBe(3)
    const values = series.patches.map(p => p.followupTrailers.map(tr => tr.value))
    expect(values[1]).not.toContain('Followup Reviewer1 <followup-reviewer1@example.com>')
    expect(warnings.some(w => w.includes('carried'))).toBe(false)
  })
})
