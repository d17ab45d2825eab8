/**
 * Many lists, one repository: two named ml2pr configurations (as the reusable workflow's matrix runs them)
 * against the same GitHub repository and Patchwork server keep apart: state, branches, PRs and lifecycle.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { makeSeries } from './mails.js'
import { startWorld, type World } from './world.js'

describe('two lists in one repository (bundled action)', () => {
  let world: World
  let fsId: number
  let bpfId: number
  const fsList = { name: 'fsdevel' }
  const bpfList = { name: 'bpf', 'patchwork-project': 'netdevbpf' }

  beforeAll(async () => {
    world = await startWorld({ lore: false })
    world.patchwork.addProject({ linkName: 'netdevbpf' })
    const fs = makeSeries({ tag: 'fs-one', title: 'fs: one', count: 2 })
    fsId = await world.post({ cover: fs.cover, patches: fs.patches })
    const bpf = makeSeries({ tag: 'bpf-one', title: 'bpf: one', count: 1 })
    bpfId = (
      await world.patchwork.addSeries({ project: 'netdevbpf', cover: bpf.cover, patches: bpf.patches })
    ).seriesId
  }, 120_000)
  afterAll(async () => world?.close())

  const refs = async (pattern: string): Promise<string[]> =>
    (await world.git(['for-each-ref', '--format=%(refname)', pattern])).split('\n').filter(Boolean)
  const stateOf = async (ref: string): Promise<Record<string, unknown>> =>
    JSON.parse(await world.git(['show', `${ref}:state.json`])) as Record<string, unknown>

  it('each list opens only its own series, on its own branch prefix, and saves its own state', async () => {
    expect((await world.run(fsList)).code).toBe(0)
    expect((await world.run(bpfList)).code).toBe(0)
    const heads = world.github
      .pulls()
      .map(p => p.headRef)
      .sort()
    expect(heads).toEqual([`pw-bpf/${bpfId}/vfs.base.ci`, `pw-fsdevel/${fsId}/vfs.base.ci`])
    expect(await refs('refs/ml2pr/')).toEqual(['refs/ml2pr/states/bpf', 'refs/ml2pr/states/fsdevel'])
    const [fsState, bpfState] = await Promise.all([
      stateOf('refs/ml2pr/states/fsdevel'),
      stateOf('refs/ml2pr/states/bpf')
    ])
    expect(fsState.patchworkCursor).toBeDefined()
    expect(bpfState.patchworkCursor).toBeDefined()
  }, 120_000)

  it('a re-run of both opens nothing new', async () => {
    expect((await world.run(bpfList)).code).toBe(0)
    expect((await world.run(fsList)).code).toBe(0)
    expect(world.github.pulls()).toHaveLength(2)
  }, 120_000)

  it("one list's lifecycle never closes another list's PR", async () => {
    for (const pr of world.github.pulls()) world.github.agePull(pr.number, 15)
    expect((await world.run(fsList)).code).toBe(0)
    const stateByHead = (): Record<string, string> =>
      Object.fromEntries(world.github.pulls().map(p => [p.headRef.split('/')[0], p.state]))
    expect(stateByHead()).toEqual({ 'pw-fsdevel': 'closed', 'pw-bpf': 'open' })
    expect(await refs(`refs/heads/pw-bpf/`)).toEqual([`refs/heads/pw-bpf/${bpfId}/vfs.base.ci`])
    expect((await world.run(bpfList)).code).toBe(0)
    expect(stateByHead()).toEqual({ 'pw-fsdevel': 'closed', 'pw-bpf': 'closed' })
  }, 120_000)
})
