/**
 * Builders for test repositories. Commits are made with plumbing (no worktree), so they work on bare
 * repositories such as the GitHub stand-in's, and carry fixed dates so their ids are reproducible.
 */
import { execFile } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { isolatedGitEnv } from './github-git.js'

const run = promisify(execFile)

/** b4's test repository: 5 commits on `master`, tip f435c12 (the base of the b4 test series). */
export const BUNDLE_PATH = fileURLToPath(new URL('../fixtures/git/gitdir.bundle', import.meta.url))
export const BUNDLE_TIP = 'f435c12df7c0ecf20ab8937859e63cddffacabb4'

export interface Identity {
  name: string
  email: string
}

const DEFAULT_IDENTITY: Identity = { name: 'Test Maintainer', email: 'maintainer@example.org' }
const DEFAULT_DATE = '2025-01-06T12:00:00Z'

async function gitIn(gitDir: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('git', ['--git-dir', gitDir, ...args], {
    env: isolatedGitEnv(env),
    maxBuffer: 64 * 1024 * 1024
  })
  return stdout.trim()
}

/** Creates a bare repository at `dir` whose `branches` (default `main`) all point at the bundle's tip. */
export async function makeBareRepo(dir: string, branches: string[] = ['main']): Promise<string> {
  await mkdir(dir, { recursive: true })
  await run('git', ['init', '--quiet', '--bare', `--initial-branch=${branches[0] ?? 'main'}`, dir], {
    env: isolatedGitEnv()
  })
  await seedFromBundle(dir, branches)
  return dir
}

/** Points `branches` of an existing (bare or not) repository at the bundle's tip. */
export async function seedFromBundle(gitDir: string, branches: string[]): Promise<string> {
  const refspecs = branches.map(b => `+refs/heads/master:refs/heads/${b}`)
  await gitIn(gitDir, ['fetch', '--quiet', BUNDLE_PATH, ...refspecs])
  return BUNDLE_TIP
}

export interface CommitOptions {
  /** Branch to commit on; created from `parent` (or as a root commit) when missing. */
  branch: string
  /** Path → content; `null` deletes the path. */
  files: Record<string, string | Buffer | null>
  message: string
  author?: Identity
  committer?: Identity
  /** ISO date for author and committer (deterministic default). */
  date?: string
  /** Start point when the branch does not exist yet. */
  parent?: string
}

/** Commits file changes onto a branch without a worktree; returns the new commit id. */
export async function commitFiles(gitDir: string, opts: CommitOptions): Promise<string> {
  const author = opts.author ?? DEFAULT_IDENTITY
  const committer = opts.committer ?? author
  const date = opts.date ?? DEFAULT_DATE
  let parent: string | undefined
  try {
    parent = await gitIn(gitDir, ['rev-parse', '--verify', '--quiet', `refs/heads/${opts.branch}`])
  } catch {
    parent = opts.parent
      ? await gitIn(gitDir, ['rev-parse', '--verify', `${opts.parent}^{commit}`])
      : undefined
  }
  const index = `${gitDir.replace(/\/$/, '')}/ml2pr-test-index-${process.pid}-${Date.now()}`
  const env = { GIT_INDEX_FILE: index }
  try {
    if (parent) await gitIn(gitDir, ['read-tree', parent], env)
    else await gitIn(gitDir, ['read-tree', '--empty'], env)
    // --index-info needs no worktree; mode 0 removes a path.
    const lines: string[] = []
    for (const [file, content] of Object.entries(opts.files)) {
      lines.push(
        content === null
          ? `0 ${'0'.repeat(40)}\t${file}`
          : `100644 ${await hashBlob(gitDir, content)}\t${file}`
      )
    }
    await withInput(gitDir, ['update-index', '--index-info'], `${lines.join('\n')}\n`, env)
    const tree = await gitIn(gitDir, ['write-tree'], env)
    const commit = await gitIn(
      gitDir,
      ['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', opts.message],
      {
        GIT_AUTHOR_NAME: author.name,
        GIT_AUTHOR_EMAIL: author.email,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_NAME: committer.name,
        GIT_COMMITTER_EMAIL: committer.email,
        GIT_COMMITTER_DATE: date
      }
    )
    await gitIn(gitDir, ['update-ref', `refs/heads/${opts.branch}`, commit])
    return commit
  } finally {
    await run('rm', ['-f', index])
  }
}

async function withInput(
  gitDir: string,
  args: string[],
  input: string | Buffer,
  env: Record<string, string> = {}
): Promise<string> {
  const pending = run('git', ['--git-dir', gitDir, ...args], { env: isolatedGitEnv(env) })
  pending.child.stdin?.end(input)
  return (await pending).stdout.trim()
}

function hashBlob(gitDir: string, content: string | Buffer): Promise<string> {
  return withInput(gitDir, ['hash-object', '-w', '--stdin'], content)
}

/** The files of a small tree shaped like the kernel's (top-level files, a few subsystems, a workflow). */
export function kernelLikeFiles(fillers = 20): Record<string, string> {
  const files: Record<string, string> = {
    MAINTAINERS:
      'FILESYSTEMS (VFS and infrastructure)\nM:\tTest Maintainer <maintainer@example.org>\nL:\tlinux-fsdevel@vger.kernel.org\nS:\tMaintained\nF:\tfs/*\n',
    Makefile:
      '# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\nEXTRAVERSION =\nNAME = Baby Opossum Posse\n',
    README: 'Linux kernel\n============\n\nThis is a small tree for tests.\n',
    'fs/namei.c':
      '// SPDX-License-Identifier: GPL-2.0\n#include <linux/fs.h>\n\nint lookup_one(const char *name)\n{\n\treturn 0;\n}\n',
    'fs/open.c':
      '// SPDX-License-Identifier: GPL-2.0\n#include <linux/fs.h>\n\nint do_open(void)\n{\n\treturn 0;\n}\n',
    'include/linux/fs.h':
      '/* SPDX-License-Identifier: GPL-2.0 */\n#ifndef _LINUX_FS_H\n#define _LINUX_FS_H\nint lookup_one(const char *name);\n#endif\n',
    'kernel/sched/core.c': '// SPDX-License-Identifier: GPL-2.0\nvoid schedule(void)\n{\n}\n',
    'scripts/checkpatch.pl': '#!/usr/bin/env perl\nexit 0;\n',
    '.github/workflows/build.yml':
      'name: build\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: make\n'
  }
  for (let i = 0; i < fillers; i++) {
    files[`drivers/misc/dev${i}.c`] =
      `// SPDX-License-Identifier: GPL-2.0\nint dev${i}_probe(void)\n{\n\treturn ${i};\n}\n`
  }
  return files
}

/** Commits a kernel-like tree as a root commit on `branch`; returns the commit id. */
export async function makeKernelTree(gitDir: string, branch = 'main', fillers = 20): Promise<string> {
  return commitFiles(gitDir, {
    branch,
    files: kernelLikeFiles(fillers),
    message: 'Linux 6.12\n\nSigned-off-by: Test Maintainer <maintainer@example.org>'
  })
}
