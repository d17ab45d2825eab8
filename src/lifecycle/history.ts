/**
 * The git the lifecycle needs beyond one series' apply: a base branch's recent history with full messages,
 * a PR's commits, patch-ids of chosen commits, range-diffs, and a force-push with a lease. Implemented over
 * the private blobless repository; every command except the fetches and the push is local (a lazy fetch of
 * a missing blob fails fast there), and blobs are fetched in one batch before anything reads them.
 */
import type { Repo } from '../apply/repo.js'
import { assertObjectId } from '../apply/refs.js'
import type { Writes } from '../writes.js'

export interface HistoryCommit {
  sha: string
  parents: string[]
  subject: string
  committerEmail: string
  /** The full commit message. */
  message: string
}

export type LeasePush = { ok: true } | { ok: false; reason: string }

export interface LifecycleRepo {
  /** Fetches `branch` with `depth` commits of history (commits and trees only); returns its tip. */
  fetchBranch(branch: string, depth: number): Promise<string>
  /**
   * Makes the commits of `base..head` present (a PR's commits), fetching `head` deep enough to reach `base`.
   * False when `base` is not within `maxDepth` commits of `head`.
   */
  fetchRange(base: string, head: string, maxDepth: number): Promise<boolean>
  /** At most `max` commits reachable from `tip` in the fetched history, newest first. */
  history(tip: string, max: number): Promise<HistoryCommit[]>
  /** Non-merge commits of `base..head`, oldest first. */
  rangeCommits(base: string, head: string): Promise<HistoryCommit[]>
  /** Paths each single-parent commit changes (trees only, no blobs). */
  changedFiles(shas: string[]): Promise<Map<string, string[]>>
  /** `git patch-id --stable` of each single-parent commit; the blobs are fetched in one batch. */
  patchIds(shas: string[]): Promise<Map<string, string>>
  /** `git range-diff` of two ranges already present. */
  rangeDiff(oldBase: string, oldHead: string, newBase: string, newHead: string): Promise<string>
  /** Points `branch` at `sha` only if it is still at `expectedOld` (through the write gate). */
  push(branch: string, sha: string, expectedOld: string): Promise<LeasePush>
  /** Remote branches whose name starts with `prefix`, name → tip (one ls-remote). */
  remoteBranches(prefix: string): Promise<Map<string, string>>
}

/** PR heads are fetched this deep first; most series are shorter. */
const FIRST_DEPTH = 64

export function createLifecycleRepo(repo: Repo, writes: Writes): LifecycleRepo {
  const git = repo.git
  const isAncestor = async (a: string, b: string): Promise<boolean> => {
    const out = await git.exec(['merge-base', '--is-ancestor', a, b], { allowFailure: true })
    return out.exitCode === 0
  }
  const present = async (sha: string): Promise<boolean> => (await repo.presentCommits([sha])).has(sha)
  const fetchDeep = async (sha: string, depth: number): Promise<void> => {
    // fetchCommit skips a commit that is present, but the history below it may still be cut off.
    await git.exec(
      [
        'fetch',
        '--no-tags',
        '--no-write-fetch-head',
        '--recurse-submodules=no',
        '--filter=blob:none',
        `--depth=${depth}`,
        '--end-of-options',
        'origin',
        `+${sha}:refs/ml2pr/commits/${sha}`
      ],
      { network: true }
    )
  }

  return {
    fetchBranch: (branch, depth) => repo.fetchBranch(branch, { depth }),
    remoteBranches: prefix => repo.listRemoteBranches(prefix),

    async fetchRange(base, head, maxDepth) {
      assertObjectId(base)
      assertObjectId(head)
      if ((await present(base)) && (await present(head)) && (await isAncestor(base, head))) return true
      for (const depth of [Math.min(FIRST_DEPTH, maxDepth), maxDepth]) {
        await fetchDeep(head, depth)
        if ((await present(base)) && (await isAncestor(base, head))) return true
        if (depth === maxDepth) break
      }
      return false
    },

    async history(tip, max) {
      assertObjectId(tip)
      return parseLog(
        await git.exec(['log', '-z', `--max-count=${max}`, LOG_FORMAT, '--end-of-options', tip])
      )
    },

    async rangeCommits(base, head) {
      assertObjectId(base)
      assertObjectId(head)
      const range = `${base}..${head}`
      const out = await git.exec([
        'log',
        '-z',
        '--reverse',
        '--no-merges',
        LOG_FORMAT,
        '--end-of-options',
        range
      ])
      return parseLog(out)
    },

    async changedFiles(shas) {
      const files = new Map<string, string[]>()
      if (shas.length === 0) return files
      shas.forEach(assertObjectId)
      // A shallow boundary commit shows no parents and would list the whole tree: only single-parent commits.
      const out = await git.text(
        [
          'log',
          '--no-walk=unsorted',
          '--stdin',
          '-z',
          '--format=%x01%H %P',
          '--name-only',
          '--no-renames',
          '-r'
        ],
        { input: shas.join('\n') + '\n' }
      )
      for (const record of out.split('\x01').filter(Boolean)) {
        const [header = '', ...rest] = record.split('\0')
        const [sha = '', ...parents] = header.trim().split(/\s+/)
        if (parents.length !== 1) continue
        files.set(sha, rest.map(f => f.replace(/^\n/, '')).filter(Boolean))
      }
      return files
    },

    async patchIds(shas) {
      const ids = new Map<string, string>()
      if (shas.length === 0) return ids
      shas.forEach(assertObjectId)
      // A shallow boundary commit shows no parents (its diff would be the whole tree): single-parent only.
      const parents = await git.text(['log', '--no-walk=unsorted', '--stdin', '--format=%H %P'], {
        input: shas.join('\n') + '\n'
      })
      const single = parents
        .split('\n')
        .map(l => l.trim().split(' '))
        .filter(p => p.length === 2)
        .map(p => p[0] ?? '')
      if (single.length === 0) return ids
      const input = single.join('\n') + '\n'
      const raw = await git.text(
        ['log', '--no-walk=unsorted', '--stdin', '--raw', '-r', '--no-abbrev', '--no-renames', '--format='],
        { input }
      )
      const oids: string[] = []
      for (const m of raw.matchAll(/^:(\d+) (\d+) ([0-9a-f]+) ([0-9a-f]+) /gm)) {
        if (m[1] !== '160000' && !/^0+$/.test(m[3] ?? '')) oids.push(m[3] ?? '')
        if (m[2] !== '160000' && !/^0+$/.test(m[4] ?? '')) oids.push(m[4] ?? '')
      }
      await repo.prefetchBlobs(oids)
      const diff = await git.exec(
        ['log', '-p', '--no-walk=unsorted', '--stdin', '--no-color', '--no-renames', '--format=commit %H'],
        {
          input
        }
      )
      const out = await git.text(['patch-id', '--stable'], { input: diff.stdout })
      for (const line of out.split('\n').filter(Boolean)) {
        const [patchId = '', commit = ''] = line.split(' ')
        ids.set(commit, patchId)
      }
      return ids
    },

    async rangeDiff(oldBase, oldHead, newBase, newHead) {
      for (const sha of [oldBase, oldHead, newBase, newHead]) assertObjectId(sha)
      return repo.rangeDiff(`${oldBase}..${oldHead}`, `${newBase}..${newHead}`)
    },

    async push(branch, sha, expectedOld) {
      const result = await writes.perform(
        `force-push ${branch} → ${sha.slice(0, 12)} (lease ${expectedOld.slice(0, 12)})`,
        () => repo.push(branch, sha, { expectedOld })
      )
      if (!result || result.status === 'ok') return { ok: true }
      return { ok: false, reason: result.message }
    }
  }
}

const LOG_FORMAT = '--format=%H%x00%P%x00%s%x00%ce%x00%B'

function parseLog(out: { stdout: Buffer }): HistoryCommit[] {
  const fields = out.stdout.toString('utf8').split('\0')
  const commits: HistoryCommit[] = []
  // -z ends each record with NUL; a record is five fields. A leading newline is git's record separator.
  for (let i = 0; i + 4 < fields.length; i += 5) {
    commits.push({
      sha: (fields[i] ?? '').replace(/^\n/, ''),
      parents: (fields[i + 1] ?? '').split(' ').filter(Boolean),
      subject: fields[i + 2] ?? '',
      committerEmail: fields[i + 3] ?? '',
      message: fields[i + 4] ?? ''
    })
  }
  return commits
}
