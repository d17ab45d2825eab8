import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { BUNDLE_TIP, commitFiles, makeBareRepo, makeKernelTree } from './repos.js'

const run = promisify(execFile)
let dir: string
const git = async (gitDir: string, ...args: string[]): Promise<string> =>
  (await run('git', ['--git-dir', gitDir, ...args])).stdout.trim()

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'repos-test-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('repository builders', () => {
  it('seeds a bare repository from the b4 bundle', async () => {
    const repo = await makeBareRepo(path.join(dir, 'seeded.git'), ['main', 'stable'])
    expect(await git(repo, 'rev-parse', 'main', 'stable')).toBe(`${BUNDLE_TIP}\n${BUNDLE_TIP}`)
    expect(await git(repo, 'rev-parse', '--is-bare-repository')).toBe('true')
  })

  it('commits deterministically without a worktree', async () => {
    const a = await makeBareRepo(path.join(dir, 'a.git'))
    const b = await makeBareRepo(path.join(dir, 'b.git'))
    const opts = {
      branch: 'topic',
      parent: 'main',
      files: { 'file1.txt': 'new\n', 'file2.txt': null },
      message: 'change'
    }
    const ca = await commitFiles(a, opts)
    expect(await commitFiles(b, opts)).toBe(ca)
    expect(await git(a, 'show', '--format=%an %aI %P', '--name-status', ca)).toBe(
      `Test Maintainer 2025-01-06T12:00:00+00:00 ${BUNDLE_TIP}\n\nM\tfile1.txt\nD\tfile2.txt`
    )
  })

  it('builds a kernel-like tree', async () => {
    const repo = await makeBareRepo(path.join(dir, 'k.git'), ['unused'])
    const sha = await makeKernelTree(repo, 'main', 5)
    const files = (await git(repo, 'ls-tree', '-r', '--name-only', sha)).split('\n')
    expect(files).toEqual(
      expect.arrayContaining([
        'MAINTAINERS',
        'fs/namei.c',
        '.github/workflows/build.yml',
        'drivers/misc/dev4.c'
      ])
    )
    expect(await git(repo, 'rev-list', '--count', sha)).toBe('1')
  })
})
