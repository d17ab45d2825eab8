import { describe, expect, it } from '@jest/globals'
import { withApplyBase } from '../../src/lifecycle/body.js'
import {
  findLanded,
  seriesPatches,
  trailerMessageIds,
  type BaseCommitFacts
} from '../../src/lifecycle/landed.js'
import type { LifecycleRepo } from '../../src/lifecycle/history.js'
import { BaseHistory, detectLanding } from '../../src/lifecycle/merged.js'
import type { BotPull } from '../../src/ports.js'
import { parseMarker, renderBody } from '../../src/publish/render.js'
import { checkVerdict } from '../../src/report/checks.js'
import type { SeriesRef } from '../../src/model.js'

const ID1 = '20221025-test1-v1-1-e4f28f57990c@linuxfoundation.org'
const ID2 = '20221025-test1-v1-2-e4f28f57990c@linuxfoundation.org'

describe('Message-IDs in trailers', () => {
  it('reads every Link: form b4 and maintainers use, and Message-Id:', () => {
    const message = [
      'fs: do a thing',
      '',
      'Body text mentioning https://lore.kernel.org/r/not-a-trailer@x in prose.',
      '',
      `Link: https://lore.kernel.org/r/${ID1}`,
      'Link: https://patch.msgid.link/20240101.1234-2-a%2Fb@kernel.org',
      'link: https://lore.kernel.org/linux-fsdevel/abc.123@mail.gmail.com/',
      'Link: <https://lore.kernel.org/all/20240202.x@y.org/T/#u>',
      'Message-Id: <plain-id@host.example>',
      'Link: https://bugzilla.kernel.org/show_bug.cgi?id=1234',
      'Signed-off-by: Maintainer <m@kernel.org>'
    ].join('\n')
    expect(trailerMessageIds(message)).toEqual([
      ID1,
      '20240101.1234-2-a/b@kernel.org',
      'abc.123@mail.gmail.com',
      '20240202.x@y.org',
      'plain-id@host.example'
    ])
  })

  it('finds nothing in a message without such trailers', () => {
    expect(trailerMessageIds('Subject\n\nSee https://lore.kernel.org/r/x@y\nSigned-off-by: A <a@b>')).toEqual(
      []
    )
  })
})

describe('has the series landed', () => {
  const base: BaseCommitFacts[] = [
    { sha: 'c3', subject: 'newest', msgids: [], patchId: 'p-two' },
    { sha: 'c2', subject: 'patch one, applied', msgids: [ID1] },
    { sha: 'c1', subject: 'unrelated', msgids: ['other@x'], patchId: 'p-other' }
  ]

  it('needs every patch: by Message-ID, then by patch-id', () => {
    const landing = findLanded(
      [
        { counter: 1, msgid: ID1, patchId: 'p-one' },
        { counter: 2, msgid: ID2, patchId: 'p-two' }
      ],
      base
    )
    expect(landing).toEqual({
      landed: true,
      matches: [
        { counter: 1, sha: 'c2', subject: 'patch one, applied', by: 'message-id' },
        { counter: 2, sha: 'c3', subject: 'newest', by: 'patch-id' }
      ]
    })
  })

  it('keeps the PR when one patch is missing, and says which', () => {
    const landing = findLanded(
      [
        { counter: 1, msgid: ID1 },
        { counter: 2, msgid: ID2, patchId: 'p-absent' }
      ],
      base
    )
    expect(landing.landed).toBe(false)
    expect(landing).toMatchObject({ missing: [2] })
  })

  it('lets one base commit account for one patch only', () => {
    const same = [
      { counter: 1, patchId: 'p-two' },
      { counter: 2, patchId: 'p-two' }
    ]
    expect(findLanded(same, base).landed).toBe(false)
    expect(
      findLanded(same, [...base, { sha: 'c0', subject: 'again', msgids: [], patchId: 'p-two' }]).landed
    ).toBe(true)
  })

  it('is never true for an empty series', () => {
    expect(findLanded([], base).landed).toBe(false)
  })

  it('pairs Message-IDs and patch-ids by position only when the counts agree', () => {
    expect(seriesPatches([ID1, ID2], ['a', 'b'])).toEqual([
      { counter: 1, msgid: ID1, patchId: 'a' },
      { counter: 2, msgid: ID2, patchId: 'b' }
    ])
    expect(seriesPatches([ID1, ID2], ['a'])).toEqual([{ counter: 1, patchId: 'a' }])
    expect(seriesPatches([ID1], [])).toEqual([{ counter: 1, msgid: ID1 }])
  })
})

describe('the body after a refresh', () => {
  const ref: SeriesRef = {
    key: '100',
    patchworkId: 100,
    name: '[PATCH 0/4] This is a cover for test series 1',
    version: 1,
    total: 4,
    receivedTotal: 4,
    receivedAll: true,
    submitter: { name: 'Konstantin Ryabitsev', email: 'konstantin@linuxfoundation.org' },
    patchMsgids: [ID1, ID2],
    patchIds: [1, 2],
    date: '2022-10-25T17:38:41'
  }
  const oldSha = 'f435c12df7c0ecf20ab8937859e63cddffacabb4'
  const newSha = '0123456789abcdef0123456789abcdef01234567'
  const body = renderBody({
    ref,
    messageId: '20221025-test1-v1-0-e4f28f57990c@linuxfoundation.org',
    base: 'main',
    baseSha: oldSha,
    baseReason: { kind: 'default' },
    lore: { url: 'https://lore.kernel.org', list: 'linux-fsdevel' },
    supersedes: { pr: 7, version: 1 },
    coverLetter: `cover text naming ${oldSha}`
  })

  it('names the new base in the marker and the Applied onto line, and nothing else changes', () => {
    const updated = withApplyBase(body, newSha)!
    expect(parseMarker(updated)?.applyBase).toBe(newSha)
    expect(updated).toContain(`**Applied onto:** \`${newSha}\` (the configured base)`)
    expect(updated).toContain(`cover text naming ${oldSha}`)
    expect(updated).toContain('**Supersedes:** #7 (v1)')
    expect(updated.split('\n').length).toBe(body.split('\n').length)
  })

  it('leaves a body without ml2pr’s marker alone', () => {
    expect(withApplyBase('A human PR\n\n**Applied onto:** `abc1234`', newSha)).toBeUndefined()
  })
})

describe('the Patchwork check a result deserves', () => {
  const key = '100'
  const title = 't'
  it('is success with the PR for an opened PR, and for an adopted one only where none was posted', () => {
    const url = 'https://github.com/o/r/pull/3'
    expect(
      checkVerdict({ outcome: { kind: 'opened', key, title, pr: 3, url, branch: 'pw/100/main' } })
    ).toEqual({
      state: 'success',
      targetUrl: url,
      description: 'Applied cleanly; PR #3'
    })
    expect(
      checkVerdict({ outcome: { kind: 'adopted', key, title, pr: 3, url, branch: 'b', state: 'open' } })
    ).toMatchObject({ state: 'success', onlyIfMissing: true })
    expect(
      checkVerdict({ outcome: { kind: 'adopted', key, title, pr: 3, url, branch: 'b', state: 'closed' } })
    ).toBeUndefined()
  })
  it('is fail with the reason for a series problem, and nothing for a transient one or a dry run', () => {
    expect(
      checkVerdict({ outcome: { kind: 'failed', key, title, reason: 'patch 2/4 does not apply\nto main' } })
    ).toEqual({ state: 'fail', description: 'patch 2/4 does not apply to main' })
    expect(
      checkVerdict({ outcome: { kind: 'failed', key, title, reason: 'lore down' }, retry: true })
    ).toBeUndefined()
    expect(
      checkVerdict({ outcome: { kind: 'opened', key, title, pr: 0, url: '(dry run)', branch: 'b' } })
    ).toBeUndefined()
    expect(checkVerdict({ outcome: { kind: 'skipped', key, title, reason: 'excluded' } })).toBeUndefined()
  })
})

describe('detectLanding', () => {
  const marker = {
    key: '7',
    version: 1,
    messageId: 'c@x',
    base: 'vfs.base.ci',
    applyBase: 'a'.repeat(40),
    name: 'n',
    submitter: 's@x'
  }
  const bot = { marker, pull: {} as BotPull['pull'] }
  const untouchable = new Proxy({} as LifecycleRepo, {
    get: (_target, name) => () => {
      throw new Error(`${String(name)} must not be called`)
    }
  })

  it('fetches no history when the apply branch has not moved since the PR was applied', async () => {
    const history = new BaseHistory(untouchable)
    const landing = await detectLanding(untouchable, history, {
      bot,
      msgids: ['p1@x'],
      applyTip: marker.applyBase
    })
    expect(landing).toEqual({ landed: false, matches: [], missing: [] })
  })

  it('does fetch the history once the apply branch moved', async () => {
    const history = new BaseHistory(untouchable)
    await expect(
      detectLanding(untouchable, history, { bot, msgids: ['p1@x'], applyTip: 'b'.repeat(40) })
    ).rejects.toThrow('fetchBranch must not be called')
  })
})
