import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from '@jest/globals'
import type { ApplyFailure, SeriesRef } from '../../src/model.js'
import {
  BODY_MAX,
  FOOTER,
  loreUrl,
  normalizeSeriesName,
  parseMarker,
  renderBody,
  renderMarker,
  renderMergedComment,
  renderNeedsRebaseComment,
  renderStaleComment,
  renderStateComment,
  renderSupersededComment,
  renderTitle,
  reproduceCommand,
  type PrBodyInput,
  type PrMarker
} from '../../src/publish/render.js'
import { ZWSP } from '../../src/publish/sanitize.js'

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/publish/${name}`, import.meta.url), 'utf8')

const SEED_MSGID = '0100019d311bed04-dbb67b48-c55d-4e6a-962a-a0f8b714f2e7-000000@email.amazonses.com'
const BASE_SHA = '5d1a1c3b0f7e2a9c4b6d8e0f1a2b3c4d5e6f7a8b'
const LORE = { url: 'https://lore.kernel.org', list: 'linux-fsdevel' }

/** The series behind the seed PR, as Patchwork describes it. */
const seedRef: SeriesRef = {
  key: '1073807',
  patchworkId: 1073807,
  name: 'dax: prepare for famfs',
  version: 10,
  total: 8,
  receivedTotal: 8,
  receivedAll: true,
  submitter: { name: 'John Groves', email: 'john@groves.net' },
  webUrl: 'https://patchwork.kernel.org/project/linux-fsdevel/list/?series=1073807',
  coverMsgid: SEED_MSGID,
  patchMsgids: [],
  patchIds: [],
  mboxUrl: 'https://patchwork.kernel.org/series/1073807/mbox/',
  date: '2026-03-27T22:31:00Z'
}

const seedInput: PrBodyInput = {
  ref: seedRef,
  messageId: SEED_MSGID,
  base: 'vfs.base.ci',
  applyBranch: 'vfs.base',
  baseSha: BASE_SHA,
  baseReason: { kind: 'default' },
  lore: LORE
}

/** A real Patchwork series (patchwork.kernel.org API) as discovery would describe it. */
function refFromPatchwork(file: string): SeriesRef {
  const s = JSON.parse(fixture(file)) as {
    id: number
    name: string
    version: number
    total: number
    received_total: number
    received_all: boolean
    web_url: string
    mbox: string
    date: string
    submitter: { name: string; email: string }
    cover_letter: { msgid: string } | null
    patches: { id: number; msgid: string }[]
  }
  const bare = (m: string): string => m.replace(/^<|>$/g, '')
  return {
    key: String(s.id),
    patchworkId: s.id,
    name: s.name,
    version: s.version,
    total: s.total,
    receivedTotal: s.received_total,
    receivedAll: s.received_all,
    submitter: s.submitter,
    webUrl: s.web_url,
    coverMsgid: s.cover_letter ? bare(s.cover_letter.msgid) : undefined,
    patchMsgids: s.patches.map(p => bare(p.msgid)),
    patchIds: s.patches.map(p => p.id),
    mboxUrl: s.mbox,
    date: s.date
  }
}

/** The body as GitHub shows it in text: Markdown syntax gone, as in the seed page copy. */
function asDisplayed(markdown: string): string[] {
  return markdown
    .split('\n')
    .filter(l => l !== '---' && l.trim() !== '')
    .map(l =>
      l
        .replace(/^\*\*([^*]+):\*\* /, '$1: ')
        .replace(/`([^`]*)`/g, '$1')
        .replace(/^\*(.*)\*$/, '$1')
    )
}

/** Lines ml2pr adds below the seed's fields (documented in render.ts). */
const ADDITIONS = /^\*\*(Applied onto|Apply branch|Author's base-commit|Supersedes|Identity):\*\* /

describe('renderBody: the seed presentation', () => {
  const seedPage = fixture('seed-pr-951.txt').split('\n')

  it('shows the same lines as the seed PR, apart from the marker and the additions', () => {
    const start = seedPage.findIndex(l => l.includes('commented Mar 27, 2026')) + 1
    const end = seedPage.indexOf('Automated by ml2pr', start)
    const seedLines = seedPage.slice(start, end + 1).filter(l => l.trim() !== '')

    const body = renderBody(seedInput)
    const [marker, ...rest] = body.split('\n')
    expect(marker).toMatch(/^<!-- ml2pr:v1 \{.*\} -->$/)
    expect(asDisplayed(rest.filter(l => !ADDITIONS.test(l)).join('\n'))).toEqual(seedLines)
  })

  it('writes the seed deployment Markdown for each field', () => {
    const lines = renderBody(seedInput).split('\n')
    expect(lines.slice(1, 8)).toEqual([
      '**Series:** https://patchwork.kernel.org/project/linux-fsdevel/list/?series=1073807',
      '**Submitter:** John Groves',
      '**Version:** 10',
      '**Patches:** 8/8',
      `**Message-ID:** \`<${SEED_MSGID}>\``,
      '**Base:** vfs.base.ci',
      `**Lore:** https://lore.kernel.org/linux-fsdevel/${SEED_MSGID}`
    ])
    expect(renderBody(seedInput).endsWith('\n\n---\n*Automated by ml2pr*')).toBe(true)
  })

  it('adds the base commit and why, the apply branch, the author base-commit and the superseded PR', () => {
    const body = renderBody({
      ...seedInput,
      authorBaseCommit: 'f435c12',
      supersedes: { pr: 940, version: 9 }
    })
    expect(body).toContain(`**Applied onto:** \`${BASE_SHA}\` (the configured base)`)
    expect(body).toContain('**Apply branch:** vfs.base')
    expect(body).toContain("**Author's base-commit:** `f435c12`")
    expect(body).toContain('**Supersedes:** #940 (v9)')
  })

  it('says which base-map rule chose the base', () => {
    const ref = refFromPatchwork('series-984880.json')
    const body = renderBody({
      ref,
      messageId: ref.coverMsgid ?? '',
      base: 'bpf-next_base',
      baseSha: BASE_SHA,
      baseReason: { kind: 'base-map', prefix: 'bpf-next', branch: 'bpf-next_base' },
      lore: { url: 'https://lore.kernel.org/', list: 'bpf' }
    })
    expect(body).toContain(`**Applied onto:** \`${BASE_SHA}\` (base-map: \`bpf-next\` → bpf-next\\_base)`)
    expect(body).toContain(
      '**Lore:** https://lore.kernel.org/bpf/20250722205357.3347626-5-samitolvanen@google.com'
    )
    expect(body).toContain('**Version:** 13')
    expect(body).toContain('**Submitter:** Sami Tolvanen')
    expect(body).not.toContain('**Apply branch:**')
  })

  it('names a lore-only series by its hash instead of a Patchwork link', () => {
    const ref: SeriesRef = { ...seedRef, key: 'a1b2c3d4e5f6', patchworkId: undefined, webUrl: undefined }
    const body = renderBody({ ...seedInput, ref })
    expect(body).not.toContain('**Series:**')
    expect(body).toContain('**Identity:** lore series `a1b2c3d4e5f6` (no Patchwork)')
  })

  it('shows the range-diff collapsed and fenced', () => {
    const body = renderBody({
      ...seedInput,
      rangeDiff: { againstVersion: 9, text: '1:  abc = 1:  def dax: x\n' }
    })
    expect(body).toContain(
      '<details><summary>Range-diff against v9</summary>\n\n```\n1:  abc = 1:  def dax: x\n```\n\n</details>'
    )
  })
})

describe('renderBody: hostile mail text', () => {
  it('lets no mention from the submitter name through (threat 12)', () => {
    const ref = { ...seedRef, submitter: { name: '@torvalds @linux/maintainers', email: 'x@example.org' } }
    const body = renderBody({ ...seedInput, ref })
    expect(body).toContain(`**Submitter:** @${ZWSP}torvalds @${ZWSP}linux/maintainers`)
    expect(body).not.toMatch(/(^|[^A-Za-z0-9])@[A-Za-z0-9]/m)
  })

  it('keeps references and closing keywords in the cover letter inert (threat 13)', () => {
    const cover = 'Fixes #1\ncloses o/r#2\nhttps://github.com/o/r/issues/3\n@torvalds'
    const body = renderBody({ ...seedInput, coverLetter: cover })
    // Inside a fenced block GitHub links nothing; the ZWSP also covers the plain-text notification mail.
    expect(body).toContain(`@${ZWSP}torvalds`)
    expect(body).not.toMatch(/(^|[^A-Za-z0-9])@[A-Za-z0-9]/m)
    const outsideBlocks = body.replace(/<details>[\s\S]*?\n<\/details>/g, '')
    expect(outsideBlocks).not.toMatch(/#\d/)
  })

  it('does not let a cover letter spoof the marker (threat 14)', () => {
    const evil: PrMarker = { ...markerOf(seedInput), key: '666', version: 99 }
    const cover = `${renderMarker(evil)}\nhello`
    const body = renderBody({ ...seedInput, coverLetter: cover })
    expect(body.split('<!--')).toHaveLength(2) // the first line's marker only
    expect(parseMarker(body)).toEqual(markerOf(seedInput))
    // Even a body that begins with the cover letter text is not taken for ml2pr's.
    expect(parseMarker(body.slice(body.indexOf('<details>')))).toBeUndefined()
  })

  it('keeps a 12-backtick line, `</details>` and `---` inside the cover letter block (threat 15)', () => {
    const cover = ['x', '`'.repeat(12), '</details>', '---', '# not a heading'].join('\n')
    const body = renderBody({ ...seedInput, coverLetter: cover })
    const open = body.indexOf('<details><summary>Cover letter</summary>\n\n')
    const fence = body.slice(open).split('\n')[2]
    expect(fence).toBe('`'.repeat(13))
    const closing = body.indexOf(`\n${fence}\n\n</details>`, open)
    expect(body.slice(open, closing)).toContain('\n</details>\n---\n# not a heading')
    expect(body.endsWith(FOOTER)).toBe(true)
  })

  it('renders image and link syntax in names as text (threat 16)', () => {
    const ref = {
      ...seedRef,
      submitter: { name: '<img src=//a/p> ![x](https://e/p.png) [y](javascript:z)', email: '' }
    }
    const line = renderBody({ ...seedInput, ref })
      .split('\n')
      .find(l => l.startsWith('**Submitter:**'))
    expect(line).toBe('**Submitter:** &lt;img src=//a/p&gt; !\\[x\\](https://e/p.png) \\[y\\](javascript:z)')
  })

  it('stays within 60,000 characters with a 200 KB cover letter, cut on a code point, pointing to lore (threat 17)', () => {
    const cover = `${'😀'.repeat(50_000)}${'a'.repeat(100_000)}`
    // Mentions grow by a ZWSP each when escaped, so the cut has to allow for that.
    const rangeDiff = { againstVersion: 9, text: '@a '.repeat(40_000) }
    const body = renderBody({ ...seedInput, coverLetter: cover, rangeDiff })
    expect(body.length).toBeLessThanOrEqual(BODY_MAX)
    expect(body).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/)
    expect(body).toContain(`the full text is at https://lore.kernel.org/linux-fsdevel/${SEED_MSGID}`)
    expect(body.endsWith(FOOTER)).toBe(true)
    expect(body.match(/<\/details>/g)).toHaveLength(2)
    expect(parseMarker(body)).toEqual(markerOf(seedInput))
  })

  it('keeps control characters and lone surrogates out of the body and the marker (threat 18)', () => {
    const ref = {
      ...seedRef,
      name: 'a\r\nb\u0000\u001b\u202E\u0085\uD800',
      submitter: { name: 'x\ny\u202E', email: 'e' }
    }
    const body = renderBody({ ...seedInput, ref })
    const forbidden = [...body].filter(c => {
      const cp = c.codePointAt(0) ?? 0
      return (cp < 0x20 && c !== '\n') || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e)
    })
    expect(forbidden).toEqual([])
    expect(parseMarker(body)?.name).toBe('a b \uFFFD')
  })

  it('percent-encodes a hostile Message-ID in URLs and fences it in the code span (threat 26)', () => {
    const msgid = 'a/b?c#1`x``@y'
    const body = renderBody({ ...seedInput, messageId: msgid })
    expect(body).toContain('**Lore:** https://lore.kernel.org/linux-fsdevel/a%2Fb%3Fc%231%60x%60%60@y')
    expect(body).toContain(`**Message-ID:** \`\`\`<a/b?c#1\`x\`\`@${ZWSP}y>\`\`\``)
  })
})

function markerOf(input: PrBodyInput): PrMarker {
  return {
    key: input.ref.key,
    version: input.ref.version,
    messageId: input.messageId,
    base: input.base,
    applyBase: input.baseSha,
    name: normalizeSeriesName(input.ref.name),
    submitter: input.ref.submitter.email
  }
}

describe('parseMarker', () => {
  it('round-trips the marker ml2pr writes', () => {
    const body = renderBody({ ...seedInput, changeId: '20221025-test1-e4f28f57990c' })
    expect(parseMarker(body)).toEqual({ ...markerOf(seedInput), changeId: '20221025-test1-e4f28f57990c' })
    expect(parseMarker(body.replace(/\n/g, '\r\n'))).toEqual({
      ...markerOf(seedInput),
      changeId: '20221025-test1-e4f28f57990c'
    })
  })

  it('round-trips names that contain comment delimiters, escaped in the JSON', () => {
    const marker = { ...markerOf(seedInput), name: 'a --> b <!-- c & d' }
    const line = renderMarker(marker)
    expect(line.split('-->')).toHaveLength(2)
    expect(line.split('<!--')).toHaveLength(2)
    expect(parseMarker(line)).toEqual(marker)
  })

  it('carries no raw `@` or `#` for plain-text mail replies to quote', () => {
    const marker = { ...markerOf(seedInput), name: 'dax: @torvalds fixes #1' }
    const line = renderMarker(marker)
    expect(line).not.toMatch(/[@#]/)
    expect(parseMarker(line)).toEqual(marker)
  })

  it('reads only the first line', () => {
    expect(parseMarker(`hello\n${renderMarker(markerOf(seedInput))}`)).toBeUndefined()
  })

  it.each([
    ['not JSON', '<!-- ml2pr:v1 {nope} -->'],
    ['an array', '<!-- ml2pr:v1 [1] -->'],
    ['a string version', renderMarker(markerOf(seedInput)).replace('"version":10', '"version":"10"')],
    ['a non-hex base', renderMarker(markerOf(seedInput)).replace(BASE_SHA, 'main')],
    ['no key', renderMarker(markerOf(seedInput)).replace('"key":"1073807",', '')],
    ['another marker version', renderMarker(markerOf(seedInput)).replace('ml2pr:v1', 'ml2pr:v2')]
  ])('rejects %s', (_, body) => {
    expect(parseMarker(body)).toBeUndefined()
  })
})

describe('renderTitle', () => {
  it('is the seed title for the seed series', () => {
    // The page shows the title followed by the PR number.
    const seedTitle = fixture('seed-pr-951.txt').split('\n')[2].replace(/#951$/, '')
    expect(seedTitle).toBe('dax: prepare for famfs')
    expect(renderTitle('dax: prepare for famfs')).toBe(seedTitle)
    expect(renderTitle('[PATCH v10 0/8] dax: prepare for famfs')).toBe(seedTitle)
  })

  it('drops the prefix Patchwork keeps in a real series name, and keeps underscores as plain text', () => {
    expect(renderTitle(refFromPatchwork('series-970926.json').name)).toBe(
      'bpf: clear user buf when bpf_d_path failed'
    )
    expect(renderTitle(refFromPatchwork('series-984880.json').name)).toBe('Support kCFI + BPF on arm64')
  })

  it('neutralises mentions and references and stays within 256 characters (threats 12, 13, 17)', () => {
    const title = renderTitle(`[PATCH] @torvalds fixes #1 ${'x'.repeat(10_000)}`)
    expect(title.length).toBeLessThanOrEqual(256)
    expect(title).not.toMatch(/(^|[^A-Za-z0-9])@[A-Za-z0-9]|#\d/)
  })

  it('falls back to the whole name when only brackets are left', () => {
    expect(renderTitle('[RFC]')).toBe('[RFC]')
    expect(renderTitle('')).toBe('(untitled series)')
  })
})

describe('comments', () => {
  it('closes stale PRs with the seed wording', () => {
    const page = fixture('seed-pr-951.txt').split('\n')
    const at = page.findIndex(l => l.startsWith('This PR is older than 14 days.'))
    expect(asDisplayed(renderStaleComment(14))).toEqual([page[at], 'Automated by ml2pr'])
    expect(renderStaleComment(14)).toBe(
      'This PR is older than 14 days. Closing automatically. If the series is still relevant, a new version ' +
        'will create a new PR.\n\n---\n*Automated by ml2pr*'
    )
  })

  it('names the superseding PR', () => {
    expect(renderSupersededComment(952, 11)).toBe(
      'Superseded by #952 (v11). Closing automatically.\n\n---\n*Automated by ml2pr*'
    )
    expect(() => renderSupersededComment(Number.NaN, 1)).toThrow()
  })

  it('lists the commits that landed, with hostile subjects escaped', () => {
    const comment = renderMergedComment('vfs.base.ci', [
      { sha: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', subject: 'dax: save the kva from memremap' },
      { sha: 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb', subject: '@torvalds fixes #3' }
    ])
    expect(comment).toBe(
      'All patches in this series have landed in `vfs.base.ci`. Closing automatically.\n\n' +
        '- `aaaaaaaaaaaa` dax: save the kva from memremap\n' +
        `- \`bbbbbbbbbbbb\` @${ZWSP}torvalds fixes #${ZWSP}3` +
        FOOTER
    )
  })

  it('explains a Patchwork state change', () => {
    expect(renderStateComment('changes-requested')).toBe(
      'Patchwork marks this series as **changes requested**. Closing automatically. ' +
        'A new version of the series will create a new PR.' +
        FOOTER
    )
    expect(renderStateComment('<b>@x</b>')).toContain(`**&lt;b&gt;@${ZWSP}x&lt;/b&gt;**`)
  })

  it('says why a series needs a rebase and how to reproduce it', () => {
    const failure: ApplyFailure = {
      kind: 'conflict',
      counter: 3,
      total: 8,
      subject: 'dax: add fsdev.c driver for fs-dax on character dax',
      message: 'error: patch failed: drivers/dax/bus.c:42\nerror: drivers/dax/bus.c: patch does not apply',
      files: ['drivers/dax/bus.c', 'drivers/dax/Kconfig'],
      baseSha: BASE_SHA
    }
    const reproduce = reproduceCommand({ baseSha: BASE_SHA, messageId: SEED_MSGID, lore: LORE })
    const comment = renderNeedsRebaseComment(failure, 'vfs.base.ci', reproduce)
    expect(comment).toContain('This series no longer applies to `vfs.base.ci`.')
    expect(comment).toContain(
      `Patch 3/8 “dax: add fsdev.c driver for fs-dax on character dax” does not apply onto \`${BASE_SHA}\`.`
    )
    expect(comment).toContain('Patches 4–8 of 8 were not attempted.')
    expect(comment).toContain('**Files:** `drivers/dax/bus.c`, `drivers/dax/Kconfig`')
    expect(comment).toContain('```\nerror: patch failed: drivers/dax/bus.c:42\n')
    expect(comment).toContain(`\`\`\`sh\ngit checkout --detach ${BASE_SHA}\nb4 shazam`)
    expect(comment.endsWith(FOOTER)).toBe(true)
  })
})

describe('reproduceCommand', () => {
  it('checks out the base and applies the series from lore with b4, or from Patchwork with git am', () => {
    expect(
      reproduceCommand({
        baseSha: BASE_SHA,
        messageId: SEED_MSGID,
        lore: LORE,
        baseBranch: 'vfs.base',
        mboxUrl: seedRef.mboxUrl
      })
    ).toBe(
      [
        "git fetch origin 'vfs.base'",
        `git checkout --detach ${BASE_SHA}`,
        `b4 shazam 'https://lore.kernel.org/linux-fsdevel/${SEED_MSGID}/'`,
        '# or, without b4:',
        "curl -sL 'https://patchwork.kernel.org/series/1073807/mbox/' | git am -3"
      ].join('\n')
    )
  })

  it('quotes hostile Message-IDs so the shell runs nothing from them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml2pr-quote-'))
    try {
      for (const messageId of [`x'$(touch pwned)'@y`, '-rf`touch pwned`;id', 'a/b?c#d@e"; touch pwned #']) {
        for (const lore of [LORE, undefined]) {
          const command = reproduceCommand({ baseSha: BASE_SHA, messageId, lore })
          const b4Line = command.split('\n').find(l => l.startsWith('b4 shazam ')) ?? ''
          // Run the b4 line with printf in b4's place: the shell must pass exactly one argument, unexpanded.
          const out = execFileSync('sh', ['-c', b4Line.replace(/^b4 shazam (-- )?/, 'printf "%s\\n" ')], {
            cwd: dir,
            encoding: 'utf8'
          })
          const expected = lore && messageId.includes('@') ? `${loreUrl(lore, messageId)}/` : messageId
          expect(out).toBe(`${expected}\n`)
        }
      }
      expect(readdirSync(dir)).toEqual([])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
