import { describe, expect, it } from '@jest/globals'
import { chooseBase } from '../../src/discover/base.js'
import { parseServerDate, planDiscovery, toServerDate } from '../../src/discover/plan.js'
import { mergeStates, parseState, serializeState, type RunState } from '../../src/discover/state.js'

const empty = (): RunState => parseState(undefined)

describe('planDiscovery', () => {
  const now = new Date('2026-11-28T12:00:00Z')

  it('reads Patchwork naive dates as UTC and writes them back the same way', () => {
    expect(parseServerDate('2026-11-28T02:24:46.830765')).toBe(Date.parse('2026-11-28T02:24:46.830Z'))
    expect(toServerDate(Date.parse('2026-11-28T02:24:46.000Z'))).toBe('2026-11-28T02:24:46.000')
  })

  it('de-duplicates repeated completion events and holds young series for the grace period', () => {
    const plan = planDiscovery(
      empty(),
      [
        { key: '7', completedAt: '2026-11-28T10:00:00' },
        { key: '9', completedAt: '2026-11-28T11:55:00' },
        { key: '7', completedAt: '2026-11-28T10:30:00' }
      ],
      now,
      10
    )
    expect(plan.due.map(p => p.key)).toEqual(['7'])
    expect(plan.due[0].completedAt).toBe('2026-11-28T10:30:00')
    expect(plan.waiting).toEqual([
      { key: '9', completedAt: '2026-11-28T11:55:00', reason: 'grace period', attempts: 0 }
    ])
    expect(plan.cursor).toBe('2026-11-28T11:55:00')
  })

  it('keeps series pending from earlier runs, oldest first, and never moves the cursor back', () => {
    const state: RunState = {
      ...empty(),
      patchworkCursor: '2026-11-28T11:00:00',
      pending: [{ key: '5', completedAt: '2026-11-27T09:00:00', reason: 'retry', attempts: 2 }]
    }
    const plan = planDiscovery(state, [{ key: '6', completedAt: '2026-11-28T11:00:00' }], now, 10)
    expect(plan.due.map(p => [p.key, p.attempts])).toEqual([
      ['5', 2],
      ['6', 0]
    ])
    expect(plan.cursor).toBe('2026-11-28T11:00:00')
  })
})

describe('run state', () => {
  it('survives a corrupt or foreign state file by starting over', () => {
    expect(parseState('{not json')).toEqual(empty())
    expect(parseState('{"pending": "x", "failed": [{"key": 1}]}')).toEqual(empty())
  })

  it('round-trips and drops old failures', () => {
    const state: RunState = {
      version: 1,
      patchworkCursor: '2026-11-28T10:00:00',
      pending: [{ key: '2', completedAt: '2026-11-28T09:00:00', reason: 'grace period', attempts: 0 }],
      failed: [
        { key: '3', baseSha: 'a'.repeat(40), reason: 'conflict', at: '2026-11-27T00:00:00Z' },
        { key: '4', baseSha: 'b'.repeat(40), reason: 'conflict', at: '2026-09-01T00:00:00Z' }
      ]
    }
    const text = serializeState(state, new Date('2026-11-28T00:00:00Z'))
    const back = parseState(text)
    expect(back.patchworkCursor).toBe('2026-11-28T10:00:00')
    expect(back.pending).toHaveLength(1)
    expect(back.failed.map(f => f.key)).toEqual(['3'])
  })

  it('merges with a state another run saved meanwhile', () => {
    const theirs: RunState = {
      version: 1,
      patchworkCursor: '2026-11-28T11:00:00',
      pending: [
        { key: '1', completedAt: '2026-11-28T08:00:00', reason: 'grace period', attempts: 0 },
        { key: '2', completedAt: '2026-11-28T09:00:00', reason: 'grace period', attempts: 0 }
      ],
      failed: []
    }
    const ours: RunState = {
      version: 1,
      patchworkCursor: '2026-11-28T10:00:00',
      pending: [],
      failed: [{ key: '3', baseSha: 'c'.repeat(40), reason: 'conflict', at: '2026-11-28T10:00:00Z' }]
    }
    const merged = mergeStates(theirs, ours, new Set(['1', '3']))
    expect(merged.patchworkCursor).toBe('2026-11-28T11:00:00')
    expect(merged.pending.map(p => p.key)).toEqual(['2'])
    expect(merged.failed.map(f => f.key)).toEqual(['3'])
  })
})

describe('chooseBase', () => {
  const settings = {
    baseBranch: 'vfs.base.ci',
    applyBranch: 'vfs.base',
    baseMap: [{ tag: 'bpf-next', branch: 'bpf-next_base' }]
  }
  it('uses a base-map rule for a matching subject tag and says why', () => {
    expect(chooseBase(['BPF-Next'], settings)).toEqual({
      base: 'bpf-next_base',
      applyOnto: 'bpf-next_base',
      reason: { kind: 'base-map', prefix: 'bpf-next', branch: 'bpf-next_base' }
    })
  })
  it('falls back to the configured base, applying onto apply-branch', () => {
    expect(chooseBase(['net'], settings)).toEqual({
      base: 'vfs.base.ci',
      applyOnto: 'vfs.base',
      reason: { kind: 'default' }
    })
  })
})
