import { afterEach, describe, expect, it } from '@jest/globals'
import { parseMarker } from '../../src/publish/render.js'
import { git } from '../apply/helpers.js'
import { makeWorld, PATCH_MSGIDS, writeRequests, type World } from './world.js'

/** Whole bridge runs against the GitHub and Patchwork stand-ins, with real git on both sides. */

const worlds: World[] = []
afterEach(async () => {
  await Promise.all(worlds.splice(0).map(w => w.close()))
})

async function world(): Promise<World> {
  const w = await makeWorld()
  worlds.push(w)
  return w
}

const LANDED = 'All patches in this series have landed in `main`. Closing automatically.'

function authorsAndMessages(gitDir: string, range: string): string {
  return git(gitDir, ['log', '--reverse', '--format=%an <%ae> %aI%n%B', range])
}

describe('a series merged into the base', () => {
  it('is closed when the base gains commits with Link: trailers to its patches, and its branch deleted', async () => {
    const w = await world()
    await w.run()
    const [pr] = w.gh.pulls()
    expect(pr?.state).toBe('open')
    await w.commitOnBase({ 'unrelated.txt': 'x\n' }, 'an unrelated change')
    const landed = w.landSeries(
      (message, n) => `${message.trimEnd()}\n\nLink: https://patch.msgid.link/${PATCH_MSGIDS[n - 1]}\n`
    )

    const report = await w.run()
    const closed = w.gh.pulls()[0]
    expect(closed.state).toBe('closed')
    expect(closed.mergedAt).toBeNull()
    const comments = w.gh.comments(closed.number)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain(LANDED)
    for (const sha of landed) expect(comments[0]?.body).toContain(`\`${sha.slice(0, 12)}\``)
    expect(git(w.gh.repoDir, ['branch', '--list', w.branch])).toBe('')
    expect(report.outcomes).toContainEqual(expect.objectContaining({ kind: 'closed', pr: closed.number }))

    // Nothing more on a re-run.
    const before = writeRequests(w.gh.requests).length
    await w.run()
    expect(writeRequests(w.gh.requests).length).toBe(before)
    expect(w.gh.comments(closed.number)).toHaveLength(1)
  })

  it('is closed by patch-id when the maintainer edited every message and added no Link:', async () => {
    const w = await world()
    await w.run()
    const landed = w.landSeries((message, n) => `Edited subject ${n}\n\nRewritten by the maintainer.\n`)
    await w.run()
    const closed = w.gh.pulls()[0]
    expect(closed.state).toBe('closed')
    const body = w.gh.comments(closed.number)[0]?.body ?? ''
    expect(body).toContain(LANDED)
    for (const [i, sha] of landed.entries())
      expect(body).toContain(`\`${sha.slice(0, 12)}\` Edited subject ${i + 1}`)
    expect(git(w.gh.repoDir, ['branch', '--list', w.branch])).toBe('')
  })

  it('stays open while only some patches landed', async () => {
    const w = await world()
    await w.run()
    w.landSeries((message, n) =>
      n === 1 ? `${message}\nLink: https://lore.kernel.org/r/${PATCH_MSGIDS[0]}\n` : `${message}`
    )
    // Take the last three back out: only patch 1 stays on the base.
    const first = git(w.gh.repoDir, ['rev-parse', 'main~3'])
    git(w.gh.repoDir, ['update-ref', 'refs/heads/main', first])
    await w.run()
    expect(w.gh.pulls()[0]?.state).toBe('open')
    expect(w.gh.comments(1).some(c => c.body.includes(LANDED))).toBe(false)
  })
})

describe('open PRs follow the base', () => {
  it('re-applies the series onto the moved base and force-pushes the same author commits', async () => {
    const w = await world()
    await w.run()
    const before = w.gh.pulls()[0]
    const oldBase = parseMarker(before.body ?? '')!.applyBase
    const tip = await w.commitOnBase({ 'unrelated.txt': 'new file\n' }, 'an unrelated change')

    const report = await w.run()
    const after = w.gh.pulls()[0]
    expect(report.outcomes).toContainEqual(
      expect.objectContaining({
        kind: 'updated',
        pr: before.number,
        reason: `re-applied onto ${tip.slice(0, 12)}`
      })
    )
    expect(after.state).toBe('open')
    expect(after.headSha).not.toBe(before.headSha)
    expect(git(w.gh.repoDir, ['rev-parse', `${after.headSha}~4`])).toBe(tip)
    expect(authorsAndMessages(w.gh.repoDir, `${tip}..${after.headSha}`)).toBe(
      authorsAndMessages(w.gh.repoDir, `${oldBase}..${before.headSha}`)
    )
    expect(parseMarker(after.body ?? '')?.applyBase).toBe(tip)
    expect(after.body).toContain(`**Applied onto:** \`${tip}\``)

    // The base did not move again: no push, no edit.
    const writes = writeRequests(w.gh.requests).length
    await w.run()
    expect(writeRequests(w.gh.requests).length).toBe(writes)
    expect(w.gh.pulls()[0]?.headSha).toBe(after.headSha)
  })

  it('leaves a conflicting PR as it was, comments once, labels it, and unlabels it once it applies again', async () => {
    const w = await world()
    await w.run()
    const before = w.gh.pulls()[0]
    const file2 = `${git(w.gh.repoDir, ['show', 'main:file2.txt'])}\n`
    // Patch 1 removes line 2 of file2.txt; the base now changes that very line.
    await w.commitOnBase(
      { 'file2.txt': file2.replace(/\n.*\n?$/, '\nline 2, rewritten upstream\n') },
      'rewrite line 2'
    )

    const report = await w.run()
    let pr = w.gh.pulls()[0]
    expect(report.outcomes).toContainEqual(
      expect.objectContaining({
        kind: 'updated',
        pr: pr.number,
        reason: expect.stringMatching(/^needs-rebase: patch 1\/4/)
      })
    )
    expect(pr.headSha).toBe(before.headSha)
    expect(pr.body).toBe(before.body)
    expect(w.gh.labels(pr.number)).toEqual(['needs-rebase'])
    const comments = w.gh.comments(pr.number)
    expect(comments).toHaveLength(1)
    expect(comments[0]?.body).toContain('This series no longer applies to `main`.')
    expect(comments[0]?.body).toContain('Patch 1/4')

    // A re-run, and a base that moves on but still conflicts: still one comment, one label.
    await w.run()
    await w.commitOnBase({ 'other.txt': 'more\n' }, 'another change')
    await w.run()
    pr = w.gh.pulls()[0]
    expect(w.gh.comments(pr.number)).toHaveLength(1)
    expect(w.gh.labels(pr.number)).toEqual(['needs-rebase'])
    expect(pr.headSha).toBe(before.headSha)

    // The base takes the change back: the series applies again.
    const tip = await w.commitOnBase({ 'file2.txt': file2 }, 'revert the rewrite')
    await w.run()
    pr = w.gh.pulls()[0]
    expect(w.gh.labels(pr.number)).toEqual([])
    expect(git(w.gh.repoDir, ['rev-parse', `${pr.headSha}~4`])).toBe(tip)
    expect(parseMarker(pr.body ?? '')?.applyBase).toBe(tip)
  })

  it('does not force-push over commits someone else pushed to the PR’s branch', async () => {
    const w = await world()
    await w.run()
    const { commitFiles } = await import('../support/repos.js')
    const pushed = await commitFiles(w.gh.repoDir, {
      branch: w.branch,
      files: { 'review-fixup.txt': 'fix\n' },
      message: 'fixup from a reviewer'
    })
    await w.commitOnBase({ 'unrelated.txt': 'x\n' }, 'move the base')
    await w.run()
    expect(w.gh.pulls()[0]?.headSha).toBe(pushed)
    expect(w.lines.some(l => /warning: #1: not refreshed: .*commits ml2pr did not make/.test(l))).toBe(true)
  })

  it('never touches a human PR on a pw/ branch without ml2pr’s marker', async () => {
    const w = await world()
    const base = w.baseTip()
    const { commitFiles } = await import('../support/repos.js')
    const head = await commitFiles(w.gh.repoDir, {
      branch: 'pw/999/main',
      parent: base,
      files: { 'mine.txt': 'mine\n' },
      message: 'my change'
    })
    const octokit = (await import('../../src/github/client.js')).createOctokit(
      'gh-token-for-tests',
      w.gh.apiUrl,
      {
        info: () => undefined,
        warning: () => undefined
      }
    )
    await octokit.rest.pulls.create({
      owner: 'acme',
      repo: 'linux',
      head: 'pw/999/main',
      base: 'main',
      title: 'Mine',
      body: 'By hand.'
    })
    w.gh.agePull(1, 30)
    await w.commitOnBase({ 'unrelated.txt': 'x\n' }, 'move the base')

    await w.run()
    const human = w.gh.pulls().find(p => p.headRef === 'pw/999/main')!
    expect(human.state).toBe('open')
    expect(human.headSha).toBe(head)
    expect(human.body).toBe('By hand.')
    expect(w.gh.comments(human.number)).toEqual([])
    expect(w.gh.labels(human.number)).toEqual([])
  })
})

describe('a new version', () => {
  it('shows a range-diff against the version it supersedes, which it closes', async () => {
    const w = await world()
    await w.run()
    const v2 = await w.addVersion2()
    await w.run({ seriesId: v2 })
    const [v1pr, v2pr] = w.gh.pulls()
    expect(v1pr?.state).toBe('closed')
    expect(v2pr?.state).toBe('open')
    const body = v2pr?.body ?? ''
    expect(body).toContain('**Supersedes:** #1 (v1)')
    expect(body).toContain('<details><summary>Range-diff against v1</summary>')
    expect(body).toMatch(/1: +[0-9a-f]+ = 1: +[0-9a-f]+ Remove line 2 from file2/)
    expect(body).toMatch(/2: +[0-9a-f]+ ! 2: +[0-9a-f]+ Add more lines to file 1/)
    expect(body).toContain('+    words of wisdom, as reviewers asked.')
  })
})

describe('Patchwork checks', () => {
  function checkPosts(w: World): string[] {
    return w.pw.requests.filter(r => r.method === 'POST').map(r => r.path)
  }

  it('are posted once per patch, not again on a re-run, and again when the verdict changes', async () => {
    const w = await world()
    await w.run()
    expect(checkPosts(w).sort()).toEqual(w.patchIds.map(id => `/api/1.3/patches/${id}/checks/`).sort())
    await w.run()
    expect(checkPosts(w)).toHaveLength(4)

    const file2 = `${git(w.gh.repoDir, ['show', 'main:file2.txt'])}\n`
    await w.commitOnBase({ 'file2.txt': file2.replace(/\n.*\n?$/, '\nconflicting\n') }, 'conflict')
    await w.run()
    expect(checkPosts(w)).toHaveLength(8)
    const res = await fetch(`${w.pw.url}/api/1.3/patches/${w.patchIds[0]}/checks/`)
    const checks = (await res.json()) as { state: string; context: string; target_url: string | null }[]
    expect(checks.map(c => [c.context, c.state])).toEqual([
      ['ml2pr', 'success'],
      ['ml2pr', 'fail']
    ])
    expect(checks[0]?.target_url).toMatch(/\/acme\/linux\/pull\/1$/)
    await w.run()
    expect(checkPosts(w)).toHaveLength(8)

    // The base takes the conflict back: the series applies again, and the checks say so (once).
    await w.commitOnBase({ 'file2.txt': file2 }, 'revert the conflict')
    await w.run()
    expect(checkPosts(w)).toHaveLength(12)
    const newest = await fetch(
      `${w.pw.url}/api/1.3/patches/${w.patchIds[0]}/checks/?context=ml2pr&order=-date&per_page=1`
    )
    expect(((await newest.json()) as { state: string }[]).map(c => c.state)).toEqual(['success'])
    await w.run()
    expect(checkPosts(w)).toHaveLength(12)
  })

  it('are not posted without a token', async () => {
    const w = await world()
    await w.run({ checks: false })
    expect(w.gh.pulls()).toHaveLength(1)
    expect(checkPosts(w)).toEqual([])
  })
})

describe('dry run', () => {
  it('writes nothing anywhere, whatever the lifecycle would do', async () => {
    const w = await world()
    await w.run()
    const file2 = `${git(w.gh.repoDir, ['show', 'main:file2.txt'])}\n`
    await w.commitOnBase({ 'file2.txt': file2.replace(/\n.*\n?$/, '\nconflicting\n') }, 'conflict')
    const gh = writeRequests(w.gh.requests).length
    const pw = w.pw.requests.filter(r => r.method === 'POST').length

    const report = await w.run({ dryRun: true })
    expect(writeRequests(w.gh.requests).slice(gh)).toEqual([])
    expect(w.pw.requests.filter(r => r.method === 'POST')).toHaveLength(pw)
    expect(report.plannedWrites.some(p => /comment on PR #1 \(needs-rebase/.test(p))).toBe(true)
    expect(report.plannedWrites).toContain('label PR #1 needs-rebase')
    expect(w.gh.labels(1)).toEqual([])
  })
})
