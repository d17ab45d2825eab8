/**
 * Real git in temporary directories: upstream repositories served over file://, reference `git am` runs
 * in ordinary clones, and mbox splitting for the fixtures.
 */
import { afterEach } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PatchToApply } from '../../src/apply/apply.js'

export const FIXTURE_DIR = fileURLToPath(new URL('../fixtures/git/', import.meta.url))

export function fixture(name: string): Buffer {
  return readFileSync(path.join(FIXTURE_DIR, name))
}

export const COMMITTER = { name: 'ml2pr', email: 'ml2pr@example.org' }

/** Plain git as a user would run it, but without this machine's config. */
export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Upstream Dev',
    GIT_AUTHOR_EMAIL: 'dev@example.org',
    GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
    GIT_COMMITTER_NAME: COMMITTER.name,
    GIT_COMMITTER_EMAIL: COMMITTER.email,
    GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
    ...extra
  }
}

export function git(
  cwd: string,
  args: string[],
  opts: { input?: Buffer | string; env?: Record<string, string> } = {}
): string {
  return execFileSync('git', args, {
    cwd,
    input: opts.input,
    env: testEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024
  })
    .toString('utf8')
    .replace(/\n$/, '')
}

/** Runs git expecting failure; returns its stderr. */
export function gitFails(cwd: string, args: string[], opts: { env?: Record<string, string> } = {}): string {
  try {
    git(cwd, args, opts)
  } catch (err) {
    return String((err as { stderr?: Buffer }).stderr ?? '')
  }
  throw new Error(`git ${args.join(' ')} unexpectedly succeeded`)
}

export function makeTempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ml2pr-apply-'))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Temporary directories for the tests of one file, removed after each test. */
export function useTempDirs(): () => string {
  const cleanups: (() => void)[] = []
  afterEach(() => cleanups.splice(0).forEach(c => c()))
  return () => {
    const t = makeTempDir()
    cleanups.push(t.cleanup)
    return t.dir
  }
}

export type FileSpec = string | Buffer | { content: string | Buffer; mode?: 'exec' | 'symlink' }

/** Writes files into a worktree and commits them. Returns the new commit id. */
export function commitFiles(work: string, files: Record<string, FileSpec | null>, message: string): string {
  for (const [file, spec] of Object.entries(files)) {
    const full = path.join(work, file)
    if (spec === null) {
      git(work, ['rm', '-q', '--', file])
      continue
    }
    mkdirSync(path.dirname(full), { recursive: true })
    const { content, mode } =
      typeof spec === 'string' || Buffer.isBuffer(spec) ? { content: spec, mode: undefined } : spec
    rmSync(full, { force: true })
    if (mode === 'symlink') execFileSync('ln', ['-s', content.toString(), full])
    else {
      writeFileSync(full, content)
      if (mode === 'exec') chmodSync(full, 0o755)
    }
    git(work, ['add', '--', file])
  }
  git(work, ['commit', '-q', '--allow-empty', '-m', message])
  return git(work, ['rev-parse', 'HEAD'])
}

export interface Upstream {
  /** The bare repository served over file://. */
  bare: string
  url: string
  /** A worktree clone used to make more upstream commits (push with pushUpstream). */
  work: string
}

/** A bare upstream that allows what GitHub allows: filters and fetching any object by id. */
export function makeUpstream(
  root: string,
  files: Record<string, FileSpec>,
  branch = 'main'
): Upstream & { base: string } {
  const bare = path.join(root, 'upstream.git')
  const work = path.join(root, 'upstream-work')
  git(root, ['init', '-q', '--bare', `--initial-branch=${branch}`, bare])
  allowPartial(bare)
  git(root, ['init', '-q', `--initial-branch=${branch}`, work])
  const base = commitFiles(work, files, 'base')
  git(work, ['push', '-q', bare, `HEAD:refs/heads/${branch}`])
  return { bare, url: `file://${bare}`, work, base }
}

/** An upstream made from b4's test bundle (tip f435c12 on `main`). */
export function bundleUpstream(root: string): Upstream & { base: string } {
  const bare = path.join(root, 'upstream.git')
  git(root, ['clone', '-q', '--bare', path.join(FIXTURE_DIR, 'gitdir.bundle'), bare])
  git(bare, ['branch', '-m', 'master', 'main'])
  allowPartial(bare)
  const work = path.join(root, 'upstream-work')
  git(root, ['clone', '-q', bare, work])
  return { bare, url: `file://${bare}`, work, base: git(bare, ['rev-parse', 'main']) }
}

function allowPartial(bare: string): void {
  git(bare, ['config', 'uploadpack.allowFilter', 'true'])
  git(bare, ['config', 'uploadpack.allowAnySHA1InWant', 'true'])
}

export function pushUpstream(up: Upstream, branch = 'main'): string {
  git(up.work, ['push', '-q', up.bare, `HEAD:refs/heads/${branch}`])
  return git(up.work, ['rev-parse', 'HEAD'])
}

/** Splits an mbox into messages without their `From ` separator lines (mboxrd `>From` undone if asked). */
export function splitMbox(mbox: Buffer, { mboxrd = false } = {}): Buffer[] {
  const text = mbox.toString('latin1')
  const messages: string[] = []
  let current: string[] | undefined
  for (const line of text.split(/(?<=\n)/)) {
    if (/^From \S+ .*\d\d:\d\d:\d\d \d{4}\s*$/.test(line)) {
      if (current) messages.push(current.join(''))
      current = []
      continue
    }
    current ??= []
    current.push(mboxrd ? line.replace(/^>(>*From )/, '$1') : line)
  }
  if (current) messages.push(current.join(''))
  return messages.map(m => Buffer.from(m, 'latin1'))
}

export function asPatches(mails: Buffer[]): PatchToApply[] {
  return mails.map((raw, i) => ({ counter: i + 1, total: mails.length, raw, trailers: [] }))
}

/** What `git am` makes of the mails in a full clone of the upstream: each commit minus its committer line. */
export function gitAmReference(
  up: Upstream,
  root: string,
  mails: Buffer[],
  opts: { threeWay?: boolean; branch?: string; env?: Record<string, string> } = {}
): { ok: true; commits: string[]; shas: string[]; head: string } | { ok: false; stderr: string } {
  const clone = path.join(root, `reference-${Math.random().toString(36).slice(2)}`)
  git(root, ['clone', '-q', '--branch', opts.branch ?? 'main', up.url, clone], {
    env: { GIT_ALLOW_PROTOCOL: 'file', ...opts.env }
  })
  const files = mails.map((m, i) => {
    const file = path.join(root, `${path.basename(clone)}-${i}.eml`)
    writeFileSync(file, m)
    return file
  })
  try {
    // With ml2pr's committer and committer date = author date, the ids themselves must match.
    git(clone, ['am', '-q', '--committer-date-is-author-date', ...(opts.threeWay ? ['-3'] : []), ...files], {
      env: opts.env
    })
  } catch (err) {
    return { ok: false, stderr: String((err as { stderr?: Buffer }).stderr ?? '') }
  }
  const base = git(up.bare, ['rev-parse', opts.branch ?? 'main'])
  const shas = git(clone, ['rev-list', '--reverse', `${base}..HEAD`])
    .split('\n')
    .filter(Boolean)
  return {
    ok: true,
    commits: shas.map(s => commitWithoutCommitter(clone, s)),
    shas,
    head: git(clone, ['rev-parse', 'HEAD'])
  }
}

export function commitWithoutCommitter(gitDir: string, sha: string): string {
  return git(gitDir, ['cat-file', 'commit', sha])
    .split('\n')
    .filter(l => !l.startsWith('committer '))
    .join('\n')
}
