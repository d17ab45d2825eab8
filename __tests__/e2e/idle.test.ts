/**
 * What a run costs when nothing happened, and what a dispatch run may touch (bundled action): an idle run
 * re-handles no event (the Patchwork cursor is exclusive), writes no ref (the run state is saved only when
 * it changed) and asks Patchwork two things whatever the number of open PRs; a dispatch run changes its
 * series' branch and PR and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { makeSeries } from './mails.js'
import { startWorld, type World } from './world.js'

const WRITE = /^(POST|PATCH|PUT|DELETE)$/

describe('idle and dispatch runs (bundled action)', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld({ lore: false })
  }, 120_000)
  afterAll(async () => world?.close())

  const post = async (tag: string): Promise<number> => {
    const s = makeSeries({ tag, title: `fs: ${tag}`, count: 2 })
    return world.post({ cover: s.cover, patches: s.patches })
  }
  const refs = (): Promise<string> => world.git(['for-each-ref', '--format=%(refname) %(objectname)'])
  const writes = (from: number): string[] =>
    world.github.requests
      .slice(from)
      .filter(
        r =>
          r.path.includes('git-receive-pack') ||
          (WRITE.test(r.method) && !r.path.endsWith('/git-upload-pack'))
      )
      .map(r => `${r.method} ${r.path}`)

  it('writes nothing, re-adopts nothing and asks Patchwork twice when nothing is new', async () => {
    await post('idle-a')
    await post('idle-b')
    const first = await world.run()
    expect(first.code).toBe(0)
    expect(JSON.parse(first.outputs.opened)).toHaveLength(2)

    for (let i = 0; i < 2; i++) {
      const refsBefore = await refs()
      const gh = world.github.requests.length
      const pw = world.patchwork.requests.length
      const idle = await world.run()
      expect(idle.code).toBe(0)
      expect(writes(gh)).toEqual([])
      expect(await refs()).toBe(refsBefore)
      // The newest event was handled by the first run: it is not replayed, so nothing is "adopted".
      expect(idle.summary).toMatch(/No series to handle this run/)
      // The project (which also settles the API version) and one page of events.
      expect(world.patchwork.requests.slice(pw).map(r => r.path.split('?')[0])).toEqual([
        '/api/1.3/projects/linux-fsdevel/',
        '/api/1.3/events/'
      ])
    }
  })

  it('closes a PR whose patches were decided on Patchwork, learning it from the events feed', async () => {
    const s = makeSeries({ tag: 'decided-d', title: 'fs: decided-d', count: 2 })
    const added = await world.patchwork.addSeries({
      project: 'linux-fsdevel',
      cover: s.cover,
      patches: s.patches
    })
    expect((await world.run()).code).toBe(0)
    const pr = world.github.pulls().find(p => p.headRef === `pw/${added.seriesId}/vfs.base.ci`)
    expect(pr?.state).toBe('open')
    for (const id of added.patchIds) world.patchwork.setPatchState(id, 'accepted')

    const pw = world.patchwork.requests.length
    const run = await world.run()
    expect(run.code).toBe(0)
    expect(world.github.pulls().find(p => p.number === pr?.number)?.state).toBe('closed')
    const asked = world.patchwork.requests.slice(pw).map(r => r.path.split('?')[0])
    // Two changed patches name their series; the other open PRs are not polled.
    expect(asked).toEqual([
      '/api/1.3/projects/linux-fsdevel/',
      '/api/1.3/events/',
      ...added.patchIds.map(id => `/api/1.3/patches/${id}/`),
      '/api/1.3/patches/'
    ])
  })

  it('changes only its own series’ branch and PR on a dispatch run (no run-state write)', async () => {
    const id = await post('dispatch-c')
    const before = new Map(
      (await refs())
        .trim()
        .split('\n')
        .map(l => l.split(' ') as [string, string])
    )
    const run = await world.run({ 'series-id': String(id) })
    expect(run.code).toBe(0)
    const after = new Map(
      (await refs())
        .trim()
        .split('\n')
        .map(l => l.split(' ') as [string, string])
    )
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
      r => before.get(r) !== after.get(r)
    )
    expect(changed).toEqual([`refs/heads/pw/${id}/vfs.base.ci`])
    expect(world.github.pulls().filter(p => p.headRef === `pw/${id}/vfs.base.ci`)).toHaveLength(1)
  })
})
