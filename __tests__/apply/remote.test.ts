import { describe, expect, it } from '@jest/globals'
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { applySeries } from '../../src/apply/apply.js'
import { GitError } from '../../src/apply/git.js'
import { Repo } from '../../src/apply/repo.js'
import {
  asPatches,
  bundleUpstream,
  COMMITTER,
  commitFiles,
  fixture,
  git,
  gitFails,
  makeUpstream,
  pushUpstream,
  splitMbox,
  type Upstream,
  useTempDirs
} from './helpers.js'

/** The private blobless clone against an upstream served over file:// (GitHub's https behaves the same). */

const tempRoot = useTempDirs()

async function open(root: string, url: string, lines: string[] = []): Promise<Repo> {
  return Repo.open({
    workDir: path.join(root, 'ml2pr'),
    remoteUrl: url,
    allowFileProtocol: true,
    log: l => lines.push(l)
  })
}

/** Presence without a lazy fetch: with every transport forbidden, a missing blob cannot be fetched. */
function hasObject(gitDir: string, oid: string): boolean {
  try {
    git(gitDir, ['-c', 'protocol.allow=never', 'cat-file', '-e', oid])
    return true
  } catch {
    return false
  }
}

describe('blobless depth-1 fetch', () => {
  it('leaves untouched blobs on the server and prefetches what the series reads', async () => {
    const root = tempRoot()
    const up = makeUpstream(root, {
      'fs/example.c': 'int example(void)\n{\n\treturn 0;\n}\n',
      'untouched.txt': 'never needed\n'
    })
    commitFiles(up.work, { 'history.txt': 'older history\n' }, 'second')
    const tip = pushUpstream(up)
    const lines: string[] = []
    const repo = await open(root, up.url, lines)
    expect(await repo.fetchBranch('main')).toBe(tip)

    expect(git(repo.gitDir, ['rev-parse', '--is-shallow-repository'])).toBe('true')
    expect(git(repo.gitDir, ['rev-list', '--count', tip])).toBe('1')
    const untouched = git(up.bare, ['rev-parse', 'main:untouched.txt'])
    const touched = git(up.bare, ['rev-parse', 'main:fs/example.c'])
    expect(hasObject(repo.gitDir, untouched)).toBe(false)
    expect(hasObject(repo.gitDir, touched)).toBe(false)
    expect(gitFails(repo.gitDir, ['-c', 'protocol.allow=never', 'cat-file', '-e', untouched])).toContain(
      'promisor remote'
    )

    const result = await applySeries(repo, tip, asPatches([fixture('synthetic-base64-author-v1.eml')]), {
      committer: COMMITTER,
      log: l => lines.push(l)
    })
    expect(result.ok).toBe(true)
    expect(lines).toContain('prefetched 1 of 1 preimage blobs for 1 files')
    expect(hasObject(repo.gitDir, touched)).toBe(true)
    expect(hasObject(repo.gitDir, untouched)).toBe(false)
    // The temporary split index leaves nothing behind in the git dir.
    expect(readdirSync(repo.gitDir).filter(f => f.startsWith('sharedindex.'))).toEqual([])
  })

  it('fetches a base-commit by id, and reports one the server does not have', async () => {
    const root = tempRoot()
    const up = bundleUpstream(root)
    const older = git(up.bare, ['rev-parse', 'main~2'])
    const repo = await open(root, up.url)
    await repo.fetchBranch('main')
    expect(await repo.fetchCommit(older)).toBe(true)
    expect(await repo.fetchCommit('0123456789012345678901234567890123456789')).toBe(false)
    await expect(repo.fetchCommit('main')).rejects.toThrow('Not a full object id')
  })

  it('refuses unsafe branch names before git sees them', async () => {
    const root = tempRoot()
    const up = bundleUpstream(root)
    const repo = await open(root, up.url)
    for (const bad of ['-x', '..', 'a.lock', 'a..b', '--upload-pack=touch x', 'a b']) {
      await expect(repo.fetchBranch(bad)).rejects.toThrow('Unsafe branch name')
    }
    await expect(repo.fetchBranch('does-not-exist')).rejects.toBeInstanceOf(GitError)
  })
})

describe('push', () => {
  async function applied(): Promise<{ up: Upstream; repo: Repo; base: string; head: string }> {
    const root = tempRoot()
    const up = bundleUpstream(root)
    const repo = await open(root, up.url)
    const base = await repo.fetchBranch('main')
    const result = await applySeries(repo, base, asPatches(splitMbox(fixture('series-1-mbox.mbox'))), {
      committer: COMMITTER
    })
    if (!result.ok) throw new Error('series should apply')
    return { up, repo, base, head: result.head }
  }

  it('creates, leases, lists and deletes series branches', async () => {
    const { up, repo, base, head } = await applied()
    expect(await repo.push('pw/1/main', head, { expectedOld: null })).toEqual({
      status: 'ok',
      detail: '[new branch]'
    })
    expect(git(up.bare, ['rev-parse', 'pw/1/main'])).toBe(head)
    // The pushed commits are complete on the server, blobs included.
    expect(git(up.bare, ['fsck', '--connectivity-only', '--no-dangling'])).toBe('')

    const again = await repo.push('pw/1/main', base, { expectedOld: null })
    expect(again.status).toBe('rejected-stale')
    expect(await repo.push('pw/1/main', base, { expectedOld: base })).toMatchObject({
      status: 'rejected-stale'
    })
    expect(await repo.push('pw/1/main', base, { expectedOld: head })).toMatchObject({ status: 'ok' })
    expect(git(up.bare, ['rev-parse', 'pw/1/main'])).toBe(base)

    await repo.push('pw/2/main', head, { expectedOld: null })
    expect(await repo.listRemoteBranches('pw/')).toEqual(
      new Map([
        ['pw/1/main', base],
        ['pw/2/main', head]
      ])
    )
    expect((await repo.deleteRemoteBranch('pw/1/main')).status).toBe('ok')
    expect((await repo.deleteRemoteBranch('pw/1/main')).status).toBe('ok')
    expect([...(await repo.listRemoteBranches('pw/')).keys()]).toEqual(['pw/2/main'])
  })

  it('returns the server message when a hook rejects the push', async () => {
    const { up, repo, head } = await applied()
    const hook = path.join(up.bare, 'hooks', 'pre-receive')
    const reason = 'refusing to allow a GitHub App to create or update workflow `.github/workflows/x.yml`'
    writeFileSync(hook, `#!/bin/sh\necho '${reason}' >&2\nexit 1\n`)
    chmodSync(hook, 0o755)
    const result = await repo.push('pw/9/main', head, { expectedOld: null })
    expect(result.status).toBe('rejected-by-server')
    expect(result.status === 'rejected-by-server' && result.message).toContain(reason)
  })

  it('reports a branch that collides with an existing one (pw/1 vs pw/1/main)', async () => {
    const { repo, head } = await applied()
    await repo.push('pw/1/main', head, { expectedOld: null })
    const result = await repo.push('pw/1', head, { expectedOld: null })
    expect(result.status).toBe('rejected-by-server')
  })
})

describe('history queries', () => {
  it('log, patch-ids and range-diff between two versions of a series', async () => {
    const root = tempRoot()
    const up = bundleUpstream(root)
    const repo = await open(root, up.url)
    const base = await repo.fetchBranch('main')
    const mails = splitMbox(fixture('series-1-mbox.mbox'))
    const v1 = await applySeries(repo, base, asPatches(mails), { committer: COMMITTER })
    const edited = mails.map((m, i) =>
      i === 3 ? Buffer.from(m.toString('utf8').replace('Life imitatus', 'Life imitates')) : m
    )
    const v2 = await applySeries(repo, base, asPatches(edited), { committer: COMMITTER })
    if (!v1.ok || !v2.ok) throw new Error('both versions should apply')
    await repo.push('pw/1/main', v1.head, { expectedOld: null })
    await repo.push('pw/2/main', v2.head, { expectedOld: null })

    // A fresh clone fetching the old version deep enough for the comparison.
    const other = await Repo.open({
      workDir: path.join(root, 'other'),
      remoteUrl: up.url,
      allowFileProtocol: true
    })
    const oldHead = await other.fetchBranch('pw/1/main', { depth: 5 })
    const newHead = await other.fetchBranch('pw/2/main', { depth: 5 })
    expect(oldHead).toBe(v1.head)
    const entries = await other.log(`${base}..${oldHead}`)
    expect(entries.map(e => e.subject)).toEqual([
      'Minor typo changes imitation',
      'Add some paragraphs to lipsum',
      'Add more lines to file 1',
      'Remove line 2 from file2'
    ])
    expect(entries[0]).toMatchObject({
      authorName: 'Konstantin Ryabitsev',
      authorDate: '2022-10-25T13:38:45-04:00'
    })

    const ids = await other.patchIds(`${base}..${oldHead}`)
    const reference = git(up.bare, ['log', '-p', `${base}..${oldHead}`])
    const expected = git(up.bare, ['patch-id', '--stable'], { input: reference })
    expect(ids.map(i => `${i.patchId} ${i.commit}`).join('\n')).toBe(expected)

    // Only a commit message changed in v2: patch-ids, which ignore messages, stay the same.
    const newIds = await other.patchIds(`${base}..${newHead}`)
    expect(newIds.map(i => i.patchId)).toEqual(ids.map(i => i.patchId))
    expect(newIds.map(i => i.commit)).not.toEqual(ids.map(i => i.commit))

    // Both run offline after one batched blob fetch per range: a missing blob would fail them.
    const diff = await other.rangeDiff(`${base}..${oldHead}`, `${base}..${newHead}`)
    expect(diff.split('\n').filter(l => /^\d+: +[0-9a-f]+ = /.test(l))).toHaveLength(3)
    expect(diff).toMatch(/^4: +[0-9a-f]+ ! 4: +[0-9a-f]+ Minor typo changes imitation$/m)
    expect(diff).toContain('+    Life imitates artem.')
  })
})

describe('authentication', () => {
  it('writes the token only into a private config file, scoped to the server', async () => {
    const root = tempRoot()
    const token = 'ghs_0123456789abcdefSECRET'
    const repo = await Repo.open({
      workDir: path.join(root, 'ml2pr'),
      remoteUrl: 'https://github.com/o/r.git',
      token
    })
    const configFile = path.join(root, 'ml2pr', 'gitconfig')
    expect(statSync(configFile).mode & 0o777).toBe(0o600)
    const credential = Buffer.from(`x-access-token:${token}`).toString('base64')
    expect(readFileSync(configFile, 'utf8')).toBe(
      `[http "https://github.com/"]\n\textraheader = AUTHORIZATION: basic ${credential}\n`
    )
    expect(readFileSync(path.join(repo.gitDir, 'config'), 'utf8')).not.toContain(token)
    expect(git(repo.gitDir, ['config', 'remote.origin.url'])).toBe('https://github.com/o/r.git')

    // Error messages never carry the token, even when git echoes it.
    const error = await repo.git.exec(['rev-parse', '--verify', token]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GitError)
    expect(String(error)).not.toContain(token)
  })

  it('refuses a token for another host, credentials in the URL, and odd characters', async () => {
    const root = tempRoot()
    const workDir = path.join(root, 'ml2pr')
    await expect(
      Repo.open({
        workDir,
        remoteUrl: 'https://evil.example/o/r.git',
        serverUrl: 'https://github.com',
        token: 't'
      })
    ).rejects.toThrow('not on the server')
    await expect(Repo.open({ workDir, remoteUrl: 'https://x:y@github.com/o/r.git' })).rejects.toThrow(
      'credentials'
    )
    await expect(
      Repo.open({ workDir, remoteUrl: 'https://github.com/o/r.git', token: 'a\nb' })
    ).rejects.toThrow('cannot be used')
    await expect(Repo.open({ workDir, remoteUrl: 'file:///tmp/x.git' })).rejects.toThrow('not allowed')
    await expect(Repo.open({ workDir, remoteUrl: 'ext::sh -c touch% /tmp/pwned' })).rejects.toThrow()
  })
})
