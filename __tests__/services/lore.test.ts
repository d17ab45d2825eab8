/**
 * The lore client against the real public-inbox (thread mboxes, search) and against tiny fake servers for
 * the answers lore gives bots and broken days (challenge pages, 5xx, gzip bombs).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { gzipSync } from 'node:zlib'
import { splitMbox } from '../../src/assemble/mbox.js'
import { HttpClient } from '../../src/http.js'
import { Lore, LoreError, encodeMsgid, messageUrl } from '../../src/services/lore.js'
import { makeSeries } from '../e2e/mails.js'
import { startPublicInbox, type PublicInbox } from '../support/public-inbox.js'
import { deadOrigin, noSleep, startServer } from './servers.js'

const INBOX = 'linux-fsdevel'
const FIRST_BATCH = new Date('2025-03-01T10:00:00Z')
const SECOND_BATCH = new Date('2025-03-05T10:00:00Z')
const SLASH_ID = '20250301.slash/part?x#y@example.org'

const series = makeSeries({ tag: 'lore', title: 'fs: lore thread', count: 3 })
const REPLY_ID = 'reply-lore-1@example.org'
const reply = Buffer.from(
  [
    'From: Rita Reviewer <rita@example.org>',
    'To: linux-fsdevel@vger.kernel.org',
    'Subject: Re: [PATCH 1/3] fs: lore thread: part 1',
    'Date: Fri, 20 Nov 2026 11:00:00 +0000',
    `Message-ID: <${REPLY_ID}>`,
    `In-Reply-To: <${series.patchIds[0]}>`,
    `References: <${series.coverId}> <${series.patchIds[0]}>`,
    '',
    'From the look of it this is fine.',
    '',
    'Reviewed-by: Rita Reviewer <rita@example.org>',
    ''
  ].join('\n')
)
const slash = Buffer.from(
  [
    'From: Sam Slash <sam@example.org>',
    'To: linux-fsdevel@vger.kernel.org',
    'Subject: [PATCH] fs: odd message id',
    'Date: Sat, 01 Mar 2025 09:00:00 +0000',
    `Message-ID: <${SLASH_ID}>`,
    '',
    'An odd Message-ID.',
    ''
  ].join('\n')
)
const later = makeSeries({ tag: 'later', title: 'fs: later', count: 2 })

let pi: PublicInbox
let lore: Lore
const messageIds = (mbox: Buffer): string[] =>
  splitMbox(mbox, 'mboxrd').map(m => /^Message-ID:\s*<([^>]+)>/im.exec(m.toString())?.[1] ?? '?')

beforeAll(async () => {
  pi = await startPublicInbox({ inboxes: { [INBOX]: { address: 'linux-fsdevel@vger.kernel.org' } } })
  await pi.addMails(INBOX, [series.cover!, ...series.patches, reply, slash], { receivedAt: FIRST_BATCH })
  await pi.addMails(INBOX, [later.cover!, ...later.patches], { receivedAt: SECOND_BATCH })
  lore = new Lore(new HttpClient([pi.url], undefined, noSleep), pi.url)
})

afterAll(async () => {
  await pi?.close()
})

describe('thread', () => {
  it('returns the whole thread as mboxrd from any of its messages', async () => {
    const expected = [series.coverId!, ...series.patchIds, REPLY_ID].sort()
    const fromCover = await lore.thread(INBOX, series.coverId!)
    expect(fromCover).toBeInstanceOf(Buffer)
    expect(fromCover!.toString('latin1', 0, 39)).toBe('From mboxrd@z Thu Jan  1 00:00:00 1970\n')
    expect(messageIds(fromCover!).sort()).toEqual(expected)
    const fromReply = await lore.thread(INBOX, REPLY_ID)
    expect(messageIds(fromReply!).sort()).toEqual(expected)
  })

  it('serves a body line starting with From escaped, and splitMbox restores it', async () => {
    const mbox = (await lore.thread(INBOX, REPLY_ID))!
    expect(mbox.toString()).toContain('\n>From the look of it this is fine.\n')
    const mail = splitMbox(mbox, 'mboxrd').find(m => m.toString().includes(REPLY_ID))!
    expect(mail.toString()).toContain('\n\nFrom the look of it this is fine.\n')
  })

  it('returns undefined for a Message-ID lore does not have', async () => {
    expect(await lore.thread(INBOX, 'no-such-message@example.org')).toBeUndefined()
  })

  it('percent-encodes a Message-ID with / ? and #', async () => {
    expect(encodeMsgid(SLASH_ID)).toBe('20250301.slash%2Fpart%3Fx%23y@example.org')
    expect(messageUrl('https://lore.kernel.org', INBOX, SLASH_ID)).toBe(
      `https://lore.kernel.org/${INBOX}/20250301.slash%2Fpart%3Fx%23y@example.org`
    )
    expect(messageIds((await lore.thread(INBOX, SLASH_ID))!)).toEqual([SLASH_ID])
    // The same Message-ID pasted into the path as is names another resource.
    const raw = await fetch(`${pi.url}/${INBOX}/${SLASH_ID}/t.mbox.gz`)
    await raw.arrayBuffer()
    expect(raw.status).not.toBe(200)
  })
})

describe('search', () => {
  it('returns only the messages matching rt:, not their threads', async () => {
    const since = SECOND_BATCH.getTime() / 1000 - 60
    const found = await lore.search(INBOX, `rt:${since}..`)
    expect(messageIds(found).sort()).toEqual([later.coverId!, ...later.patchIds].sort())
    // A hit on the reply alone brings the reply alone (an empty POST body does not expand threads).
    const one = await lore.search(INBOX, `m:${REPLY_ID}`)
    expect(messageIds(one)).toEqual([REPLY_ID])
  })

  it('returns an empty buffer when nothing matches', async () => {
    const future = SECOND_BATCH.getTime() / 1000 + 3600
    const none = await lore.search(INBOX, `rt:${future}..`)
    expect(none).toEqual(Buffer.alloc(0))
  })

  it('does not take an unknown inbox for "no results"', async () => {
    const run = lore.search('linux-fsdevl', 'rt:0..')
    await expect(run).rejects.toBeInstanceOf(LoreError)
    await expect(run).rejects.toMatchObject({ transient: false })
    await expect(run).rejects.toThrow(`answered 404: is 'linux-fsdevl' an inbox on ${pi.url}?`)
  })
})

describe('hostile or broken answers', () => {
  const CHALLENGE =
    '<!DOCTYPE html><html><head><title>Making sure you are not a bot!</title></head><body></body></html>'

  it('takes a 200 text/html challenge page for a transient LoreError, on thread and search', async () => {
    const fake = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(CHALLENGE)
    })
    try {
      const client = new Lore(new HttpClient([fake.origin], undefined, noSleep), fake.origin)
      for (const run of [client.thread(INBOX, series.coverId!), client.search(INBOX, 'rt:0..')]) {
        await expect(run).rejects.toBeInstanceOf(LoreError)
        await expect(run).rejects.toMatchObject({ transient: true })
        await expect(run).rejects.toThrow(/did not return gzip data/)
      }
      expect(fake.seen.map(r => r.method)).toEqual(['GET', 'POST'])
    } finally {
      await fake.close()
    }
  })

  it('takes a persistent 503 for transient after retrying', async () => {
    const fake = await startServer((_req, res) => {
      res.writeHead(503)
      res.end('down')
    })
    try {
      const client = new Lore(new HttpClient([fake.origin], undefined, noSleep), fake.origin)
      const run = client.thread(INBOX, series.coverId!)
      await expect(run).rejects.toMatchObject({ name: 'LoreError', transient: true })
      await expect(run).rejects.toThrow(/answered 503/)
      expect(fake.seen).toHaveLength(3)
    } finally {
      await fake.close()
    }
  })

  it('takes an unreachable lore for transient', async () => {
    const origin = await deadOrigin()
    const client = new Lore(new HttpClient([origin], undefined, noSleep), origin)
    await expect(client.thread(INBOX, series.coverId!)).rejects.toMatchObject({
      name: 'LoreError',
      transient: true
    })
  })

  it('refuses a t.mbox.gz that inflates past the cap, as a lasting error', async () => {
    const bomb = gzipSync(Buffer.alloc(65 << 20))
    const fake = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/gzip' })
      res.end(bomb)
    })
    try {
      const client = new Lore(new HttpClient([fake.origin], undefined, noSleep), fake.origin)
      const run = client.thread(INBOX, series.coverId!)
      await expect(run).rejects.toMatchObject({ name: 'LoreError', transient: false })
      await expect(run).rejects.toThrow(/Decompressed data exceeds/)
    } finally {
      await fake.close()
    }
  })
})
