/** Builds patch series mails like `git send-email` sends them, each patch adding a new file (so it applies anywhere). */

export interface SeriesMails {
  cover?: Buffer
  patches: Buffer[]
  coverId?: string
  patchIds: string[]
}

export interface SeriesSpec {
  /** Unique per series; used in Message-IDs and file names. */
  tag: string
  title: string
  count: number
  version?: number
  author?: { name: string; email: string }
  /** Message-ID the cover (or patch 1) replies to, e.g. the previous version's cover. */
  inReplyTo?: string
  date?: Date
  cover?: boolean
  /** `base-commit:` line in the cover letter (or patch 1), as b4 writes it. */
  baseCommit?: string
  /** Extra subject prefix tokens, e.g. `bpf-next` or `RFC`. */
  prefix?: string
  /** Path of each patch's new file (default `fs/<tag>-<n>.c`). */
  file?: (n: number) => string
}

function header(fields: [string, string | undefined][]): string {
  return fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')
}

export function makeSeries(spec: SeriesSpec): SeriesMails {
  const author = spec.author ?? { name: 'Ada Lovelace', email: 'ada@example.org' }
  const version = spec.version ?? 1
  const date = spec.date ?? new Date('2026-11-20T10:00:00Z')
  const vtag = `${spec.prefix ? ` ${spec.prefix}` : ''}${version > 1 ? ` v${version}` : ''}`
  const baseLine = spec.baseCommit ? `\nbase-commit: ${spec.baseCommit}\n` : ''
  const withCover = spec.cover ?? spec.count > 1
  const id = (n: number): string => `${spec.tag}-v${version}-${n}@example.org`
  const coverId = withCover ? id(0) : undefined
  const root = coverId ?? id(1)
  const mailDate = (n: number): string =>
    new Date(date.getTime() + n * 1000).toUTCString().replace('GMT', '+0000')
  const counter = (n: number): string => (spec.count > 1 || withCover ? ` ${n}/${spec.count}` : '')
  const patches: Buffer[] = []
  for (let n = 1; n <= spec.count; n++) {
    const file = spec.file?.(n) ?? `fs/${spec.tag}-${n}.c`
    const lines = [
      `// ${spec.tag} part ${n}`,
      `int ${spec.tag.replace(/\W/g, '_')}_${n}(void)`,
      '{',
      `\treturn ${n};`,
      '}'
    ]
    const replyTo = n === 1 && !coverId ? spec.inReplyTo : root
    const head = header([
      ['From', `${author.name} <${author.email}>`],
      ['To', 'linux-fsdevel@vger.kernel.org'],
      ['Subject', `[PATCH${vtag}${counter(n)}] ${spec.title}: part ${n}`],
      ['Date', mailDate(n)],
      ['Message-ID', `<${id(n)}>`],
      ['In-Reply-To', replyTo && replyTo !== id(n) ? `<${replyTo}>` : undefined],
      ['References', replyTo && replyTo !== id(n) ? `<${replyTo}>` : undefined]
    ])
    const body = [
      `Part ${n} of ${spec.title}.`,
      '',
      `Signed-off-by: ${author.name} <${author.email}>`,
      '---',
      ` ${file} | ${lines.length} +++++`,
      ' 1 file changed, 5 insertions(+)',
      '',
      `diff --git a/${file} b/${file}`,
      'new file mode 100644',
      'index 0000000..1111111',
      '--- /dev/null',
      `+++ b/${file}`,
      `@@ -0,0 +1,${lines.length} @@`,
      ...lines.map(l => `+${l}`),
      ...(n === 1 && !coverId && spec.baseCommit ? ['', `base-commit: ${spec.baseCommit}`] : []),
      '-- ',
      '2.47.0',
      ''
    ].join('\n')
    patches.push(Buffer.from(`${head}\n\n${body}`))
  }
  const cover = coverId
    ? Buffer.from(
        `${header([
          ['From', `${author.name} <${author.email}>`],
          ['To', 'linux-fsdevel@vger.kernel.org'],
          ['Subject', `[PATCH${vtag} 0/${spec.count}] ${spec.title}`],
          ['Date', mailDate(0)],
          ['Message-ID', `<${coverId}>`],
          ['In-Reply-To', spec.inReplyTo ? `<${spec.inReplyTo}>` : undefined],
          ['References', spec.inReplyTo ? `<${spec.inReplyTo}>` : undefined]
        ])}\n\n${spec.title}, in ${spec.count} parts.\n\n${author.name} (${spec.count}):\n  parts\n\n fs | ${spec.count * 5} +\n ${spec.count} files changed, ${spec.count * 5} insertions(+)\n${baseLine}-- \n2.47.0\n`
      )
    : undefined
  return { cover, patches, coverId, patchIds: patches.map((_, i) => id(i + 1)) }
}
