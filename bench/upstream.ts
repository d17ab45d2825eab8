/**
 * The benchmark's upstream: a generated kernel-sized repository (`vfs.base` with history, `vfs.base.ci` = the
 * same plus a CI workflow), and the patch series mailed against it: one cold series (10 patches over 20 files)
 * and the burst series (3 patches each, over files no other series touches). Built once with git fast-import
 * and cached, keyed by the parameters and a generator version.
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { fileContent, kernelPaths, random } from './kernel-tree.js'

const run = promisify(execFile)
const GENERATOR_VERSION = 3

export const gitEnv = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.org',
  LANG: 'C'
}

export async function git(args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { env: gitEnv, maxBuffer: 256 * 1024 * 1024 })
  return stdout.trim()
}

export interface UpstreamSpec {
  files: number
  history: number
  burstSeries: number
}

export interface Upstream {
  /** Bare repository holding vfs.base and vfs.base.ci, packed with a bitmap as GitHub serves them. */
  gitDir: string
  files: number
  /** format-patch output of the cold series, one mail per patch (no Message-ID yet). */
  cold: Buffer[]
  burst: Buffer[][]
  /** Bytes of the checked-out tree. */
  treeBytes: number
}

/** Writes to a child's stdin honouring backpressure, so 900 MB never sits in memory. */
class Feed {
  constructor(private readonly stream: NodeJS.WritableStream) {}
  async write(text: string): Promise<void> {
    if (!this.stream.write(text)) await new Promise(resolve => this.stream.once('drain', resolve))
  }
  async data(text: string): Promise<void> {
    await this.write(`data ${Buffer.byteLength(text)}\n`)
    await this.write(text)
    await this.write('\n')
  }
}

async function commit(
  feed: Feed,
  o: { ref: string; mark: number; who: string; time: number; message: string; from?: number }
): Promise<void> {
  await feed.write(
    `commit ${o.ref}\nmark :${o.mark}\nauthor ${o.who} ${o.time} +0000\ncommitter ${o.who} ${o.time} +0000\n`
  )
  await feed.data(o.message)
  if (o.from) await feed.write(`from :${o.from}\n`)
}

export async function ensureUpstream(cacheDir: string, spec: UpstreamSpec): Promise<Upstream> {
  const key = `f${spec.files}-h${spec.history}-b${spec.burstSeries}-v${GENERATOR_VERSION}`
  const dir = path.join(cacheDir, key)
  const gitDir = path.join(dir, 'upstream.git')
  const done = path.join(dir, 'done.json')
  if (!existsSync(done)) await build(dir, gitDir, spec)
  const meta = JSON.parse(await readFile(done, 'utf8')) as { treeBytes: number }
  const readSeries = async (sub: string): Promise<Buffer[]> => {
    const d = path.join(dir, sub)
    const names = (await readdir(d)).sort()
    return Promise.all(names.map(n => readFile(path.join(d, n))))
  }
  const burst: Buffer[][] = []
  for (let i = 0; i < spec.burstSeries; i++) burst.push(await readSeries(`burst-${i}`))
  return { gitDir, files: spec.files, cold: await readSeries('cold'), burst, treeBytes: meta.treeBytes }
}

async function build(dir: string, gitDir: string, spec: UpstreamSpec): Promise<void> {
  console.log(`Generating a ${spec.files}-file upstream under ${dir} (once) ...`)
  const started = performance.now()
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  await git(['init', '-q', '--bare', '--initial-branch=vfs.base', gitDir])
  const child = spawn('git', ['--git-dir', gitDir, 'fast-import', '--quiet'], {
    env: gitEnv,
    stdio: ['pipe', 'inherit', 'inherit']
  })
  const exited = new Promise<number | null>(resolve => child.on('close', resolve))
  const feed = new Feed(child.stdin)

  const paths = kernelPaths(spec.files)
  const rand = random(7)
  const dev = 'Upstream Dev <dev@example.org>'
  let time = 1_700_000_000
  let mark = 1
  let treeBytes = 0
  await commit(feed, { ref: 'refs/heads/vfs.base', mark, who: dev, time, message: 'Initial tree\n' })
  for (const p of paths) {
    const content = fileContent(p)
    treeBytes += Buffer.byteLength(content)
    await feed.write(`M 100644 inline ${p}\n`)
    await feed.data(content)
  }
  // History, so a depth-500 clone (the seed deployment's cache) has 500 commits of changes to carry.
  const touched = new Set<string>()
  for (let c = 1; c <= spec.history; c++) {
    mark++
    time += 3600
    await commit(feed, {
      ref: 'refs/heads/vfs.base',
      mark,
      who: dev,
      time,
      message: `subsys: change ${c}\n\nSigned-off-by: ${dev}\n`,
      from: mark - 1
    })
    for (let k = 0; k < 5; k++) {
      const p = paths[Math.floor(rand() * paths.length)] ?? 'README'
      touched.add(p)
      await feed.write(`M 100644 inline ${p}\n`)
      await feed.data(fileContent(p, c))
    }
  }
  const baseTip = mark
  mark++
  time += 60
  await commit(feed, {
    ref: 'refs/heads/vfs.base.ci',
    mark,
    who: dev,
    time,
    message: 'ci: add workflow\n',
    from: baseTip
  })
  await feed.write('M 100644 inline .github/workflows/ci.yml\n')
  await feed.data('name: ci\non: pull_request\njobs: {}\n')

  // Series: each patch changes files no history commit and no other series touches.
  const free = paths.filter(p => !touched.has(p) && /\.[ch]$/.test(p))
  const pick = (): string => {
    const i = Math.floor(rand() * free.length)
    const [p] = free.splice(i, 1)
    return p ?? 'README'
  }
  const author = 'Series Author <author@example.org>'
  const series = async (
    ref: string,
    subject: string,
    patches: number,
    filesPerPatch: number
  ): Promise<void> => {
    let parent = baseTip
    // Patch 5 of the cold series changes a file patch 1 changed: the series must apply in order.
    const chosen: string[][] = []
    for (let n = 1; n <= patches; n++) {
      const files = Array.from({ length: filesPerPatch }, () => pick())
      if (n === 5 && chosen[0]?.[0]) files[0] = chosen[0][0]
      chosen.push(files)
      mark++
      time += 60
      await commit(feed, {
        ref,
        mark,
        who: author,
        time,
        message: `${subject}: part ${n}\n\nA change made for the benchmark.\n\nSigned-off-by: ${author}\n`,
        from: parent
      })
      for (const f of files) {
        await feed.write(`M 100644 inline ${f}\n`)
        await feed.data(fileContent(f, 1000 + n))
      }
      parent = mark
    }
  }
  await series('refs/series/cold', 'fs: cold series', 10, 2)
  for (let i = 0; i < spec.burstSeries; i++) await series(`refs/series/burst-${i}`, `mm: burst ${i}`, 3, 1)
  child.stdin.end()
  if ((await exited) !== 0) throw new Error('git fast-import failed')

  const writeSeries = async (ref: string, sub: string): Promise<void> => {
    const out = path.join(dir, sub)
    await mkdir(out)
    await git(['--git-dir', gitDir, 'format-patch', '-q', '-o', out, `vfs.base..${ref}`])
  }
  await writeSeries('refs/series/cold', 'cold')
  for (let i = 0; i < spec.burstSeries; i++) await writeSeries(`refs/series/burst-${i}`, `burst-${i}`)
  // The server must not already hold the series' objects.
  const refs = (await git(['--git-dir', gitDir, 'for-each-ref', '--format=%(refname)', 'refs/series/']))
    .split('\n')
    .filter(Boolean)
  for (const r of refs) await git(['--git-dir', gitDir, 'update-ref', '-d', r])
  await git(['--git-dir', gitDir, 'repack', '-a', '-d', '-b', '-q'])
  await git(['--git-dir', gitDir, 'prune', '--expire=now'])
  await writeFile(path.join(dir, 'done.json'), JSON.stringify({ treeBytes }))
  console.log(`  generated in ${((performance.now() - started) / 1000).toFixed(1)} s`)
}
