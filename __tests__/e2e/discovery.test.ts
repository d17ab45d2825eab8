/**
 * Issue "scheduled discovery": the bundled action, run several times in a row as cron would, turns every new
 * complete series into exactly one PR — across new arrivals, a grace period, the per-run budget, a lost
 * cursor, overlapping runs, runs killed between push and PR, and PRs closed by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { makeSeries } from './mails.js'
import { startWorld, type World } from './world.js'

describe('scheduled discovery over several runs (bundled action)', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
  }, 120_000)
  afterAll(async () => world?.close())

  const prsFor = (id: number): number =>
    world.github.pulls().filter(p => p.headRef === `pw/${id}/vfs.base.ci`).length
  const post = async (tag: string, count = 2): Promise<number> => {
    const s = makeSeries({ tag, title: `fs: ${tag}`, count })
    return world.post({ cover: s.cover, patches: s.patches })
  }

  it('opens one PR per new complete series, run after run', async () => {
    const a = await post('alpha')
    const first = await world.run()
    expect(first.code).toBe(0)
    expect(prsFor(a)).toBe(1)

    const b = await post('bravo', 3)
    const second = await world.run()
    expect(second.code).toBe(0)
    expect(prsFor(a)).toBe(1)
    expect(prsFor(b)).toBe(1)
    expect(JSON.parse(second.outputs.opened)).toEqual([expect.objectContaining({ key: String(b) })])
  })

  it('stops writing when the token expires mid-run, says so, and the next run finishes without duplicates', async () => {
    const ids = [await post('expiry-a'), await post('expiry-b')]
    // An App token that expires between the first push and its PR: every PR request from then on is refused.
    world.github.injectFault({
      method: 'POST',
      path: /\/pulls$/,
      status: 401,
      body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' },
      times: 1000
    })
    const expired = await world.run()
    world.github.clearFaults()
    expect(expired.code).toBe(1)
    expect(expired.stdout).toMatch(/::error::.*GitHub refused the token/)
    expect(ids.map(prsFor)).toEqual([0, 0])
    // The run stopped at the first refusal: the second series was not pushed either.
    const pushed = await Promise.all(
      ids.map(async id => (await world.git(['for-each-ref', `refs/heads/pw/${id}/`])).trim() !== '')
    )
    expect(pushed).toEqual([true, false])

    const next = await world.run()
    expect(next.code).toBe(0)
    expect(ids.map(prsFor)).toEqual([1, 1])
    const again = await world.run()
    expect(again.code).toBe(0)
    expect(ids.map(prsFor)).toEqual([1, 1])
  })

  it('holds a just-completed series for the grace period, then handles it in a later run', async () => {
    const c = await post('charlie')
    const early = await world.run({ 'grace-minutes': '60' })
    expect(early.code).toBe(0)
    expect(prsFor(c)).toBe(0)
    const later = await world.run()
    expect(prsFor(c)).toBe(1)
    expect(later.code).toBe(0)
  })

  it('leaves what exceeds max-series for the next run, oldest first', async () => {
    const ids = [await post('delta'), await post('echo'), await post('foxtrot')]
    await world.run({ 'max-series': '2' })
    expect(ids.map(prsFor)).toEqual([1, 1, 0])
    await world.run({ 'max-series': '2' })
    expect(ids.map(prsFor)).toEqual([1, 1, 1])
  })

  it('duplicates nothing when the run state is lost, and never re-creates a closed PR', async () => {
    const before = world.github.pulls().length
    const closed = world.github.pulls()[0]
    await fetch(`${world.github.apiUrl}/repos/acme/linux/pulls/${closed.number}`, {
      method: 'PATCH',
      headers: {
        authorization: 'token ghs_e2eTokenThatMustNeverLeak0123456789',
        'content-type': 'application/json'
      },
      body: JSON.stringify({ state: 'closed' })
    })
    await world.git(['update-ref', '-d', 'refs/ml2pr/state'])
    const rescan = await world.run()
    expect(rescan.code).toBe(0)
    expect(world.github.pulls()).toHaveLength(before)
    expect(world.github.pulls().find(p => p.number === closed.number)?.state).toBe('closed')
    expect(JSON.parse(rescan.outputs.opened)).toEqual([])
  })

  it('repairs a run killed right after its push (the orphan branch is adopted, not duplicated)', async () => {
    const g = await post('golf')
    const from = world.github.requests.length
    const pushed = (): boolean =>
      world.github.requests.slice(from).some(r => r.path.endsWith('/git-receive-pack') && r.status === 200)
    const killed = await world.run({}, { killWhen: pushed })
    expect(killed.code).not.toBe(0)
    const orphan = (await world.git(['rev-parse', `refs/heads/pw/${g}/vfs.base.ci`])).trim()
    const repaired = await world.run()
    expect(repaired.code).toBe(0)
    expect(prsFor(g)).toBe(1)
    expect((await world.git(['rev-parse', `refs/heads/pw/${g}/vfs.base.ci`])).trim()).toBe(orphan)
  })

  it.each([
    ['its first GitHub API call', (r: { method: string; path: string }) => r.path.startsWith('/api/v3/')],
    ['its first git fetch', (r: { method: string; path: string }) => r.path.endsWith('/git-upload-pack')],
    [
      'creating the PR',
      (r: { method: string; path: string }) => r.method === 'POST' && r.path.endsWith('/pulls')
    ],
    [
      'saving its state',
      (r: { method: string; path: string }) => r.path.endsWith('/git-receive-pack') && r.method === 'POST'
    ]
  ])('is repaired by the next run when killed at %s', async (_step, isKillPoint) => {
    const id = await post(`kill-${Math.random().toString(36).slice(2, 8)}`)
    const from = world.github.requests.length
    await world.run({}, { killWhen: () => world.github.requests.slice(from).some(isKillPoint) })
    const next = await world.run()
    expect(next.code).toBe(0)
    expect(prsFor(id)).toBe(1)
    expect((await world.git(['for-each-ref', `refs/heads/pw/${id}/`])).trim().split('\n')).toHaveLength(1)
  })

  it('repairs a run whose PR creation failed after the push (GitHub answered 502 throughout)', async () => {
    const i = await post('india')
    world.github.injectFault({
      method: 'POST',
      path: /\/pulls$/,
      status: 502,
      body: { message: 'Server Error' },
      times: 3
    })
    const failing = await world.run()
    expect(failing.code).toBe(0)
    expect(prsFor(i)).toBe(0)
    expect(JSON.parse(failing.outputs.failed)).toEqual([expect.objectContaining({ key: String(i) })])
    await world.run()
    expect(prsFor(i)).toBe(1)
  })

  it('yields one PR when two runs overlap, and both runs stay green', async () => {
    for (const tag of ['hotel', 'juliet', 'lima']) {
      const id = await post(tag, 4)
      const [one, two] = await Promise.all([world.run(), world.run()])
      expect([one.code, two.code]).toEqual([0, 0])
      expect(world.github.pulls().filter(p => p.headRef.startsWith(`pw/${id}/`))).toHaveLength(1)
    }
  }, 360_000)
})
