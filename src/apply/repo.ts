import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { Git, GitError, type GitOptions } from './git.js'
import { assertBranchName, assertObjectId, assertRange, isObjectId, isSafeBranchName } from './refs.js'

/**
 * ml2pr's private git dir: a bare, blobless, shallow repository under a work dir that talks to one remote.
 * Nothing here needs a worktree; blobs arrive only when a patch touches them (prefetchBlobs).
 */

export interface RepoOptions {
  /** Directory ml2pr owns, e.g. `$RUNNER_TEMP/ml2pr`; the repository is `<workDir>/repo.git`. */
  workDir: string
  /** The repository to fetch from and push to: `https://<server>/<owner>/<repo>.git` (or `file://` in tests). */
  remoteUrl: string
  /** Token sent only to `serverUrl`, as an http.extraheader in a private config file. */
  token?: string
  /** e.g. `https://github.com`; defaults to the origin of remoteUrl. */
  serverUrl?: string
  allowFileProtocol?: boolean
  timeoutMs?: number
  log?: (line: string) => void
  gitPath?: string
}

export type PushResult =
  /** `detail` is git's summary: `[new branch]`, `abc..def`, `[up to date]`, `[deleted]`, `[absent]`. */
  | { status: 'ok'; detail: string }
  /** The remote branch was not what we expected (someone else pushed, or it already exists). */
  | { status: 'rejected-stale'; message: string }
  /** The server refused the update (workflow permission, ruleset, hook, D/F conflict, ...). */
  | { status: 'rejected-by-server'; message: string }

export interface LogEntry {
  sha: string
  parents: string[]
  authorName: string
  authorEmail: string
  /** Strict ISO 8601 with the author's offset. */
  authorDate: string
  subject: string
}

export interface PatchId {
  patchId: string
  commit: string
}

/** Where ml2pr keeps what it fetched, away from any ref a user could push to. */
const PRIVATE_REFS = 'refs/ml2pr'

export class Repo {
  private constructor(
    readonly git: Git,
    readonly gitDir: string,
    private readonly tmpRoot: string
  ) {}

  static async open(options: RepoOptions): Promise<Repo> {
    const remote = checkRemoteUrl(options.remoteUrl, options.allowFileProtocol ?? false)
    const workDir = path.resolve(options.workDir)
    const gitDir = path.join(workDir, 'repo.git')
    const tmpRoot = path.join(workDir, 'tmp')
    await mkdir(tmpRoot, { recursive: true })

    let globalConfig: string | undefined
    const secrets: string[] = []
    if (options.token) {
      const auth = authConfig(remote, options.serverUrl, options.token)
      globalConfig = path.join(workDir, 'gitconfig')
      await writeFile(globalConfig, auth.config, { mode: 0o600 })
      await chmod(globalConfig, 0o600)
      secrets.push(options.token, auth.credential)
    }

    const gitOptions: GitOptions = {
      globalConfig,
      allowFileProtocol: options.allowFileProtocol,
      timeoutMs: options.timeoutMs,
      log: options.log,
      secrets,
      gitPath: options.gitPath
    }
    const plain = await Git.create({ ...gitOptions, cwd: workDir })
    if (!(await exists(path.join(gitDir, 'HEAD')))) {
      await plain.exec(['init', '--bare', '--quiet', '--template=', gitDir])
    }
    const git = plain.withGitDir(gitDir)
    // A promisor remote is what lets `fetch --filter=blob:none` work and missing blobs be fetched by id.
    const config: [string, string][] = [
      ['core.repositoryformatversion', '1'],
      ['extensions.partialClone', 'origin'],
      ['remote.origin.url', remote.href],
      ['remote.origin.promisor', 'true'],
      ['remote.origin.partialclonefilter', 'blob:none']
    ]
    for (const [key, value] of config) await git.exec(['config', key, value])
    return new Repo(git, gitDir, tmpRoot)
  }

  /** A fresh directory for one series' temporary index, messages and patches. */
  async makeTempDir(prefix = 'series-'): Promise<{ dir: string; remove: () => Promise<void> }> {
    const dir = await mkdtemp(path.join(this.tmpRoot, prefix))
    return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
  }

  /** Fetches the tip of `branch` (commit and trees, no blobs) and returns its id. */
  async fetchBranch(branch: string, { depth = 1 }: { depth?: number } = {}): Promise<string> {
    assertBranchName(branch)
    const local = `${PRIVATE_REFS}/heads/${branch}`
    await this.git.exec(
      [...fetchArgs(depth), '--end-of-options', 'origin', `+refs/heads/${branch}:${local}`],
      { network: true }
    )
    return this.resolve(local)
  }

  /** Fetches one commit by id (e.g. a series' `base-commit:`). False when the server does not have it. */
  async fetchCommit(sha: string, { depth = 1 }: { depth?: number } = {}): Promise<boolean> {
    assertObjectId(sha)
    if ((await this.presentCommits([sha])).has(sha)) return true
    const out = await this.git.exec(
      [...fetchArgs(depth), '--end-of-options', 'origin', `+${sha}:${PRIVATE_REFS}/commits/${sha}`],
      { network: true, allowFailure: true }
    )
    return out.exitCode === 0 && (await this.presentCommits([sha])).has(sha)
  }

  /** One batched fetch of the blobs among `oids` that are not here yet; returns how many were fetched. */
  async prefetchBlobs(oids: Iterable<string>): Promise<number> {
    const wanted = [...new Set(oids)].filter(isObjectId)
    if (wanted.length === 0) return 0
    const present = await this.presentBlobs(wanted)
    const missing = wanted.filter(o => !present.has(o))
    if (missing.length === 0) return 0
    // The same request git makes for a lazy fetch, for all blobs at once.
    await this.git.exec(
      [
        'fetch',
        '--no-tags',
        '--no-write-fetch-head',
        '--recurse-submodules=no',
        '--filter=blob:none',
        '--stdin',
        '--end-of-options',
        'origin'
      ],
      { network: true, input: missing.join('\n') + '\n', config: ['fetch.negotiationAlgorithm=noop'] }
    )
    return missing.length
  }

  /** Which of these blobs are stored locally; asks nothing of the remote. */
  async presentBlobs(oids: string[]): Promise<Set<string>> {
    return this.present(oids, true)
  }

  async presentCommits(oids: string[]): Promise<Set<string>> {
    return this.present(oids, false)
  }

  private async present(oids: string[], objects: boolean): Promise<Set<string>> {
    if (oids.length === 0) return new Set()
    // rev-list with --missing never lazy-fetches, and --ignore-missing drops absent arguments.
    const out = await this.git.text(
      [
        'rev-list',
        ...(objects ? ['--objects'] : []),
        '--no-walk',
        '--ignore-missing',
        '--missing=print',
        '--stdin'
      ],
      { input: oids.join('\n') + '\n' }
    )
    const wanted = new Set(oids)
    return new Set(
      out
        .split('\n')
        .map(l => l.trim().split(' ')[0] ?? '')
        .filter(o => wanted.has(o))
    )
  }

  async resolve(ref: string): Promise<string> {
    return this.git.text(['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`])
  }

  /** Remote branches starting with `prefix` (e.g. `pw/`), name without `refs/heads/` → commit id. */
  async listRemoteBranches(prefix: string): Promise<Map<string, string>> {
    if (prefix !== '' && !isSafeBranchName(prefix.replace(/\/$/, ''))) {
      throw new Error(`Unsafe branch prefix: ${JSON.stringify(prefix)}`)
    }
    const out = await this.git.text(['ls-remote', '--heads', '--refs', 'origin', `refs/heads/${prefix}*`], {
      network: true
    })
    const branches = new Map<string, string>()
    for (const line of out.split('\n')) {
      const [sha, ref] = line.split('\t')
      if (!sha || !ref?.startsWith('refs/heads/')) continue
      const name = ref.slice('refs/heads/'.length)
      if (name.startsWith(prefix)) branches.set(name, sha)
    }
    return branches
  }

  /**
   * Points remote `branch` at `sha`. `expectedOld` gives --force-with-lease semantics: a commit id the branch
   * must have now, or null when it must not exist; undefined forces the update.
   */
  async push(
    branch: string,
    sha: string,
    { expectedOld }: { expectedOld?: string | null } = {}
  ): Promise<PushResult> {
    assertBranchName(branch)
    assertObjectId(sha)
    return this.pushRef(
      branch,
      `${expectedOld === undefined ? '+' : ''}${sha}:refs/heads/${branch}`,
      expectedOld
    )
  }

  /** Deletes remote `branch`; a branch that is already gone counts as done (`[absent]`). */
  async deleteRemoteBranch(
    branch: string,
    { expectedOld }: { expectedOld?: string } = {}
  ): Promise<PushResult> {
    assertBranchName(branch)
    return this.pushRef(branch, `:refs/heads/${branch}`, expectedOld)
  }

  private async pushRef(
    branch: string,
    refspec: string,
    expectedOld: string | null | undefined
  ): Promise<PushResult> {
    const args = ['push', '--porcelain', '--no-verify']
    if (expectedOld !== undefined) {
      if (expectedOld !== null) assertObjectId(expectedOld)
      args.push(`--force-with-lease=refs/heads/${branch}:${expectedOld ?? ''}`)
    }
    const out = await this.git.exec([...args, '--end-of-options', 'origin', refspec], {
      network: true,
      allowFailure: true
    })
    return parsePushOutput(out.stdout.toString('utf8'), out.stderr, `refs/heads/${branch}`, out.exitCode)
  }

  /** `git patch-id --stable` of every non-merge commit in `range` (fetches the blobs it needs first). */
  async patchIds(range: string): Promise<PatchId[]> {
    assertRange(range)
    await this.prefetchRange(range)
    const diff = await this.git.exec(['log', '-p', '--no-merges', '--no-color', '--end-of-options', range])
    const out = await this.git.text(['patch-id', '--stable'], { input: diff.stdout })
    return out
      .split('\n')
      .filter(Boolean)
      .map(line => {
        const [patchId = '', commit = ''] = line.split(' ')
        return { patchId, commit }
      })
  }

  /** `git range-diff` between two versions of a series (both ranges must be fetched deep enough). */
  async rangeDiff(oldRange: string, newRange: string): Promise<string> {
    assertRange(oldRange)
    assertRange(newRange)
    await this.prefetchRange(oldRange)
    await this.prefetchRange(newRange)
    return this.git.text(['range-diff', '--no-color', oldRange, newRange])
  }

  /** Commits in `range`, newest first. Needs no blobs. */
  async log(range: string): Promise<LogEntry[]> {
    assertRange(range)
    const out = await this.git.exec([
      'log',
      '-z',
      '--format=%H%x00%P%x00%an%x00%ae%x00%aI%x00%s',
      '--end-of-options',
      range
    ])
    const fields = out.stdout.toString('utf8').split('\0')
    const entries: LogEntry[] = []
    for (let i = 0; i + 5 < fields.length; i += 6) {
      entries.push({
        sha: fields[i] ?? '',
        parents: (fields[i + 1] ?? '').split(' ').filter(Boolean),
        authorName: fields[i + 2] ?? '',
        authorEmail: fields[i + 3] ?? '',
        authorDate: fields[i + 4] ?? '',
        subject: fields[i + 5] ?? ''
      })
    }
    return entries
  }

  /** Fetches, in one batch, every blob the diffs of `range` name (diffs would otherwise fetch one at a time). */
  private async prefetchRange(range: string): Promise<void> {
    const raw = await this.git.text([
      'log',
      '--raw',
      '-r',
      '--no-abbrev',
      '--no-renames',
      '--format=',
      '--end-of-options',
      range
    ])
    const oids: string[] = []
    for (const m of raw.matchAll(/^:(\d+) (\d+) ([0-9a-f]+) ([0-9a-f]+) /gm)) {
      if (m[1] !== '160000' && !/^0+$/.test(m[3] ?? '')) oids.push(m[3] ?? '')
      if (m[2] !== '160000' && !/^0+$/.test(m[4] ?? '')) oids.push(m[4] ?? '')
    }
    await this.prefetchBlobs(oids)
  }
}

function fetchArgs(depth: number): string[] {
  if (!Number.isInteger(depth) || depth < 1) throw new Error(`Bad fetch depth: ${depth}`)
  return [
    'fetch',
    '--no-tags',
    '--no-write-fetch-head',
    '--recurse-submodules=no',
    '--filter=blob:none',
    `--depth=${depth}`
  ]
}

function checkRemoteUrl(url: string, allowFile: boolean): URL {
  const remote = new URL(url)
  const allowed = ['https:', 'http:', ...(allowFile ? ['file:'] : [])]
  if (!allowed.includes(remote.protocol)) throw new Error(`Remote protocol not allowed: ${remote.protocol}`)
  if (remote.username || remote.password) throw new Error('The remote URL must not carry credentials')
  return remote
}

/**
 * The actions/checkout scheme: a basic-auth header scoped to the server, so the token is never in a URL,
 * argv or log, and git sends it to no other host.
 */
export function authConfig(
  remote: URL,
  serverUrl: string | undefined,
  token: string
): { config: string; credential: string } {
  if (!/^[\x21-\x7e]+$/.test(token)) throw new Error('The token contains characters that cannot be used')
  const server = new URL(serverUrl ?? remote.origin)
  if (server.protocol !== 'https:' && server.protocol !== 'http:')
    throw new Error('The server URL must be http(s)')
  if (remote.origin !== server.origin) throw new Error('The remote is not on the server the token belongs to')
  const credential = Buffer.from(`x-access-token:${token}`, 'utf8').toString('base64')
  const config = `[http "${server.origin}/"]\n\textraheader = AUTHORIZATION: basic ${credential}\n`
  return { config, credential }
}

/** Reads `git push --porcelain` output for one ref. */
export function parsePushOutput(stdout: string, stderr: string, ref: string, exitCode: number): PushResult {
  const line = stdout.split('\n').find(l => /^[ +\-*!=]\t/.test(l) && l.split('\t')[1]?.endsWith(`:${ref}`))
  const remoteLines = stderr
    .split('\n')
    .filter(l => l.startsWith('remote:'))
    .map(l => l.replace(/^remote:\s?/, '').trimEnd())
    .filter(Boolean)
  if (!line) {
    if (/remote ref does not exist/.test(stderr)) return { status: 'ok', detail: '[absent]' }
    // No per-ref status: the push never got that far (network, authentication). Not a per-series outcome.
    throw new GitError('push', exitCode, stderr)
  }
  const [flag, , summary = ''] = line.split('\t')
  if (flag !== '!') return { status: 'ok', detail: summary }
  const message = [summary, ...remoteLines].join('\n')
  // A lease the server found stale while locking the ref (another push won the race) is stale too.
  if (summary.startsWith('[rejected]') || /is at [0-9a-f]+ but expected [0-9a-f]+/.test(message))
    return { status: 'rejected-stale', message }
  if (/remote ref does not exist/.test(summary + stderr)) return { status: 'ok', detail: '[absent]' }
  return { status: 'rejected-by-server', message }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch {
    return false
  }
}
