/**
 * `npm run bench`: what a run of the bundled action costs on a kernel-sized tree, end to end, against the
 * stand-ins (GitHub REST + git smart HTTP with partial clone, Patchwork, real public-inbox), side by side with
 * the peer approach, the seed deployment's warm path and the bare-git floor, alternating, in the same run.
 *
 *   npm run bench                       full: 90,000 files, 3 repetitions
 *   npm run bench -- --quick            small tree, 1 repetition (a smoke test of the harness)
 *   npm run bench -- --reps 5 --write   also rewrite BENCHMARKS.md with the tables
 *   npm run bench -- --only cold,idle   scenarios: cold, idle, burst, lore
 */
import { execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { format, resolveConfig } from 'prettier'
import { ensureUpstream, git, gitEnv, type Upstream } from './upstream.js'
import {
  asSent,
  realGit,
  OWNER,
  PROJECT,
  REPO,
  startWorld,
  TOKEN,
  type BenchWorld,
  type RunMeasure
} from './world.js'

const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const APPROACHES = path.join(ROOT, 'bench', 'approaches')

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    reps: { type: 'string' },
    write: { type: 'boolean', default: false },
    only: { type: 'string', default: 'cold,idle,burst,lore' },
    cache: { type: 'string', default: path.join(ROOT, '.tmp', 'bench') }
  }
})
const QUICK = args.quick
const REPS = Math.max(1, Number(args.reps ?? (QUICK ? 1 : 3)))
const ONLY = new Set(args.only.split(','))
const SPEC = QUICK
  ? { files: 2000, history: 20, burstSeries: 5 }
  : { files: 90_000, history: 600, burstSeries: 50 }
const IDLE_PRS = QUICK ? [0, 2, 5] : [0, 10, 50]

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s.length ? (s[Math.floor((s.length - 1) / 2)] + s[Math.floor(s.length / 2)]) / 2 : NaN
}
const sec = (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)} s` : 'n/a')
const mib = (kib: number | undefined): string =>
  kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`
const mark = (ok: boolean): string => (ok ? 'met' : '**not met**')

function table(head: string[], rows: string[][]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map(r => `| ${r.join(' | ')} |`)
  ].join('\n')
}

interface Timed {
  seconds: number
  gitProcesses: number
  peakRssKiB?: number
}

/** Runs one comparison script with a counting git shim and /usr/bin/time around it. */
async function script(name: string, env: Record<string, string>): Promise<Timed> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ml2pr-bench-script-'))
  try {
    const log = path.join(dir, 'git.log')
    const bin = path.join(dir, 'bin')
    await mkdir(bin)
    await mkdir(path.join(dir, 'work'))
    await writeFile(
      path.join(bin, 'git'),
      `#!/bin/sh\necho "$1" >> '${log}'\nexec ${await realGit()} "$@"\n`,
      {
        mode: 0o755
      }
    )
    const rss = path.join(dir, 'rss')
    const t0 = performance.now()
    await new Promise<void>((resolve, reject) => {
      const child = spawn('/usr/bin/time', ['-f', '%M', '-o', rss, 'sh', path.join(APPROACHES, name)], {
        env: { ...gitEnv, ...env, PATH: `${bin}:${gitEnv.PATH}`, WORK: path.join(dir, 'work') },
        stdio: ['ignore', 'ignore', 'pipe']
      })
      let err = ''
      child.stderr.on('data', (c: Buffer) => (err += c.toString()))
      child.on('error', reject)
      child.on('close', code =>
        code === 0 ? resolve() : reject(new Error(`${name} exited ${code}: ${err}`))
      )
    })
    const seconds = (performance.now() - t0) / 1000
    return {
      seconds,
      gitProcesses: (await readFile(log, 'utf8')).split('\n').filter(Boolean).length,
      peakRssKiB: Number((await readFile(rss, 'utf8')).trim().split('\n').pop())
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function check(r: RunMeasure, what: string): RunMeasure {
  if (r.code !== 0) throw new Error(`${what}: the action failed (${r.code}): ${r.stderr}\n${r.summary}`)
  return r
}

const opened = (r: RunMeasure): number => (JSON.parse(r.outputs.opened || '[]') as unknown[]).length

// ---------------------------------------------------------------- 1. cold series

interface ColdResult {
  rows: Record<string, Timed[]>
}

async function cold(up: Upstream): Promise<ColdResult> {
  const world = await startWorld(up)
  const rows: Record<string, Timed[]> = { ml2pr: [], peer: [], seed: [], floor: [] }
  const work = await mkdtemp(path.join(os.tmpdir(), 'ml2pr-bench-cold-'))
  try {
    const remote = `${world.github.serverUrl}/${OWNER}/${REPO}.git`
    const scriptEnv = { REMOTE: remote, TOKEN, API: world.github.apiUrl, OWNER, REPO }
    // The seed deployment's cache: a depth-500 clone, made once (its first run takes minutes; not timed).
    const cache = path.join(work, 'seed-cache')
    const auth = `Authorization: basic ${Buffer.from(`x-access-token:${TOKEN}`).toString('base64')}`
    await run(
      'git',
      ['-c', `http.extraheader=${auth}`, 'clone', '-q', '--depth=500', '--branch', 'vfs.base', remote, cache],
      {
        env: gitEnv
      }
    )
    let n = 0
    const viaScript = async (name: string, file: string): Promise<Timed> => {
      const mails = path.join(work, `mails-${++n}`)
      await mkdir(mails)
      const sent = asSent(up.cold, `cold-${name}-${n}`)
      for (const [i, m] of sent.entries())
        await writeFile(path.join(mails, `${String(i + 1).padStart(4, '0')}.eml`), m)
      return script(file, {
        ...scriptEnv,
        MAILS: mails,
        BRANCH: `bench/${name}-${n}`,
        TITLE: `cold ${name} ${n}`,
        CACHE: cache
      })
    }
    const steps: [string, () => Promise<Timed>][] = [
      [
        'ml2pr',
        async () => {
          const id = await world.post(up.cold)
          const r = check(await world.run({ 'series-id': String(id) }), 'cold series')
          if (opened(r) !== 1)
            throw new Error(`cold series: expected one PR, got ${r.outputs.opened}\n${r.summary}`)
          return { seconds: r.wallSeconds, gitProcesses: r.gitProcesses, peakRssKiB: r.peakRssKiB }
        }
      ],
      ['peer', () => viaScript('peer', 'peer.sh')],
      ['seed', () => viaScript('seed', 'seed-warm.sh')],
      ['floor', () => viaScript('floor', 'floor.sh')]
    ]
    for (let rep = 0; rep < REPS; rep++) {
      // Alternate the order, so no approach always runs on a warmer (or busier) machine.
      for (const [name, step] of rep % 2 ? [...steps].reverse() : steps) {
        await run('sync')
        const t = await step()
        rows[name].push(t)
        console.log(`  cold ${rep + 1}/${REPS} ${name}: ${sec(t.seconds)}, ${t.gitProcesses} git processes`)
      }
    }
    return { rows }
  } finally {
    await rm(work, { recursive: true, force: true })
    await world.close()
  }
}

// ---------------------------------------------------------------- 2-4. idle, burst, lore-only

interface IdleRow {
  label: string
  runs: RunMeasure[]
}

async function idleRuns(
  world: BenchWorld,
  label: string,
  inputs: Record<string, string> = {}
): Promise<IdleRow> {
  const runs: RunMeasure[] = []
  for (let i = 0; i < REPS; i++) {
    const r = check(await world.run(inputs), label)
    runs.push(r)
    console.log(
      `  ${label} ${i + 1}/${REPS}: ${sec(r.wallSeconds)}, HTTP ${r.requests.github}+${r.requests.patchwork}+${r.requests.lore}, ${r.gitProcesses} git, ${r.writes} writes`
    )
  }
  return { label, runs }
}

interface OpenRun {
  series: number
  run: RunMeasure
  githubRest: number
  pushes: number
}

/** Posts `count` burst series and runs once, opening them all. */
async function openMany(world: BenchWorld, up: Upstream, from: number, count: number): Promise<OpenRun> {
  for (let i = from; i < from + count; i++) await world.post(up.burst[i])
  const before = world.requests().github.length
  const r = check(await world.run({ 'max-series': String(count) }), `run opening ${count} series`)
  if (opened(r) !== count) throw new Error(`expected ${count} PRs, got ${opened(r)}\n${r.summary}`)
  const gh = world.requests().github.slice(before)
  return {
    series: count,
    run: r,
    githubRest: gh.filter(q => q.path.startsWith('/api/v3/')).length,
    pushes: gh.filter(q => q.method === 'POST' && q.path.endsWith('/git-receive-pack')).length
  }
}

interface ScheduledResult {
  idle: IdleRow[]
  opens: OpenRun[]
  lore?: IdleRow
}

async function scheduled(up: Upstream): Promise<ScheduledResult> {
  const idle: IdleRow[] = []
  const opens: OpenRun[] = []
  const [, few, many] = IDLE_PRS
  if (ONLY.has('idle')) {
    const world = await startWorld(up)
    try {
      check(await world.run(), 'first scheduled run')
      idle.push(await idleRuns(world, 'idle, 0 open PRs'))
      opens.push(await openMany(world, up, 0, few))
      idle.push(await idleRuns(world, `idle, ${few} open PRs`))
    } finally {
      await world.close()
    }
  }
  if (ONLY.has('burst') || ONLY.has('idle')) {
    const world = await startWorld(up)
    try {
      check(await world.run(), 'first scheduled run')
      const burst = await openMany(world, up, 0, many)
      opens.push(burst)
      console.log(
        `  burst of ${many}: ${sec(burst.run.wallSeconds)}, ${burst.githubRest} REST, ${burst.pushes} pushes`
      )
      if (ONLY.has('idle')) idle.push(await idleRuns(world, `idle, ${many} open PRs`))
    } finally {
      await world.close()
    }
  }
  let lore: IdleRow | undefined
  if (ONLY.has('lore')) {
    const world = await startWorld(up)
    try {
      const inputs = { 'patchwork-url': '', 'lore-list': PROJECT }
      check(await world.run(inputs), 'first lore-only run')
      lore = await idleRuns(world, 'lore-only idle', inputs)
    } finally {
      await world.close()
    }
  }
  return { idle, opens, lore }
}

// ---------------------------------------------------------------- report

async function machine(): Promise<string> {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  const gitVersion = await git(['--version'])
  const commit = await git(['-C', ROOT, 'rev-parse', '--short=12', 'HEAD'])
  const dirty =
    (await git(['-C', ROOT, 'status', '--porcelain', '--untracked-files=no', '--', 'src', 'dist'])) !== ''
  return (
    `Commit measured: \`${commit}\`${dirty ? ' (with uncommitted changes in src/ or dist/)' : ''}, ` +
    `${new Date().toISOString().slice(0, 10)}. Machine: ${os.cpus().length} CPUs (${cpu}), ` +
    `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB memory, Node ${process.version}, ${gitVersion}, ${os.type()} ${os.release()}.`
  )
}

function report(
  up: Upstream,
  c: ColdResult | undefined,
  s: ScheduledResult,
  header: string,
  totalSeconds: number
): string {
  const out: string[] = []
  out.push(
    header,
    '',
    `Tree: ${up.files.toLocaleString('en')} files, ${(up.treeBytes / 2 ** 20).toFixed(0)} MiB checked out, ${SPEC.history + 1} commits on \`vfs.base\`; ` +
      `medians of ${REPS} run(s)${QUICK ? ' (**quick mode: small tree, not representative**)' : ''}; bench took ${(totalSeconds / 60).toFixed(1)} min.`
  )
  const targets: [string, string, boolean][] = []
  if (c) {
    const m = (k: string): number => median(c.rows[k].map(t => t.seconds))
    const ours = m('ml2pr')
    const line = (k: string, label: string): string[] => [
      label,
      sec(m(k)),
      k === 'ml2pr' ? '1.00' : (m(k) / ours).toFixed(2),
      String(median(c.rows[k].map(t => t.gitProcesses))),
      mib(Math.max(...c.rows[k].map(t => t.peakRssKiB ?? 0)))
    ]
    out.push(
      '',
      '### 1. Cold series: `workflow_dispatch`, 10 patches over 20 files',
      '',
      table(
        ['approach', 'wall (median)', 'time ÷ ml2pr', 'git processes', 'peak RSS'],
        [
          line('ml2pr', 'ml2pr (bundled action, end to end)'),
          line('peer', '(a) peer: clone with checkout, `git am`, push, PR'),
          line(
            'seed',
            '(b) seed warm path: depth-500 cache restored, fetch, reset, clean, `git am --3way`, push, PR'
          ),
          line(
            'floor',
            '(c) bare-git floor: blobless depth-1 fetch, index-only apply, `commit-tree`, push, PR'
          )
        ]
      ),
      '',
      `Each run: ${Object.entries(c.rows)
        .map(([k, v]) => `${k} ${v.map(t => t.seconds.toFixed(2)).join('/')}`)
        .join('; ')} s.`
    )
    targets.push(
      [
        'cold series within 1.5x of the bare-git floor',
        `${(ours / m('floor')).toFixed(2)}x`,
        ours <= 1.5 * m('floor')
      ],
      [
        'cold series at least 25x faster than the peer approach',
        `${(m('peer') / ours).toFixed(1)}x`,
        m('peer') >= 25 * ours
      ],
      ['cold series faster than the seed warm path', `${(m('seed') / ours).toFixed(1)}x`, ours < m('seed')]
    )
  }
  const idleRows = [...s.idle, ...(s.lore ? [s.lore] : [])]
  if (idleRows.length) {
    const rows = idleRows.map(row => {
      const med = (f: (r: RunMeasure) => number): number => median(row.runs.map(f))
      return [
        row.label,
        sec(med(r => r.wallSeconds)),
        String(med(r => r.requests.github)),
        String(med(r => r.requests.patchwork)),
        String(med(r => r.requests.lore)),
        String(med(r => r.requests.github + r.requests.patchwork + r.requests.lore)),
        String(med(r => r.gitProcesses)),
        String(Math.max(...row.runs.map(r => r.writes)))
      ]
    })
    out.push(
      '',
      '### 2. Scheduled runs with nothing new (and 4. lore-only)',
      '',
      table(
        [
          'run',
          'wall (median)',
          'GitHub req.',
          'Patchwork req.',
          'lore req.',
          'HTTP total',
          'git processes',
          'writes'
        ],
        rows
      )
    )
    const total = (row: IdleRow): number =>
      median(row.runs.map(r => r.requests.github + r.requests.patchwork + r.requests.lore))
    const all = idleRows.flatMap(r => r.runs)
    targets.push(
      [
        'idle run: no git process',
        `max ${Math.max(...all.map(r => r.gitProcesses))}`,
        all.every(r => r.gitProcesses === 0)
      ],
      [
        'idle run: at most 6 HTTP requests in all',
        `max ${Math.max(...idleRows.map(total))}`,
        idleRows.every(r => total(r) <= 6)
      ],
      ['idle run: no write', `max ${Math.max(...all.map(r => r.writes))}`, all.every(r => r.writes === 0)]
    )
    if (s.idle.length === 3)
      targets.push([
        `idle run: same request count with ${IDLE_PRS[0]} or ${IDLE_PRS[2]} open PRs`,
        `${total(s.idle[0])} vs ${total(s.idle[2])}`,
        total(s.idle[0]) === total(s.idle[2])
      ])
  }
  if (s.opens.length) {
    out.push(
      '',
      '### 3. Runs opening many series at once (burst; GitHub write pacing of the throttling plugin on)',
      '',
      table(
        [
          'new series in one run',
          'total',
          'per series',
          'GitHub REST req. per PR',
          'git pushes',
          'git processes',
          'peak RSS'
        ],
        s.opens.map(o => [
          String(o.series),
          sec(o.run.wallSeconds),
          sec(o.run.wallSeconds / o.series),
          (o.githubRest / o.series).toFixed(1),
          String(o.pushes),
          String(o.run.gitProcesses),
          mib(o.run.peakRssKiB)
        ])
      )
    )
    const burst = s.opens[s.opens.length - 1]
    targets.push(
      [
        'at most 4 GitHub REST requests per opened PR',
        (burst.githubRest / burst.series).toFixed(1),
        burst.githubRest / burst.series <= 4
      ],
      ['pushes of one run batched', `${burst.pushes} pushes for ${burst.series} PRs`, burst.pushes <= 2],
      ['peak RSS under 250 MB', mib(burst.run.peakRssKiB), (burst.run.peakRssKiB ?? Infinity) < 250e6 / 1024]
    )
    if (s.opens.length === 2) {
      const [a, b] = s.opens
      const per = (o: OpenRun): number => o.run.wallSeconds / o.series
      targets.push([
        `burst grows linearly (per-series time at ${b.series} within 1.25x of at ${a.series})`,
        `${sec(per(b))} vs ${sec(per(a))}`,
        per(b) <= 1.25 * per(a)
      ])
    }
  }
  out.push(
    '',
    '### Targets (issue "Kernel-scale cost, measured end to end")',
    '',
    table(
      ['target', 'measured', ''],
      targets.map(([t, v, ok]) => [t, v, mark(ok)])
    )
  )
  return out.join('\n')
}

async function main(): Promise<void> {
  const started = performance.now()
  if (!existsSync(path.join(ROOT, 'dist', 'index.js')))
    throw new Error('dist/index.js is missing: npm run build')
  const up = await ensureUpstream(args.cache, SPEC)
  console.log(
    `Upstream: ${up.files} files, ${(up.treeBytes / 2 ** 20).toFixed(0)} MiB; ${REPS} repetition(s)`
  )
  const c = ONLY.has('cold') ? await cold(up) : undefined
  const s = await scheduled(up)
  const text = report(up, c, s, await machine(), (performance.now() - started) / 1000)
  console.log(`\n${text}\n`)
  if (args.write) {
    const file = path.join(ROOT, 'BENCHMARKS.md')
    const intro =
      '# Benchmarks\n\nWritten by `npm run bench -- --write` (see `bench/run.ts`): the bundled action (`dist/index.js`), run as the\n' +
      'runner runs it against the stand-ins (GitHub REST + git smart HTTP with partial clone, Patchwork, real public-inbox)\n' +
      "on a generated kernel-sized tree, side by side with the peer approach, the seed deployment's warm path and the\n" +
      'bare-git floor (`bench/approaches/`), alternating, in the same run. Re-run it after changing `src/`.\n\n' +
      "Notes: the comparison scripts get the mails as files (ml2pr fetches them from lore); the seed warm path's\n" +
      'cache restore is a local `cp -a` (actions/cache downloads and unpacks a tarball, which is slower) and its\n' +
      'depth-500 clone is made once, untimed; every approach runs git through a PATH shim that counts processes, and\n' +
      "peak RSS is `/usr/bin/time`'s maximum resident set of the process or any process it waited for.\n\n"
    // Written as `npm run format` would leave it, so format:check stays green after a re-run.
    await writeFile(
      file,
      await format(`${intro}${text}\n`, { ...(await resolveConfig(file)), filepath: file })
    )
    console.log(`wrote ${path.relative(process.cwd(), file)}`)
  }
}

await main()
