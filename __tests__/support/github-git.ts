/**
 * The git side of the GitHub stand-in: a bare repository configured like GitHub's, served through
 * git's own smart-HTTP CGI (`git http-backend`), plus the small git queries the REST side needs.
 */
import { execFile, spawn } from 'node:child_process'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import type http from 'node:http'
import path from 'node:path'
import { promisify } from 'node:util'
import { createGunzip } from 'node:zlib'

const run = promisify(execFile)

/** Environment that keeps git away from the user's and system configuration. */
export function isolatedGitEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    ...extra
  }
}

export async function git(gitDir: string, args: string[]): Promise<string> {
  const { stdout } = await run('git', ['--git-dir', gitDir, ...args], {
    env: isolatedGitEnv(),
    maxBuffer: 64 * 1024 * 1024
  })
  return stdout
}

/** Resolves a ref to its commit id, or undefined when it does not exist. */
export async function revParse(gitDir: string, ref: string): Promise<string | undefined> {
  try {
    return (await git(gitDir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim() || undefined
  } catch {
    return undefined
  }
}

/** Every branch with its tip. */
export async function branches(gitDir: string): Promise<Map<string, string>> {
  const out = await git(gitDir, ['for-each-ref', '--format=%(refname:strip=2) %(objectname)', 'refs/heads/'])
  return new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map(line => {
        const [name, sha] = line.split(' ')
        return [name, sha] as [string, string]
      })
  )
}

export async function isAncestor(gitDir: string, ancestor: string, descendant: string): Promise<boolean> {
  try {
    await git(gitDir, ['merge-base', '--is-ancestor', ancestor, descendant])
    return true
  } catch {
    return false
  }
}

export async function countCommits(gitDir: string, base: string, head: string): Promise<number> {
  return Number((await git(gitDir, ['rev-list', '--count', `${base}..${head}`])).trim())
}

/** additions, deletions, changed files between the merge base of base/head and head. */
export async function diffStats(
  gitDir: string,
  base: string,
  head: string
): Promise<{ additions: number; deletions: number; changedFiles: number }> {
  const out = await git(gitDir, ['diff', '--numstat', `${base}...${head}`])
  let additions = 0
  let deletions = 0
  let changedFiles = 0
  for (const line of out.split('\n').filter(Boolean)) {
    const [a, d] = line.split('\t')
    additions += Number(a) || 0
    deletions += Number(d) || 0
    changedFiles++
  }
  return { additions, deletions, changedFiles }
}

// GitHub refuses workflow changes from tokens without the `workflows` permission; a GITHUB_TOKEN never has it.
const preReceiveHook = `#!/bin/sh
zero=0000000000000000000000000000000000000000
status=0
while read old new ref; do
  [ "$new" = "$zero" ] && continue
  if [ "$old" = "$zero" ]; then commits=$(git rev-list "$new" --not --all); else commits=$(git rev-list "$old..$new"); fi
  for c in $commits; do
    f=$(git diff-tree --no-commit-id --name-only -r -m --root "$c" | grep '^\\.github/workflows/' | head -n 1)
    if [ -n "$f" ]; then
      echo "refusing to allow a GitHub App to create or update workflow \\\`$f\\\` without \\\`workflows\\\` permission" >&2
      status=1
      break
    fi
  done
done
exit $status
`

/** Creates `<root>/<owner>/<repo>.git`, configured the way GitHub serves repositories. */
export async function createBareRepo(
  root: string,
  owner: string,
  repo: string,
  defaultBranch: string
): Promise<string> {
  const dir = path.join(root, owner, `${repo}.git`)
  await mkdir(dir, { recursive: true })
  await run('git', ['init', '--quiet', '--bare', `--initial-branch=${defaultBranch}`, dir], {
    env: isolatedGitEnv()
  })
  const config: [string, string][] = [
    ['http.receivepack', 'true'],
    ['uploadpack.allowFilter', 'true'],
    ['uploadpack.allowAnySHA1InWant', 'true'],
    ['uploadpack.allowReachableSHA1InWant', 'true'],
    ['receive.denyNonFastForwards', 'false'],
    ['core.logAllRefUpdates', 'false']
  ]
  for (const [key, value] of config) await git(dir, ['config', key, value])
  const hook = path.join(dir, 'hooks', 'pre-receive')
  await writeFile(hook, preReceiveHook)
  await chmod(hook, 0o755)
  return dir
}

/** Parses the CGI header block (up to the blank line) of http-backend's output. */
function splitCgiHeaders(
  buf: Buffer
): { status: number; headers: [string, string][]; rest: Buffer } | undefined {
  let end = buf.indexOf('\r\n\r\n')
  let sepLen = 4
  const lf = buf.indexOf('\n\n')
  if (end < 0 || (lf >= 0 && lf < end)) {
    end = lf
    sepLen = 2
  }
  if (end < 0) return undefined
  let status = 200
  const headers: [string, string][] = []
  for (const line of buf.subarray(0, end).toString('latin1').split(/\r?\n/)) {
    const i = line.indexOf(':')
    if (i < 0) continue
    const name = line.slice(0, i).trim()
    const value = line.slice(i + 1).trim()
    if (name.toLowerCase() === 'status') status = Number(value.split(' ')[0])
    else headers.push([name, value])
  }
  return { status, headers, rest: buf.subarray(end + sepLen) }
}

/**
 * Runs one smart-HTTP request through `git http-backend`, streaming both bodies.
 * `pathInfo` is `/<owner>/<repo>.git/...` relative to `projectRoot`.
 */
export function serveGitHttp(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  opts: { projectRoot: string; pathInfo: string; query: string; remoteUser: string }
): Promise<void> {
  const gzipped = req.headers['content-encoding'] === 'gzip'
  const env = isolatedGitEnv({
    GIT_PROJECT_ROOT: opts.projectRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: opts.pathInfo,
    QUERY_STRING: opts.query,
    REQUEST_METHOD: req.method ?? 'GET',
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: opts.remoteUser,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    GIT_HTTP_MAX_REQUEST_BUFFER: '100M'
  })
  const protocol = req.headers['git-protocol']
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol
  // A decompressed body has no known length: http-backend then reads to EOF.
  if (!gzipped && req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length']

  return new Promise(resolve => {
    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let head: Buffer = Buffer.alloc(0)
    let started = false
    let stderr = ''
    const fail = (message: string): void => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(message)
      } else res.destroy()
    }
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.stdout.on('data', (chunk: Buffer) => {
      if (started) {
        res.write(chunk)
        return
      }
      head = Buffer.concat([head, chunk])
      const parsed = splitCgiHeaders(head)
      if (!parsed) return
      started = true
      res.writeHead(parsed.status, parsed.headers.flat())
      if (parsed.rest.length) res.write(parsed.rest)
    })
    child.on('error', err => {
      fail(err.message)
      resolve()
    })
    child.on('close', code => {
      if (!started) fail(`git http-backend exited ${code}: ${stderr}`)
      else res.end()
      resolve()
    })
    const body = gzipped ? req.pipe(createGunzip()) : req
    body.on('error', () => child.kill())
    child.stdin.on('error', () => undefined)
    body.pipe(child.stdin)
  })
}
