import { execFileSync } from 'node:child_process'
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { assembleSeries } from '../../src/assemble/series.js'
import {
  OVERLAP_SECONDS,
  isLoreSeriesKey,
  loreSeriesKey,
  loreSeriesRef,
  newestMailTime,
  receivedAt,
  receivedSinceQuery,
  searchStart
} from '../../src/discover/lore.js'
import { parseMbox } from '../../src/fetch/mails.js'
import type { Mail, Series } from '../../src/model.js'

async function mails(path: string): Promise<Mail[]> {
  const data = readFileSync(new URL(`../fixtures/mail/${path}`, import.meta.url))
  const format = path.startsWith('generated-public-inbox-1.9/') ? 'mboxrd' : 'mbox'
  return (await parseMbox(data, format)).mails
}

function assembled(all: Mail[], messageId: string): Series {
  const result = assembleSeries(all, { messageId })
  if (!result.ok) throw new Error(result.reason)
  return result.series
}

describe('loreSeriesKey', () => {
  it('is a short stable hash of the Message-ID, brackets and spaces ignored', () => {
    const key = loreSeriesKey('20221025-test1-v1-0-e4f28f57990c@linuxfoundation.org')
    expect(key).toBe('l77b878422f53') // printf %s <id> | sha256sum | cut -c1-12
    expect(loreSeriesKey(' <20221025-test1-v1-0-e4f28f57990c@linuxfoundation.org> ')).toBe(key)
    expect(loreSeriesKey('20221025-test1-v1-1-e4f28f57990c@linuxfoundation.org')).not.toBe(key)
    expect(isLoreSeriesKey(key)).toBe(true)
  })

  it('can never be taken for a Patchwork series number', () => {
    const key = loreSeriesKey('1234567@example.org')
    expect(Number.isNaN(Number(key))).toBe(true)
    expect(isLoreSeriesKey('970926')).toBe(false)
  })

  it('is a valid component of a git branch name', () => {
    for (const id of ['a/b@c', '..@x', 'x y@z', 'ÿ@ü', '@{-1}']) {
      const branch = `pw/${loreSeriesKey(id)}/master`
      expect(() =>
        execFileSync('git', ['check-ref-format', '--branch', branch], { stdio: 'pipe' })
      ).not.toThrow()
    }
  })
})

describe('search window', () => {
  const now = new Date('2026-11-28T12:00:00Z')
  const nowSeconds = Date.parse('2026-11-28T12:00:00Z') / 1000

  it('looks back lookback-days on the first run', () => {
    expect(searchStart(undefined, now, 7)).toBe(nowSeconds - 7 * 86_400)
  })

  it('starts an hour before the cursor, so mail indexed late is searched again', () => {
    expect(searchStart(nowSeconds - 1800, now, 7)).toBe(nowSeconds - 1800 - OVERLAP_SECONDS)
  })

  it('does not trust a cursor from the future', () => {
    expect(searchStart(nowSeconds + 86_400, now, 7)).toBe(nowSeconds - OVERLAP_SECONDS)
  })

  it('asks for received time, open-ended', () => {
    expect(receivedSinceQuery(1764331200.7)).toBe('rt:1764331200..')
  })
})

describe('receivedAt', () => {
  const now = new Date('2030-01-01T00:00:00Z')

  it("takes the archive's own Received: hop over the sender's Date:", async () => {
    const all = await mails('generated-public-inbox-1.9/thread-revision-threaded-to-cover.mbox')
    const withReceived = all.find(m => /^Received:/m.test(m.raw.toString('latin1')))
    expect(withReceived).toBeDefined()
    const header = /^Received:[^]*?;\s*([^\n]+)/m.exec(withReceived!.raw.toString('latin1'))?.[1] ?? ''
    expect(receivedAt(withReceived!, now)).toBe(Date.parse(header))
  })

  it('falls back to Date:, and never returns a time after now', async () => {
    const [cover] = await mails('generated-public-inbox-1.9/raw-cover.mbox')
    expect(receivedAt(cover, now)).toBe(Date.parse('2022-10-25T17:38:41Z'))
    const early = new Date('2022-10-25T17:00:00Z')
    expect(receivedAt(cover, early)).toBe(early.getTime())
  })
})

describe('loreSeriesRef', () => {
  it('describes a complete series with a cover letter, keyed by the cover', async () => {
    const all = await mails('generated-public-inbox-1.9/thread-b4-series.mbox')
    const cover = '20221025-test1-v1-0-e4f28f57990c@linuxfoundation.org'
    const ref = loreSeriesRef(assembled(all, cover))
    expect(ref).toEqual({
      key: loreSeriesKey(cover),
      name: '[PATCH 0/4] This is a cover for test series 1',
      version: 1,
      total: 4,
      receivedTotal: 4,
      receivedAll: true,
      submitter: { name: 'Konstantin Ryabitsev', email: 'konstantin@linuxfoundation.org' },
      coverMsgid: cover,
      patchMsgids: [1, 2, 3, 4].map(n => `20221025-test1-v${1}-${n}-e4f28f57990c@linuxfoundation.org`),
      patchIds: [],
      date: '2022-10-25T17:38:41.000Z'
    })
    expect(ref.patchworkId).toBeUndefined()
    const series = assembled(all, cover)
    expect(newestMailTime(series, new Date('2030-01-01T00:00:00Z'))).toBe(Date.parse('2022-10-25T17:38:45Z'))
  })

  it('keys a series without a cover letter by patch 1, and a v2 apart from its v1', async () => {
    const all = await mails('generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox')
    const v1 = loreSeriesRef(assembled(all, '20250303090000.12345-1-zoe@example.org'))
    const v2 = loreSeriesRef(assembled(all, '20250304090000.23456-1-zoe@example.org'))
    expect([v1.version, v2.version]).toEqual([1, 2])
    expect(v1.key).toBe(loreSeriesKey('20250303090000.12345-1-zoe@example.org'))
    expect(v2.key).toBe(loreSeriesKey('20250304090000.23456-1-zoe@example.org'))
    expect(v2.coverMsgid).toBeUndefined()
    expect(v2.name).toBe('[PATCH v2] fs: retry lookup')
  })

  it('anchors a partial reroll at its own patch, so re-assembly picks the same revision', async () => {
    const all = await mails('b4/trailers-followup-partial-reroll.mbox')
    const reroll = all.find(m => /^\[PATCH v3 /.test(m.subject))
    expect(reroll).toBeDefined()
    const series = assembled(all, reroll!.messageId)
    expect(series.partialReroll).toBe(true)
    const ref = loreSeriesRef(series)
    expect(ref.key).toBe(loreSeriesKey(reroll!.messageId))
    expect(ref.version).toBe(3)
    const again = assembleSeries(all, { messageId: ref.coverMsgid ?? ref.patchMsgids[0] })
    expect(again.ok && again.series.patches.map(p => p.mail.messageId)).toEqual(ref.patchMsgids)
    expect(again.ok && again.series.messageId).toBe(reroll!.messageId)
  })
})
