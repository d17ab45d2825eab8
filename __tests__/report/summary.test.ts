import { describe, expect, it } from '@jest/globals'
import type { ApplyFailure, Outcome, SeriesRef } from '../../src/model.js'
import { ZWSP } from '../../src/publish/sanitize.js'
import {
  SUMMARY_MAX_BYTES,
  countOutcomes,
  renderOutputs,
  renderSummary,
  type RunReport
} from '../../src/report/summary.js'

const BASE_SHA = '5d1a1c3b0f7e2a9c4b6d8e0f1a2b3c4d5e6f7a8b'
const SEED_MSGID = '0100019d311bed04-dbb67b48-c55d-4e6a-962a-a0f8b714f2e7-000000@email.amazonses.com'

function ref(key: string, msgid: string, patchworkId?: number): SeriesRef {
  return {
    key,
    patchworkId,
    name: `series ${key}`,
    version: 1,
    total: 8,
    receivedTotal: 8,
    receivedAll: true,
    submitter: { name: 'John Groves', email: 'john@groves.net' },
    webUrl: patchworkId
      ? `https://patchwork.kernel.org/project/linux-fsdevel/list/?series=${patchworkId}`
      : undefined,
    coverMsgid: msgid,
    patchMsgids: [],
    patchIds: [],
    mboxUrl: patchworkId ? `https://patchwork.kernel.org/series/${patchworkId}/mbox/` : undefined,
    date: '2026-03-27T22:31:00Z'
  }
}

const conflict: ApplyFailure = {
  kind: 'conflict',
  counter: 3,
  total: 8,
  subject: 'dax: add fsdev.c driver for fs-dax on character dax',
  message: 'Applying: dax: add fsdev.c driver\nerror: patch failed: drivers/dax/bus.c:42\n```\n@torvalds',
  files: ['drivers/dax/bus.c'],
  baseSha: BASE_SHA
}

function report(outcomes: Outcome[], extra: Partial<RunReport> = {}): RunReport {
  return {
    dryRun: false,
    discovered: outcomes.length + 1,
    outcomes,
    series: [
      ref('1073807', SEED_MSGID, 1073807),
      ref('1073900', 'odd/id?x#1@y', 1073900),
      ref('a1b2c3', 'lore@x')
    ],
    lore: { url: 'https://lore.kernel.org', list: 'linux-fsdevel' },
    bases: [{ branch: 'vfs.base.ci', sha: BASE_SHA }],
    plannedWrites: [],
    warnings: [],
    ...extra
  }
}

const opened: Outcome = {
  kind: 'opened',
  key: '1073807',
  title: 'dax: prepare for famfs',
  pr: 951,
  url: 'https://github.com/o/r/pull/951',
  branch: 'pw/1073807/vfs.base.ci'
}
const failed: Outcome = {
  kind: 'failed',
  key: '1073900',
  title: '@torvalds | fixes #12 <!-- x -->',
  reason: 'patch 3/8 does not apply to vfs.base',
  failure: conflict
}
const skipped: Outcome = {
  kind: 'skipped',
  key: 'a1b2c3',
  title: 'rfc: thing',
  reason: 'RFC series are excluded'
}

describe('renderSummary', () => {
  it('counts outcomes per kind', () => {
    expect(countOutcomes(report([opened, failed, skipped]))).toEqual({
      discovered: 4,
      opened: 1,
      adopted: 0,
      skipped: 1,
      failed: 1,
      refused: 0,
      closed: 0,
      updated: 0
    })
    const md = renderSummary(report([opened, failed, skipped]))
    expect(md).toContain(
      '| Discovered | Opened | Adopted | Skipped | Failed | Refused | Closed | Updated |\n' +
        '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n' +
        '| 4 | 1 | 0 | 1 | 1 | 0 | 0 | 0 |'
    )
    expect(md).toContain(`**Base:** vfs.base.ci at \`${BASE_SHA}\``)
  })

  it('has one table row per series with PR link or reason, name, lore, Patchwork and Message-ID', () => {
    const lines = renderSummary(report([opened, failed, skipped])).split('\n')
    const rows = lines.filter(
      l => l.startsWith('| opened') || l.startsWith('| failed') || l.startsWith('| skipped')
    )
    expect(rows).toEqual([
      '| opened | [#951](https://github.com/o/r/pull/951) | dax: prepare for famfs | ' +
        `[lore](https://lore.kernel.org/linux-fsdevel/${SEED_MSGID}) | ` +
        '[1073807](https://patchwork.kernel.org/project/linux-fsdevel/list/?series=1073807) | ' +
        `\`<${SEED_MSGID}>\` |`,
      `| failed | patch 3/8 does not apply to vfs.base | @${ZWSP}torvalds \\| fixes #${ZWSP}12 &lt;!-- x --&gt; | ` +
        '[lore](https://lore.kernel.org/linux-fsdevel/odd%2Fid%3Fx%231@y) | ' +
        '[1073900](https://patchwork.kernel.org/project/linux-fsdevel/list/?series=1073900) | ' +
        '`<odd/id?x#1@y>` |',
      '| skipped | RFC series are excluded | rfc: thing | [lore](https://lore.kernel.org/linux-fsdevel/lore@x) |  | `<lore@x>` |'
    ])
    // Every row has the header's six cells: no unescaped pipe from mail text splits one.
    for (const row of rows) expect(row.split(/(?<!\\)\|/)).toHaveLength(8)
  })

  it('explains each failed series: patch, later patches, files, base, git message, reproduction', () => {
    const md = renderSummary(report([opened, failed]))
    const section = md.slice(md.indexOf('### Failed: '))
    expect(section).toContain(`### Failed: @${ZWSP}torvalds \\| fixes #${ZWSP}12 &lt;!-- x --&gt;`)
    expect(section).toContain(
      `Patch 3/8 “dax: add fsdev.c driver for fs-dax on character dax” does not apply onto \`${BASE_SHA}\`.`
    )
    expect(section).toContain('Patches 4–8 of 8 were not attempted.')
    expect(section).toContain('**Files:** `drivers/dax/bus.c`')
    expect(section).toContain(`**Base commit:** \`${BASE_SHA}\``)
    // git's message, fenced longer than its own backticks, with the mention broken.
    expect(section).toContain(
      `\`\`\`\`\nApplying: dax: add fsdev.c driver\nerror: patch failed: drivers/dax/bus.c:42\n\`\`\`\n@${ZWSP}torvalds\n\`\`\`\``
    )
    expect(section).toContain(
      '```sh\n' +
        `git checkout --detach ${BASE_SHA}\n` +
        "b4 shazam 'https://lore.kernel.org/linux-fsdevel/odd%2Fid%3Fx%231@y/'\n" +
        '# or, without b4:\n' +
        "curl -sL 'https://patchwork.kernel.org/series/1073900/mbox/' | git am -3\n" +
        '```'
    )
  })

  it('uses the reproduction command the pipeline gave, and shows a failure without details by its reason', () => {
    const withCommand: Outcome = { ...failed, reproduce: 'b4 shazam given' }
    const fetchFailed: Outcome = { kind: 'failed', key: 'a1b2c3', title: 't', reason: 'lore answered 503' }
    const md = renderSummary(report([withCommand, fetchFailed]))
    expect(md).toContain('```sh\nb4 shazam given\n```')
    expect(md).toContain('### Failed: t\n\nlore answered 503')
  })

  it('lists refused series with their files', () => {
    const refused: Outcome = {
      kind: 'refused',
      key: '1073807',
      title: 'ci: tweak',
      reason: 'touches protected paths',
      files: ['.github/workflows/x.yml']
    }
    expect(renderSummary(report([refused]))).toContain(
      '### Refused: ci: tweak\n\ntouches protected paths\n\n- `.github/workflows/x.yml`'
    )
  })

  it('lists planned writes in a dry run, and warnings', () => {
    const md = renderSummary(
      report([opened], {
        dryRun: true,
        plannedWrites: ['push pw/1073807/vfs.base.ci', 'open PR "@torvalds #1"'],
        warnings: ['Patchwork returned no series; check the project and delegate']
      })
    )
    expect(md).toContain('## ml2pr (dry run: nothing was written)')
    expect(md).toContain(
      `### Would have done\n\n- push pw/1073807/vfs.base.ci\n- open PR "@${ZWSP}torvalds #${ZWSP}1"`
    )
    expect(md).toContain('### Warnings\n\n- Patchwork returned no series; check the project and delegate')
  })

  it('says when there was nothing to do', () => {
    expect(renderSummary(report([]))).toContain('No series to handle this run.')
  })

  const manyFailures = (count: number): Outcome[] =>
    Array.from({ length: count }, (_, i) => ({
      ...failed,
      title: `series ${i} ${'é'.repeat(100)}`,
      failure: { ...conflict, message: 'x'.repeat(5000) }
    }))

  it('stays within 1 MiB when failure details overflow, keeping every table row', () => {
    const md = renderSummary(report(manyFailures(300), { warnings: ['lore answered 503 twice'] }))
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES)
    expect(md.split('\n').filter(l => l.startsWith('| failed'))).toHaveLength(300)
    expect(md).toContain('### Warnings\n\n- lore answered 503 twice')
    expect(md).toMatch(/\*\d+ more sections left out: the job summary is limited to 1 MiB\. See the log\.\*/)
  })

  it('stays within 1 MiB with thousands of series, cutting the table by whole rows', () => {
    const md = renderSummary(report(manyFailures(5000)))
    expect(Buffer.byteLength(md)).toBeLessThanOrEqual(SUMMARY_MAX_BYTES)
    const rows = md.split('\n').filter(l => l.startsWith('| failed'))
    expect(rows.length).toBeGreaterThan(100)
    expect(rows.length).toBeLessThan(5000)
    for (const row of rows) expect(row.endsWith('|')).toBe(true)
    expect(md).toContain(`*${5000 - rows.length} more rows left out`)
  })
})

describe('renderOutputs', () => {
  it('gives JSON arrays of keys, numbers and URLs, never mail text', () => {
    const out = renderOutputs(report([opened, failed, skipped]))
    expect(JSON.parse(out.opened)).toEqual([
      { key: '1073807', pr: 951, url: 'https://github.com/o/r/pull/951' }
    ])
    expect(JSON.parse(out.failed)).toEqual([{ key: '1073900', kind: 'conflict', patch: 3 }])
    expect(JSON.parse(out.skipped)).toEqual([{ key: 'a1b2c3' }])
    expect(Object.values(out).join('')).not.toContain('torvalds')
  })

  it('marks failures without apply details as errors', () => {
    const out = renderOutputs(report([{ kind: 'failed', key: 'k', title: 't', reason: 'r' }]))
    expect(JSON.parse(out.failed)).toEqual([{ key: 'k', kind: 'error' }])
  })

  it('lists refused series among the failed ones', () => {
    const out = renderOutputs(
      report([{ kind: 'refused', key: 'r', title: 't', reason: 'touches .github/', files: ['.github/x'] }])
    )
    expect(JSON.parse(out.failed)).toEqual([{ key: 'r', kind: 'refused' }])
  })
})
