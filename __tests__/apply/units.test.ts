import { describe, expect, it } from '@jest/globals'
import { filesFromApplyErrors } from '../../src/apply/apply.js'
import { commitMessage, normaliseLineEndings, parseMailInfo, stripspace } from '../../src/apply/mailinfo.js'
import { patchFiles, unquotePath } from '../../src/apply/patch-files.js'
import {
  newBlobs,
  parseRawDiff,
  protectedFiles,
  submoduleViolations,
  symlinkEscapes,
  escapingLinks,
  resolveLink
} from '../../src/apply/policy.js'
import { assertRange, isSafeBranchName } from '../../src/apply/refs.js'
import { Git } from '../../src/apply/git.js'
import { findBlobs, parseBatch, parseTree } from '../../src/apply/tree.js'
import { authConfig, parsePushOutput } from '../../src/apply/repo.js'
import { FIXTURE_DIR, fixture, git, makeTempDir } from './helpers.js'
import path from 'node:path'

describe('stripspace', () => {
  const samples = [
    '\n\n  \nSubject  \n\n\n\nbody line \t\r\n\n\nlast\n\n\n',
    'no newline at end',
    '\v vertical tab stays\f\n\n',
    '',
    '   \n\t\n',
    'a\n \nb\n'
  ]
  it.each(samples.map(s => [JSON.stringify(s), s]))('matches git stripspace for %s', (_, sample) => {
    const t = makeTempDir()
    try {
      const expected = git(t.dir, ['stripspace'], { input: sample })
      // git() trims one final newline; compare the same way.
      expect(stripspace(Buffer.from(sample)).toString('utf8').replace(/\n$/, '')).toBe(expected)
    } finally {
      t.cleanup()
    }
  })

  it('builds the git am message: subject, blank line, body', () => {
    expect(
      commitMessage(
        Buffer.from('fs: fix'),
        Buffer.from('\nWhy.  \n\n\nSigned-off-by: A <a@b>\n\n')
      ).toString()
    ).toBe('fs: fix\n\nWhy.\n\nSigned-off-by: A <a@b>\n')
  })
})

describe('mail normalisation and mailinfo output', () => {
  it('turns CRLF into LF only at line ends, like git mailsplit', () => {
    expect(normaliseLineEndings(Buffer.from('a\r\nb\rc\r\n')).toString()).toBe('a\nb\rc\n')
    const lf = Buffer.from('x\n')
    expect(normaliseLineEndings(lf)).toBe(lf)
  })

  it('reads Author/Email/Subject/Date', () => {
    const info = parseMailInfo(
      Buffer.from('Author: Zoë\nEmail: z@example.org\nSubject: fs: x\nDate: Mon, 3 Mar 2025\n\n')
    )
    expect(info).toMatchObject({ author: 'Zoë', email: 'z@example.org', date: 'Mon, 3 Mar 2025' })
    expect(info.subject.toString()).toBe('fs: x')
  })
})

describe('patchFiles', () => {
  it('finds the files of a real series patch and its preimage ids', () => {
    const files = patchFiles(fixture('series-1-mbox.mbox').toString('utf8'))
    expect([...files.paths].sort()).toEqual(['file1.txt', 'file2.txt', 'lipsum.txt'])
    expect(files.preimageIds.size).toBeGreaterThan(0)
  })

  it('renames, copies, quoted names, mode-only headers, and hunk lines that look like headers', () => {
    const patch = [
      'diff --git a/old name.c b/new name.c',
      'similarity index 90%',
      'rename from old name.c',
      'rename to new name.c',
      'diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"',
      'old mode 100644',
      'new mode 100755',
      'diff --git a/x.c b/x.c',
      'index abcdef1..1234567 100644',
      '--- a/x.c',
      '+++ b/x.c',
      '@@ -1,2 +1,2 @@',
      '--- not/a/header',
      '+++ neither',
      ' context',
      'diff --git a/src.c b/copy.c',
      'copy from src.c',
      'copy to copy.c',
      ''
    ].join('\n')
    const files = patchFiles(patch)
    expect([...files.paths].sort()).toEqual([
      'café.txt',
      'copy.c',
      'new name.c',
      'old name.c',
      'src.c',
      'x.c'
    ])
    expect([...files.preimageIds]).toEqual(['abcdef1'])
  })

  it('unquotes git C-style paths', () => {
    expect(unquotePath('"a\\tb\\"c" rest')).toEqual({ path: 'a\tb"c', rest: ' rest' })
    expect(unquotePath('plain')).toBeUndefined()
  })
})

describe('policy helpers', () => {
  const raw = Buffer.from(
    [
      ':000000 100644 0000000000000000000000000000000000000000 1111111111111111111111111111111111111111 A',
      '.github/workflows/ci.yml',
      ':100644 000000 2222222222222222222222222222222222222222 0000000000000000000000000000000000000000 D',
      'moved-from.c',
      ':000000 100644 0000000000000000000000000000000000000000 2222222222222222222222222222222222222222 A',
      'moved-to.c',
      ':000000 160000 0000000000000000000000000000000000000000 3333333333333333333333333333333333333333 A',
      'sub',
      ''
    ].join('\0')
  )
  const changes = parseRawDiff(raw)

  it('parses diff-tree -z output', () => {
    expect(changes).toHaveLength(4)
    expect(changes[0]).toMatchObject({ status: 'A', newMode: '100644', path: '.github/workflows/ci.yml' })
  })

  it('finds protected paths, submodules and new blobs', () => {
    expect(protectedFiles(changes, ['.github/'])).toEqual(['.github/workflows/ci.yml'])
    expect(
      protectedFiles(parseRawDiff(Buffer.from(':000000 100644 0 1 A\0.GITHUB\0')), ['.github/'])
    ).toEqual(['.GITHUB'])
    expect(submoduleViolations(changes).map(v => v.path)).toEqual(['sub'])
    expect([...newBlobs(changes).values()]).toEqual(['.github/workflows/ci.yml'])
  })

  it.each([
    ['a/link', '../b', false],
    ['a/link', 'b/c', false],
    ['a/link', '../../b', true],
    ['link', '/etc', true],
    ['link', '', true],
    ['a/link', '../.git/hooks', true],
    ['a/link', '..\\..\\x', true]
  ])('symlink %s -> %s escapes: %s', (link, target, escapes) => {
    expect(symlinkEscapes(link, target)).toBe(escapes)
  })

  it('resolves links through links against the whole tree', () => {
    const links = new Map([
      ['a/l1', '..'],
      ['l2', 'a/l1/..'],
      ['ok', 'a/l1/README'],
      ['loop1', 'loop2'],
      ['loop2', 'loop1'],
      ['upstream', '../x']
    ])
    expect(resolveLink('l2', links)).toEqual({ outcome: 'escapes', visited: ['l2', 'a/l1'] })
    expect(resolveLink('ok', links).outcome).toBe('inside')
    expect(resolveLink('loop1', links).outcome).toBe('loop')
    // Only links the series touched (or went through) are its problem; `upstream` came with the base.
    expect(escapingLinks(links, new Set(['a/l1', 'loop1'])).map(v => v.path)).toEqual([
      'l2',
      'loop1',
      'loop2'
    ])
  })

  it('names the files in git apply errors', () => {
    const stderr = [
      'error: patch failed: drivers/x.c:12',
      'error: drivers/x.c: patch does not apply',
      "error: invalid path '../evil'",
      'U fs/conflict.c'
    ].join('\n')
    expect(filesFromApplyErrors(stderr).sort()).toEqual(['../evil', 'drivers/x.c', 'fs/conflict.c'])
  })
})

describe('names handed to git', () => {
  it.each([
    ['pw/123/main', true],
    ['main', true],
    ['-x', false],
    ['..', false],
    ['a.lock', false],
    ['pw/1/.hidden', false],
    ['a b', false],
    ['a@{1}', false],
    ['pw//1', false]
  ])('branch %s safe: %s', (name, ok) => {
    expect(isSafeBranchName(name)).toBe(ok)
  })

  it('accepts only ranges of object ids and own refs', () => {
    const a = '1'.repeat(40)
    expect(assertRange(`${a}..${a}`)).toBe(`${a}..${a}`)
    expect(assertRange('refs/ml2pr/heads/main')).toBe('refs/ml2pr/heads/main')
    expect(() => assertRange('--output=/tmp/x')).toThrow()
    expect(() => assertRange('HEAD@{1}..main')).toThrow()
  })
})

describe('push output', () => {
  const ref = 'refs/heads/pw/1/main'
  it('reads ok, stale and server rejections', () => {
    expect(parsePushOutput(`To x\n*\tabc:${ref}\t[new branch]\nDone\n`, '', ref, 0)).toEqual({
      status: 'ok',
      detail: '[new branch]'
    })
    expect(parsePushOutput(`To x\n!\tabc:${ref}\t[rejected] (stale info)\nDone\n`, '', ref, 1).status).toBe(
      'rejected-stale'
    )
    const stderr =
      'remote: error: GH013: Repository rule violations found for refs/heads/pw/1/main.\nremote: - Cannot create ref'
    const rejected = parsePushOutput(
      `To x\n!\tabc:${ref}\t[remote rejected] (push declined due to repository rule violations)\n`,
      stderr,
      ref,
      1
    )
    expect(rejected.status).toBe('rejected-by-server')
    expect(rejected.status === 'rejected-by-server' && rejected.message).toContain('GH013')
  })

  it('takes a lease the server found stale while locking the ref as stale, a name clash as a refusal', () => {
    const raced = parsePushOutput(
      `To x\n!\tabc:${ref}\t[remote rejected] (failed to update ref)\n`,
      `remote: error: cannot lock ref '${ref}': is at ${'1'.repeat(40)} but expected ${'2'.repeat(40)}\n`,
      ref,
      1
    )
    expect(raced.status).toBe('rejected-stale')
    const clash = parsePushOutput(
      `To x\n!\tabc:${ref}\t[remote rejected] (failed to update ref)\n`,
      `remote: error: cannot lock ref '${ref}': 'refs/heads/pw/1' exists; cannot create '${ref}'\n`,
      ref,
      1
    )
    expect(clash.status).toBe('rejected-by-server')
  })

  it('treats a push without a ref status as an error of the whole push', () => {
    expect(() => parsePushOutput('', 'fatal: Authentication failed', ref, 128)).toThrow(
      'Authentication failed'
    )
  })

  it('builds the auth header for the server only', () => {
    const { config, credential } = authConfig(new URL('https://ghe.example.com/o/r.git'), undefined, 'tok')
    expect(Buffer.from(credential, 'base64').toString()).toBe('x-access-token:tok')
    expect(config).toContain('[http "https://ghe.example.com/"]')
  })
})

describe('tree lookup', () => {
  it('parses raw trees and cat-file batches', () => {
    const id = Buffer.alloc(20, 0xab)
    const raw = Buffer.concat([Buffer.from('100644 a.c\0'), id, Buffer.from('40000 dir\0'), id])
    expect(parseTree(raw, 20)).toEqual([
      { mode: '100644', name: 'a.c', oid: 'ab'.repeat(20) },
      { mode: '40000', name: 'dir', oid: 'ab'.repeat(20) }
    ])
    const batch = Buffer.from(`${'1'.repeat(40)} blob 3\nabc\n${'2'.repeat(40)} missing\n`)
    expect([...parseBatch(batch)].map(([k, v]) => [k, v.toString()])).toEqual([['1'.repeat(40), 'abc']])
  })

  it('finds the same ids as ls-tree, reading only the trees on the way', async () => {
    const t = makeTempDir()
    try {
      const bare = path.join(t.dir, 'r.git')
      git(t.dir, ['clone', '-q', '--bare', path.join(FIXTURE_DIR, 'gitdir.bundle'), bare])
      const listing = git(bare, ['ls-tree', '-r', 'HEAD'])
        .split('\n')
        .map(l => [l.split('\t')[1] ?? '', l.split(' ')[2]?.split('\t')[0] ?? ''] as const)
      const wanted = new Set([...listing.map(([f]) => f), 'no/such/file'])
      const g = (await Git.create()).withGitDir(bare)
      const found = await findBlobs(g, git(bare, ['rev-parse', 'HEAD']), wanted)
      expect(found).toEqual(new Map(listing))
    } finally {
      t.cleanup()
    }
  })
})
