import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { startPublicInbox, type PublicInbox } from './public-inbox.js'
import { splitMbox } from './patchwork-mail.js'

const thread = splitMbox(
  readFileSync(new URL('../fixtures/patchwork/inputs/trailers-thread-with-followups.mbox', import.meta.url))
)
const INBOX = 'linux-fsdevel'
const COVER = '20221025-test1-v1-0-e4f28f57990c@linuxfoundation.org'
const PATCH4 = '20221025-test1-v1-4-e4f28f57990c@linuxfoundation.org'

let pi: PublicInbox
const messageIds = (mbox: string): string[] => [...mbox.matchAll(/^Message-Id: <([^>]+)>/gim)].map(m => m[1])
const search = (query: string, inbox = INBOX): Promise<Response> =>
  fetch(`${pi.url}/${inbox}/?q=${encodeURIComponent(query)}&x=m`, { method: 'POST', body: '' })

beforeAll(async () => {
  pi = await startPublicInbox({
    inboxes: {
      [INBOX]: { address: 'linux-fsdevel@vger.kernel.org' },
      netdev: { address: 'netdev@vger.kernel.org' }
    }
  })
  await pi.addMails(INBOX, thread, { receivedAt: new Date('2025-03-01T10:00:00Z') })
})

afterAll(async () => {
  await pi.close()
})

describe('public-inbox launcher', () => {
  it('serves a whole thread as gzip mboxrd from any of its messages', async () => {
    const res = await fetch(`${pi.url}/${INBOX}/${PATCH4}/t.mbox.gz`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/gzip')
    const mbox = gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8')
    expect(mbox.startsWith('From mboxrd@z Thu Jan  1 00:00:00 1970\n')).toBe(true)
    expect(messageIds(mbox).sort()).toEqual(
      thread.map(m => /^Message-Id: <([^>]+)>/im.exec(m.toString())?.[1]).sort()
    )
    expect((await fetch(`${pi.url}/${INBOX}/no-such-message@example.org/t.mbox.gz`)).status).toBe(404)
  })

  it('serves one message raw', async () => {
    const res = await fetch(`${pi.url}/${INBOX}/${COVER}/raw`)
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('Subject: [PATCH 0/4] This is a cover for test series 1')
    expect(messageIds(text)).toEqual([COVER])
  })

  it('searches by received time: results only, 404 when nothing matches', async () => {
    const at = Date.parse('2025-03-01T10:00:00Z') / 1000
    const hit = await search(`rt:${at - 60}..`)
    expect(hit.status).toBe(200)
    expect(hit.headers.get('content-type')).toBe('application/gzip')
    expect(messageIds(gunzipSync(Buffer.from(await hit.arrayBuffer())).toString())).toHaveLength(
      thread.length
    )
    const one = await search('s:"Minor typo changes imitation" AND NOT s:Re')
    expect(messageIds(gunzipSync(Buffer.from(await one.arrayBuffer())).toString())).toEqual([PATCH4])
    const none = await search(`rt:${at + 60}..`)
    expect(none.status).toBe(404)
  })

  it('makes mails added later visible to search', async () => {
    const later = new Date('2025-03-02T10:00:00Z')
    const extra = Buffer.from(
      'From: Late Sender <late@example.org>\nTo: netdev@vger.kernel.org\nSubject: [PATCH] net: late fix\nDate: Sun, 02 Mar 2025 10:00:00 +0000\nMessage-Id: <late-1@example.org>\n\nA late fix.\n\nSigned-off-by: Late Sender <late@example.org>\n---\n a | 1 +\n 1 file changed, 1 insertion(+)\n\ndiff --git a/a b/a\nindex 0000000..1111111 100644\n--- a/a\n+++ b/a\n@@ -0,0 +1 @@\n+x\n'
    )
    expect((await search(`rt:${later.getTime() / 1000 - 60}..`, 'netdev')).status).toBe(404)
    await pi.addMails('netdev', [extra], { receivedAt: later })
    const res = await search(`rt:${later.getTime() / 1000 - 60}..`, 'netdev')
    expect(res.status).toBe(200)
    expect(messageIds(gunzipSync(Buffer.from(await res.arrayBuffer())).toString())).toEqual([
      'late-1@example.org'
    ])
  })
})
