import { describe, expect, it } from '@jest/globals'
import { parseMails } from '../../src/assemble/mail.js'
import { splitMbox } from '../../src/assemble/mbox.js'
import { assembleSeries, findSeries } from '../../src/assemble/series.js'
import { isPullRequest, parseSubject } from '../../src/assemble/subject.js'
import type { Mail } from '../../src/model.js'
import { makeSeries } from '../e2e/mails.js'
import { generatedSeries, toMbox } from './generated.js'
import { loadMails } from './helpers.js'

async function mailsOf(mbox: Buffer): Promise<Mail[]> {
  const { mails, errors } = await parseMails(splitMbox(mbox, 'mbox'))
  expect(errors).toEqual([])
  return mails
}

describe('subject forms Patchwork reads', () => {
  it.each([
    // Patchwork's parse_series_marker: a word glued before the counter, the shortest one.
    ['[PATCH1/8] x', 1, 8, 1, true],
    ['[PATCH100/123] x', 100, 123, 1, true],
    ['[PATCH12/15] x', 12, 15, 1, true],
    ['[v2PATCH1/4] x', 1, 4, 2, true],
    ['[v2 PATCH1/4] x', 1, 4, 2, true],
    ['[RFC PATCH3/4] x', 3, 4, 1, true],
    // Mercurial's patchbomb.
    ['[PATCH 1 of 2] x', 1, 2, 1, true],
    ['[PATCH 0 of 2] x', 0, 2, 1, true],
    ['[PATCH v3 2 of 5] x', 2, 5, 3, true]
  ])('%s is %d/%d of v%d', (subject, counter, expected, revision, isPatch) => {
    expect(parseSubject(subject)).toMatchObject({
      counter,
      expected,
      revision,
      countersInferred: false,
      isPatch,
      title: 'x'
    })
  })

  it.each([
    ['[PATCH 1/3] fs: fix lookup (v2)', 2],
    ['[PATCH] fs: fix lookup (V6)', 6],
    // The brackets win over the subject text.
    ['[PATCH v3 1/3] fs: fix lookup (v2)', 3]
  ])('%s is v%d', (subject, revision) => {
    const parsed = parseSubject(subject)
    expect(parsed.revision).toBe(revision)
    expect(parsed.revisionInferred).toBe(false)
  })

  it('keeps "(v2)" in the title (git am keeps it in the commit subject) and ignores "(v0)"', () => {
    expect(parseSubject('[PATCH] fs: fix lookup (v2)').title).toBe('fs: fix lookup (v2)')
    expect(parseSubject('[PATCH] fs: fix (v0)')).toMatchObject({ revision: 1, revisionInferred: true })
  })

  it.each([
    ['Re meep', true, 'meep'],
    ['RE meep', true, 'meep'],
    ['re [PATCH 2/3] fs: x', true, 'fs: x'],
    ['Reduce stack use', false, 'Reduce stack use'],
    ['Remove the cache', false, 'Remove the cache'],
    ['[PATCH] re fix', false, 're fix']
  ])('%s is a reply: %s', (subject, reply, title) => {
    expect(parseSubject(subject)).toMatchObject({ isReply: reply, title })
  })
})

describe('series in those forms', () => {
  it.each(generatedSeries().map(g => [g.name, g] as const))(
    '%s: one complete series, every patch in order, the right version',
    async (_, generated) => {
      const mails = await mailsOf(generated.mbox)
      const result = assembleSeries(mails)
      if (!result.ok) throw new Error(result.reason)
      expect(result.series.patches.map(p => p.mail.messageId)).toEqual(generated.patchIds)
      expect(result.series.patches.map(p => p.counter)).toEqual(generated.patchIds.map((_, i) => i + 1))
      expect(result.series).toMatchObject({ revision: generated.revision, complete: true })
      expect(result.series.cover?.messageId).toBe(generated.coverId)
      // Discovery sees one series too, whatever order the mails come in.
      const found = findSeries([...mails].reverse())
      expect(found).toHaveLength(1)
      expect(found[0].patches.map(p => p.mail.messageId)).toEqual(generated.patchIds)
    }
  )

  it('an unthreaded series sent over more than 20 minutes is two series, as Patchwork groups it', async () => {
    const series = makeSeries({ tag: 'slow', title: 'fs: slow', count: 3, cover: false })
    const late = series.patches.map((raw, i) =>
      Buffer.from(
        raw
          .toString()
          .replace(/^(In-Reply-To|References): .*\n/gim, '')
          .replace(/^Date: .*$/m, `Date: Fri, 20 Nov 2026 ${i === 2 ? '10:40' : '10:00'}:0${i} +0000`)
      )
    )
    const found = findSeries(await mailsOf(toMbox(late)))
    expect(found.map(s => s.patches.length)).toEqual([2, 1])
    expect(found[0].complete).toBe(false)
  })
})

/** `git request-pull` text as the networking tree sends it, with the whole diff inline after it. */
function networkingPull(): Buffer {
  const patch = makeSeries({ tag: 'net', title: 'net: fixes', count: 1, cover: false }).patches[0]
  const text = patch.toString()
  const cut = text.indexOf('\n\n')
  const head = text
    .slice(0, cut)
    .replace(/^Subject: .*$/m, 'Subject: [GIT] Networking')
    .replace(/^From: .*$/m, 'From: David Miller <davem@davemloft.net>')
  const diff = text.slice(text.indexOf('diff --git'))
  const body = [
    '',
    '1) Fix a use after free in the socket layer.',
    '',
    'Please pull, thanks a lot!',
    '',
    'The following changes since commit 6f0d349d922ba44e4348a17a78ea51b7135965b1:',
    '',
    '  Merge git://git.kernel.org/pub/scm/linux/kernel/git/davem/net (2018-03-30 10:53:57 -0700)',
    '',
    'are available in the Git repository at:',
    '',
    '  git://git.kernel.org/pub/scm/linux/kernel/git/davem/net.git ',
    '',
    'for you to fetch changes up to 1c8c5a9d38f607c0b6fd12c91cbe1a4418762a21:',
    '',
    '  net: fixes (2018-04-02 11:14:04 -0400)',
    '',
    '----------------------------------------------------------------',
    ' fs/net-1.c | 5 +++++',
    ' 1 file changed, 5 insertions(+)',
    '',
    diff
  ].join('\n')
  return Buffer.from(`${head}\n${body}`)
}

describe('pull requests by their body', () => {
  it('[GIT] Networking with request-pull text and an inline diff opens nothing', async () => {
    const mails = await mailsOf(toMbox([networkingPull()]))
    expect(mails[0].hasDiff).toBe(true)
    expect(isPullRequest(parseSubject(mails[0].subject), mails[0])).toBe(true)
    expect(findSeries(mails)).toEqual([])
    const result = assembleSeries(mails)
    expect(result.ok).toBe(false)
  })

  it("Patchwork's pull request fixture (old request-pull layout) is one too", async () => {
    const [mail] = await loadMails('patchwork/mail/0001-git-pull-request.mbox')
    expect(isPullRequest({ ...parseSubject('Please pull'), prefixes: [] }, mail)).toBe(true)
  })

  it('a patch that merely quotes request-pull wording is still a patch', async () => {
    const patch = makeSeries({ tag: 'doc', title: 'docs: pull', count: 1, cover: false }).patches[0]
    const text = patch
      .toString()
      .replace('Part 1 of docs: pull.', 'Explain "The following changes since commit" in the docs.')
    const mails = await mailsOf(toMbox([Buffer.from(text)]))
    expect(findSeries(mails)).toHaveLength(1)
  })
})

describe('replies without a colon', () => {
  it('"Re [PATCH 2/3]" from the author, carrying a fixup diff, does not replace patch 2', async () => {
    const series = makeSeries({ tag: 'fix', title: 'fs: fix', count: 3 })
    const fixup = Buffer.from(
      series.patches[1]
        .toString()
        .replace(/^Subject: \[PATCH 2\/3\]/m, 'Subject: Re [PATCH 2/3]')
        .replace(/^Message-ID: .*$/m, '<fixup@example.org>'.replace(/^/, 'Message-ID: '))
        .replace(/^In-Reply-To: .*$/m, `In-Reply-To: <${series.patchIds[1]}>`)
        .replace(/^Date: .*$/m, 'Date: Sat, 21 Nov 2026 10:00:00 +0000')
    )
    const mails = await mailsOf(toMbox([series.cover as Buffer, ...series.patches, fixup]))
    const result = assembleSeries(mails)
    if (!result.ok) throw new Error(result.reason)
    expect(result.series.patches.map(p => p.mail.messageId)).toEqual(series.patchIds)
  })

  it('"RE meep" with a trailer adds it to the patch it answers', async () => {
    const series = makeSeries({ tag: 'meep', title: 'fs: meep', count: 2 })
    const reply = Buffer.from(
      [
        'From: Rita Reviewer <rita@example.org>',
        'Subject: RE meep',
        'Date: Sat, 21 Nov 2026 10:00:00 +0000',
        'Message-ID: <meep-review@example.org>',
        `In-Reply-To: <${series.patchIds[0]}>`,
        `References: <${series.coverId}> <${series.patchIds[0]}>`,
        '',
        'Looks right.',
        '',
        'Reviewed-by: Rita Reviewer <rita@example.org>',
        ''
      ].join('\n')
    )
    const result = assembleSeries(await mailsOf(toMbox([series.cover as Buffer, ...series.patches, reply])))
    if (!result.ok) throw new Error(result.reason)
    expect(result.series.patches[0].followupTrailers).toEqual([
      { name: 'Reviewed-by', value: 'Rita Reviewer <rita@example.org>' }
    ])
    expect(result.series.patches[1].followupTrailers).toEqual([])
  })
})
