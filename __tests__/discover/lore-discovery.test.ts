/**
 * Lore-only discovery against a real public-inbox (the software behind lore.kernel.org), polled the way
 * cron polls it: mails arrive between runs, the run state goes through its JSON form between runs.
 * Arrival times are set with a `Received:` header, which is what public-inbox's `rt:` search reads.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  discoverLoreSeries,
  loreSeriesKey,
  type LoreDiscovery,
  type LorePendingSeries
} from '../../src/discover/lore.js'
import { parseState, serializeState, type RunState } from '../../src/discover/state.js'
import { HttpClient } from '../../src/http.js'
import { Lore } from '../../src/services/lore.js'
import { fixtureMails, openInbox, type TestInbox } from './inbox.js'

const T0 = Date.parse('2026-11-20T10:00:00Z')
const minutes = (n: number): number => n * 60_000
const at = (offset: number): Date => new Date(T0 + offset)
const settings = { lookbackDays: 7, graceMinutes: 10 }

const B4_SERIES = 'generated-public-inbox-1.9/thread-b4-series.mbox'
const B4_COVER = '20221025-test1-v1-0-e4f28f57990c@linuxfoundation.org'
const b4Patch = (n: number): string => `20221025-test1-v1-${n}-e4f28f57990c@linuxfoundation.org`

let inbox: TestInbox
let lore: Lore

const LISTS = [
  'complete',
  'late',
  'order',
  'rerolls',
  'coverless',
  'versions',
  'noise',
  'bugfix',
  'overlap',
  'renamed',
  'budget'
]

beforeAll(async () => {
  inbox = await openInbox(LISTS)
  lore = new Lore(new HttpClient([inbox.url]), inbox.url)
}, 120_000)

afterAll(async () => {
  await inbox?.close()
})

/** Each test has its own list, so arrivals in one never show up in another. */
function list(name: (typeof LISTS)[number]): string {
  return name
}

/** One cron run: discovery with the state the previous run saved, then the state this run saves. */
async function poll(
  name: string,
  state: RunState,
  now: Date,
  options: Partial<typeof settings> & { maxSeries?: number } = {}
): Promise<{ found: LoreDiscovery; next: RunState }> {
  const found = await discoverLoreSeries(lore, name, state, now, { ...settings, ...options })
  // What the bridge saves when every due series was handled.
  const saved: RunState = { ...state, loreCursor: found.cursor, pending: found.pending }
  return { found, next: parseState(serializeState(saved, now)) }
}

describe('lore-only discovery on public-inbox', () => {
  it('finds a complete series once, keyed by its cover letter, with the thread around it', async () => {
    const name = list('complete')
    await inbox.deliver(name, await fixtureMails(B4_SERIES), at(0))
    const { found } = await poll(name, parseState(undefined), at(minutes(60)))
    expect(found.refs.map(r => r.key)).toEqual([loreSeriesKey(B4_COVER)])
    const [ref] = found.refs
    expect(ref).toMatchObject({
      version: 1,
      total: 4,
      receivedTotal: 4,
      receivedAll: true,
      coverMsgid: B4_COVER,
      patchMsgids: [1, 2, 3, 4].map(b4Patch)
    })
    expect(found.due.map(d => d.key)).toEqual([ref.key])
    expect(found.pending).toEqual([])
    expect(found.hits).toBe(6) // cover, four patches and a reply: one series
    expect(found.query).toBe(`rt:${(T0 - 7 * 86_400_000 + minutes(60)) / 1000}..`)
    expect(found.cursor).toBe((T0 + minutes(60)) / 1000)
  })

  it('keeps a series pending while its last patch is missing, then holds it for the grace period', async () => {
    const name = list('late')
    const mails = await fixtureMails(B4_SERIES)
    const last = mails.filter(m => m.messageId === b4Patch(4))
    await inbox.deliver(
      name,
      mails.filter(m => m.messageId !== b4Patch(4) && m.messageId !== 'fwup1@example.org'),
      at(0)
    )

    const first = await poll(name, parseState(undefined), at(minutes(180)))
    expect(first.found.refs).toEqual([])
    expect(first.next.pending).toMatchObject([
      { key: loreSeriesKey(B4_COVER), messageId: B4_COVER, reason: 'incomplete: 3/4 patches' }
    ])

    // Nothing new in this window (the mails are older than the cursor): the pending entry alone finds it.
    const second = await poll(name, first.next, at(minutes(360)))
    expect(second.found.hits).toBe(0)
    expect(second.next.pending.map(p => [p.key, p.reason])).toEqual([
      [loreSeriesKey(B4_COVER), 'incomplete: 3/4 patches']
    ])

    await inbox.deliver(name, last, at(minutes(420)))
    const third = await poll(name, second.next, at(minutes(425)))
    expect(third.found.refs).toEqual([])
    expect(third.next.pending.map(p => [p.key, p.reason])).toEqual([
      [loreSeriesKey(B4_COVER), 'grace period']
    ])

    const fourth = await poll(name, third.next, at(minutes(450)))
    expect(fourth.found.refs.map(r => [r.key, r.receivedTotal])).toEqual([[loreSeriesKey(B4_COVER), 4]])
    expect(fourth.found.pending).toEqual([])
  })

  it('waits for a cover letter that arrives after its patches, so the series keeps one key', async () => {
    const name = list('order')
    const mails = await fixtureMails('patchwork/series/base-out-of-order.mbox')
    const cover = '1473632524-8585-1-git-send-email-stephenfinucane@gmail.com'
    await inbox.deliver(
      name,
      mails.filter(m => m.messageId !== cover),
      at(0)
    )

    // Complete by counters and past the grace period, but patch 1 answers a mail lore does not have yet.
    const first = await poll(name, parseState(undefined), at(minutes(20)))
    expect(first.found.refs).toEqual([])
    expect(first.next.pending.map(p => p.reason)).toEqual(['waiting for its cover letter'])

    await inbox.deliver(
      name,
      mails.filter(m => m.messageId === cover),
      at(minutes(25))
    )
    const second = await poll(name, first.next, at(minutes(40)))
    expect(second.found.refs.map(r => [r.key, r.coverMsgid, r.receivedTotal])).toEqual([
      [loreSeriesKey(cover), cover, 2]
    ])
    expect(second.found.pending).toEqual([])
  })

  it('stops waiting for a cover letter that never comes', async () => {
    const name = list('coverless')
    const mails = await fixtureMails('patchwork/series/base-out-of-order.mbox')
    const cover = '1473632524-8585-1-git-send-email-stephenfinucane@gmail.com'
    await inbox.deliver(
      name,
      mails.filter(m => m.messageId !== cover),
      at(0)
    )
    const { found } = await poll(name, parseState(undefined), at(minutes(61)))
    expect(found.refs.map(r => [r.key, r.coverMsgid])).toEqual([
      [loreSeriesKey('1473632524-8585-2-git-send-email-stephenfinucane@gmail.com'), undefined]
    ])
  })

  it('tells a v2 sent in reply to v1 apart from v1', async () => {
    const name = list('versions')
    await inbox.deliver(
      name,
      await fixtureMails('generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox'),
      at(0)
    )
    await inbox.deliver(
      name,
      await fixtureMails('generated-public-inbox-1.9/thread-revision-threaded-to-cover.mbox'),
      at(minutes(1))
    )
    const { found } = await poll(name, parseState(undefined), at(minutes(60)))
    const seen = found.refs.map(r => [r.name, r.version, r.key])
    expect(seen).toEqual(
      expect.arrayContaining([
        ['[PATCH] fs: retry lookup', 1, loreSeriesKey('20250303090000.12345-1-zoe@example.org')],
        ['[PATCH v2] fs: retry lookup', 2, loreSeriesKey('20250304090000.23456-1-zoe@example.org')],
        [
          '[PATCH 0/2] A sample series',
          1,
          loreSeriesKey('1473632524-8585-1-git-send-email-stephenfinucane@gmail.com')
        ],
        [
          '[PATCH v2 0/2] A sample series',
          2,
          loreSeriesKey('1473633055-10316-1-git-send-email-stephenfinucane@gmail.com')
        ]
      ])
    )
    expect(found.refs).toHaveLength(4)
    expect(new Set(found.refs.map(r => r.key)).size).toBe(4)
  })

  it('takes a re-send without a version label and a partial reroll as series of their own', async () => {
    const name = list('rerolls')
    await inbox.deliver(name, await fixtureMails('patchwork/series/revision-unlabeled.mbox'), at(0))
    await inbox.deliver(name, await fixtureMails('b4/trailers-followup-partial-reroll.mbox'), at(0))
    const { found } = await poll(name, parseState(undefined), at(minutes(60)))
    const byKey = new Map(found.refs.map(r => [r.key, r]))
    expect(new Set(byKey.keys())).toEqual(
      new Set(
        [
          '1473632524-8585-1-git-send-email-stephenfinucane@gmail.com',
          '1473633201-10585-1-git-send-email-stephenfinucane@gmail.com',
          'cover-message@example.com',
          'patch-v3-2-message@example.com'
        ].map(loreSeriesKey)
      )
    )
    const reroll = byKey.get(loreSeriesKey('patch-v3-2-message@example.com'))
    expect(reroll).toMatchObject({
      version: 3,
      receivedAll: true,
      coverMsgid: 'patch-v3-2-message@example.com',
      patchMsgids: ['patch-1-message@example.com', 'patch-v3-2-message@example.com']
    })
  })

  it('finds no series in a pull request, a bug report, or replies to an old series', async () => {
    const name = list('noise')
    await inbox.deliver(name, await fixtureMails('patchwork/mail/0001-git-pull-request.mbox'), at(0))
    const bug = await fixtureMails('b4/naked-cover-bugreport.mbox')
    await inbox.deliver(
      name,
      bug.filter(m => m.messageId === '20221025-bugreport-widget@example.com'),
      at(0)
    )
    // An old series, handled long ago, gets a review reply inside the window.
    const series = await fixtureMails(B4_SERIES)
    await inbox.deliver(
      name,
      series.filter(m => m.messageId !== 'fwup1@example.org'),
      at(-minutes(3 * 1440))
    )
    await inbox.deliver(
      name,
      series.filter(m => m.messageId === 'fwup1@example.org'),
      at(0)
    )

    const state: RunState = { ...parseState(undefined), loreCursor: (T0 - minutes(60)) / 1000 }
    const { found } = await poll(name, state, at(minutes(60)))
    expect(found.hits).toBe(3)
    expect(found.refs).toEqual([])
    expect(found.pending).toEqual([])
  })

  it("takes the fix in a bug report's thread as a patch of its own, never the report as its cover", async () => {
    const name = list('bugfix')
    await inbox.deliver(name, await fixtureMails('b4/naked-cover-bugreport.mbox'), at(0))
    const { found } = await poll(name, parseState(undefined), at(minutes(60)))
    expect(found.refs.map(r => [r.key, r.coverMsgid, r.patchMsgids])).toEqual([
      [
        loreSeriesKey('20221025-widget-fix-author@example.org'),
        undefined,
        ['20221025-widget-fix-author@example.org']
      ]
    ])
  })

  it('never yields one series twice in a run, though the overlap and the pending list both see it', async () => {
    const name = list('overlap')
    await inbox.deliver(name, await fixtureMails(B4_SERIES), at(0))
    const first = await poll(name, parseState(undefined), at(minutes(5)))
    expect(first.next.pending.map(p => [p.key, p.reason])).toEqual([
      [loreSeriesKey(B4_COVER), 'grace period']
    ])

    // The next run searches from an hour before the cursor: the same mails come back, and the series is
    // also pending. It is due once.
    const second = await poll(name, first.next, at(minutes(20)))
    expect(second.found.hits).toBe(6)
    expect(second.found.refs.map(r => r.key)).toEqual([loreSeriesKey(B4_COVER)])
    expect(second.found.pending).toEqual([])

    // A run after that still overlaps: the series is seen again (the PR lookup by branch adopts it), once.
    const third = await poll(name, second.next, at(minutes(30)))
    expect(third.found.refs.map(r => r.key)).toEqual([loreSeriesKey(B4_COVER)])
  })

  it('counts a series once when a pending entry knows it by a later patch and the search by its cover', async () => {
    const name = list('renamed')
    await inbox.deliver(name, await fixtureMails(B4_SERIES), at(0))
    // What a run that saw only patch 3 and could not read the thread saved.
    const seenBefore: LorePendingSeries = {
      key: loreSeriesKey(b4Patch(3)),
      messageId: b4Patch(3),
      completedAt: at(0).toISOString(),
      reason: 'lore: x',
      attempts: 1
    }
    const state: RunState = {
      ...parseState(undefined),
      loreCursor: (T0 - minutes(30)) / 1000,
      pending: [seenBefore]
    }
    const { found } = await poll(name, state, at(minutes(30)))
    expect(found.refs.map(r => r.key)).toEqual([loreSeriesKey(B4_COVER)])
    expect(found.due).toMatchObject([{ key: loreSeriesKey(B4_COVER), messageId: B4_COVER, attempts: 1 }])
    expect(found.pending).toEqual([])
  })

  it('fetches no more threads than max-series needs, and keeps the rest pending', async () => {
    const name = list('budget')
    await inbox.deliver(name, await fixtureMails(B4_SERIES), at(0))
    await inbox.deliver(
      name,
      await fixtureMails('generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox'),
      at(minutes(1))
    )
    const first = await poll(name, parseState(undefined), at(minutes(60)), { maxSeries: 1 })
    expect(first.found.refs).toHaveLength(1)
    expect(first.next.pending.length).toBeGreaterThanOrEqual(1)
    expect(first.next.pending.every(p => p.reason === 'max-series budget')).toBe(true)

    const second = await poll(name, first.next, at(minutes(90)), { maxSeries: 10 })
    const keys = [...first.found.refs, ...second.found.refs].map(r => r.key)
    expect(new Set(keys)).toEqual(
      new Set([
        loreSeriesKey(B4_COVER),
        loreSeriesKey('20250303090000.12345-1-zoe@example.org'),
        loreSeriesKey('20250304090000.23456-1-zoe@example.org')
      ])
    )
  })
})
