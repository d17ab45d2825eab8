/**
 * Benchmark: what applying a 5-patch series costs on a kernel-sized tree.
 *
 *   (a) the usual bot approach: full clone with checkout, then `git am --3way`
 *   (b) ml2pr: blobless depth-1 fetch into a bare repository, then applySeries (index only)
 *
 * The upstream (90,000 files, some history) is generated once with git fast-import and cached under
 * `.tmp/bench/`; it is served over file://. Wall time is measured around each approach; peak RSS is the
 * largest resident set of any git process (with its children), taken from /usr/bin/time.
 *
 *   npm run bench                BENCH_FILES=90000 BENCH_RUNS=3 by default
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { applySeries } from '../src/apply/apply.js'
import { Repo } from '../src/apply/repo.js'
import { fileContent, kernelPaths, random } from './kernel-tree.js'

const run = promisify(execFile)

const PROJECT = fileURLToPath(new URL('..', import.meta.url))
const CACHE = path.join(PROJECT, '.tmp', 'bench')
const FILES = Number(process.env.BENCH_FILES ?? 90_000)
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3))
const HISTORY_COMMITS = 200
const GENERATOR_VERSION = 1
const COMMITTER = { name: 'ml2pr', email: 'ml2pr@example.org' }
const TIME = '/usr/bin/time'
const BUDGET_MS = 180_000

const gitEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_COMMITTER_NAME: COMMITTER.name,
  GIT_COMMITTER_EMAIL: COMMITTER.email
}

async function git(args: string[], input?: string | Buffer): Promise<string> {
  if (input === undefined) {
    const { stdout } = await run('git', args, { env: gitEnv, maxBuffer: 512 * 1024 * 1024 })
    return stdout.trim()
  }
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { env: gitEnv, stdio: ['pipe', 'pipe', 'inherit'] })
    const out: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.on('error', reject)
    child.on('close', code =>
      code === 0
        ? resolve(Buffer.concat(out).toString('utf8').trim())
        : reject(new Error(`git ${args[0]} exit ${code}`))
    )
    child.stdin.end(input)
  })
}

interface Upstream {
  url: string
  mails: Buffer[]
  files: number
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`
}

function commitHeader(
  ref: string,
  mark: number,
  who: string,
  time: number,
  message: string,
  from?: number
): string {
  return (
    `commit ${ref}\nmark :${mark}\nauthor ${who} ${time} +0000\ncommitter ${who} ${time} +0000\n` +
    data(message) +
    (from ? `from :${from}\n` : '')
  )
}

/** Builds (or reuses) the upstream repository and the series mails. */
async function ensureUpstream(): Promise<Upstream> {
  const bare = path.join(CACHE, 'upstream.git')
  const stampFile = path.join(CACHE, 'stamp.json')
  const stamp = JSON.stringify({ files: FILES, history: HISTORY_COMMITS, version: GENERATOR_VERSION })
  const seriesDir = path.join(CACHE, 'series')
  if (existsSync(stampFile) && (await readFile(stampFile, 'utf8')) === stamp) {
    const names = (await readdir(seriesDir)).sort()
    return {
      url: `file://${bare}`,
      mails: await Promise.all(names.map(n => readFile(path.join(seriesDir, n)))),
      files: FILES
    }
  }
  console.log(`Generating a ${FILES}-file upstream under ${path.relative(PROJECT, CACHE)}/ (once) ...`)
  const started = performance.now()
  await rm(CACHE, { recursive: true, force: true })
  await mkdir(seriesDir, { recursive: true })
  await git(['init', '-q', '--bare', '--initial-branch=main', bare])

  const paths = kernelPaths(FILES)
  const rand = random(7)
  const dev = 'Upstream Dev <dev@example.org>'
  let time = 1_700_000_000
  let mark = 1
  const parts: string[] = [commitHeader('refs/heads/main', mark, dev, time, 'Initial tree\n')]
  for (const p of paths) parts.push(`M 100644 inline ${p}\n`, data(fileContent(p)))

  // Some history, so the full clone has more than one commit to transfer.
  const touched = new Set<string>()
  for (let c = 1; c <= HISTORY_COMMITS; c++) {
    mark++
    time += 3600
    parts.push(commitHeader('refs/heads/main', mark, dev, time, `history: change ${c}\n`, mark - 1))
    for (let k = 0; k < 5; k++) {
      const p = paths[Math.floor(rand() * paths.length)] ?? 'README'
      touched.add(p)
      parts.push(`M 100644 inline ${p}\n`, data(fileContent(p, c)))
    }
  }
  const mainTip = mark

  // The series: five patches by one author, the last depending on the first.
  const pick = (prefix: string): string =>
    paths.find(p => p.startsWith(prefix) && p.endsWith('.c') && !touched.has(p)) ?? `${prefix}fallback.c`
  const driver = pick('drivers/drivers3/')
  const fsFile = pick('fs/')
  const header =
    paths.find(p => p.startsWith('include/') && p.endsWith('.h') && !touched.has(p)) ?? 'include/x.h'
  const newFile = `${path.posix.dirname(driver)}/ml2pr_bench_new.c`
  const author = 'Series Author <author@example.org>'
  const changes: [string, string, string][] = [
    ['drivers: return 1 from init', driver, fileContent(driver, 1)],
    ['fs: return 1 from init', fsFile, fileContent(fsFile, 1)],
    ['drivers: add a new helper', newFile, fileContent(newFile, 0)],
    ['include: return 1 from init', header, fileContent(header, 1)],
    ['drivers: return 2 from init', driver, fileContent(driver, 2)]
  ]
  let parent = mainTip
  for (const [subject, file, content] of changes) {
    mark++
    time += 60
    const message = `${subject}\n\nA change made for the benchmark.\n\nSigned-off-by: ${author}\n`
    parts.push(commitHeader('refs/bench/series', mark, author, time, message, parent))
    parts.push(`M 100644 inline ${file}\n`, data(content))
    parent = mark
  }
  await git(['--git-dir', bare, 'fast-import', '--quiet'], parts.join(''))

  const mbox = await git(['--git-dir', bare, 'format-patch', '--stdout', 'main..refs/bench/series'])
  const mails = mbox.split(/^(?=From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$)/m).filter(Boolean)
  for (const [i, m] of mails.entries())
    await writeFile(path.join(seriesDir, `${String(i + 1).padStart(4, '0')}.eml`), m + '\n')

  // The server must not already have the series' objects.
  await git(['--git-dir', bare, 'update-ref', '-d', 'refs/bench/series'])
  await git(['--git-dir', bare, 'repack', '-a', '-d', '-q'])
  await git(['--git-dir', bare, 'prune', '--expire=now'])
  await git(['--git-dir', bare, 'config', 'uploadpack.allowFilter', 'true'])
  await git(['--git-dir', bare, 'config', 'uploadpack.allowAnySHA1InWant', 'true'])
  await writeFile(stampFile, stamp)
  console.log(`  generated in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  return { url: `file://${bare}`, mails: mails.map(m => Buffer.from(m + '\n')), files: FILES }
}

interface Measure {
  wallSeconds: number
  processes: number
  /** Largest RSS of one git process (and its children), KiB; undefined without /usr/bin/time. */
  peakRssKiB?: number
  diskKiB: number
  head: string
  note: string
}

/** A git that records `<seconds> <max RSS KiB>` per process into `log`. */
async function timedGit(dir: string, log: string): Promise<string> {
  const script = path.join(dir, 'timed-git')
  const body = existsSync(TIME) ? `exec ${TIME} -f '%e %M' -a -o '${log}' git "$@"` : `exec git "$@"`
  await writeFile(script, `#!/bin/sh\n${body}\n`)
  await chmod(script, 0o755)
  return script
}

async function readStats(log: string): Promise<{ processes: number; peak?: number; seconds: number[] }> {
  if (!existsSync(log)) return { processes: 0, seconds: [] }
  const lines = (await readFile(log, 'utf8')).split('\n').filter(l => /^[\d.]+ \d+$/.test(l))
  return {
    processes: lines.length,
    peak: Math.max(...lines.map(l => Number(l.split(' ')[1]))),
    seconds: lines.map(l => Number(l.split(' ')[0]))
  }
}

async function diskUsage(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sk', dir])
  return Number(stdout.split('\t')[0])
}

async function peerApproach(up: Upstream, dir: string): Promise<Measure> {
  const log = path.join(dir, 'time.log')
  const gitw = await timedGit(dir, log)
  const clone = path.join(dir, 'linux')
  const mailFiles: string[] = []
  for (const [i, m] of up.mails.entries()) {
    const f = path.join(dir, `${i + 1}.eml`)
    await writeFile(f, m)
    mailFiles.push(f)
  }
  const opts = { env: gitEnv, maxBuffer: 64 * 1024 * 1024 }
  const t0 = performance.now()
  await run(gitw, ['clone', '-q', up.url, clone], opts)
  await run(gitw, ['-C', clone, 'am', '-q', '-3', '--committer-date-is-author-date', ...mailFiles], opts)
  const wallSeconds = (performance.now() - t0) / 1000
  const stats = await readStats(log)
  return {
    wallSeconds,
    processes: stats.processes,
    peakRssKiB: stats.peak,
    diskKiB: await diskUsage(clone),
    head: (await run('git', ['-C', clone, 'rev-parse', 'HEAD'], opts)).stdout.trim(),
    note:
      stats.seconds.length === 2 ? `clone+checkout ${stats.seconds[0]} s, git am ${stats.seconds[1]} s` : ''
  }
}

async function ml2prApproach(up: Upstream, dir: string): Promise<Measure> {
  const log = path.join(dir, 'time.log')
  const gitw = await timedGit(dir, log)
  const lines: string[] = []
  const t0 = performance.now()
  const repo = await Repo.open({
    workDir: path.join(dir, 'ml2pr'),
    remoteUrl: up.url,
    allowFileProtocol: true,
    gitPath: gitw
  })
  const base = await repo.fetchBranch('main')
  const result = await applySeries(
    repo,
    base,
    up.mails.map((raw, i) => ({ counter: i + 1, total: up.mails.length, raw, trailers: [] })),
    { committer: COMMITTER, log: l => lines.push(l) }
  )
  const wallSeconds = (performance.now() - t0) / 1000
  if (!result.ok) throw new Error(`ml2pr failed: ${JSON.stringify(result.failure)}`)
  const stats = await readStats(log)
  return {
    wallSeconds,
    processes: stats.processes,
    peakRssKiB: stats.peak,
    diskKiB: await diskUsage(path.join(dir, 'ml2pr')),
    head: result.head,
    note: lines.find(l => l.startsWith('prefetched')) ?? ''
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? 0
}

function summarise(runs: Measure[]): Measure {
  const last = runs[runs.length - 1]
  return {
    ...last,
    wallSeconds: median(runs.map(r => r.wallSeconds)),
    peakRssKiB: runs.every(r => r.peakRssKiB !== undefined)
      ? Math.max(...runs.map(r => r.peakRssKiB ?? 0))
      : undefined
  }
}

function mib(kib: number | undefined): string {
  return kib === undefined ? 'n/a' : (kib / 1024).toFixed(1)
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined || b === 0 ? 'n/a' : `${(a / b).toFixed(1)}x`
}

async function main(): Promise<void> {
  const benchStart = performance.now()
  const up = await ensureUpstream()
  const peers: Measure[] = []
  const ours: Measure[] = []
  for (let i = 0; i < RUNS; i++) {
    const pairStart = performance.now()
    for (const [name, fn, into] of [
      ['peer', peerApproach, peers],
      ['ml2pr', ml2prApproach, ours]
    ] as const) {
      const dir = await mkdtemp(path.join(CACHE, `run-${name}-`))
      // Start each measurement with no dirty pages left over from the previous one.
      await run('sync')
      try {
        into.push(await fn(up, dir))
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }
    // Stay within the time budget: no further run if another pair would not fit.
    const elapsed = performance.now() - benchStart
    if (i + 1 < RUNS && elapsed + (performance.now() - pairStart) > BUDGET_MS) {
      console.log(`stopping after ${i + 1} run(s) to stay within ${BUDGET_MS / 1000} s`)
      break
    }
  }
  const a = summarise(peers)
  const b = summarise(ours)
  const rows = [
    ['approach', 'wall s (median)', 'git processes', 'peak git RSS MiB', 'disk MiB'],
    [
      '(a) full clone + checkout + git am -3',
      a.wallSeconds.toFixed(2),
      String(a.processes),
      mib(a.peakRssKiB),
      mib(a.diskKiB)
    ],
    [
      '(b) ml2pr: blobless depth-1 fetch + applySeries',
      b.wallSeconds.toFixed(2),
      String(b.processes),
      mib(b.peakRssKiB),
      mib(b.diskKiB)
    ],
    [
      'ratio (a)/(b)',
      ratio(a.wallSeconds, b.wallSeconds),
      '',
      ratio(a.peakRssKiB, b.peakRssKiB),
      ratio(a.diskKiB, b.diskKiB)
    ]
  ]
  const runs = peers.length
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map(r => (r[c] ?? '').length))) ?? []
  console.log(
    `\n${up.files} files, ${HISTORY_COMMITS + 1} commits upstream, ${up.mails.length}-patch series, ${runs} run(s) each\n`
  )
  for (const r of rows)
    console.log(
      r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')
    )
  const each = (ms: Measure[]): string => ms.map(m => m.wallSeconds.toFixed(2)).join(', ')
  console.log(`\nwall time of each run (s): (a) ${each(peers)}; (b) ${each(ours)}`)
  console.log(`last run: (a) ${a.note}; (b) ${b.note}`)
  console.log(
    `same commits as git am (ids equal): ${a.head === b.head ? 'yes' : `NO (${a.head} vs ${b.head})`}`
  )
  if (!existsSync(TIME)) console.log(`(${TIME} not found: RSS not measured)`)
  console.log(`bench total ${((performance.now() - benchStart) / 1000).toFixed(1)} s`)
  if (a.head !== b.head) process.exitCode = 1
}

await main()
