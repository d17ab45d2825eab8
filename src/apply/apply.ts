import { readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { appendTrailers } from '../assemble/trailers.js'
import type { AppliedPatch, ApplyFailure, ApplyResult, Person, Trailer } from '../model.js'
import type { ExecOptions, Git } from './git.js'
import { commitMessage, normaliseLineEndings, parseMailInfo, type MailInfo } from './mailinfo.js'
import { patchFiles } from './patch-files.js'
import {
  escapingLinks,
  newBlobs,
  parseRawDiff,
  protectedFiles,
  submoduleViolations,
  SYMLINK_MODE,
  type TreeChange,
  type Violation
} from './policy.js'
import { assertObjectId, isObjectId } from './refs.js'
import { findBlobs } from './tree.js'
import type { Repo } from './repo.js'

/**
 * Applies a series the way `git am` would, without a worktree: a temporary index seeded from the base,
 * `git mailinfo` + `git apply --cached` per mail, and commits made with `git commit-tree`.
 */

export interface PatchToApply {
  counter: number
  total: number
  /** The mail as received, for git mailinfo. */
  raw: Buffer
  /** Follow-up trailers to add to the commit message. */
  trailers: Trailer[]
}

export interface ApplyOptions {
  committer: Person
  /** Path prefixes a series may not touch; default `.github/` (workflows run with the repository's secrets). */
  protectedPaths?: string[]
  /** Largest blob a series may add; default 50 MiB (GitHub warns at 50 and refuses 100). */
  maxBlobBytes?: number
  /** Largest total of new blobs in a series; default 100 MiB. */
  maxSeriesBytes?: number
  /** A fetched commit (e.g. the series' `base-commit:`) whose blobs can serve as 3-way preimages. */
  preimageCommit?: string
  /** Fall back to `git apply --3way` like `git am -3`; default true. */
  threeWay?: boolean
  /** Author date for a mail without `Date:` (git am would use the current time; ml2pr stays reproducible). */
  fallbackDate?: string
  log?: (line: string) => void
}

export const DEFAULT_PROTECTED_PATHS = ['.github/']
export const DEFAULT_MAX_BLOB_BYTES = 50 * 1024 * 1024
export const DEFAULT_MAX_SERIES_BYTES = 100 * 1024 * 1024

type FailureDetail = Omit<ApplyFailure, 'baseSha' | 'counter' | 'total' | 'subject'>

interface PreparedPatch {
  counter: number
  total: number
  subject: string
  patchFile: string
  info?: MailInfo
  message?: Buffer
  files: Set<string>
  preimageIds: Set<string>
  error?: FailureDetail
}

export async function applySeries(
  repo: Repo,
  baseSha: string,
  patches: PatchToApply[],
  options: ApplyOptions
): Promise<ApplyResult> {
  assertObjectId(baseSha)
  const log = options.log ?? (() => undefined)
  const fail = (
    p: { counter: number; total: number; subject: string },
    detail: FailureDetail
  ): ApplyResult => {
    log(`patch ${p.counter}/${p.total} failed (${detail.kind}): ${detail.message.split('\n')[0] ?? ''}`)
    return {
      ok: false,
      baseSha,
      failure: { ...detail, counter: p.counter, total: p.total, subject: p.subject, baseSha }
    }
  }
  if (patches.length === 0) {
    return fail(
      { counter: 0, total: 0, subject: '' },
      { kind: 'malformed', message: 'The series has no patches.', files: [] }
    )
  }

  const git = repo.git
  const sharedBefore = await sharedIndexes(repo.gitDir)
  const tmp = await repo.makeTempDir()
  try {
    // A split index: each patch rewrites a small file instead of all ~90,000 entries of a kernel tree.
    const index: ExecOptions = {
      env: { GIT_INDEX_FILE: path.join(tmp.dir, 'index') },
      config: ['core.splitIndex=true']
    }
    const prepared: PreparedPatch[] = []
    for (const p of patches) prepared.push(await preparePatch(git, tmp.dir, p))

    await git.exec(['read-tree', baseSha], index)
    await prefetchPreimages(repo, baseSha, prepared, options.preimageCommit, log)

    let parent = baseSha
    let parentTree = await git.text(['rev-parse', '--verify', `${baseSha}^{tree}`])
    let seriesBytes = 0
    // Symlinks the series added or changed so far: a later patch can complete a chain an earlier one began.
    const seriesLinks = new Set<string>()
    const commits: AppliedPatch[] = []
    for (const p of prepared) {
      if (p.error || !p.info || !p.message)
        return fail(p, p.error ?? malformed('The mail could not be read.'))
      const applied = await applyToIndex(git, p.patchFile, index, options.threeWay ?? true)
      if (!applied.ok) return fail(p, applied.failure)
      if (applied.threeWay) log(`patch ${p.counter}/${p.total} needed a 3-way merge`)

      const tree = await git.text(['write-tree', '--missing-ok'], index)
      if (tree === parentTree) {
        return fail(p, { kind: 'empty', message: 'The patch changes nothing (already applied?).', files: [] })
      }
      const made = await commitTree(git, tree, parent, p.info, p.message, options)
      if (!made.ok) return fail(p, made.failure)

      const policy = await checkCommit(repo, parent, made.sha, options, seriesBytes, seriesLinks)
      if (!policy.ok) return fail(p, policy.failure)
      seriesBytes += policy.bytes

      log(`patch ${p.counter}/${p.total} applied as ${made.sha}`)
      commits.push({ counter: p.counter, sha: made.sha, subject: p.subject })
      parent = made.sha
      parentTree = tree
    }
    return { ok: true, baseSha, head: parent, commits }
  } finally {
    await tmp.remove()
    await removeSharedIndexes(repo.gitDir, sharedBefore)
  }
}

/** Split indexes keep their large shared part in the git dir; those of a finished series are removed. */
async function sharedIndexes(gitDir: string): Promise<Set<string>> {
  return new Set((await readdir(gitDir)).filter(f => f.startsWith('sharedindex.')))
}

async function removeSharedIndexes(gitDir: string, keep: Set<string>): Promise<void> {
  for (const f of await sharedIndexes(gitDir))
    if (!keep.has(f)) await rm(path.join(gitDir, f), { force: true })
}

function malformed(message: string): FailureDetail {
  return { kind: 'malformed', message, files: [] }
}

/** git mailinfo on the mail exactly as git am runs it; problems are kept until the patch's turn comes. */
async function preparePatch(git: Git, dir: string, patch: PatchToApply): Promise<PreparedPatch> {
  const msgFile = path.join(dir, `${patch.counter}.msg`)
  const patchFile = path.join(dir, `${patch.counter}.patch`)
  const base = {
    counter: patch.counter,
    total: patch.total,
    subject: '',
    patchFile,
    files: new Set<string>(),
    preimageIds: new Set<string>()
  }
  const out = await git.exec(['mailinfo', '-u', msgFile, patchFile], {
    input: normaliseLineEndings(patch.raw),
    allowFailure: true
  })
  if (out.exitCode !== 0)
    return { ...base, error: malformed(out.stderr || 'git mailinfo could not parse the mail.') }
  const info = parseMailInfo(out.stdout)
  const subject = info.subject.toString('utf8')
  const diff = await readFile(patchFile)
  if (diff.length === 0)
    return { ...base, subject, error: malformed('Patch is empty (the mail has no diff).') }
  if (!info.email)
    return { ...base, subject, error: malformed('Patch does not have a valid e-mail address.') }
  let message = commitMessage(info.subject, await readFile(msgFile))
  if (patch.trailers.length > 0)
    message = Buffer.from(appendTrailers(message.toString('utf8'), patch.trailers), 'utf8')
  const { paths, preimageIds } = patchFiles(diff.toString('utf8'))
  return { ...base, subject, info, message, files: paths, preimageIds }
}

/**
 * One fetch for every blob the series will read: the base's version of each file it touches, and, for a
 * 3-way fallback, the preimage versions in `preimageCommit` that the patches name on their `index` lines.
 */
async function prefetchPreimages(
  repo: Repo,
  baseSha: string,
  patches: PreparedPatch[],
  preimageCommit: string | undefined,
  log: (line: string) => void
): Promise<void> {
  const files = new Set(patches.flatMap(p => [...p.files]))
  if (files.size === 0) return
  const oids = new Set<string>()
  for (const [file, oid] of await findBlobs(repo.git, baseSha, files)) {
    if (files.has(file)) oids.add(oid)
  }
  if (
    preimageCommit &&
    isObjectId(preimageCommit) &&
    (await repo.presentCommits([preimageCommit])).has(preimageCommit)
  ) {
    const abbrevs = [...new Set(patches.flatMap(p => [...p.preimageIds]))]
    for (const [, oid] of await findBlobs(repo.git, preimageCommit, files)) {
      if (abbrevs.some(a => oid.startsWith(a))) oids.add(oid)
    }
  }
  const fetched = await repo.prefetchBlobs(oids)
  log(`prefetched ${fetched} of ${oids.size} preimage blobs for ${files.size} files`)
}

type Step = { ok: true; threeWay?: boolean } | { ok: false; failure: FailureDetail }

/** `git apply --cached`, then like `git am -3` a 3-way attempt; conflicts are named, not resolved. */
async function applyToIndex(
  git: Git,
  patchFile: string,
  index: ExecOptions,
  threeWay: boolean
): Promise<Step> {
  // Network stays allowed here only as a safety net: a blob the prefetch missed is fetched lazily by id.
  const plain = await git.exec(['apply', '--cached', patchFile], {
    ...index,
    network: true,
    allowFailure: true
  })
  if (plain.exitCode === 0) return { ok: true }
  const files = new Set(filesFromApplyErrors(plain.stderr))
  let message = plain.stderr
  if (threeWay) {
    const merged = await git.exec(['apply', '--cached', '--3way', patchFile], {
      ...index,
      network: true,
      allowFailure: true
    })
    if (merged.exitCode === 0) return { ok: true, threeWay: true }
    const unmerged = await git.exec(['ls-files', '-u', '-z'], index)
    for (const entry of unmerged.stdout.toString('utf8').split('\0')) {
      const tab = entry.indexOf('\t')
      if (tab !== -1) files.add(entry.slice(tab + 1))
    }
    for (const f of filesFromApplyErrors(merged.stderr)) files.add(f)
    const extra = merged.stderr.split('\n').filter(l => l && !plain.stderr.includes(l))
    if (extra.length > 0) message = `${message}\n${extra.join('\n')}`
  }
  return {
    ok: false,
    // Paths git refuses on principle are a policy matter, not something a rebase would fix.
    failure: {
      kind: /invalid path|beyond a symbolic link/.test(message) ? 'policy' : 'conflict',
      message: message || 'git apply failed.',
      files: [...files].sort()
    }
  }
}

/** File names in git apply's error lines (`error: patch failed: f:12`, `error: f: patch does not apply`). */
export function filesFromApplyErrors(stderr: string): string[] {
  const files = new Set<string>()
  for (const line of stderr.split('\n')) {
    const m =
      /^error: patch failed: (.+):\d+$/.exec(line) ??
      /^error: (.+): (?:patch does not apply|already exists in index|does not exist in index|does not match index)$/.exec(
        line
      ) ??
      /^error: invalid path '(.+)'$/.exec(line) ??
      /^error: affected file '(.+)' is beyond a symbolic link$/.exec(line) ??
      /^U (.+)$/.exec(line)
    if (m?.[1]) files.add(m[1])
  }
  return [...files]
}

type Made = { ok: true; sha: string } | { ok: false; failure: FailureDetail }

/** The commit git am makes: author and date from the mail; committer date = author date for stable ids. */
async function commitTree(
  git: Git,
  tree: string,
  parent: string,
  info: MailInfo,
  message: Buffer,
  options: ApplyOptions
): Promise<Made> {
  const date = info.date || options.fallbackDate || ''
  const env: Record<string, string> = {
    GIT_AUTHOR_NAME: info.author,
    GIT_AUTHOR_EMAIL: info.email,
    GIT_COMMITTER_NAME: options.committer.name,
    GIT_COMMITTER_EMAIL: options.committer.email
  }
  if (date) Object.assign(env, { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date })
  const out = await git.exec(['commit-tree', tree, '-p', parent], { input: message, env, allowFailure: true })
  const sha = out.stdout.toString('utf8').trim()
  if (out.exitCode !== 0 || !isObjectId(sha))
    return { ok: false, failure: malformed(out.stderr || 'git commit-tree failed.') }
  return { ok: true, sha }
}

type Checked = { ok: true; bytes: number } | { ok: false; failure: FailureDetail }

/** Policy for one commit: protected paths, submodules, escaping symlinks, blob and series size caps. */
async function checkCommit(
  repo: Repo,
  parent: string,
  commit: string,
  options: ApplyOptions,
  seriesBytesSoFar: number,
  seriesLinks: Set<string>
): Promise<Checked> {
  const git = repo.git
  const raw = await git.exec([
    'diff-tree',
    '-r',
    '-z',
    '--raw',
    '--no-renames',
    '--no-abbrev',
    parent,
    commit
  ])
  const changes = parseRawDiff(raw.stdout)

  const prefixes = options.protectedPaths ?? DEFAULT_PROTECTED_PATHS
  const protectedHits = protectedFiles(changes, prefixes)
  if (protectedHits.length > 0) {
    return {
      ok: false,
      failure: {
        kind: 'protected-path',
        message: `The patch changes files under protected paths (${prefixes.join(', ')}).`,
        files: protectedHits
      }
    }
  }

  const newLinks = changes.filter(c => c.newMode === SYMLINK_MODE && c.status !== 'D').map(c => c.path)
  for (const link of newLinks) seriesLinks.add(link)
  const violations = [
    ...submoduleViolations(changes),
    ...(newLinks.length > 0 ? await symlinkViolations(repo, commit, seriesLinks) : [])
  ]
  if (violations.length > 0) {
    return {
      ok: false,
      failure: {
        kind: 'policy',
        message: violations.map(v => `${v.path}: ${v.reason}`).join('\n'),
        files: violations.map(v => v.path)
      }
    }
  }

  const sizes = await blobSizes(repo, changes)
  const maxBlob = options.maxBlobBytes ?? DEFAULT_MAX_BLOB_BYTES
  const big = [...sizes].filter(([, s]) => s.bytes > maxBlob)
  if (big.length > 0) {
    return {
      ok: false,
      failure: {
        kind: 'policy',
        message: big
          .map(([, s]) => `${s.path}: ${s.bytes} bytes, over the ${maxBlob}-byte limit per file`)
          .join('\n'),
        files: big.map(([, s]) => s.path)
      }
    }
  }
  const bytes = [...sizes.values()].reduce((sum, s) => sum + s.bytes, 0)
  const maxSeries = options.maxSeriesBytes ?? DEFAULT_MAX_SERIES_BYTES
  if (seriesBytesSoFar + bytes > maxSeries) {
    return {
      ok: false,
      failure: {
        kind: 'policy',
        message: `The series adds ${seriesBytesSoFar + bytes} bytes of new content, over the ${maxSeries}-byte limit.`,
        files: []
      }
    }
  }
  return { ok: true, bytes }
}

/**
 * Every symlink of the commit's whole tree, resolved through the others (a link is only harmless together
 * with the rest of the tree). Runs only for a commit that adds or changes a link, which kernel series
 * rarely do; upstream's link blobs are fetched when the blobless clone lacks them (a few bytes each).
 */
async function symlinkViolations(repo: Repo, commit: string, seriesLinks: Set<string>): Promise<Violation[]> {
  const listing = await repo.git.exec(['ls-tree', '-r', '-z', '--full-tree', commit])
  const oids = new Map<string, string>()
  for (const entry of listing.stdout.toString('utf8').split('\0')) {
    const m = /^120000 blob ([0-9a-f]+)\t(.*)$/s.exec(entry)
    if (m) oids.set(m[2] ?? '', m[1] ?? '')
  }
  await repo.prefetchBlobs(oids.values())
  const out = await repo.git.exec(['cat-file', '--batch'], {
    input: [...oids.values()].join('\n') + '\n',
    allowFailure: true
  })
  const contents = parseBatch(out.stdout)
  const links = new Map<string, string>()
  const unreadable: Violation[] = []
  for (const [file, oid] of oids) {
    const target = contents.get(oid)
    if (target !== undefined) links.set(file, target.toString('utf8'))
    else if (seriesLinks.has(file))
      unreadable.push({ path: file, reason: 'symlink whose target cannot be read' })
  }
  return [...unreadable, ...escapingLinks(links, seriesLinks)]
}

/** `git cat-file --batch` output: `<oid> <type> <size>\n<content>\n` per object, `<oid> missing\n` if absent. */
function parseBatch(out: Buffer): Map<string, Buffer> {
  const objects = new Map<string, Buffer>()
  let at = 0
  while (at < out.length) {
    const eol = out.indexOf(0x0a, at)
    if (eol === -1) break
    const [oid = '', type, size] = out.subarray(at, eol).toString('utf8').split(' ')
    at = eol + 1
    if (type === 'missing' || size === undefined) continue
    objects.set(oid, out.subarray(at, at + Number(size)))
    at += Number(size) + 1
  }
  return objects
}

/** Sizes of the blobs this commit introduces; blobs not stored here came from upstream and are not counted. */
async function blobSizes(
  repo: Repo,
  changes: TreeChange[]
): Promise<Map<string, { path: string; bytes: number }>> {
  const blobs = newBlobs(changes)
  const present = [...(await repo.presentBlobs([...blobs.keys()]))]
  const sizes = new Map<string, { path: string; bytes: number }>()
  if (present.length === 0) return sizes
  const out = await repo.git.text(['cat-file', '--batch-check=%(objectname) %(objectsize)'], {
    input: present.join('\n') + '\n'
  })
  for (const line of out.split('\n')) {
    const [oid = '', size] = line.split(' ')
    const file = blobs.get(oid)
    if (file !== undefined && size !== undefined) sizes.set(oid, { path: file, bytes: Number(size) })
  }
  return sizes
}
