/**
 * Whole runs in lore-only mode (no Patchwork): a real public-inbox, the GitHub stand-in, real git. Cron
 * runs overlap and state gets lost; the series still becomes exactly one PR.
 */
import { buildDeps } from '../../src/main.js'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runBridge, type BridgeReport } from '../../src/bridge.js'
import { loreSeriesKey } from '../../src/discover/lore.js'
import type { StateStore } from '../../src/discover/state.js'
import { readSettings } from '../../src/settings.js'
import { startGitHubStandIn, type GitHubStandIn } from '../support/github-standin.js'
import { commitFiles, seedFromBundle } from '../support/repos.js'
import { makeSeries } from '../e2e/mails.js'
import { fixtureMails, openInbox, type TestInbox } from './inbox.js'
import { MemoryState } from '../support/memory-state.js'

const OWNER = 'acme'
const REPO = 'linux'
const TOKEN = 'gh-token-for-tests'
const LIST = 'linux-fsdevel'
const COVER = '20221025-test1-v1-0-e4f28f57990c@linuxfoundation.org'
const T0 = Date.parse('2026-11-20T10:00:00Z')

let gh: GitHubStandIn
let inbox: TestInbox
let root: string
let runs = 0

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ml2pr-lore-bridge-'))
  gh = await startGitHubStandIn({ owner: OWNER, repo: REPO, token: TOKEN })
  await seedFromBundle(gh.repoDir, ['main'])
  inbox = await openInbox([LIST])
  await inbox.deliver(LIST, await fixtureMails('b4/shazam-git1-just-series.mbox'), new Date(T0))
}, 120_000)

afterAll(async () => {
  await Promise.allSettled([gh?.close(), inbox?.close()])
  if (root) rmSync(root, { recursive: true, force: true })
})

async function run(state: StateStore, now: Date): Promise<BridgeReport> {
  const inputs: Record<string, string> = {
    repository: `${OWNER}/${REPO}`,
    'github-token': TOKEN,
    'patchwork-url': '',
    'lore-url': inbox.url,
    'lore-list': LIST,
    'base-branch': 'main',
    'grace-minutes': '10'
  }
  const settings = readSettings(name => inputs[name] ?? '', {
    GITHUB_SERVER_URL: gh.serverUrl,
    GITHUB_API_URL: gh.apiUrl,
    RUNNER_TEMP: path.join(root, `run-${++runs}`),
    // Set but empty, as the runner passes it: lore-only mode.
    'INPUT_PATCHWORK-URL': ''
  })
  const lines: string[] = []
  const log = {
    info: (m: string) => void lines.push(m),
    warning: (m: string) => void lines.push(`warning: ${m}`),
    group: <T>(_name: string, fn: () => Promise<T>) => fn()
  }
  const deps = await buildDeps(settings, { log, now: () => now, debug: () => undefined })
  // These runs look at discovery and publishing only: no lifecycle git.
  const report = await runBridge({ ...deps, state, lifecycleRepo: undefined })
  expect(lines.filter(l => l.startsWith('warning:'))).toEqual([])
  return report
}

describe('lore-only runs', () => {
  const key = loreSeriesKey(COVER)
  const branch = `pw/${key}/main`

  it('waits out the grace period, opens one PR, and adopts it on every later sighting', async () => {
    const state = new MemoryState()

    const early = await run(state, new Date(T0 + 5 * 60_000))
    expect(early.outcomes).toEqual([])
    expect(early.waiting).toBe(1)
    expect(state.state.pending).toMatchObject([{ key, messageId: COVER, reason: 'grace period' }])
    expect(gh.pulls()).toEqual([])

    const due = await run(state, new Date(T0 + 20 * 60_000))
    expect(due.outcomes.map(o => [o.kind, o.key])).toEqual([['opened', key]])
    expect(state.state.loreCursor).toBe((T0 + 20 * 60_000) / 1000)
    expect(state.state.pending).toEqual([])
    const [pull] = gh.pulls()
    expect(pull.title).toBe('This is a cover for test series 1')
    expect(pull.headRef).toBe(branch)
    expect(pull.body).toContain(`lore series \`${key}\` (no Patchwork)`)
    expect(pull.body).toContain(COVER)

    // An overlapping run sees the same mails again; a run that lost its state scans the whole lookback.
    const overlap = await run(state, new Date(T0 + 30 * 60_000))
    const amnesiac = await run(new MemoryState(), new Date(T0 + 40 * 60_000))
    for (const report of [overlap, amnesiac]) {
      expect(report.outcomes.map(o => [o.kind, o.key])).toEqual([['adopted', key]])
    }
    expect(gh.pulls().map(p => p.headRef)).toEqual([branch])
  })

  it('retries a series that did not apply once the base moves, not before', async () => {
    const state = new MemoryState()
    const T1 = T0 + 3 * 3_600_000
    await commitFiles(gh.repoDir, {
      branch: 'main',
      files: { 'fs/romeo-1.c': 'taken\n' },
      message: 'take the name'
    })
    const series = makeSeries({ tag: 'romeo', title: 'fs: romeo', count: 2, date: new Date(T1) })
    const mails = [series.cover!, ...series.patches].map((raw, i) => ({ messageId: `romeo-${i}`, raw }))
    await inbox.deliver(LIST, mails, new Date(T1))
    const romeo = loreSeriesKey(series.coverId!)

    const failed = await run(state, new Date(T1 + 20 * 60_000))
    expect(failed.outcomes).toContainEqual(expect.objectContaining({ kind: 'failed', key: romeo }))
    expect(state.state.failed).toMatchObject([{ key: romeo, branch: 'main', messageId: series.coverId }])

    // Later, same base: seen again, not applied again.
    const quiet = await run(state, new Date(T1 + 50 * 60_000))
    expect(quiet.outcomes.filter(o => o.key === romeo)).toEqual([
      expect.objectContaining({
        kind: 'skipped',
        reason: expect.stringMatching(/^failed before on this base/)
      })
    ])

    await commitFiles(gh.repoDir, {
      branch: 'main',
      files: { 'fs/romeo-1.c': null },
      message: 'give it back'
    })
    const moved = await run(state, new Date(T1 + 6 * 3_600_000))
    expect(moved.outcomes).toContainEqual(expect.objectContaining({ kind: 'opened', key: romeo }))
    expect(gh.pulls().filter(p => p.headRef === `pw/${romeo}/main`)).toHaveLength(1)
  })
})
