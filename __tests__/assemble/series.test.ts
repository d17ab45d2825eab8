import { describe, expect, it } from '@jest/globals'
import { assembleSeries, findSeries, type SeriesAssembly } from '../../src/assemble/series.js'
import type { Mail, Series } from '../../src/model.js'
import { loadMails } from './helpers.js'

type Assembled = Extract<SeriesAssembly, { ok: true }>

function ok(result: SeriesAssembly): Assembled {
  if (!result.ok) throw new Error(`expected a series, got: ${result.reason}`)
  return result
}

async function assemble(path: string, want?: Parameters<typeof assembleSeries>[1]): Promise<Assembled> {
  return ok(assembleSeries(await loadMails(path), want))
}

const ids = (series: Series): string[] => series.patches.map(p => p.mail.messageId)
const counters = (series: Series): number[] => series.patches.map(p => p.counter)
const sf = (n: string): string => `1473632524-8585-${n}-git-send-email-stephenfinucane@gmail.com`

describe('assembleSeries on Patchwork test series', () => {
  it('cover letter + 2 patches: patches only, in order, titled by the cover', async () => {
    const { series, warnings } = await assemble('patchwork/series/base-cover-letter.mbox')
    expect(series).toMatchObject({
      revision: 1,
      expected: 2,
      title: 'A sample series',
      complete: true,
      missing: []
    })
    expect(series.cover?.messageId).toBe(sf('1'))
    expect(series.messageId).toBe(sf('1'))
    expect(ids(series)).toEqual([sf('2'), sf('3')])
    expect(series.author).toEqual({ name: 'Stephen Finucane', email: 'stephenfinucane@gmail.com' })
    expect(warnings).toEqual([])
  })

  it.each(['base-out-of-order', 'base-deep-threaded'])('%s gives the same series', async name => {
    const { series } = await assemble(`patchwork/series/${name}.mbox`)
    expect(ids(series)).toEqual([sf('2'), sf('3')])
    expect(series.complete).toBe(true)
  })

  it('incomplete series: present patches, the missing counters, and a warning', async () => {
    const { series, warnings } = await assemble('patchwork/series/base-incomplete.mbox')
    expect(series.complete).toBe(false)
    expect(series.missing).toEqual([2])
    expect(counters(series)).toEqual([1])
    expect(warnings).toContain('v1 is incomplete: missing [2/2]')
  })

  it('extra patch 3/2 raises the total', async () => {
    const { series } = await assemble('patchwork/series/base-extra-patches.mbox')
    expect(series.expected).toBe(3)
    expect(counters(series)).toEqual([1, 2, 3])
    expect(series.patches[2].mail.subject).toBe('[PATCH 3/2] test: Remove Markdown formatting')
    expect(series.complete).toBe(true)
  })

  it('no cover letter: identified and titled by patch 1', async () => {
    const { series } = await assemble('patchwork/series/base-no-cover-letter.mbox')
    expect(series.cover).toBeUndefined()
    expect(series.title).toBe('test: Add some lorem ipsum')
    expect(series.messageId).toBe('1473633236-10676-1-git-send-email-stephenfinucane@gmail.com')
    expect(counters(series)).toEqual([1, 2])
  })

  it('version only on the cover: the patches inherit v3', async () => {
    const { series } = await assemble('patchwork/series/base-different-versions.mbox')
    expect(series.revision).toBe(3)
    expect(series.subject.prefixes).toEqual(['net-next'])
    expect(series.title).toBe('net: dsa: Multi-CPU ground work (v3)')
    expect(counters(series)).toEqual([1, 2, 3, 4])
    expect(series.complete).toBe(true)
  })

  it('comma-joined prefixes without any threading', async () => {
    const { series } = await assemble('patchwork/series/base-no-references.mbox')
    expect(series).toMatchObject({ revision: 2, expected: 2, complete: true })
    expect(series.subject.prefixes).toEqual(['net'])
  })

  it('folded Message-Id and duplicated threading headers, uppercase V2', async () => {
    const { series } = await assemble('patchwork/series/bugs-multiple-references.mbox')
    expect(series).toMatchObject({
      revision: 2,
      expected: 4,
      complete: true,
      title: 'PM / OPP: Minor cleanups'
    })
    expect(series.messageId).toBe('cover.1495511998.git.viresh.kumar@linaro.org')
  })

  it('mixed versions: the latest revision, incomplete', async () => {
    const { series, warnings } = await assemble('patchwork/series/bugs-mixed-versions.mbox')
    expect(series).toMatchObject({ revision: 2, complete: false, missing: [1] })
    expect(warnings).toContain('the thread has v1, v2; using v2, the latest')
  })

  it('v2 without cover threaded under v1: v2 by default, v1 on request', async () => {
    const latest = await assemble('patchwork/series/bugs-nocover.mbox')
    expect(latest.series.revision).toBe(2)
    expect(ids(latest.series)).toEqual([
      '1473633055-10316-2-git-send-email-stephenfinucane@gmail.com',
      '1473633055-10316-3-git-send-email-stephenfinucane@gmail.com'
    ])
    const v1 = await assemble('patchwork/series/bugs-nocover.mbox', { revision: 1 })
    expect(ids(v1.series)).toEqual([sf('2'), sf('3')])
    const byId = await assemble('patchwork/series/bugs-nocover.mbox', { messageId: sf('3') })
    expect(byId.series.revision).toBe(1)
  })

  it('the same patch sent three times is one slot, the latest copy, and says so', async () => {
    const { series, warnings } = await assemble('patchwork/series/bugs-spamming.mbox')
    expect(series).toMatchObject({ revision: 2, expected: 4, complete: false, missing: [2, 3, 4] })
    expect(ids(series)).toEqual(['20180917170335.23838-1-vkabatov@redhat.com'])
    expect(warnings.filter(w => w.includes('was sent more than once'))).toHaveLength(2)
  })

  it('an unnumbered reply with a diff does not take a slot', async () => {
    const { series, warnings } = await assemble('patchwork/series/bugs-unnumbered.mbox')
    expect(series).toMatchObject({ expected: 2, missing: [2], complete: false })
    expect(ids(series)).toEqual([sf('2')])
    expect(warnings.some(w => w.includes('This is an orphaned patch!') && w.includes('stray patch'))).toBe(
      true
    )
  })

  it('v1 and v2 in separate threads: the latest, each reachable by revision and Message-ID', async () => {
    const latest = await assemble('patchwork/series/revision-basic.mbox')
    expect(latest.series.revision).toBe(2)
    expect(latest.series.messageId).toBe('1473632795-9971-1-git-send-email-stephenfinucane@gmail.com')
    const v1 = await assemble('patchwork/series/revision-basic.mbox', { revision: 1 })
    expect(v1.series.messageId).toBe(sf('1'))
  })

  it('v2 cover in reply to v1 cover: v2 with its own cover (its in-body From: is not a trailer)', async () => {
    const { series } = await assemble('patchwork/series/revision-threaded-to-cover.mbox')
    expect(series.revision).toBe(2)
    expect(series.cover?.messageId).toBe('1473633055-10316-1-git-send-email-stephenfinucane@gmail.com')
    expect(series.title).toBe('A sample series')
    expect(series.patches.every(p => p.mail.subject.startsWith('[PATCH v2'))).toBe(true)
  })

  it('single patch v2 in reply to v1', async () => {
    const { series } = await assemble('patchwork/series/revision-threaded-to-single-patch.mbox')
    expect(series).toMatchObject({ revision: 2, expected: 1, complete: true })
    expect(ids(series)).toEqual(['1473633055-10316-2-git-send-email-stephenfinucane@gmail.com'])
  })

  it('a series sent again without a version label becomes the next revision', async () => {
    const { series, warnings } = await assemble('patchwork/series/revision-unlabeled.mbox')
    expect(series.revision).toBe(2)
    expect(series.messageId).toBe('1473633201-10585-1-git-send-email-stephenfinucane@gmail.com')
    expect(ids(series)).toEqual([
      '1473633201-10585-2-git-send-email-stephenfinucane@gmail.com',
      '1473633201-10585-3-git-send-email-stephenfinucane@gmail.com'
    ])
    expect(warnings.some(w => w.includes('without a version label; taken as v2'))).toBe(true)
  })
})

describe('assembleSeries on b4 samples and lore threads', () => {
  it('reads base-commit from the cover letter and attaches a review to its patch', async () => {
    const { series } = await assemble('b4/trailers-thread-with-followups.mbox')
    expect(series.baseCommit).toBe('f435c12df7c0ecf20ab8937859e63cddffacabb4')
    expect(series.patches.map(p => p.followupTrailers.length)).toEqual([0, 0, 0, 1])
    expect(series.patches[3].followupTrailers).toEqual([
      { name: 'Reviewed-by', value: 'Follow Upper <follow.upper@example.org>' }
    ])
  })

  it('copies trailers given to the cover letter to every patch, after their own', async () => {
    const { series } = await assemble('b4/trailers-thread-with-cover-followup.mbox')
    const cover = { name: 'Reviewed-by', value: 'Cover Upper <cover.upper@example.org>' }
    expect(series.patches[0].followupTrailers).toEqual([cover])
    expect(series.patches[3].followupTrailers).toEqual([
      { name: 'Tested-by', value: 'Follow Upper <follow.upper@example.org>' },
      { name: 'Link', value: 'https://example.org' },
      { name: 'Closes', value: 'https://example.org/bug/1234' },
      cover
    ])
  })

  it('collects trailers up a reply chain and reports a mismatched one', async () => {
    const { series, warnings } = await assemble('b4/trailers-followup-single.mbox')
    expect(series.patches[0].followupTrailers.map(t => `${t.name}: ${t.value}`)).toEqual([
      'Reviewed-by: Followup Reviewer1 <followup-reviewer1@example.com>',
      'Tested-by: Followup Reviewer2 <followup-reviewer2@example.com>'
    ])
    expect(warnings).toContain(
      'ignored "Reviewed-by: Mismatched Reviewer1 <mismatched-reviewer1@example.net>" from Mismatched Reviewer ' +
        "<mismatched-reviewer1@example.com> in <fwup-message-3@example.com>: not the sender's own address or name"
    )
  })

  it('a reply without Re: but with a trailer is a follow-up, not a patch', async () => {
    const { series } = await assemble('b4/trailers-followup-nore.mbox')
    expect(ids(series)).toEqual(['orig-message@example.com'])
    expect(series.patches[0].followupTrailers).toHaveLength(1)
  })

  it('accepts "Name (corp)" and "Last, First" forms when the address is the sender\'s', async () => {
    const { series, warnings } = await assemble('b4/trailers-followup-name-parens.mbox')
    expect(series.patches[0].followupTrailers.map(t => t.value)).toEqual([
      '"Followup Reviewer1 (corporate)" <followup-reviewer1@example.com>',
      'Followup Reviewer2 <followup-reviewer2@example.com>',
      '"Followup Tester1 [corporate]" <followup-tester1@example.com>',
      '"Tester2, Followup" <followup-tester2@example.com>'
    ])
    expect(warnings.filter(w => w.startsWith('ignored'))).toHaveLength(1)
  })

  it('a non-git diff is still a patch', async () => {
    const { series } = await assemble('b4/trailers-followup-non-git-patch.mbox')
    expect(series.complete).toBe(true)
    expect(series.patches[0].followupTrailers).toHaveLength(1)
  })

  it('partial reroll: v3 re-sends 2/2 only, 1/2 comes from v2, identity is v3 own', async () => {
    const { series, warnings } = await assemble('b4/trailers-followup-partial-reroll.mbox')
    expect(series).toMatchObject({ revision: 3, partialReroll: true, complete: true })
    expect(ids(series)).toEqual(['patch-1-message@example.com', 'patch-v3-2-message@example.com'])
    expect(series.messageId).toBe('patch-v3-2-message@example.com')
    expect(series.cover?.messageId).toBe('cover-message@example.com')
    expect(warnings).toContain('v3 re-sends only some patches; [1] taken from v2')
    const v2 = await assemble('b4/trailers-followup-partial-reroll.mbox', { revision: 2 })
    expect(v2.series.partialReroll).toBe(false)
    expect(v2.series.messageId).toBe('cover-message@example.com')
  })

  it('a naked cover letter from the author is the cover; a bug report by someone else is not', async () => {
    const naked = await assemble('b4/naked-cover-single.mbox')
    expect(naked.series.cover?.messageId).toBe('20221025-widget-v1-0-author@example.org')
    expect(naked.series.title).toBe('do a thing to the widget subsystem')
    const report = await assemble('b4/naked-cover-bugreport.mbox')
    expect(report.series.cover).toBeUndefined()
    expect(report.series.title).toBe('widget: fix data corruption under load')
    expect(report.series.messageId).toBe('20221025-widget-fix-author@example.org')
  })

  it('lore thread of v1 and v2 with a quoted-printable review from a non-ASCII name', async () => {
    const { series } = await assemble('generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox')
    expect(series.revision).toBe(2)
    expect(series.author).toEqual({ name: 'Zoë Ñandú', email: 'zoe@example.org' })
    expect(series.patches[0].followupTrailers).toEqual([
      { name: 'Reviewed-by', value: 'Jürgen Größ <jgross@example.net>' }
    ])
    // mboxrd escaping is undone in the raw message git receives.
    expect(series.patches[0].mail.raw.toString('utf8')).toContain('\nFrom the VFS point of view')
  })

  it('picks the revision of a reply given as the wanted Message-ID', async () => {
    const { series } = await assemble('generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox', {
      messageId: 'Z8ggreview-jgross@example.net'
    })
    expect(series.revision).toBe(2)
  })

  it('ignores patches posted into the thread by someone else', async () => {
    const mails = await loadMails('patchwork/series/base-cover-letter.mbox')
    const intruder: Mail = {
      ...mails[2],
      messageId: 'intruder@example.net',
      from: { name: 'Mallory', email: 'mallory@example.net' },
      date: new Date('2016-09-11T22:30:00Z')
    }
    const result = ok(assembleSeries([...mails.slice(0, 2), intruder], { messageId: sf('1') }))
    expect(result.series.missing).toEqual([2])
    expect(ids(result.series)).toEqual([sf('2')])
    expect(result.warnings).toContain(
      'ignored 1 patch mail(s) in the thread sent by others than <stephenfinucane@gmail.com>'
    )
  })

  it("a later re-send of a patch by another address, under the author's name, never replaces the real one", async () => {
    const mails = await loadMails('patchwork/series/base-cover-letter.mbox')
    const forged: Mail = {
      ...mails[2],
      messageId: 'forged@example.net',
      from: { name: mails[2].from.name, email: 'stephenfinucane@example.net' },
      date: new Date('2016-09-12T08:00:00Z')
    }
    const result = ok(assembleSeries([...mails, forged], { messageId: sf('1') }))
    expect(result.series.complete).toBe(true)
    expect(ids(result.series)).toEqual([sf('2'), sf('3')])
    expect(result.warnings).toContain(
      'ignored 1 patch mail(s) in the thread sent by others than <stephenfinucane@gmail.com>'
    )
  })

  it('says why when there is no series', async () => {
    const pull = assembleSeries(await loadMails('patchwork/mail/0001-git-pull-request.mbox'))
    expect(pull).toEqual({ ok: false, reason: 'no patch among the 1 mails' })
    const cover = assembleSeries(await loadMails('generated-public-inbox-1.9/raw-cover.mbox'))
    expect(cover).toEqual({
      ok: false,
      reason: 'a cover letter (v1) but none of its patches is among the 1 mails'
    })
    const missing = assembleSeries(await loadMails('patchwork/series/base-cover-letter.mbox'), {
      revision: 4
    })
    expect(missing).toEqual({ ok: false, reason: 'no v4 among the mails (found: v1)' })
    const unknown = assembleSeries(await loadMails('patchwork/series/base-cover-letter.mbox'), {
      messageId: 'x@y'
    })
    expect(unknown).toEqual({ ok: false, reason: '<x@y> is not among the 3 mails' })
  })

  it('reads a Patchwork series mbox (no cover, reply trailers already merged)', async () => {
    const { series } = await assemble('generated-patchwork-v3.1.3/series-1-mbox.mbox')
    expect(series).toMatchObject({
      revision: 1,
      expected: 4,
      complete: true,
      title: 'Remove line 2 from file2'
    })
    const kpd = await assemble('kernel-patches-daemon/series-970926.mbox')
    expect(kpd.series.subject.prefixes).toEqual(['bpf-next'])
    expect(kpd.series.title).toBe('bpf: clear user buf when bpf_d_path failed')
  })
})

describe('findSeries', () => {
  /** A deterministic shuffle so the bag arrives out of order. */
  function shuffled<T>(items: T[]): T[] {
    const out = [...items]
    let seed = 7
    for (let i = out.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      const j = seed % (i + 1)
      ;[out[i], out[j]] = [out[j], out[i]]
    }
    return out
  }

  it('finds every series revision in a shuffled bag of many threads', async () => {
    const paths = [
      'patchwork/series/revision-threaded-to-cover.mbox',
      'patchwork/series/base-no-references.mbox',
      'generated-public-inbox-1.9/search-mbox-results-only.mbox',
      'patchwork/mail/0001-git-pull-request.mbox',
      'b4/naked-cover-bugreport.mbox',
      'b4/trailers-followup-single.mbox',
      'generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox'
    ]
    const bag = shuffled((await Promise.all(paths.map(loadMails))).flat())
    const found = findSeries(bag)
    const summary = found.map(
      s => `${s.messageId} v${s.revision} ${s.complete ? 'complete' : `missing ${s.missing.join(',')}`}`
    )
    expect(summary.sort()).toEqual(
      [
        `${sf('1')} v1 complete`,
        '20221025-test1-v1-3-e4f28f57990c@linuxfoundation.org v1 missing 1,2',
        '1473633055-10316-1-git-send-email-stephenfinucane@gmail.com v2 complete',
        '1495516865-17019-1-git-send-email-xiaolou4617@gmail.com v2 complete',
        '20221025-widget-fix-author@example.org v1 complete',
        'orig-message@example.com v1 complete',
        '20250303090000.12345-1-zoe@example.org v1 complete',
        '20250304090000.23456-1-zoe@example.org v2 complete'
      ].sort()
    )
    const reviewed = found.find(s => s.messageId === '20250304090000.23456-1-zoe@example.org')
    expect(reviewed?.patches[0].followupTrailers).toHaveLength(1)
  })

  it('reports incomplete series and lone cover letters so the caller can wait', async () => {
    const found = findSeries(await loadMails('generated-public-inbox-1.9/search-mbox-results-only.mbox'))
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ complete: false, missing: [1, 2] })
    const cover = findSeries(await loadMails('generated-public-inbox-1.9/raw-cover.mbox'))
    expect(cover).toHaveLength(1)
    expect(cover[0]).toMatchObject({ complete: false, patches: [], missing: [1, 2, 3, 4] })
  })

  it('keeps the same cover letter sent twice apart from each other (two threads)', async () => {
    const found = findSeries(await loadMails('patchwork/series/revision-unlabeled.mbox'))
    expect(found.map(s => s.messageId)).toEqual([
      sf('1'),
      '1473633201-10585-1-git-send-email-stephenfinucane@gmail.com'
    ])
    expect(found.every(s => s.complete)).toBe(true)
  })

  it('counts a message seen twice (cross-posted, or in two result sets) once', async () => {
    const incomplete = await loadMails('patchwork/series/base-incomplete.mbox')
    const full = await loadMails('patchwork/series/base-cover-letter.mbox')
    const found = findSeries([...incomplete, ...full])
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ complete: true, messageId: sf('1') })
    expect(found[0].patches.map(p => p.mail)).toEqual([incomplete[1], full[2]])
  })

  it('finds nothing in pull requests, bug reports and reviews alone', async () => {
    const mails = [
      ...(await loadMails('patchwork/mail/0001-git-pull-request.mbox')),
      ...(await loadMails('public-inbox/t/utf8.eml')),
      ...(await loadMails('synthetic/synthetic-qp-review-reply.eml'))
    ]
    expect(findSeries(mails)).toEqual([])
  })
})
