import { describe, expect, it } from '@jest/globals'
import path from 'node:path'
import { applySeries } from '../../src/apply/apply.js'
import { Repo } from '../../src/apply/repo.js'
import type { ApplyResult } from '../../src/model.js'
import {
  asPatches,
  bundleUpstream,
  COMMITTER,
  commitWithoutCommitter,
  fixture,
  gitAmReference,
  makeUpstream,
  splitMbox,
  type FileSpec,
  type Upstream,
  useTempDirs
} from './helpers.js'

/**
 * The promise to maintainers: a branch ml2pr pushes holds the commits `git am` would make from the same
 * mails: same tree, author, date and message. The reference runs `git am --committer-date-is-author-date`
 * with ml2pr's committer, so even the commit ids must be equal.
 */

const tempRoot = useTempDirs()

async function ml2prApply(
  up: Upstream & { base: string },
  root: string,
  mails: Buffer[]
): Promise<{ repo: Repo; result: ApplyResult }> {
  const repo = await Repo.open({
    workDir: path.join(root, 'ml2pr'),
    remoteUrl: up.url,
    allowFileProtocol: true
  })
  const base = await repo.fetchBranch('main')
  expect(base).toBe(up.base)
  const result = await applySeries(repo, base, asPatches(mails), { committer: COMMITTER })
  return { repo, result }
}

/** Applies with ml2pr and with git am; returns how many commits were compared (all must be equal). */
async function compareWithGitAm(
  up: Upstream & { base: string },
  root: string,
  mails: Buffer[]
): Promise<number> {
  const reference = gitAmReference(up, root, mails)
  if (!reference.ok) throw new Error(`git am failed: ${reference.stderr}`)
  const { repo, result } = await ml2prApply(up, root, mails)
  if (!result.ok) throw new Error(`ml2pr failed: ${JSON.stringify(result.failure)}`)
  expect(result.commits.map(c => c.counter)).toEqual(mails.map((_, i) => i + 1))
  const ours = result.commits.map(c => commitWithoutCommitter(repo.gitDir, c.sha))
  expect(ours).toEqual(reference.commits)
  expect(result.commits.map(c => c.sha)).toEqual(reference.shas)
  return ours.length
}

/** The lines a hunk needs to find (context and removed lines): enough of a file for a mail to apply. */
function preimageOf(mail: string): string {
  const lines: string[] = []
  let inHunk = false
  for (const line of mail.split('\n')) {
    if (line.startsWith('@@')) inHunk = true
    else if (line.startsWith('-- ') && line.trim() === '--') inHunk = false
    else if (inHunk && (line.startsWith(' ') || line.startsWith('-'))) lines.push(line.slice(1))
  }
  return lines.join('\n') + '\n'
}

describe('applySeries makes the commits git am makes', () => {
  it('b4 shazam series (patches 1-4, cover left out) on the b4 test repository', async () => {
    const root = tempRoot()
    const up = bundleUpstream(root)
    const mails = splitMbox(fixture('shazam-git1-just-series.mbox'), { mboxrd: true }).slice(1)
    expect(mails).toHaveLength(4)
    expect(await compareWithGitAm(up, root, mails)).toBe(4)
  })

  it('Patchwork series mbox (Reviewed-by merged in by Patchwork)', async () => {
    const root = tempRoot()
    const up = bundleUpstream(root)
    const mails = splitMbox(fixture('series-1-mbox.mbox'))
    expect(mails).toHaveLength(4)
    expect(await compareWithGitAm(up, root, mails)).toBe(4)
  })

  it('base64 body and an RFC 2047 UTF-8 author', async () => {
    const root = tempRoot()
    const up = makeUpstream(root, { 'fs/example.c': 'int example(void)\n{\n\treturn 0;\n}\n' })
    const mail = fixture('synthetic-base64-author-v1.eml')
    expect(await compareWithGitAm(up, root, [mail])).toBe(1)
    const { repo, result } = await ml2prApply(up, path.join(root, 'again'), [mail])
    expect(result.ok && commitWithoutCommitter(repo.gitDir, result.head)).toContain(
      'author Zoë Ñandú <zoe@example.org>'
    )
  })

  it.each([['0013-with-utf8-body.mbox'], ['0014-with-unencoded-utf8-headers.mbox']])(
    'UTF-8 headers and body (%s)',
    async name => {
      const root = tempRoot()
      const mail = fixture(name)
      const up = makeUpstream(root, { MAINTAINERS: preimageOf(mail.toString('utf8')) })
      expect(await compareWithGitAm(up, root, [mail])).toBe(1)
    }
  )

  it('a mail with CRLF line ends, as some mail paths deliver it', async () => {
    const root = tempRoot()
    const lf = fixture('0013-with-utf8-body.mbox')
    const up = makeUpstream(root, { MAINTAINERS: preimageOf(lf.toString('utf8')) })
    const crlf = Buffer.from(lf.toString('utf8').replace(/\n/g, '\r\n'), 'utf8')
    expect(await compareWithGitAm(up, root, [crlf])).toBe(1)
  })

  it('rename without content change (0008)', async () => {
    const root = tempRoot()
    const dir = 'package/rpi-userland'
    const up = makeUpstream(root, {
      [`${dir}/rpi-userland-add-pkgconfig-files.patch`]: 'pkgconfig\n',
      [`${dir}/rpi-userland-makefiles-0001-cmake-vmcs.cmake-allow-to-override-VMCS_IN.patch`]: 'vmcs\n'
    })
    expect(await compareWithGitAm(up, root, [fixture('0008-git-rename.mbox')])).toBe(1)
  })

  it('mode change only (0022)', async () => {
    const root = tempRoot()
    const up = makeUpstream(root, { 'scripts/kconfig/nconf-cfg.sh': '#!/bin/sh\necho nconf\n' })
    expect(await compareWithGitAm(up, root, [fixture('0022-git-mode-change.mbox')])).toBe(1)
  })

  it('binary literal plus a text file (0026 with a/ b/ prefixes)', async () => {
    const root = tempRoot()
    const up = makeUpstream(root, { README: 'readme\n' } satisfies Record<string, FileSpec>)
    const mail = Buffer.from(
      fixture('0026-git-add-mixed-binary-text-files.mbox')
        .toString('utf8')
        .replace(/^diff --git (\S+) \S+$/gm, 'diff --git a/$1 b/$1')
        .replace(/^\+\+\+ quit\.sh$/m, '+++ b/quit.sh'),
      'utf8'
    )
    expect(await compareWithGitAm(up, root, [mail])).toBe(1)
  })

  it('0026 as sent (no a/ b/ prefixes) fails like git am, naming the reason', async () => {
    const root = tempRoot()
    const up = makeUpstream(root, { README: 'readme\n' })
    const mail = fixture('0026-git-add-mixed-binary-text-files.mbox')
    const reference = gitAmReference(up, root, [mail])
    expect(reference.ok).toBe(false)
    expect(!reference.ok && reference.stderr).toContain('lacks filename information')
    const { result } = await ml2prApply(up, root, [mail])
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.failure).toMatchObject({ kind: 'conflict', counter: 1, total: 1, baseSha: up.base })
    expect(result.failure.subject).toBe('Add a single pixel bitmap image, minimal script')
    expect(result.failure.message).toContain('lacks filename information')
  })

  it('is reproducible: applying twice gives the same commit ids', async () => {
    const root = tempRoot()
    const up = bundleUpstream(root)
    const mails = splitMbox(fixture('series-1-mbox.mbox'))
    const first = await ml2prApply(up, path.join(root, 'one'), mails)
    const second = await ml2prApply(up, path.join(root, 'two'), mails)
    expect(first.result.ok && first.result.head).toMatch(/^[0-9a-f]{40}$/)
    expect(second.result.ok && second.result.head).toBe(first.result.ok && first.result.head)
  })

  it('adds follow-up trailers after the existing ones', async () => {
    const root = tempRoot()
    const up = bundleUpstream(root)
    const mails = splitMbox(fixture('series-1-mbox.mbox')).slice(0, 1)
    const repo = await Repo.open({
      workDir: path.join(root, 'ml2pr'),
      remoteUrl: up.url,
      allowFileProtocol: true
    })
    const base = await repo.fetchBranch('main')
    const trailers = [{ name: 'Acked-by', value: 'Some Maintainer <sm@example.org>' }]
    const result = await applySeries(
      repo,
      base,
      [{ counter: 1, total: 1, raw: mails[0] ?? Buffer.alloc(0), trailers }],
      {
        committer: COMMITTER
      }
    )
    expect(result.ok).toBe(true)
    if (!result.ok) return
    const message = commitWithoutCommitter(repo.gitDir, result.head)
    expect(message).toMatch(
      /Signed-off-by: Konstantin Ryabitsev <konstantin@linuxfoundation.org>\n(?:.*\n)*Acked-by: Some Maintainer <sm@example.org>$/
    )
  })
})
