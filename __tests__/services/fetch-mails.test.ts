/**
 * Fetching a series' mails: the lore thread (with its review replies) first, Patchwork's series mbox when
 * lore lacks the thread or cannot be read, and a transient error when neither source answers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { FetchError, fetchSeriesMails } from '../../src/fetch/mails.js'
import { HttpClient } from '../../src/http.js'
import type { SeriesRef } from '../../src/model.js'
import { Lore } from '../../src/services/lore.js'
import { Patchwork } from '../../src/services/patchwork.js'
import { makeSeries, type SeriesMails } from '../e2e/mails.js'
import { startPatchworkStandIn, type PatchworkStandIn } from '../support/patchwork-standin.js'
import { startPublicInbox, type PublicInbox } from '../support/public-inbox.js'
import { deadOrigin, noSleep, startServer } from './servers.js'

const LIST = 'linux-fsdevel'

function replyTo(mails: SeriesMails, id: string): Buffer {
  return Buffer.from(
    [
      'From: Rita Reviewer <rita@example.org>',
      'To: linux-fsdevel@vger.kernel.org',
      'Subject: Re: [PATCH 1/2] review',
      'Date: Fri, 20 Nov 2026 11:00:00 +0000',
      `Message-ID: <${id}>`,
      `In-Reply-To: <${mails.patchIds[0]}>`,
      `References: <${mails.coverId}> <${mails.patchIds[0]}>`,
      '',
      'Looks good.',
      '',
      'Reviewed-by: Rita Reviewer <rita@example.org>',
      ''
    ].join('\n')
  )
}

/** On lore and Patchwork, with a review reply on lore. */
const both = makeSeries({ tag: 'both', title: 'fs: on both', count: 2 })
const REVIEW = 'review-both@example.org'
/** On Patchwork only: lore answers 404 for its thread. */
const pwOnly = makeSeries({ tag: 'pwonly', title: 'fs: patchwork only', count: 2 })
/** lore got the cover and patch 1 only. */
const partial = makeSeries({ tag: 'partial', title: 'fs: partial', count: 2 })

let pi: PublicInbox
let pw: PatchworkStandIn
let lore: Lore
let patchwork: Patchwork
const refs = {} as Record<'both' | 'pwOnly' | 'partial', SeriesRef>

beforeAll(async () => {
  ;[pi, pw] = await Promise.all([
    startPublicInbox({ inboxes: { [LIST]: { address: 'linux-fsdevel@vger.kernel.org' } } }),
    startPatchworkStandIn()
  ])
  pw.addProject({ linkName: LIST })
  await pi.addMails(LIST, [
    both.cover!,
    ...both.patches,
    replyTo(both, REVIEW),
    partial.cover!,
    partial.patches[0]
  ])
  lore = new Lore(new HttpClient([pi.url], undefined, noSleep), pi.url)
  patchwork = new Patchwork(new HttpClient([pw.url], undefined, noSleep), pw.url)
  for (const [name, mails] of Object.entries({ both, pwOnly, partial })) {
    const { seriesId } = await pw.addSeries({ project: LIST, cover: mails.cover, patches: mails.patches })
    refs[name as keyof typeof refs] = (await patchwork.series(seriesId))!
  }
})

afterAll(async () => {
  await Promise.all([pi?.close(), pw?.close()])
})

describe('fetchSeriesMails', () => {
  it('takes the lore thread, review reply included', async () => {
    const before = pw.requests.length
    const fetched = await fetchSeriesMails(refs.both, { lore, loreList: LIST, patchwork })
    expect(fetched.source).toBe('lore')
    expect(fetched.warnings).toEqual([])
    expect(fetched.mails.map(m => m.messageId).sort()).toEqual(
      [both.coverId!, ...both.patchIds, REVIEW].sort()
    )
    // Patchwork's mbox was not needed.
    expect(pw.requests.slice(before)).toEqual([])
  })

  it("falls back to Patchwork's series mbox when lore has no thread", async () => {
    const fetched = await fetchSeriesMails(refs.pwOnly, { lore, loreList: LIST, patchwork })
    expect(fetched.source).toBe('patchwork')
    expect(fetched.mails.map(m => m.messageId)).toEqual(pwOnly.patchIds)
    expect(fetched.warnings).toEqual([
      `lore has no thread for <${pwOnly.coverId}> in ${LIST}; using Patchwork's series mbox`
    ])
    expect(pw.requests.at(-1)).toMatchObject({ path: `/series/${refs.pwOnly.key}/mbox/`, status: 200 })
  })

  it('falls back to Patchwork when the lore thread lacks patches of the series', async () => {
    const fetched = await fetchSeriesMails(refs.partial, { lore, loreList: LIST, patchwork })
    expect(fetched.source).toBe('patchwork')
    expect(fetched.mails.map(m => m.messageId)).toEqual(partial.patchIds)
    expect(fetched.warnings).toEqual([
      "lore thread lacks 1 of the series' patches; using Patchwork's series mbox"
    ])
  })

  it('falls back to Patchwork when lore serves a challenge page, and says so', async () => {
    const challenge = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end('<html>Making sure you are not a bot!</html>')
    })
    try {
      const blocked = new Lore(new HttpClient([challenge.origin], undefined, noSleep), challenge.origin)
      const fetched = await fetchSeriesMails(refs.both, { lore: blocked, loreList: LIST, patchwork })
      expect(fetched.source).toBe('patchwork')
      expect(fetched.mails.map(m => m.messageId)).toEqual(both.patchIds)
      expect(fetched.warnings).toHaveLength(1)
      expect(fetched.warnings[0]).toMatch(
        /^lore: .*did not return gzip data.*; using Patchwork's series mbox$/
      )
    } finally {
      await challenge.close()
    }
  })

  it('throws a transient FetchError when lore is down and there is no Patchwork', async () => {
    const origin = await deadOrigin()
    const down = new Lore(new HttpClient([origin], undefined, noSleep), origin)
    const run = fetchSeriesMails(refs.both, { lore: down, loreList: LIST })
    await expect(run).rejects.toBeInstanceOf(FetchError)
    await expect(run).rejects.toMatchObject({ transient: true })
  })

  it('throws a transient FetchError when lore has no thread and the Patchwork mbox fails', async () => {
    pw.injectFault({ path: /^\/series\/\d+\/mbox\/$/, status: 503, body: 'Service Unavailable', times: 3 })
    const run = fetchSeriesMails(refs.pwOnly, { lore, loreList: LIST, patchwork })
    await expect(run).rejects.toBeInstanceOf(FetchError)
    await expect(run).rejects.toMatchObject({ transient: true })
    await expect(run).rejects.toThrow(/^Patchwork series mbox: .*answered 503$/)
  })

  it('gives up on a series mbox Patchwork says is gone, or that points at another host', async () => {
    pw.injectFault({ path: /^\/series\/\d+\/mbox\/$/, status: 404, body: 'Not Found' })
    const gone = fetchSeriesMails(refs.pwOnly, { lore, loreList: LIST, patchwork })
    await expect(gone).rejects.toMatchObject({ transient: false })
    const foreign = fetchSeriesMails(
      { ...refs.pwOnly, mboxUrl: 'http://169.254.169.254/series/1/mbox/' },
      { lore, loreList: LIST, patchwork }
    )
    await expect(foreign).rejects.toMatchObject({ transient: false })
    await expect(foreign).rejects.toThrow(/Refusing to contact/)
  })

  it('throws a transient FetchError when no source is configured for the series', async () => {
    const run = fetchSeriesMails({ ...refs.pwOnly, mboxUrl: undefined }, { lore, loreList: LIST, patchwork })
    await expect(run).rejects.toBeInstanceOf(FetchError)
    await expect(run).rejects.toMatchObject({ transient: true })
    await expect(run).rejects.toThrow(`No source has the mails of series ${refs.pwOnly.key}`)
  })
})
