import { describe, expect, it } from '@jest/globals'
import { gzipSync } from 'node:zlib'
import { isGzip, splitMbox } from '../../src/assemble/mbox.js'
import { fixture } from './helpers.js'

describe('splitMbox', () => {
  it('splits lore mboxrd and strips one > from escaped From lines', () => {
    const messages = splitMbox(fixture('generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox'), 'mboxrd')
    expect(messages).toHaveLength(3)
    const v2 = messages[1].toString('utf8')
    expect(v2).toMatch(/^Content-Type: text\/plain/)
    expect(v2).toContain('\nFrom the VFS point of view this is harmless; the previous line\n')
    expect(v2).not.toContain('>From the VFS')
  })

  it('keeps >From lines as they are in plain mbox', () => {
    const messages = splitMbox(fixture('generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox'), 'mbox')
    expect(messages[1].toString('utf8')).toContain('\n>From the VFS point of view')
  })

  it('does not split at a From line inside an unescaped Patchwork commit message', () => {
    const mbox = Buffer.from(
      [
        'From patchwork Wed Jun 11 15:48:58 2025',
        'From: A U Thor <author@example.org>',
        'Subject: [PATCH] fix',
        'Message-Id: <one@example.org>',
        '',
        'Explain the fix.',
        'From x Thu Jan  1 12:00:00 2024',
        'the line above is commit message text.',
        '',
        'From patchwork Wed Jun 11 15:49:00 2025',
        'From: A U Thor <author@example.org>',
        'Subject: [PATCH 2/2] more',
        'Message-Id: <two@example.org>',
        '',
        'body',
        ''
      ].join('\n')
    )
    const messages = splitMbox(mbox, 'mbox')
    expect(messages).toHaveLength(2)
    expect(messages[0].toString()).toContain('From x Thu Jan  1 12:00:00 2024\nthe line above')
    expect(messages[1].toString()).toMatch(/^From: A U Thor/)
  })

  it('does not split at a From line after a blank line when no header follows', () => {
    const mbox = Buffer.from(
      'From patchwork Wed Jun 11 15:48:58 2025\nSubject: x\nMessage-Id: <a@b>\n\ntext\n\nFrom me Thu Jan  1 12:00:00 2024\nnot a header line\n'
    )
    expect(splitMbox(mbox, 'mbox')).toHaveLength(1)
  })

  it('turns CRLF into LF, as git mailsplit does', () => {
    const mbox = Buffer.from(
      'From mboxrd@z Thu Jan  1 00:00:00 1970\r\nSubject: x\r\nMessage-ID: <a@b>\r\n\r\nline\r\n>From here\r\n'
    )
    const [message] = splitMbox(mbox, 'mboxrd')
    expect(message.toString()).toBe('Subject: x\nMessage-ID: <a@b>\n\nline\nFrom here\n')
  })

  it('keeps non-UTF-8 bytes untouched', () => {
    const body = Buffer.from([0x52, 0x65, 0x6e, 0xe9, 0x0a])
    const mbox = Buffer.concat([Buffer.from('From x@y Thu Jan  1 00:00:00 1970\nSubject: s\n\n'), body])
    const [message] = splitMbox(mbox, 'mbox')
    expect(message.subarray(message.length - 5)).toEqual(body)
  })

  it('accepts a single RFC 822 message without a From line', () => {
    const messages = splitMbox(fixture('patchwork/mail/0008-git-rename.mbox'), 'mbox')
    expect(messages).toHaveLength(1)
    expect(messages[0].equals(fixture('patchwork/mail/0008-git-rename.mbox'))).toBe(true)
  })

  it.each([
    ['patchwork/series/base-cover-letter.mbox', 3],
    ['patchwork/series/bugs-spamming.mbox', 3],
    ['patchwork/series/revision-unlabeled.mbox', 6],
    ['b4/trailers-thread-with-followups.mbox', 6],
    ['generated-patchwork-v3.1.3/series-1-mbox.mbox', 4],
    ['kernel-patches-daemon/series-970926.mbox', 1]
  ])('finds every message in %s', (path, count) => {
    expect(splitMbox(fixture(path), 'mbox')).toHaveLength(count)
  })

  it('returns nothing for empty input', () => {
    expect(splitMbox(Buffer.from('\n\n'), 'mboxrd')).toEqual([])
  })
})

describe('isGzip', () => {
  it('recognises gzip magic bytes and rejects an HTML challenge page', () => {
    expect(isGzip(gzipSync(Buffer.from('x')))).toBe(true)
    expect(isGzip(Buffer.from('<!doctype html>'))).toBe(false)
    expect(isGzip(Buffer.alloc(0))).toBe(false)
  })
})
