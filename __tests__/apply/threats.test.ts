import { describe, expect, it } from '@jest/globals'
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { applySeries, type ApplyOptions } from '../../src/apply/apply.js'
import { Repo } from '../../src/apply/repo.js'
import type { ApplyFailure, ApplyResult } from '../../src/model.js'
import {
  asPatches,
  COMMITTER,
  commitFiles,
  commitWithoutCommitter,
  git,
  gitAmReference,
  makeUpstream,
  pushUpstream,
  splitMbox,
  type FileSpec,
  type Upstream,
  useTempDirs
} from './helpers.js'

/** Untrusted mail must never run code, write outside the tree, or reach `.github/`. */

const tempRoot = useTempDirs()

function mail(counter: number, total: number, subject: string, diff: string): Buffer {
  return Buffer.from(
    [
      'From: Mallory Example <mallory@example.org>',
      'Date: Mon, 3 Mar 2025 10:00:00 +0100',
      `Subject: [PATCH ${counter}/${total}] ${subject}`,
      `Message-ID: <${counter}.${total}@example.org>`,
      '',
      `${subject}.`,
      '',
      'Signed-off-by: Mallory Example <mallory@example.org>',
      '---',
      diff
    ].join('\n'),
    'utf8'
  )
}

function addFile(file: string, lines: string[], mode = '100644'): string {
  return [
    `diff --git a/${file} b/${file}`,
    `new file mode ${mode}`,
    'index 0000000..1111111',
    '--- /dev/null',
    `+++ b/${file}`,
    `@@ -0,0 +1,${lines.length} @@`,
    ...lines.map(l => `+${l}`),
    ''
  ].join('\n')
}

function addSymlink(file: string, target: string): string {
  const diff = addFile(file, [target], '120000')
  return `${diff}\\ No newline at end of file\n`
}

function removeFile(file: string, lines: string[]): string {
  return [
    `diff --git a/${file} b/${file}`,
    'deleted file mode 100644',
    'index 1111111..0000000',
    `--- a/${file}`,
    '+++ /dev/null',
    `@@ -1,${lines.length} +0,0 @@`,
    ...lines.map(l => `-${l}`),
    ''
  ].join('\n')
}

interface Setup {
  root: string
  up: Upstream & { base: string }
  repo: Repo
  base: string
  apply: (mails: Buffer[], options?: Partial<ApplyOptions>) => Promise<ApplyResult>
  lines: string[]
}

async function setup(files: Record<string, FileSpec> = { README: 'readme\n' }): Promise<Setup> {
  const root = tempRoot()
  const up = makeUpstream(root, files)
  const lines: string[] = []
  const repo = await Repo.open({
    workDir: path.join(root, 'ml2pr'),
    remoteUrl: up.url,
    allowFileProtocol: true,
    log: l => lines.push(l)
  })
  const base = await repo.fetchBranch('main')
  const apply = (mails: Buffer[], options: Partial<ApplyOptions> = {}): Promise<ApplyResult> =>
    applySeries(repo, base, asPatches(mails), { committer: COMMITTER, log: l => lines.push(l), ...options })
  return { root, up, repo, base, apply, lines }
}

function failureOf(result: ApplyResult): ApplyFailure {
  if (result.ok) throw new Error('expected the series to fail')
  return result.failure
}

/** What the publish step does with a result: push only what applied. */
async function publish(s: Setup, result: ApplyResult): Promise<void> {
  if (result.ok) await s.repo.push('pw/1/main', result.head, { expectedOld: null })
}

describe('protected paths', () => {
  it('refuses a workflow file and nothing reaches the remote', async () => {
    const s = await setup()
    const result = await s.apply([
      mail(1, 1, 'ci: add workflow', addFile('.github/workflows/x.yml', ['on: push']))
    ])
    await publish(s, result)
    expect(failureOf(result)).toMatchObject({
      kind: 'protected-path',
      counter: 1,
      total: 1,
      subject: 'ci: add workflow',
      files: ['.github/workflows/x.yml'],
      baseSha: s.base
    })
    expect(await s.repo.listRemoteBranches('pw/')).toEqual(new Map())
  })

  it('compares without case and checks every commit, not only the series result', async () => {
    const s = await setup()
    const upper = await s.apply([mail(1, 1, 'ci', addFile('.GitHub/Workflows/x.yml', ['on: push']))])
    expect(failureOf(upper).files).toEqual(['.GitHub/Workflows/x.yml'])

    const addThenRemove = await s.apply([
      mail(1, 2, 'add', addFile('.github/x.yml', ['a'])),
      mail(2, 2, 'remove', removeFile('.github/x.yml', ['a']))
    ])
    expect(failureOf(addThenRemove)).toMatchObject({ kind: 'protected-path', counter: 1 })
  })
})

describe('paths git itself refuses', () => {
  it.each([['../outside.txt'], ['.git/hooks/post-applypatch'], ['.GIT/config']])('%s', async file => {
    const s = await setup()
    const failure = failureOf(await s.apply([mail(1, 1, 'evil', addFile(file, ['x']))]))
    expect(failure.kind).toBe('policy')
    expect(failure.message).toContain('invalid path')
    expect(failure.files).toEqual([file])
  })

  it('writing through a symlink created in the same patch', async () => {
    const s = await setup()
    const diff = addSymlink('evil', 'docs') + addFile('evil/written.txt', ['x'])
    const failure = failureOf(await s.apply([mail(1, 1, 'evil', diff)]))
    expect(failure.kind).toBe('policy')
    expect(failure.message).toContain('beyond a symbolic link')
  })
})

describe('policy on the applied result', () => {
  it.each([['/etc/passwd'], ['../../..'], ['../sub/../../x'], ['.git/config']])(
    'symlink to %s',
    async target => {
      const s = await setup()
      const failure = failureOf(await s.apply([mail(1, 1, 'link', addSymlink('sub/link', target))]))
      expect(failure).toMatchObject({ kind: 'policy', files: ['sub/link'] })
    }
  )

  // Each link alone stays inside; together `l2` resolves to a/l1/.. = ../.. (outside the checkout).
  it.each([
    [
      'one patch',
      [
        ['a/l1', '..'],
        ['l2', 'a/l1/..']
      ]
    ],
    [
      'the chain completed by a later patch',
      [
        ['l2', 'a/l1/..'],
        ['a/l1', '..']
      ]
    ],
    [
      'links through links',
      [
        ['x', 'y/..'],
        ['y', 'z'],
        ['z', 'w/..'],
        ['w', '..']
      ]
    ]
  ])('refuses a chain of symlinks that escapes: %s', async (name, links) => {
    const s = await setup()
    const patches =
      name === 'one patch'
        ? [mail(1, 1, 'links', links.map(([l, t]) => addSymlink(l, t)).join(''))]
        : links.map(([l, t], i) => mail(i + 1, links.length, `link ${l}`, addSymlink(l, t)))
    const result = await s.apply(patches)
    await publish(s, result)
    const failure = failureOf(result)
    expect(failure.kind).toBe('policy')
    expect(failure.message).toMatch(/symlink pointing outside the tree \(through /)
    expect(await s.repo.listRemoteBranches('pw/')).toEqual(new Map())
  })

  it('refuses a new link that escapes through a link the base already has, and allows one that stays', async () => {
    const s = await setup({ README: 'readme\n', 'a/l1': { content: '..', mode: 'symlink' } })
    const escaping = failureOf(await s.apply([mail(1, 1, 'link', addSymlink('l2', 'a/l1/..'))]))
    expect(escaping).toMatchObject({ kind: 'policy', files: ['l2'] })
    expect(escaping.message).toBe('l2: symlink pointing outside the tree (through a/l1)')
    const inside = await s.apply([mail(1, 1, 'link', addSymlink('l3', 'a/l1/README'))])
    expect(inside.ok).toBe(true)
  })

  it('allows a symlink that stays inside the tree', async () => {
    const s = await setup()
    const result = await s.apply([mail(1, 1, 'link', addSymlink('docs/readme', '../README'))])
    expect(result.ok).toBe(true)
  })

  it('refuses gitlinks and .gitmodules', async () => {
    const s = await setup()
    const gitlink = [
      'diff --git a/sub b/sub',
      'new file mode 160000',
      'index 0000000..1234567',
      '--- /dev/null',
      '+++ b/sub',
      '@@ -0,0 +1 @@',
      '+Subproject commit 1234567890123456789012345678901234567890',
      ''
    ].join('\n')
    const modules = addFile('.gitmodules', [
      '[submodule "sub"]',
      '\tpath = sub',
      '\turl = https://attacker.example/x'
    ])
    const failure = failureOf(await s.apply([mail(1, 1, 'sub', modules + gitlink)]))
    expect(failure.kind).toBe('policy')
    expect(failure.files.sort()).toEqual(['.gitmodules', 'sub'])
  })

  it('caps blob size and series size', async () => {
    const s = await setup()
    const big = Array.from({ length: 10 }, (_, i) => `line ${i} of a file that is too large`)
    const blob = failureOf(await s.apply([mail(1, 1, 'big', addFile('big.txt', big))], { maxBlobBytes: 100 }))
    expect(blob).toMatchObject({ kind: 'policy', files: ['big.txt'] })

    const series = await s.apply(
      [mail(1, 2, 'one', addFile('one.txt', big)), mail(2, 2, 'two', addFile('two.txt', big))],
      { maxSeriesBytes: 500 }
    )
    expect(failureOf(series)).toMatchObject({ kind: 'policy', counter: 2 })
  })
})

describe('no code runs', () => {
  it('a filter named by a .gitattributes from the series does not run', async () => {
    const s = await setup()
    const home = path.join(s.root, 'home')
    mkdirSync(path.join(home, '.config', 'git'), { recursive: true })
    const marker = path.join(s.root, 'filter-ran')
    const config = `[filter "x"]\n\tsmudge = "touch '${marker}'; cat"\n\tclean = "touch '${marker}'; cat"\n`
    writeFileSync(path.join(home, '.gitconfig'), config)
    writeFileSync(path.join(home, '.config', 'git', 'config'), config)
    const mails = [
      mail(1, 2, 'attributes', addFile('.gitattributes', ['* filter=x'])),
      mail(2, 2, 'file', addFile('hello.txt', ['hello']))
    ]

    // Plain git am in a clone with that user config does run it: the attack is real.
    const reference = gitAmReference(s.up, s.root, mails, {
      env: { HOME: home, GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig') }
    })
    expect(reference.ok).toBe(true)
    expect(existsSync(marker)).toBe(true)
    const { rmSync } = await import('node:fs')
    rmSync(marker)

    const saved = { ...process.env }
    Object.assign(process.env, {
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig')
    })
    try {
      const result = await s.apply(mails)
      expect(result.ok).toBe(true)
    } finally {
      process.env = saved
    }
    expect(existsSync(marker)).toBe(false)
  })

  it('hooks configured in the repository do not run', async () => {
    const s = await setup()
    const hooks = path.join(s.root, 'hooks')
    const markers = path.join(s.root, 'markers')
    mkdirSync(hooks)
    mkdirSync(markers)
    const names = [
      'reference-transaction',
      'post-index-change',
      'pre-push',
      'applypatch-msg',
      'pre-applypatch',
      'post-applypatch',
      'pre-commit',
      'commit-msg',
      'post-commit',
      'pre-auto-gc'
    ]
    for (const name of names) {
      writeFileSync(path.join(hooks, name), `#!/bin/sh\ntouch '${path.join(markers, name)}'\n`)
      chmodSync(path.join(hooks, name), 0o755)
    }
    git(s.repo.gitDir, ['config', 'core.hooksPath', hooks])

    // Control: plain git in the same repository runs them.
    git(s.repo.gitDir, ['update-ref', 'refs/control', s.base])
    expect(readdirSync(markers)).toContain('reference-transaction')
    for (const m of readdirSync(markers)) (await import('node:fs')).rmSync(path.join(markers, m))

    await s.repo.fetchBranch('main')
    const result = await s.apply([
      mail(1, 1, 'file', addFile('hooks/post-applypatch', ['#!/bin/sh', 'touch x']))
    ])
    if (!result.ok) throw new Error('the series should apply')
    expect(await s.repo.push('pw/1/main', result.head, { expectedOld: null })).toMatchObject({ status: 'ok' })
    expect(readdirSync(markers)).toEqual([])
  })
})

describe('failures name the patch and stop the series', () => {
  it('a conflict in patch 2 of 3', async () => {
    const s = await setup({ 'a.txt': 'one\ntwo\nthree\n', 'b.txt': 'b\n' })
    const wrong = [
      'diff --git a/a.txt b/a.txt',
      'index 1111111..2222222 100644',
      '--- a/a.txt',
      '+++ b/a.txt'
    ]
    const mails = [
      mail(1, 3, 'add c', addFile('c.txt', ['c'])),
      mail(2, 3, 'change a', [...wrong, '@@ -1,3 +1,3 @@', ' one', '-TWO', '+2', ' three', ''].join('\n')),
      mail(3, 3, 'add d', addFile('d.txt', ['d']))
    ]
    const failure = failureOf(await s.apply(mails))
    expect(failure).toMatchObject({
      kind: 'conflict',
      counter: 2,
      total: 3,
      subject: 'change a',
      files: ['a.txt']
    })
    expect(failure.message).toContain('patch does not apply')
    expect(s.lines.some(l => l.startsWith('patch 1/3 applied'))).toBe(true)
    expect(s.lines.some(l => l.includes('3/3'))).toBe(false)
  })

  it('a body line that looks like an mbox separator does not split the mail', async () => {
    const s = await setup()
    const raw = mail(1, 1, 'keep from line', addFile('x.txt', ['x'])).toString('utf8')
    const withFrom = raw.replace(
      'keep from line.\n',
      'keep from line.\nFrom someone Mon Jan  1 00:00:00 2024\n'
    )
    const result = await s.apply([Buffer.from(withFrom)])
    if (!result.ok) throw new Error(result.failure.message)
    expect(git(s.repo.gitDir, ['log', '-1', '--format=%B', result.head])).toContain(
      'From someone Mon Jan  1 00:00:00 2024'
    )
  })

  it('a mail without a diff (a cover letter) is malformed', async () => {
    const s = await setup()
    const cover = Buffer.from(
      'From: A <a@example.org>\nSubject: [PATCH 0/1] cover\nDate: Mon, 3 Mar 2025 10:00:00 +0100\n\nHello.\n'
    )
    const failure = failureOf(await s.apply([cover]))
    expect(failure).toMatchObject({ kind: 'malformed', counter: 1, subject: 'cover' })
  })
})

describe('3-way fallback', () => {
  const lines = Array.from({ length: 12 }, (_, i) => `line ${i + 1}`)
  const text = (ls: string[]): string => ls.join('\n') + '\n'

  /** v1 upstream; a patch made on v1; then upstream moves on to v2 with `upstreamChange`. */
  async function drifted(
    upstreamChange: (ls: string[]) => string[]
  ): Promise<{ s: Setup; v1: string; mails: Buffer[]; base: string }> {
    const s = await setup({ 'a.txt': text(lines) })
    const v1 = s.base
    const patched = [...lines]
    patched[5] = 'line 6 changed by the series'
    git(s.up.work, ['checkout', '-q', '-b', 'series'])
    commitFiles(s.up.work, { 'a.txt': text(patched) }, 'a: change line 6')
    const mails = splitMbox(Buffer.from(git(s.up.work, ['format-patch', '--stdout', `${v1}..series`]) + '\n'))
    git(s.up.work, ['checkout', '-q', 'main'])
    commitFiles(s.up.work, { 'a.txt': text(upstreamChange([...lines])) }, 'upstream: drift')
    pushUpstream(s.up)
    const base = await s.repo.fetchBranch('main')
    return { s, v1, mails, base }
  }

  it('uses the preimage blobs of a fetched base-commit, like git am -3', async () => {
    const { s, v1, mails, base } = await drifted(ls => {
      ls[2] = 'line 3 changed upstream'
      return ls
    })
    const plain = await applySeries(s.repo, base, asPatches(mails), { committer: COMMITTER })
    expect(failureOf(plain)).toMatchObject({ kind: 'conflict', files: ['a.txt'] })

    expect(await s.repo.fetchCommit(v1)).toBe(true)
    const result = await applySeries(s.repo, base, asPatches(mails), {
      committer: COMMITTER,
      preimageCommit: v1
    })
    const reference = gitAmReference(s.up, s.root, mails, { threeWay: true })
    if (!reference.ok || !result.ok) throw new Error('both should apply')
    expect(commitWithoutCommitter(s.repo.gitDir, result.head)).toBe(reference.commits[0])
    expect(result.head).toBe(reference.head)
  })

  it('a series already applied upstream is empty', async () => {
    const { s, v1, mails, base } = await drifted(ls => {
      ls[5] = 'line 6 changed by the series'
      return ls
    })
    expect(await s.repo.fetchCommit(v1)).toBe(true)
    const result = await applySeries(s.repo, base, asPatches(mails), {
      committer: COMMITTER,
      preimageCommit: v1
    })
    expect(failureOf(result)).toMatchObject({ kind: 'empty', counter: 1 })
  })
})
