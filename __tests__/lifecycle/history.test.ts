import { afterEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Repo } from '../../src/apply/repo.js'
import { createLifecycleRepo } from '../../src/lifecycle/history.js'
import { Writes } from '../../src/writes.js'
import { commitFiles, git, pushUpstream, type Upstream } from '../apply/helpers.js'

/** The private blobless clone as the lifecycle uses it, against an upstream served over file://. */

const BUNDLE = fileURLToPath(new URL('../fixtures/git/gitdir.bundle', import.meta.url))
const cleanups: (() => void)[] = []
afterEach(() => cleanups.splice(0).forEach(c => c()))

function upstream(): Upstream & { root: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ml2pr-history-'))
  cleanups.push(() => rmSync(root, { recursive: true, force: true }))
  const bare = path.join(root, 'upstream.git')
  git(root, ['clone', '-q', '--bare', BUNDLE, bare])
  git(bare, ['branch', '-m', 'master', 'main'])
  git(bare, ['config', 'uploadpack.allowFilter', 'true'])
  git(bare, ['config', 'uploadpack.allowAnySHA1InWant', 'true'])
  const work = path.join(root, 'work')
  git(root, ['clone', '-q', bare, work])
  return { root, bare, url: `file://${bare}`, work }
}

async function open(
  up: { root: string; url: string },
  dryRun = false
): Promise<{ repo: Repo; writes: Writes }> {
  const repo = await Repo.open({
    workDir: path.join(up.root, 'ml2pr'),
    remoteUrl: up.url,
    allowFileProtocol: true
  })
  return { repo, writes: new Writes(dryRun) }
}

describe('the lifecycle’s git', () => {
  it('reads a base’s recent history with full messages, bounded by depth, without blobs', async () => {
    const up = upstream()
    commitFiles(
      up.work,
      { 'file1.txt': 'changed\n' },
      'fs: change file1\n\nLink: https://patch.msgid.link/a@b'
    )
    const tip = pushUpstream(up)
    const { repo, writes } = await open(up)
    const lr = createLifecycleRepo(repo, writes)

    expect(await lr.fetchBranch('main', 3)).toBe(tip)
    const history = await lr.history(tip, 10)
    expect(history.map(c => c.subject)).toEqual([
      'fs: change file1',
      'Add lipsum.txt',
      'Add line 2 in file 2'
    ])
    expect(history[0]?.message).toContain('Link: https://patch.msgid.link/a@b')
    expect(history[0]?.parents).toHaveLength(1)
    // The shallow boundary shows no parents, so it is not mistaken for a commit adding the whole tree.
    expect(history[2]?.parents).toEqual([])
    const files = await lr.changedFiles(history.map(c => c.sha))
    expect([...files.entries()]).toEqual([
      [history[0]?.sha, ['file1.txt']],
      [history[1]?.sha, ['lipsum.txt']]
    ])
  })

  it('computes the same patch-ids as git patch-id --stable in a full clone', async () => {
    const up = upstream()
    commitFiles(up.work, { 'file1.txt': 'one\ntwo\nthree\n', 'lipsum.txt': 'short\n' }, 'two files')
    const tip = pushUpstream(up)
    const expected = git(up.work, ['patch-id', '--stable'], { input: git(up.work, ['show', 'HEAD']) })
    const { repo, writes } = await open(up)
    const lr = createLifecycleRepo(repo, writes)
    await lr.fetchBranch('main', 2)
    const ids = await lr.patchIds([tip])
    expect(`${ids.get(tip)} ${tip}`).toBe(expected)
  })

  it('fetches a PR’s commits down to the commit it was applied onto', async () => {
    const up = upstream()
    const base = git(up.bare, ['rev-parse', 'main'])
    for (const n of [1, 2, 3]) commitFiles(up.work, { [`new${n}.txt`]: `${n}\n` }, `patch ${n}`)
    const head = git(up.work, ['rev-parse', 'HEAD'])
    git(up.work, ['push', '-q', up.bare, 'HEAD:refs/heads/pw/100/main'])
    const { repo, writes } = await open(up)
    const lr = createLifecycleRepo(repo, writes)

    expect(await lr.fetchRange(base, head, 10)).toBe(true)
    expect((await lr.rangeCommits(base, head)).map(c => c.subject)).toEqual(['patch 1', 'patch 2', 'patch 3'])
    // Too shallow a bound cannot reach the base.
    const { repo: other } = await open({ ...up, root: path.join(up.root, 'second') })
    const shallow = createLifecycleRepo(other, writes)
    expect(await shallow.fetchRange(base, head, 2)).toBe(false)
    // The head is present now, but cut off: a deeper bound still deepens it.
    expect(await shallow.fetchRange(base, head, 10)).toBe(true)
  })

  it('force-pushes only with a matching lease, and not at all in a dry run', async () => {
    const up = upstream()
    const base = git(up.bare, ['rev-parse', 'main'])
    commitFiles(up.work, { 'a.txt': 'a\n' }, 'a')
    const first = git(up.work, ['rev-parse', 'HEAD'])
    git(up.work, ['push', '-q', up.bare, 'HEAD:refs/heads/pw/1/main'])
    git(up.work, ['reset', '-q', '--hard', base])
    commitFiles(up.work, { 'b.txt': 'b\n' }, 'b')
    const second = git(up.work, ['rev-parse', 'HEAD'])
    git(up.work, ['push', '-q', up.bare, 'HEAD:refs/heads/elsewhere'])
    const { repo } = await open(up)
    await repo.fetchBranch('elsewhere')

    const dry = new Writes(true)
    expect(await createLifecycleRepo(repo, dry).push('pw/1/main', second, first)).toEqual({ ok: true })
    expect(dry.planned).toHaveLength(1)
    expect(git(up.bare, ['rev-parse', 'pw/1/main'])).toBe(first)

    const writes = new Writes(false)
    const lr = createLifecycleRepo(repo, writes)
    expect((await lr.push('pw/1/main', second, base)).ok).toBe(false)
    expect(git(up.bare, ['rev-parse', 'pw/1/main'])).toBe(first)
    expect(await lr.push('pw/1/main', second, first)).toEqual({ ok: true })
    expect(git(up.bare, ['rev-parse', 'pw/1/main'])).toBe(second)
  })
})
