/**
 * The run state kept in the repository (see state.ts for why): `refs/ml2pr/state` (or, for one of several
 * named configurations, `refs/ml2pr/states/<name>`: settings.stateRef) points at a parentless
 * commit whose tree holds `state.json`. Saving is a push with a lease on the commit we loaded, so of two
 * overlapping runs exactly one saves first and the other merges.
 */
import { parsePushOutput, type Repo } from '../apply/repo.js'
import { parseState, serializeState, type RunState, type StateStore } from './state.js'

const LOCAL_REF = 'refs/ml2pr/remote-state'

export class GitStateStore implements StateStore {
  constructor(
    private readonly repo: Repo,
    private readonly now: () => Date,
    private readonly identity: { name: string; email: string },
    private readonly ref: string
  ) {}

  async load(): Promise<{ state: RunState; version: string | null }> {
    const git = this.repo.git
    const listed = await git.text(['ls-remote', '--end-of-options', 'origin', this.ref], { network: true })
    const sha = listed.split('\t')[0]?.trim()
    if (!sha) return { state: parseState(undefined), version: null }
    await git.exec(
      [
        'fetch',
        '--no-tags',
        '--no-write-fetch-head',
        '--depth=1',
        '--end-of-options',
        'origin',
        `+${this.ref}:${LOCAL_REF}`
      ],
      { network: true }
    )
    const entry = await git.text(['ls-tree', '--end-of-options', `${sha}^{tree}`, 'state.json'])
    const blob = /^\d+ blob ([0-9a-f]{40,64})\t/.exec(entry)?.[1]
    if (!blob) return { state: parseState(undefined), version: sha }
    await this.repo.prefetchBlobs([blob])
    const text = (await git.exec(['cat-file', 'blob', blob])).stdout.toString('utf8')
    return { state: parseState(text), version: sha }
  }

  async save(state: RunState, version: string | null): Promise<boolean> {
    const git = this.repo.git
    const blob = await git.text(['hash-object', '-w', '--stdin'], {
      input: serializeState(state, this.now())
    })
    const tree = await git.text(['mktree'], { input: `100644 blob ${blob}\tstate.json\n` })
    const date = `${Math.floor(this.now().getTime() / 1000)} +0000`
    const commit = await git.text(['commit-tree', tree, '-m', 'ml2pr run state'], {
      env: {
        GIT_AUTHOR_NAME: this.identity.name,
        GIT_AUTHOR_EMAIL: this.identity.email,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: this.identity.name,
        GIT_COMMITTER_EMAIL: this.identity.email,
        GIT_COMMITTER_DATE: date
      }
    })
    const out = await git.exec(
      [
        'push',
        '--porcelain',
        `--force-with-lease=${this.ref}:${version ?? ''}`,
        '--end-of-options',
        'origin',
        `${commit}:${this.ref}`
      ],
      { network: true, allowFailure: true }
    )
    const result = parsePushOutput(out.stdout.toString('utf8'), out.stderr, this.ref, out.exitCode)
    if (result.status === 'ok') return true
    if (result.status === 'rejected-stale') return false
    throw new Error(`saving the run state was refused: ${result.message}`)
  }
}
