import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseMails } from '../../src/assemble/mail.js'
import { splitMbox } from '../../src/assemble/mbox.js'
import { patchId } from '../../src/assemble/patch-id.js'
import type { Mail } from '../../src/model.js'
import { fixture, formatOf } from './helpers.js'

let dir = ''
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ml2pr-patch-id-'))
})
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

/** What b4 does: the mail body on the stdin of real `git patch-id --stable`, first id of the output. */
function gitPatchId(body: string): string | undefined {
  const out = execFileSync('git', ['patch-id', '--stable'], {
    input: Buffer.from(body, 'utf8'),
    cwd: dir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(dir, 'none'), HOME: dir }
  }).toString('utf8')
  return out.trim() === '' ? undefined : out.split(/\s+/)[0]
}

/** Every fixture with patch mails: git-generated, cvs-style, renames, mode changes, binaries, QP, base64. */
const FIXTURES = [
  'patchwork/series/revision-threaded-to-cover.mbox',
  'patchwork/series/base-extra-patches.mbox',
  'patchwork/series/bugs-mixed-versions.mbox',
  'patchwork/mail/0007-cvs-format-diff.mbox',
  'patchwork/mail/0008-git-rename.mbox',
  'patchwork/mail/0013-with-utf8-body.mbox',
  'patchwork/mail/0019-multipart-patch.mbox',
  'patchwork/mail/0022-git-mode-change.mbox',
  'patchwork/mail/0026-git-add-mixed-binary-text-files.mbox',
  'b4/trailers-followup-partial-reroll.mbox',
  'b4/trailers-followup-non-git-patch.mbox',
  'b4/shazam-git1-just-series.mbox',
  'generated-public-inbox-1.9/thread-zoe-v1-v2-review.mbox',
  'generated-public-inbox-1.9/raw-patch-base64.mbox',
  'kernel-patches-daemon/series-970926.mbox'
]

/** The patch mails of the fixtures; two Patchwork samples lack a Message-ID, which is irrelevant here. */
async function patchMails(): Promise<Mail[]> {
  const raws = FIXTURES.flatMap(path =>
    splitMbox(fixture(path), formatOf(path)).map((raw, i) => {
      const header = raw.toString('latin1').split(/\r?\n\r?\n/, 1)[0]
      const id = Buffer.from(`Message-ID: <${path}-${i}@fixture>\n`)
      return /^message-id:/im.test(header) ? raw : Buffer.concat([id, raw])
    })
  )
  const { mails, errors } = await parseMails(raws)
  if (errors.length > 0) throw new Error(errors.join('; '))
  return mails.filter(mail => mail.hasDiff)
}

const byId = (all: Mail[], id: string): Mail => {
  const mail = all.find(m => m.messageId === id)
  if (!mail) throw new Error(`no fixture mail <${id}>`)
  return mail
}

/** Each hunk header's start lines moved by `by` (what a rebase onto a changed base does). */
function shiftLines(body: string, by: number): string {
  return body.replace(
    /^@@ -(\d+)((?:,\d+)?) \+(\d+)((?:,\d+)?) @@/gm,
    (_m, a: string, b: string, c: string, d: string) => `@@ -${Number(a) + by}${b} +${Number(c) + by}${d} @@`
  )
}

/** The commit message (everything before the `---` separator) replaced. */
function rewordMessage(body: string, message: string): string {
  const cut = body.search(/^---$/m)
  return `${message}\n${body.slice(cut)}`
}

/** The blob ids on the `index` lines replaced, as after a rebase. */
function otherBlobs(body: string): string {
  return body.replace(/^index [0-9a-f]+\.\.[0-9a-f]+/gm, 'index 0123abc..4567def')
}

/** The per-file sections of a patch in reverse order (the signature stays last). */
function reverseFiles(body: string): string {
  const start = body.search(/^diff --git /m)
  const end = body.search(/^-- $/m)
  const files = body.slice(start, end).split(/^(?=diff --git )/m)
  return body.slice(0, start) + files.reverse().join('') + body.slice(end)
}

describe('patchId', () => {
  it('is exactly what git patch-id --stable prints for every fixture patch mail', async () => {
    const mails = await patchMails()
    expect(mails.length).toBeGreaterThan(25)
    const mismatches = mails
      .map(mail => ({ id: mail.messageId, ours: patchId(mail.body), git: gitPatchId(mail.body) }))
      .filter(r => r.ours !== r.git)
    expect(mismatches).toEqual([])
    // Most of them do have an id (git prints nothing without a `diff ` line, e.g. cvs-style diffs).
    expect(mails.filter(m => patchId(m.body) !== undefined).length).toBeGreaterThan(20)
  })

  it('gives no id for text without a diff section, like git', () => {
    const text = 'A cover letter.\n\n 2 files changed, 3 insertions(+)\n'
    expect(patchId(text)).toBeUndefined()
    expect(gitPatchId(text)).toBeUndefined()
  })

  describe('equal ids exactly when git patch-id --stable gives equal ids', () => {
    /** Asserts our verdict, git's verdict, and that both ids are git's. */
    function compare(a: string, b: string): boolean {
      const ours = [patchId(a), patchId(b)]
      const git = [gitPatchId(a), gitPatchId(b)]
      expect(ours).toEqual(git)
      expect(git[0]).toMatch(/^[0-9a-f]{40}$/)
      expect(git[1]).toMatch(/^[0-9a-f]{40}$/)
      return ours[0] === ours[1]
    }

    it('the same patch sent again as v2 (other encoding, same diff): equal', async () => {
      const all = await patchMails()
      const v1 = byId(all, '20250303090000.12345-1-zoe@example.org')
      const v2 = byId(all, '20250304090000.23456-1-zoe@example.org')
      expect(v1.body).not.toEqual(v2.body)
      expect(compare(v1.body, v2.body)).toBe(true)
    })

    it('only the commit message changed: equal', async () => {
      const patch = byId(await patchMails(), '1473632524-8585-3-git-send-email-stephenfinucane@gmail.com')
      const reworded = rewordMessage(
        patch.body,
        'A different explanation.\n\nSigned-off-by: X <x@example.org>'
      )
      expect(reworded).not.toEqual(patch.body)
      expect(compare(patch.body, reworded)).toBe(true)
    })

    it('shifted line numbers and other blob ids (a rebase): equal', async () => {
      const patch = byId(await patchMails(), '1473632524-8585-3-git-send-email-stephenfinucane@gmail.com')
      const rebased = otherBlobs(shiftLines(patch.body, 40))
      expect(rebased).toContain('@@ -41,8 +40,0 @@')
      expect(compare(patch.body, rebased)).toBe(true)
    })

    it('files in another order: equal (--stable sums per file)', async () => {
      const patch = byId(await patchMails(), '1473632524-8585-3-git-send-email-stephenfinucane@gmail.com')
      const reordered = reverseFiles(patch.body)
      expect(reordered.indexOf('diff --git a/test.txt')).toBeLessThan(
        reordered.indexOf('diff --git a/test.md')
      )
      expect(compare(patch.body, reordered)).toBe(true)
    })

    it('whitespace changed inside lines: equal (git ignores all whitespace)', async () => {
      const patch = byId(await patchMails(), '1473632524-8585-2-git-send-email-stephenfinucane@gmail.com')
      const spaced = patch.body.replace(/^\+Lorem ipsum/m, '+Lorem    ipsum\t')
      expect(spaced).not.toEqual(patch.body)
      expect(compare(patch.body, spaced)).toBe(true)
    })

    it('the diff changed (v1 to v2 of a real series): different', async () => {
      const all = await patchMails()
      const v1 = byId(all, '1473632524-8585-2-git-send-email-stephenfinucane@gmail.com')
      const v2 = byId(all, '1473633055-10316-2-git-send-email-stephenfinucane@gmail.com')
      expect(compare(v1.body, v2.body)).toBe(false)
    })

    it('one added line changed: different', async () => {
      const patch = byId(await patchMails(), '1473632524-8585-2-git-send-email-stephenfinucane@gmail.com')
      const edited = patch.body.replace(/^\+Lorem ipsum/m, '+Lorem ipsam')
      expect(edited).not.toEqual(patch.body)
      expect(compare(patch.body, edited)).toBe(false)
    })

    it('a renamed file: different', async () => {
      const patch = byId(await patchMails(), '1473632524-8585-2-git-send-email-stephenfinucane@gmail.com')
      const renamed = patch.body.replace(/test\.txt/g, 'other.txt')
      expect(compare(patch.body, renamed)).toBe(false)
    })
  })
})
