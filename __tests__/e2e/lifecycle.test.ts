/**
 * Issue "PR lifecycle" and the selection rules of scheduled discovery, through the bundled action:
 * stale PRs, superseded versions, Patchwork decisions, failures that wait for the base to move, a base
 * that moved away from the author's base-commit, base-map, delegate and exclude-subject.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { StoredPull } from '../support/github-objects.js'
import { commitFiles } from '../support/repos.js'
import { makeSeries, type SeriesSpec } from './mails.js'
import { startWorld, TOKEN, type World } from './world.js'

const FOOTER = '\n\n---\n*Automated by ml2pr*'

describe('lifecycle and selection rules (bundled action)', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
  }, 120_000)
  afterAll(async () => world?.close())

  const post = async (
    spec: Omit<SeriesSpec, 'title'> & { title?: string },
    delegate?: string
  ): Promise<number> => {
    const s = makeSeries({ title: `fs: ${spec.tag}`, ...spec })
    return world.post({ cover: s.cover, patches: s.patches, delegate })
  }
  const pullOf = (id: number, base = 'vfs.base.ci'): StoredPull | undefined =>
    world.github.pulls().find(p => p.headRef === `pw/${id}/${base}`)
  const branchExists = async (name: string): Promise<boolean> =>
    (await world.git(['for-each-ref', `refs/heads/${name}`])).trim() !== ''
  const bodyOf = (n: number): string[] => world.github.comments(n).map(c => c.body)

  it('closes a PR older than close-after-days with the seed wording, deletes its branch, and leaves younger ones', async () => {
    const old = await post({ tag: 'old', count: 1 })
    const young = await post({ tag: 'young', count: 1 })
    await world.run()
    const oldPr = pullOf(old)!
    world.github.agePull(oldPr.number, 15)
    const run = await world.run()
    expect(run.code).toBe(0)
    expect(pullOf(old)?.state).toBe('closed')
    expect(bodyOf(oldPr.number)).toHaveLength(1)
    expect(bodyOf(oldPr.number)[0]).toContain(
      `This PR is older than 14 days. Closing automatically. If the series is still relevant, a new version will create a new PR.${FOOTER}`
    )
    expect(await branchExists(`pw/${old}/vfs.base.ci`)).toBe(false)
    expect(pullOf(young)?.state).toBe('open')
    // Run again: nothing more is said or done.
    await world.run()
    expect(bodyOf(oldPr.number)).toHaveLength(1)
  })

  it('deletes the branch a killed run left behind after closing its PR, and leaves branches without a PR', async () => {
    const id = await post({ tag: 'quebec', count: 1 })
    await world.run()
    const pr = pullOf(id)!
    // As if a run was killed right after closing the PR: closed, branch still there.
    await fetch(`${world.github.apiUrl}/repos/acme/linux/pulls/${pr.number}`, {
      method: 'PATCH',
      headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ state: 'closed' })
    })
    await world.git(['branch', 'pw/999999/vfs.base.ci', 'vfs.base'])
    expect(await branchExists(`pw/${id}/vfs.base.ci`)).toBe(true)
    const run = await world.run()
    expect(run.code).toBe(0)
    expect(await branchExists(`pw/${id}/vfs.base.ci`)).toBe(false)
    expect(pullOf(id)?.state).toBe('closed')
    expect(await branchExists('pw/999999/vfs.base.ci')).toBe(true)
    await world.git(['branch', '-D', 'pw/999999/vfs.base.ci'])
  })

  it('closes v1 when v2 gets its PR, links back, and shows a range-diff', async () => {
    const v1 = await post({ tag: 'famfs', count: 2 })
    await world.run()
    const v1Pr = pullOf(v1)!
    const v2 = await post({ tag: 'famfs', count: 2, version: 2, inReplyTo: 'famfs-v1-0@example.org' })
    await world.run()
    const v2Pr = pullOf(v2)!
    expect(v2Pr.state).toBe('open')
    expect(pullOf(v1)?.state).toBe('closed')
    expect(bodyOf(v1Pr.number)[0]).toContain(
      `Superseded by #${v2Pr.number} (v2). Closing automatically.${FOOTER}`
    )
    expect(v2Pr.body).toContain(`**Supersedes:** #${v1Pr.number} (v1)`)
    expect(v2Pr.body).toMatch(
      /<summary>Range-diff against v1<\/summary>[\s\S]*1: +[0-9a-f]+ = 1: +[0-9a-f]+ fs: famfs: part 1/
    )
    expect(await branchExists(`pw/${v1}/vfs.base.ci`)).toBe(false)
  })

  it('closes a PR whose patches Patchwork marked accepted, saying so', async () => {
    const id = await post({ tag: 'accepted', count: 2 })
    await world.run()
    const pr = pullOf(id)!
    const series = (await (await fetch(`${world.patchwork.url}/api/1.3/series/${id}/`)).json()) as {
      patches: { id: number }[]
    }
    for (const p of series.patches) world.patchwork.setPatchState(p.id, 'accepted')
    await world.run()
    expect(pullOf(id)?.state).toBe('closed')
    expect(bodyOf(pr.number).join('\n')).toMatch(/accepted/)
  })

  it('reports a conflicting series with how to reproduce, retries it only once the base moves, then opens it', async () => {
    const baseBefore = (await world.git(['rev-parse', 'vfs.base'])).trim()
    await commitFiles(world.github.repoDir, {
      branch: 'vfs.base',
      files: { 'fs/kilo-1.c': 'taken\n' },
      message: 'fs: take the name'
    })
    const id = await post({ tag: 'kilo', count: 1 })
    const failed = await world.run()
    expect(failed.code).toBe(0)
    expect(pullOf(id)).toBeUndefined()
    expect(failed.summary).toContain('fs/kilo-1.c')
    expect(failed.summary).toMatch(/b4 shazam/)
    expect(failed.summary).toMatch(/patch 1\/1/i)
    const same = await world.run()
    expect(pullOf(id)).toBeUndefined()
    expect(same.summary).not.toMatch(new RegExp(`kilo.*does not apply`))
    await commitFiles(world.github.repoDir, {
      branch: 'vfs.base',
      files: { 'fs/kilo-1.c': null },
      message: 'fs: give the name back'
    })
    const moved = await world.run()
    expect(moved.code).toBe(0)
    expect(pullOf(id)?.state).toBe('open')
    expect(baseBefore).not.toBe((await world.git(['rev-parse', 'vfs.base'])).trim())
  })

  it('says "needs rebase" when the series applies to its base-commit but not to the moved base', async () => {
    const authorBase = (await world.git(['rev-parse', 'vfs.base'])).trim()
    await commitFiles(world.github.repoDir, {
      branch: 'vfs.base',
      files: { 'fs/lima-1.c': 'someone else\n' },
      message: 'fs: lima'
    })
    const id = await post({ tag: 'lima', count: 2, baseCommit: authorBase })
    const run = await world.run()
    expect(run.code).toBe(0)
    expect(pullOf(id)).toBeUndefined()
    expect(run.summary).toContain('needs rebase onto vfs.base')
  })

  it('routes a series by its subject tag with base-map, and says why in the body', async () => {
    await world.git(['branch', 'bpf-next_base', 'vfs.base'])
    const id = await post({ tag: 'mike', count: 1, prefix: 'bpf-next' })
    await world.run({ 'base-map': 'bpf-next = bpf-next_base' })
    const pr = pullOf(id, 'bpf-next_base')
    expect(pr?.baseRef).toBe('bpf-next_base')
    expect(pr?.body).toMatch(/bpf-next/)
  })

  it('takes only series delegated to patchwork-delegate, and skips RFCs and pull requests', async () => {
    const mine = await post({ tag: 'november', count: 1 }, 'maintainer')
    const theirs = await post({ tag: 'oscar', count: 1 }, 'someone-else')
    const rfc = await post({ tag: 'papa', count: 1, prefix: 'RFC' }, 'maintainer')
    const rfcWithCover = await post({ tag: 'sierra', count: 2, prefix: 'RFC' }, 'maintainer')
    const run = await world.run({ 'patchwork-delegate': 'maintainer' })
    expect(run.code).toBe(0)
    expect(pullOf(mine)?.state).toBe('open')
    expect(pullOf(theirs)).toBeUndefined()
    expect(pullOf(rfc)).toBeUndefined()
    expect(pullOf(rfcWithCover)).toBeUndefined()
    expect(JSON.parse(run.outputs.skipped)).toEqual(
      expect.arrayContaining([{ key: String(theirs) }, { key: String(rfc) }, { key: String(rfcWithCover) }])
    )
  })
})
