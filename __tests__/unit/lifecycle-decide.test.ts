import { describe, expect, it } from '@jest/globals'
import { decidedState, isStale, supersedes } from '../../src/lifecycle/decide.js'
import { normalizeSeriesName } from '../../src/publish/render.js'

describe('lifecycle decisions', () => {
  it('is stale at exactly close-after-days, not a minute before', () => {
    const created = '2026-11-01T12:00:00Z'
    expect(isStale(created, new Date('2026-11-15T12:00:00Z'), 14)).toBe(true)
    expect(isStale(created, new Date('2026-11-15T11:59:00Z'), 14)).toBe(false)
  })

  it('normalises names across versions', () => {
    expect(normalizeSeriesName('[PATCH v3 0/8] dax:  Prepare for famfs')).toBe('dax: prepare for famfs')
    expect(normalizeSeriesName('Re: [v2,0/2] dax: prepare for famfs')).toBe('dax: prepare for famfs')
  })

  const v1 = {
    key: '100',
    version: 1,
    messageId: 'v1-cover@x',
    submitterEmail: 'a@x.org',
    name: 'dax: prepare'
  }
  it('relates versions by submitter and name, by threading, and by change-id', () => {
    expect(supersedes({ ...v1, key: '200', version: 2, messageId: 'v2@x', repliesTo: [] }, v1)).toBe(true)
    expect(
      supersedes({ key: '200', version: 2, messageId: 'v2@x', name: 'other', repliesTo: ['v1-cover@x'] }, v1)
    ).toBe(true)
    expect(
      supersedes(
        { key: '200', version: 2, messageId: 'v2@x', changeId: 'c1', repliesTo: [] },
        { ...v1, changeId: 'c1' }
      )
    ).toBe(true)
  })
  it('does not relate a lower version, the same series, another author, or a different change-id', () => {
    expect(supersedes({ ...v1, key: '200', version: 1, messageId: 'b', repliesTo: [] }, v1)).toBe(false)
    expect(supersedes({ ...v1, version: 2, repliesTo: [] }, v1)).toBe(false)
    expect(
      supersedes(
        { ...v1, key: '200', version: 2, submitterEmail: 'b@x.org', messageId: 'b', repliesTo: [] },
        v1
      )
    ).toBe(false)
    expect(
      supersedes(
        { ...v1, key: '200', version: 2, messageId: 'b', changeId: 'c2', repliesTo: [] },
        { ...v1, changeId: 'c1' }
      )
    ).toBe(false)
  })

  it('closes only when every patch is in a closing state', () => {
    const closing = ['accepted', 'rejected', 'superseded']
    expect(decidedState(['accepted', 'accepted'], closing)).toBe('accepted')
    expect(decidedState(['accepted', 'new'], closing)).toBeUndefined()
    expect(decidedState([], closing)).toBeUndefined()
  })
})
