/**
 * Mail fixtures as raw messages, and the real public-inbox they are delivered to with a chosen arrival
 * time (public-inbox's `rt:` search reads the `Received:` header the delivery adds).
 */
import { readFile } from 'node:fs/promises'
import { parseMail } from '../../src/assemble/mail.js'
import { splitMbox } from '../../src/assemble/mbox.js'
import { startPublicInbox } from '../support/public-inbox.js'

export interface FixtureMail {
  messageId: string
  raw: Buffer
}

/** The messages of a mail fixture (`__tests__/fixtures/mail/<path>`), raw. */
export async function fixtureMails(path: string): Promise<FixtureMail[]> {
  const data = await readFile(new URL(`../fixtures/mail/${path}`, import.meta.url))
  const format = path.startsWith('generated-public-inbox-1.9/') ? 'mboxrd' : 'mbox'
  return Promise.all(
    splitMbox(data, format).map(async raw => ({ messageId: (await parseMail(raw)).messageId, raw }))
  )
}

export interface TestInbox {
  /** Origin of the archive; the list `<name>` lives at `<url>/<name>/`. */
  url: string
  deliver(list: string, mails: FixtureMail[], receivedAt: Date): Promise<void>
  close(): Promise<void>
}

/** A public-inbox with one inbox per list name. */
export async function openInbox(lists: string[]): Promise<TestInbox> {
  const inboxes = Object.fromEntries(lists.map(list => [list, { address: `${list}@vger.kernel.org` }]))
  const archive = await startPublicInbox({ inboxes })
  return {
    url: archive.url,
    deliver: (list, mails, receivedAt) =>
      archive.addMails(
        list,
        mails.map(m => m.raw),
        { receivedAt }
      ),
    close: () => archive.close()
  }
}
