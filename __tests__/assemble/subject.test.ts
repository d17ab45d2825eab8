import { describe, expect, it } from '@jest/globals'
import { isPullRequest, parseSubject } from '../../src/assemble/subject.js'

describe('parseSubject', () => {
  it('reads counters, revision and prefixes', () => {
    const s = parseSubject('[PATCH bpf-next v13 2/3]  bpf: add   a thing')
    expect(s).toMatchObject({
      full: '[PATCH bpf-next v13 2/3] bpf: add a thing',
      title: 'bpf: add a thing',
      isReply: false,
      revision: 13,
      revisionInferred: false,
      counter: 2,
      expected: 3,
      countersInferred: false,
      isPatch: true,
      prefixes: ['bpf-next']
    })
  })

  it('defaults to v1 and 1/1 when nothing is given', () => {
    expect(parseSubject('[PATCH] fs: fix')).toMatchObject({
      revision: 1,
      revisionInferred: true,
      counter: 1,
      expected: 1,
      countersInferred: true
    })
  })

  it.each([
    ['Re: [PATCH v2 1/2] x', true],
    ['RE: [PATCH] x', true],
    ['Aw: [PATCH] x', true],
    ['Fwd: [PATCH] x', true],
    ['AW: [PATCH 3/4] x', true],
    ['SV:[PATCH] x', true],
    ['[PATCH] net: fix', false],
    ['net: fix: things', false]
  ])('%s is a reply: %s', (subject, reply) => {
    expect(parseSubject(subject).isReply).toBe(reply)
  })

  it('strips reply markers from the title', () => {
    expect(parseSubject('Re: Re: [PATCH v2] fs: retry lookup').title).toBe('fs: retry lookup')
  })

  it('splits PATCHv3 and uppercase V', () => {
    expect(parseSubject('[PATCHv3 1/4] x')).toMatchObject({
      revision: 3,
      counter: 1,
      expected: 4,
      isPatch: true
    })
    expect(parseSubject('[PATCH V2 0/4] PM / OPP: Minor cleanups')).toMatchObject({
      revision: 2,
      counter: 0,
      expected: 4,
      title: 'PM / OPP: Minor cleanups'
    })
  })

  it("splits Patchwork's comma-joined prefixes", () => {
    expect(parseSubject('[net,v2,1/2] net: ieee802154: remove explicit set skb->sk')).toMatchObject({
      revision: 2,
      counter: 1,
      expected: 2,
      prefixes: ['net'],
      title: 'net: ieee802154: remove explicit set skb->sk'
    })
    expect(parseSubject('[PATCH v2,3/3] x')).toMatchObject({ revision: 2, counter: 3, expected: 3 })
  })

  it('flattens nested brackets and reads several groups', () => {
    expect(parseSubject('[Buildroot] [PATCH 01/11] package/x: rename')).toMatchObject({
      counter: 1,
      expected: 11,
      prefixes: ['Buildroot'],
      title: 'package/x: rename'
    })
    expect(parseSubject('[PATCH [net] 2/3] y')).toMatchObject({ counter: 2, expected: 3, prefixes: ['net'] })
  })

  it('knows RFC, RESEND and extra patches such as 6/5', () => {
    expect(parseSubject('[RFC PATCH v2 6/5] z')).toMatchObject({
      isRfc: true,
      counter: 6,
      expected: 6,
      revision: 2
    })
    expect(parseSubject('[PATCH RESEND] z').isResend).toBe(true)
    expect(parseSubject('[RFCv4] z')).toMatchObject({ isRfc: true, revision: 4 })
  })

  it('drops a colon left after the brackets, as git mailinfo does', () => {
    expect(parseSubject('[PATCH]: Fix ld pr11138 FAILures on mips*.').title).toBe(
      'Fix ld pr11138 FAILures on mips*.'
    )
  })
})

describe('isPullRequest', () => {
  it.each([
    ['[GIT PULL] Networking for 6.10', true],
    ['[PULL 00/12] qemu queue', true],
    ['[git pull] drm fixes', true],
    ['[PATCH] pull: fix', false]
  ])('%s: %s', (subject, pull) => {
    expect(isPullRequest(parseSubject(subject))).toBe(pull)
  })
})
