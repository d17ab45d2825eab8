import { describe, expect, it } from '@jest/globals'
import { readdirSync } from 'node:fs'
import { MAX_MAIL_BYTES, MailError, parseMail, parseMails } from '../../src/assemble/mail.js'
import { splitMbox } from '../../src/assemble/mbox.js'
import { fixture } from './helpers.js'

async function single(path: string): Promise<Awaited<ReturnType<typeof parseMail>>> {
  const [raw] = splitMbox(fixture(path), 'mbox')
  return parseMail(raw)
}

/** Some upstream test mails are git format-patch output without a Message-ID; give them one. */
function withMessageId(raw: Buffer): Buffer {
  return Buffer.concat([Buffer.from('Message-ID: <added@test.invalid>\n'), raw])
}

describe('parseMail', () => {
  it('reads ids, sender, date and the patch of a real series mail', async () => {
    const [, patch] = splitMbox(fixture('patchwork/series/bugs-multiple-references.mbox'), 'mbox')
    const mail = await parseMail(patch)
    expect(mail.messageId).toBe(
      'b9f67b2be37d5e9740a5e1ed85b0e8b4e5c0eb91.1495511998.git.viresh.kumar@linaro.org'
    )
    expect(mail.inReplyTo).toBe('cover.1495511998.git.viresh.kumar@linaro.org')
    expect(mail.references).toEqual(['cover.1495511998.git.viresh.kumar@linaro.org'])
    expect(mail.from).toEqual({ name: 'Viresh Kumar', email: 'viresh.kumar@linaro.org' })
    expect(mail.date?.toISOString()).toBe('2017-05-23T04:02:10.000Z')
    expect(mail.subject).toBe('[PATCH V2 1/4] PM / OPP: Reorganize _generic_set_opp_regulator()')
    expect(mail.hasDiff).toBe(true)
    expect(mail.hasDiffstat).toBe(true)
    expect(mail.listId).toBe('linux-kernel.vger.kernel.org')
    expect(mail.raw.equals(patch)).toBe(true)
  })

  it('takes the first of duplicated In-Reply-To headers and collects all References', async () => {
    const [, , second] = splitMbox(fixture('patchwork/series/bugs-multiple-references.mbox'), 'mbox')
    const mail = await parseMail(second)
    expect(mail.inReplyTo).toBe(
      'b9f67b2be37d5e9740a5e1ed85b0e8b4e5c0eb91.1495511998.git.viresh.kumar@linaro.org'
    )
    expect(mail.references).toEqual([
      'b9f67b2be37d5e9740a5e1ed85b0e8b4e5c0eb91.1495511998.git.viresh.kumar@linaro.org',
      'cover.1495511998.git.viresh.kumar@linaro.org'
    ])
  })

  it.each([
    ['patchwork/mail/0013-with-utf8-body.mbox', 'MAINTAINERS: Update entry for BCM5301X ARM'],
    [
      'patchwork/mail/0014-with-unencoded-utf8-headers.mbox',
      'MAINTAINERS: Update entry for BCM5301X ARM to include Rafał Miłecki'
    ],
    ['patchwork/mail/0015-with-invalid-utf8-headers.mbox', 'MAINTAINERS: Update entry for BCM5301X ARM']
  ])('decodes the UTF-8 sender of %s', async (path, subject) => {
    const mail = await single(path)
    expect(mail.from).toEqual({ name: 'Rafał Miłecki', email: 'zajec5@gmail.com' })
    expect(mail.subject).toBe(subject)
    expect(mail.body).toContain('Rafał Miłecki <zajec5@gmail.com>')
  })

  it('reads raw latin-1 header bytes as latin-1, and removes control and bidi characters', async () => {
    const raw = Buffer.concat([
      Buffer.from('From: Ren'),
      Buffer.from([0xe9]),
      Buffer.from(
        ' <rene@example.org>\nMessage-ID: <l1@example.org>\nSubject: [PATCH] a\u0007b \u202eevil\n\nx\n'
      )
    ])
    const mail = await parseMail(raw)
    expect(mail.from).toEqual({ name: 'René', email: 'rene@example.org' })
    expect(mail.subject).toBe('[PATCH] a b evil')
  })

  it('decodes RFC 2047 names, base64 bodies and quoted-printable replies', async () => {
    const v1 = await single('synthetic/synthetic-base64-author-v1.eml')
    expect(v1.from.name).toBe('Zoë Ñandú')
    expect(v1.body).toContain('From the VFS point of view')
    expect(v1.hasDiff).toBe(true)
    const reply = await single('synthetic/synthetic-qp-review-reply.eml')
    expect(reply.from).toEqual({ name: 'Jürgen Größ', email: 'jgross@example.net' })
    expect(reply.body).toContain('Reviewed-by: Jürgen Größ <jgross@example.net>')
    expect(reply.body).toContain('Looks good to me – thanks for the “retry” comment.')
    expect(reply.hasDiff).toBe(false)
  })

  it('reads public-inbox test mails', async () => {
    const utf8 = await single('public-inbox/t/utf8.eml')
    expect(utf8.from.name).not.toContain('=?')
    const qp = await single('public-inbox/t/plack-qp.eml')
    expect(qp.hasDiff).toBe(false)
    // An attached mbox of patches is an attachment, not this mail's patch.
    const attached = await single('public-inbox/t/data/attached-mbox-with-utf8.eml')
    expect(attached.hasDiff).toBe(false)
  })

  it('takes the patch from a text attachment (CVS-style diff) and from a multipart/alternative mail', async () => {
    const cvs = await single('patchwork/mail/0007-cvs-format-diff.mbox')
    expect(cvs.hasDiff).toBe(true)
    expect(cvs.body).toContain('Index: ')
    const multipart = await single('patchwork/mail/0019-multipart-patch.mbox')
    expect(multipart.hasDiff).toBe(true)
    expect(multipart.body).not.toContain('<html')
  })

  it('falls back to UTF-8 for an invalid charset', async () => {
    const mail = await single('patchwork/mail/0010-invalid-charset.mbox')
    expect(mail.hasDiff).toBe(true)
    expect(mail.subject).toContain('Fix pow overflow')
  })

  it.each([
    ['patchwork/mail/0008-git-rename.mbox', 'similarity index 100%'],
    ['patchwork/mail/0022-git-mode-change.mbox', 'new mode 100755'],
    ['patchwork/mail/0026-git-add-mixed-binary-text-files.mbox', 'GIT binary patch']
  ])('recognises the diff in %s', async (path, text) => {
    const [raw] = splitMbox(fixture(path), 'mbox')
    const mail = await parseMail(raw.includes('Message-I') ? raw : withMessageId(raw))
    expect(mail.hasDiff).toBe(true)
    expect(mail.body).toContain(text)
  })

  it('sees no patch in a pull request', async () => {
    const mail = await single('patchwork/mail/0001-git-pull-request.mbox')
    expect(mail.hasDiff).toBe(false)
    expect(mail.subject.toLowerCase()).toContain('git pull')
  })

  it('refuses a mail without Message-ID with a clear error', async () => {
    const [raw] = splitMbox(fixture('patchwork/mail/0008-git-rename.mbox'), 'mbox')
    await expect(parseMail(raw)).rejects.toThrow(new MailError('mail has no Message-ID'))
  })

  it('refuses oversized mails before parsing', async () => {
    const raw = Buffer.alloc(MAX_MAIL_BYTES + 1, 0x61)
    await expect(parseMail(raw)).rejects.toThrow(/over the 20971520-byte limit/)
  })

  it.each(readdirSync(new URL('../fixtures/mail/patchwork/fuzz/', import.meta.url)))(
    'survives fuzzed mail %s',
    async name => {
      const raws = splitMbox(fixture(`patchwork/fuzz/${name}`), 'mbox')
      const { mails, errors } = await parseMails(raws)
      expect(mails.length + errors.length).toBe(raws.length)
      for (const error of errors) expect(error).toMatch(/^message \d+: /)
      for (const mail of mails) {
        expect(mail.messageId).toMatch(/^[\x21-\x7e]+$/)
        expect(mail.date === undefined || !Number.isNaN(mail.date.getTime())).toBe(true)
      }
    }
  )

  it('treats an absurd Date as missing rather than inventing one', async () => {
    const [raw] = splitMbox(fixture('patchwork/fuzz/date-too-long.mbox'), 'mbox')
    const mail = await parseMail(raw)
    expect(mail.date).toBeUndefined()
  })
})
