/**
 * One benchmark world: the GitHub stand-in (REST + git smart HTTP with partial clone) holding the generated
 * upstream, the Patchwork stand-in, a real public-inbox behind a logging proxy, and a way to run the bundled
 * action exactly as the runner does, counting its git processes (a PATH shim) and its peak RSS.
 */
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { existsSync } from 'node:fs'
import { chmod, link, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { DIST, parseOutputFile } from '../__tests__/e2e/harness.js'
import { startGitHubStandIn, type GitHubStandIn } from '../__tests__/support/github-standin.js'
import { closeServer, listen, type LoggedRequest } from '../__tests__/support/http.js'
import { startPatchworkStandIn, type PatchworkStandIn } from '../__tests__/support/patchwork-standin.js'
import { startPublicInbox, type PublicInbox } from '../__tests__/support/public-inbox.js'
import { git, type Upstream } from './upstream.js'

export const OWNER = 'acme'
export const REPO = 'linux'
export const TOKEN = 'ghs_benchTokenThatMustNeverLeak0123456789'
export const PROJECT = 'linux-fsdevel'
const TIME = '/usr/bin/time'

export type Host = 'github' | 'patchwork' | 'lore'

export interface RunMeasure {
  code: number
  wallSeconds: number
  /** Requests per host during the run. */
  requests: Record<Host, number>
  /** REST writes and git pushes. */
  writes: number
  gitProcesses: number
  /** Largest resident set of the action or any process it waited for, KiB. */
  peakRssKiB?: number
  outputs: Record<string, string>
  summary: string
  stderr: string
}

/** A reverse proxy that logs each request: public-inbox-httpd keeps no request log of its own. */
async function loggingProxy(
  target: string
): Promise<{ url: string; requests: LoggedRequest[]; close(): Promise<void> }> {
  const requests: LoggedRequest[] = []
  const to = new URL(target)
  const server = http.createServer((req, res) => {
    const up = http.request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      upRes => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers)
        upRes.pipe(res)
        upRes.on('end', () =>
          requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', status: upRes.statusCode ?? 0 })
        )
      }
    )
    up.on('error', () => {
      res.writeHead(502)
      res.end()
    })
    req.pipe(up)
  })
  const port = await listen(server)
  return { url: `http://127.0.0.1:${port}`, requests, close: () => closeServer(server) }
}

export interface BenchWorld {
  github: GitHubStandIn
  patchwork: PatchworkStandIn
  lore: PublicInbox
  loreUrl: string
  /** Posts a series to public-inbox and Patchwork; returns the Patchwork series id. */
  post(mails: Buffer[]): Promise<number>
  run(inputs?: Record<string, string>): Promise<RunMeasure>
  requests(): Record<Host, LoggedRequest[]>
  close(): Promise<void>
}

export function isWrite(r: LoggedRequest): boolean {
  if (r.path.includes('git-receive-pack')) return r.method === 'POST'
  return /^(POST|PATCH|PUT|DELETE)$/.test(r.method) && !r.path.endsWith('/git-upload-pack')
}

/** Gives the stand-in's repository the upstream's packs (hard links: packs never change) and branches. */
async function seed(repoDir: string, up: Upstream): Promise<void> {
  const from = path.join(up.gitDir, 'objects', 'pack')
  for (const f of await readdir(from))
    await link(path.join(from, f), path.join(repoDir, 'objects', 'pack', f))
  for (const b of ['vfs.base', 'vfs.base.ci']) {
    const sha = await git(['--git-dir', up.gitDir, 'rev-parse', `refs/heads/${b}`])
    await git(['--git-dir', repoDir, 'update-ref', `refs/heads/${b}`, sha])
  }
}

/** The git on PATH (before any shim), as an absolute path. */
export async function realGit(): Promise<string> {
  const { stdout } = await promisify(execFile)('sh', ['-c', 'command -v git'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }
  })
  return stdout.trim()
}

/** A `git` first on PATH that logs each invocation, then runs the real git. */
async function gitShim(dir: string, log: string): Promise<string> {
  const real = await realGit()
  const bin = path.join(dir, 'shim')
  await mkdir(bin, { recursive: true })
  await writeFile(path.join(bin, 'git'), `#!/bin/sh\necho "$1" >> '${log}'\nexec ${real} "$@"\n`)
  await chmod(path.join(bin, 'git'), 0o755)
  return bin
}

/** Runs dist/index.js as the runner does: INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, fresh RUNNER_TEMP. */
export async function runBundled(
  inputs: Record<string, string>,
  env: Record<string, string>
): Promise<{
  code: number
  seconds: number
  stderr: string
  outputs: Record<string, string>
  summary: string
  gitProcesses: number
  peakRssKiB?: number
}> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ml2pr-bench-runner-'))
  try {
    const outputFile = path.join(dir, 'output')
    const summaryFile = path.join(dir, 'summary')
    const gitLog = path.join(dir, 'git.log')
    const rssFile = path.join(dir, 'rss')
    await writeFile(outputFile, '')
    await writeFile(summaryFile, '')
    const shim = await gitShim(dir, gitLog)
    const childEnv: Record<string, string> = {
      PATH: `${shim}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: dir,
      RUNNER_TEMP: path.join(dir, 'tmp'),
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_ACTIONS: 'true',
      ...env
    }
    for (const [name, value] of Object.entries(inputs)) childEnv[`INPUT_${name.toUpperCase()}`] = value
    const timed = existsSync(TIME)
    const [cmd, args] = timed
      ? [TIME, ['-f', '%M', '-o', rssFile, process.execPath, DIST]]
      : [process.execPath, [DIST]]
    const t0 = performance.now()
    const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
      const child = spawn(cmd, args, { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] })
      let err = ''
      child.stderr.on('data', (c: Buffer) => (err += c.toString()))
      child.on('error', reject)
      child.on('close', c => resolve({ code: c ?? -1, stderr: err }))
    })
    const seconds = (performance.now() - t0) / 1000
    const gitLines = existsSync(gitLog) ? (await readFile(gitLog, 'utf8')).split('\n').filter(Boolean) : []
    const rss =
      timed && existsSync(rssFile) ? Number((await readFile(rssFile, 'utf8')).trim().split('\n').pop()) : NaN
    return {
      code,
      seconds,
      stderr: timed ? stderr.replace(/^Command exited with non-zero status \d+\n?/m, '') : stderr,
      outputs: parseOutputFile(await readFile(outputFile, 'utf8')),
      summary: await readFile(summaryFile, 'utf8'),
      gitProcesses: gitLines.length,
      peakRssKiB: Number.isFinite(rss) ? rss : undefined
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

let posted = 0

/** Gives format-patch mails what a mailer adds: Message-ID, threading, the date they were sent. */
export function asSent(mails: Buffer[], tag: string): Buffer[] {
  const id = (n: number): string => `<${tag}-${n}@bench.example.org>`
  const date = new Date().toUTCString().replace('GMT', '+0000')
  return mails.map((m, i) => {
    const text = m.toString('utf8')
    const nl = text.indexOf('\n')
    const headers = [
      `Message-ID: ${id(i + 1)}`,
      ...(i > 0 ? [`In-Reply-To: ${id(1)}`, `References: ${id(1)}`] : [])
    ]
    const body = text.slice(nl + 1).replace(/^Date: .*$/m, `Date: ${date}`)
    return Buffer.from(`${text.slice(0, nl + 1)}${headers.join('\n')}\n${body}`)
  })
}

export async function startWorld(up: Upstream): Promise<BenchWorld> {
  const github = await startGitHubStandIn({
    owner: OWNER,
    repo: REPO,
    token: TOKEN,
    defaultBranch: 'vfs.base.ci'
  })
  const patchwork = await startPatchworkStandIn()
  const lore = await startPublicInbox({ inboxes: { [PROJECT]: { address: `${PROJECT}@vger.kernel.org` } } })
  const proxy = await loggingProxy(lore.url)
  patchwork.addProject({
    linkName: PROJECT,
    listId: `${PROJECT}.vger.kernel.org`,
    listEmail: `${PROJECT}@vger.kernel.org`,
    listArchiveUrl: `${proxy.url}/${PROJECT}/`
  })
  await seed(github.repoDir, up)
  const logs = (): Record<Host, LoggedRequest[]> => ({
    github: github.requests,
    patchwork: patchwork.requests,
    lore: proxy.requests
  })
  return {
    github,
    patchwork,
    lore,
    loreUrl: proxy.url,
    async post(mails) {
      const sent = asSent(mails, `s${++posted}-${Date.now()}`)
      await lore.addMails(PROJECT, sent)
      return (await patchwork.addSeries({ project: PROJECT, patches: sent })).seriesId
    },
    requests: logs,
    async run(inputs = {}) {
      const before = Object.fromEntries(Object.entries(logs()).map(([h, l]) => [h, l.length])) as Record<
        Host,
        number
      >
      const r = await runBundled(
        {
          'github-token': TOKEN,
          'patchwork-url': patchwork.url,
          'patchwork-project': PROJECT,
          'lore-url': proxy.url,
          'base-branch': 'vfs.base.ci',
          'apply-branch': 'vfs.base',
          'grace-minutes': '0',
          ...inputs
        },
        {
          GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
          GITHUB_SERVER_URL: github.serverUrl,
          GITHUB_API_URL: github.apiUrl
        }
      )
      const during = Object.fromEntries(
        Object.entries(logs()).map(([h, l]) => [h, l.slice(before[h as Host])])
      ) as Record<Host, LoggedRequest[]>
      return {
        code: r.code,
        wallSeconds: r.seconds,
        requests: {
          github: during.github.length,
          patchwork: during.patchwork.length,
          lore: during.lore.length
        },
        writes: [...during.github, ...during.patchwork].filter(isWrite).length,
        gitProcesses: r.gitProcesses,
        peakRssKiB: r.peakRssKiB,
        outputs: r.outputs,
        summary: r.summary,
        stderr: r.stderr
      }
    },
    async close() {
      await Promise.allSettled([github.close(), patchwork.close(), lore.close(), proxy.close()])
    }
  }
}
