import { describe, expect, it } from '@jest/globals'
import { chmodSync, existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { compareVersions, Git, GitError, MINIMUM_GIT_VERSION, parseGitVersion } from '../../src/apply/git.js'
import { Repo } from '../../src/apply/repo.js'
import { bundleUpstream, git, useTempDirs } from './helpers.js'

const tempRoot = useTempDirs()

/** A stand-in git executable: answers `version` with `version`, runs `body` for anything else. */
function fakeGit(root: string, version: string, body: string): string {
  const file = path.join(root, 'fake-git')
  writeFileSync(
    file,
    `#!/bin/sh\nfor a; do [ "$a" = version ] && { echo 'git version ${version}'; exit 0; }; done\n${body}\n`
  )
  chmodSync(file, 0o755)
  return file
}

describe('Git', () => {
  it('parses and compares versions', () => {
    expect(parseGitVersion('git version 2.39.5\n')).toEqual({ major: 2, minor: 39, patch: 5 })
    expect(parseGitVersion('git version 2.50.1.windows.1')).toEqual({ major: 2, minor: 50, patch: 1 })
    expect(parseGitVersion('nope')).toBeUndefined()
    expect(compareVersions({ major: 2, minor: 33, patch: 9 }, MINIMUM_GIT_VERSION)).toBeLessThan(0)
  })

  it('refuses a git older than the minimum', async () => {
    const root = tempRoot()
    await expect(Git.create({ gitPath: fakeGit(root, '2.20.1', 'exit 0') })).rejects.toThrow('too old')
    const g = await Git.create()
    expect(compareVersions(g.version, MINIMUM_GIT_VERSION)).toBeGreaterThanOrEqual(0)
  })

  it('sees only its own configuration, whatever the environment says', async () => {
    const root = tempRoot()
    const userConfig = path.join(root, 'user.gitconfig')
    writeFileSync(userConfig, '[core]\n\thooksPath = /tmp/evil\n[alias]\n\tx = !touch /tmp/pwned\n')
    const saved = { ...process.env }
    Object.assign(process.env, {
      GIT_CONFIG_GLOBAL: userConfig,
      GIT_CONFIG_PARAMETERS: "'core.pager'='touch x'"
    })
    try {
      const g = await Git.create({ cwd: root })
      const list = await g.text(['config', '--list', '--show-origin'])
      const origins = new Set(list.split('\n').map(l => l.split('\t')[0]))
      expect(origins).toEqual(new Set(['command line:']))
      expect(list).toContain('core.hookspath=/dev/null')
      expect(list).toContain('protocol.allow=never')
      expect(list).not.toContain('protocol.https.allow')
      const network = await g.text(['config', '--list'], { network: true })
      expect(network).toContain('protocol.https.allow=always')
      expect(network).not.toContain('protocol.file.allow')
    } finally {
      process.env = saved
    }
  })

  it('errors carry git stderr, and a local command cannot fetch from the promisor remote', async () => {
    const root = tempRoot()
    const up = bundleUpstream(root)
    const repo = await Repo.open({
      workDir: path.join(root, 'ml2pr'),
      remoteUrl: up.url,
      allowFileProtocol: true
    })
    const tip = await repo.fetchBranch('main')
    const blob = git(up.bare, ['rev-parse', `${tip}:file1.txt`])
    const error = await repo.git.exec(['cat-file', '-p', blob]).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GitError)
    expect((error as GitError).exitCode).toBe(128)
    expect((error as GitError).stderr).toContain("transport 'file' not allowed")
    expect((await repo.git.exec(['cat-file', '-p', blob], { network: true })).stdout.length).toBeGreaterThan(
      0
    )
  })

  it('kills a command that runs past its timeout', async () => {
    const root = tempRoot()
    const marker = path.join(root, 'finished')
    const g = await Git.create({ gitPath: fakeGit(root, '2.45.0', `sleep 5; touch '${marker}'`) })
    const error = await g.exec(['fetch'], { timeoutMs: 200 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(GitError)
    expect(String(error)).toContain('timed out after 200 ms')
    expect((error as GitError).exitCode).toBeNull()
    expect(existsSync(marker)).toBe(false)
  })

  it('passes stdin as bytes and returns stdout as bytes', async () => {
    const g = await Git.create()
    const out = await g.exec(['hash-object', '--stdin'], { input: Buffer.from([0xff, 0x00, 0x0a]) })
    expect(out.stdout.toString('utf8').trim()).toBe(
      git(tempRoot(), ['hash-object', '--stdin'], { input: Buffer.from([0xff, 0x00, 0x0a]) })
    )
  })
})
