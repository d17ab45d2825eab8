/**
 * Issue "one series from the list to a PR": the bundled action, run as the runner runs it, takes a
 * Patchwork series id and opens a PR holding exactly the author's commits; a re-run changes nothing;
 * a dry run writes nothing; a series touching .github/ is refused and never pushed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { mailsOf, startWorld, TOKEN, type World } from './world.js'

const run = promisify(execFile)

const WRITES = /^(POST|PATCH|PUT|DELETE)$/

/** REST writes and git pushes; git fetches are POSTs to git-upload-pack and only read. */
function isWrite(r: { method: string; path: string }): boolean {
  return (
    r.path.includes('git-receive-pack') || (WRITES.test(r.method) && !r.path.endsWith('/git-upload-pack'))
  )
}

/** What `git am` makes of the same mails, in a normal clone: the reference ml2pr must match. */
async function gitAm(repoDir: string, base: string, mails: Buffer[]): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ml2pr-am-'))
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_COMMITTER_NAME: 'Reference',
    GIT_COMMITTER_EMAIL: 'reference@example.org'
  }
  await run('git', ['clone', '--quiet', '--branch', base, repoDir, `${dir}/w`], { env })
  await writeFile(
    `${dir}/series.mbox`,
    Buffer.concat(
      mails.map(m =>
        Buffer.concat([Buffer.from('From git@z Thu Jan  1 00:00:00 1970\n'), m, Buffer.from('\n')])
      )
    )
  )
  await run('git', ['-C', `${dir}/w`, 'am', '--quiet', `${dir}/series.mbox`], { env })
  return dir
}

async function commitsOf(
  gitArgs: string[],
  range: string
): Promise<{ tree: string; author: string; message: string }[]> {
  const { stdout } = await run('git', [
    ...gitArgs,
    'log',
    '--reverse',
    '--format=%T%x00%an <%ae> %ad%x00%B%x01',
    '--date=raw',
    range
  ])
  return stdout
    .split('\x01')
    .map(s => s.replace(/^\n/, ''))
    .filter(Boolean)
    .map(entry => {
      const [tree, author, message] = entry.split('\x00')
      return { tree, author, message: message.replace(/\n+$/, '') }
    })
}

describe('one series end to end (bundled action)', () => {
  let world: World
  let seriesId: number
  let patches: Buffer[]

  beforeAll(async () => {
    world = await startWorld()
    const [cover, p1, p2, p3, p4, reply] = await mailsOf('mail/b4/trailers-thread-with-followups.mbox')
    patches = [p1, p2, p3, p4]
    seriesId = await world.post({ cover, patches, replies: [reply] })
  }, 120_000)
  afterAll(async () => world?.close())

  it('opens one PR presented like the seed deployment, with the author commits git am would make', async () => {
    const result = await world.run({ 'series-id': String(seriesId) })
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)

    const pulls = world.github.pulls()
    expect(pulls).toHaveLength(1)
    const pr = pulls[0]
    expect(pr.title).toBe('This is a cover for test series 1')
    expect(pr.headRef).toBe(`pw/${seriesId}/vfs.base.ci`)
    expect(pr.baseRef).toBe('vfs.base.ci')
    const lines = (pr.body ?? '').split('\n')
    expect(lines[0]).toMatch(/^<!-- ml2pr:v1 \{.*\} -->$/)
    const msgid = '20221025-test1-v1-0-e4f28f57990c@linuxfoundation.org'
    expect(lines).toEqual(
      expect.arrayContaining([
        `**Series:** ${world.patchwork.url}/project/linux-fsdevel/list/?series=${seriesId}`,
        '**Submitter:** Konstantin Ryabitsev',
        '**Version:** 1',
        '**Patches:** 4/4',
        `**Message-ID:** \`<${msgid}>\``,
        '**Base:** vfs.base.ci',
        `**Lore:** ${world.loreUrl}/linux-fsdevel/${msgid}`,
        '*Automated by ml2pr*'
      ])
    )
    expect(pr.body).toContain(world.baseSha.slice(0, 12))

    // The branch holds four commits on top of vfs.base (not vfs.base.ci: the CI files are the PR base's).
    const head = (await world.git(['rev-parse', `refs/heads/pw/${seriesId}/vfs.base.ci`])).trim()
    expect(pr.headSha).toBe(head)
    const ours = await commitsOf(['--git-dir', world.github.repoDir], `vfs.base..${head}`)
    const amDir = await gitAm(world.github.repoDir, 'vfs.base', patches)
    try {
      const reference = await commitsOf(['-C', `${amDir}/w`], 'origin/vfs.base..HEAD')
      expect(ours).toHaveLength(4)
      expect(ours.map(c => c.tree)).toEqual(reference.map(c => c.tree))
      expect(ours.map(c => c.author)).toEqual(reference.map(c => c.author))
      // Same messages, plus the review trailer its own sender gave on the list (b4's rule) on patch 4.
      expect(ours.slice(0, 3).map(c => c.message)).toEqual(reference.slice(0, 3).map(c => c.message))
      expect(ours[3].message).toBe(
        `${reference[3].message}\nReviewed-by: Follow Upper <follow.upper@example.org>`
      )
    } finally {
      await rm(amDir, { recursive: true, force: true })
    }

    // Outputs and the job summary, as the runner collects them.
    const opened = JSON.parse(result.outputs.opened) as { pr: number }[]
    expect(opened).toEqual([expect.objectContaining({ pr: pr.number })])
    expect(JSON.parse(result.outputs.failed)).toEqual([])
    expect(result.summary).toContain(`#${pr.number}`)
    expect(result.stdout).toContain(`::group::Series ${seriesId}`)

    // The token is masked and never printed, and never sent to Patchwork or lore.
    expect(result.stdout).toContain(`::add-mask::${TOKEN}`)
    expect(result.stdout.replace(`::add-mask::${TOKEN}`, '')).not.toContain(TOKEN)
  })

  it('changes nothing when run again for the same series', async () => {
    const before = world.github.requests.length
    const head = await world.git(['rev-parse', `refs/heads/pw/${seriesId}/vfs.base.ci`])
    const again = await world.run({ 'series-id': String(seriesId) })
    expect(again.code).toBe(0)
    expect(world.github.pulls()).toHaveLength(1)
    expect(
      world.github.requests.slice(before).filter(r => WRITES.test(r.method) && r.path.includes('/pulls'))
    ).toEqual([])
    expect(await world.git(['rev-parse', `refs/heads/pw/${seriesId}/vfs.base.ci`])).toBe(head)
    expect(JSON.parse(again.outputs.opened)).toEqual([])
    expect(again.summary).toMatch(/adopted/)
  })

  it('writes nothing at all in dry-run mode, and says what it would have done', async () => {
    const [cover, p1, p2, p3, p4] = await mailsOf('mail/b4/shazam-git1-just-series.mbox')
    const id = await world.post({ cover, patches: [p1, p2, p3, p4] })
    const before = world.github.requests.length
    const refsBefore = await world.git(['for-each-ref'])
    const dry = await world.run({ 'series-id': String(id), 'dry-run': 'true' })
    expect(dry.code).toBe(0)
    expect(world.github.requests.slice(before).filter(isWrite)).toEqual([])
    expect(await world.git(['for-each-ref'])).toBe(refsBefore)
    expect(dry.summary).toMatch(/open PR pw\/\d+\/vfs\.base\.ci/)
  })

  it('refuses a series that touches .github/ and never pushes it', async () => {
    const evil = Buffer.from(
      [
        'From: Mallory <mallory@example.org>',
        'To: linux-fsdevel@vger.kernel.org',
        'Subject: [PATCH] ci: speed up the build',
        'Date: Mon, 6 Jan 2025 12:00:00 +0000',
        'Message-ID: <evil-1@example.org>',
        '',
        'Harmless, promise.',
        '',
        'Signed-off-by: Mallory <mallory@example.org>',
        '---',
        ' .github/workflows/steal.yml | 1 +',
        ' 1 file changed, 1 insertion(+)',
        '',
        'diff --git a/.github/workflows/steal.yml b/.github/workflows/steal.yml',
        'new file mode 100644',
        'index 0000000..e69de29',
        '--- /dev/null',
        '+++ b/.github/workflows/steal.yml',
        '@@ -0,0 +1 @@',
        '+on: push',
        '-- ',
        '2.47.0',
        ''
      ].join('\n')
    )
    const id = await world.post({ patches: [evil] })
    const result = await world.run({ 'series-id': String(id) })
    expect(result.code).toBe(0)
    expect(await world.git(['for-each-ref', `refs/heads/pw/${id}/`])).toBe('')
    expect(world.github.pulls().filter(p => p.headRef.startsWith(`pw/${id}/`))).toEqual([])
    expect(result.summary).toContain('.github/workflows/steal.yml')
    expect(result.summary).toMatch(/refused/)
  })
})

describe('failures of ml2pr itself fail the run (bundled action)', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld({ lore: false })
  }, 120_000)
  afterAll(async () => world?.close())

  it.each([
    [{ 'apply-branch': 'no-such-branch' }, /couldn't find remote ref/],
    [{ 'github-token': 'ghs_wrong' }, /GitHub refused the token/],
    [{ 'patchwork-project': 'no-such-project' }, /Patchwork project 'no-such-project' does not exist/],
    [{ 'max-series': 'lots' }, /Invalid max-series 'lots'/]
  ])('%j → red run with a clear error', async (inputs, message) => {
    const [cover, p1, p2, p3, p4] = await mailsOf('mail/b4/shazam-git1-just-series.mbox')
    const id = await world.post({ cover, patches: [p1, p2, p3, p4] })
    const result = await world.run({ 'series-id': String(id), ...inputs })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/::error::/)
    expect(result.stdout).toMatch(message)
    expect(result.summary).toMatch(/\*\*The run failed:\*\* /)
    expect(result.stdout.replace(`::add-mask::${TOKEN}`, '')).not.toContain(TOKEN)
    expect(result.summary).not.toContain(TOKEN)
  })

  it('fails the run when the repository does not let Actions create PRs, saying what to change', async () => {
    const [cover, p1, p2, p3, p4] = await mailsOf('mail/b4/shazam-git1-just-series.mbox')
    const id = await world.post({ cover, patches: [p1, p2, p3, p4] })
    world.github.injectFault({
      method: 'POST',
      path: /\/pulls$/,
      status: 403,
      body: {
        message: 'GitHub Actions is not permitted to create or approve pull requests.',
        documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
        status: '403'
      }
    })
    const result = await world.run({ 'series-id': String(id) })
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(
      /::error::GitHub denied access .*not permitted to create or approve pull requests/
    )
  })

  it("falls back to Patchwork's series mbox when lore is unreachable, keeping the cover letter as identity", async () => {
    const [cover, p1, p2, p3, p4] = await mailsOf('mail/b4/shazam-git1-just-series.mbox')
    const id = await world.post({ cover, patches: [p1, p2, p3, p4] })
    const result = await world.run({ 'series-id': String(id) })
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/using Patchwork's series mbox/)
    const pr = world.github.pulls().find(p => p.headRef === `pw/${id}/vfs.base.ci`)
    expect(pr?.state).toBe('open')
    expect(pr?.body).toContain('**Message-ID:** `<20221025-test1-v1-0-')
    expect(await world.git(['rev-list', '--count', `vfs.base..pw/${id}/vfs.base.ci`])).toBe('4\n')
  })
})

describe('lore-only mode (bundled action)', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
  }, 120_000)
  afterAll(async () => world?.close())

  it('finds a series on the list alone and opens one PR named by its Message-ID hash', async () => {
    const [cover, p1, p2, p3, p4, reply] = await mailsOf('mail/b4/trailers-thread-with-followups.mbox')
    await world.lore!.addMails('linux-fsdevel', [cover, p1, p2, p3, p4, reply])
    const inputs = { 'patchwork-url': '', 'lore-list': 'linux-fsdevel', 'base-branch': 'vfs.base.ci' }
    const first = await world.run(inputs)
    expect(first.code).toBe(0)
    const pulls = world.github.pulls()
    expect(pulls).toHaveLength(1)
    expect(pulls[0].headRef).toMatch(/^pw\/l[0-9a-f]{12}\/vfs\.base\.ci$/)
    expect(pulls[0].body).toContain('(no Patchwork)')
    expect(await world.git(['rev-list', '--count', `vfs.base..${pulls[0].headRef}`])).toBe('4\n')
    expect(world.patchwork.requests).toEqual([])
    const again = await world.run(inputs)
    expect(again.code).toBe(0)
    expect(world.github.pulls()).toHaveLength(1)
  })
})
