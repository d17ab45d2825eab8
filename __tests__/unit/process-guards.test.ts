import { describe, expect, it } from '@jest/globals'
import type { SeriesRef } from '../../src/model.js'
import { processSeries, type SeriesContext } from '../../src/process.js'
import { envInputReader, readSettings } from '../../src/settings.js'

/** Threat 27 and issue item 6: an incomplete or oversized series is decided on before anything is touched. */

/** A service that fails the test when used at all: no lookup, fetch, apply or write may happen. */
function untouchable(name: string): never {
  return new Proxy(
    {},
    {
      get: (_t, prop) => {
        throw new Error(`${name}.${String(prop)} was used`)
      }
    }
  ) as never
}

function context(inputs: Record<string, string> = {}): SeriesContext {
  const env: Record<string, string> = { GITHUB_REPOSITORY: 'acme/linux' }
  for (const [k, v] of Object.entries({
    'github-token': 't',
    'patchwork-project': 'linux-fsdevel',
    'base-branch': 'main',
    ...inputs
  }))
    env[`INPUT_${k.toUpperCase()}`] = v
  const lines: string[] = []
  return {
    settings: readSettings(envInputReader(env), env),
    loreList: 'linux-fsdevel',
    pulls: untouchable('pulls'),
    remote: untouchable('remote'),
    apply: untouchable('apply'),
    lore: untouchable('lore'),
    patchwork: untouchable('patchwork'),
    log: { info: l => lines.push(l), warning: l => lines.push(l) },
    failed: new Map(),
    tips: new Map(),
    openBotPulls: []
  }
}

const ref: SeriesRef = {
  key: '1001',
  patchworkId: 1001,
  name: 'fs: a series',
  version: 1,
  total: 3,
  receivedTotal: 3,
  receivedAll: true,
  submitter: { name: 'A', email: 'a@example.org' },
  patchMsgids: ['1@x', '2@x', '3@x'],
  patchIds: [1, 2, 3],
  date: '2026-01-01T00:00:00Z'
}

describe('decided before any lookup or write', () => {
  it('a series Patchwork has not received in full (received_all false) opens nothing and is retried', async () => {
    const result = await processSeries(context(), { ...ref, receivedTotal: 2, receivedAll: false })
    expect(result).toEqual({
      outcome: {
        kind: 'skipped',
        key: '1001',
        title: 'fs: a series',
        reason: 'incomplete: 2/3 patches received'
      },
      retry: true
    })
  })

  it('a series over max-patches is refused: too many patches', async () => {
    const result = await processSeries(context(), { ...ref, total: 5000, receivedTotal: 5000 })
    expect(result.outcome).toEqual({
      kind: 'refused',
      key: '1001',
      title: 'fs: a series',
      reason: 'refused: too many patches (5000; max-patches is 500)',
      files: []
    })
    const capped = await processSeries(context({ 'max-patches': '2' }), ref)
    expect(capped.outcome).toMatchObject({
      kind: 'refused',
      reason: 'refused: too many patches (3; max-patches is 2)'
    })
  })
})
