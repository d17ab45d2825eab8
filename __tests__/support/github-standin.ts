/**
 * A local stand-in for one GitHub repository: git smart HTTP (real `git http-backend`) and the REST
 * endpoints ml2pr uses, under `/api/v3` as on GitHub Enterprise Server. Status codes, error bodies,
 * rate-limit headers and Link pagination follow GitHub's.
 */
import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import {
  FaultList,
  closeServer,
  handler,
  listen,
  readBody,
  sendFault,
  sendJson,
  type Fault,
  type LoggedRequest
} from './http.js'
import {
  branchObject,
  commentObject,
  fullRepoObject,
  isoSeconds,
  issueObject,
  labelObject,
  pullObject,
  gitCommitObject,
  gitRefObject,
  refObject,
  simplePullObject,
  type CommitInfo,
  type RepoContext,
  type StoredComment,
  type StoredPull
} from './github-objects.js'
import {
  branches,
  countCommits,
  createBareRepo,
  diffStats,
  git,
  isAncestor,
  revParse,
  serveGitHttp
} from './github-git.js'

export type { StoredComment, StoredPull } from './github-objects.js'

export interface GitHubStandInOptions {
  owner: string
  repo: string
  token: string
  defaultBranch?: string
}

export interface GitHubStandIn {
  serverUrl: string
  /** `${serverUrl}/api/v3`, as GHES serves it. */
  apiUrl: string
  /** The bare repository on disk. */
  repoDir: string
  /** Snapshot of the stored pull requests (head sha as last seen). */
  pulls(): StoredPull[]
  comments(n: number): StoredComment[]
  labels(n: number): string[]
  /** Moves a pull request's created_at/updated_at back by `days`. */
  agePull(n: number, days: number): void
  injectFault(fault: Fault): void
  requests: LoggedRequest[]
  /** Ends every injected fault (the outage is over). */
  clearFaults(): void
  close(): Promise<void>
}

const DOCS = 'https://docs.github.com/rest'
const TITLE_MAX = 256
const BODY_MAX = 65536

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly documentationUrl: string = DOCS,
    readonly errors?: Record<string, unknown>[],
    readonly headers: Record<string, string> = {}
  ) {
    super(message)
  }
}

const notFound = (doc = DOCS): ApiError => new ApiError(404, 'Not Found', doc)
const validation = (doc: string, errors: Record<string, unknown>[]): ApiError =>
  new ApiError(422, 'Validation Failed', doc, errors)

function charLength(text: string): number {
  return [...text].length
}

function basicPassword(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^basic\s+(\S+)$/i.exec(header ?? '')
  if (!m) return undefined
  const decoded = Buffer.from(m[1], 'base64').toString('utf8')
  const i = decoded.indexOf(':')
  return i < 0 ? undefined : { user: decoded.slice(0, i), password: decoded.slice(i + 1) }
}

/** Builds GitHub's Link header for one page of a list. */
function linkHeader(url: URL, page: number, last: number): string | undefined {
  if (last <= 1) return undefined
  const at = (p: number): string => {
    const u = new URL(url)
    u.searchParams.set('page', String(p))
    return `<${u.toString()}>`
  }
  const parts: string[] = []
  if (page > 1) parts.push(`${at(page - 1)}; rel="prev"`)
  if (page < last) parts.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`)
  if (page > 1) parts.push(`${at(1)}; rel="first"`)
  return parts.join(', ')
}

function paginate<T>(items: T[], url: URL): { items: T[]; link?: string } {
  const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page')) || 30))
  const page = Math.max(1, Number(url.searchParams.get('page')) || 1)
  const last = Math.max(1, Math.ceil(items.length / perPage))
  return { items: items.slice((page - 1) * perPage, page * perPage), link: linkHeader(url, page, last) }
}

export async function startGitHubStandIn(opts: GitHubStandInOptions): Promise<GitHubStandIn> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'gh-standin-'))
  const defaultBranch = opts.defaultBranch ?? 'main'
  const repoDir = await createBareRepo(root, opts.owner, opts.repo, defaultBranch)
  const requests: LoggedRequest[] = []
  const faults = new FaultList()
  const pulls: StoredPull[] = []
  const labelIds = new Map<string, number>()
  const labelId = (name: string): number => {
    if (!labelIds.has(name)) labelIds.set(name, 5000000 + labelIds.size)
    return labelIds.get(name) as number
  }
  let nextComment = 9000000
  let rateUsed = 0
  const ctx: RepoContext = {
    serverUrl: '',
    apiUrl: '',
    owner: opts.owner,
    repo: opts.repo,
    defaultBranch,
    createdAt: isoSeconds(new Date())
  }
  const now = (): string => isoSeconds(new Date())
  const openCount = (): number => pulls.filter(p => p.state === 'open').length

  /** Brings open pull requests up to date with the repository, as GitHub does on push. */
  async function refresh(): Promise<Map<string, string>> {
    const heads = await branches(repoDir)
    for (const pr of pulls.filter(p => p.state === 'open')) {
      const head = heads.get(pr.headRef)
      const base = heads.get(pr.baseRef)
      if (!head) {
        // Deleting the head branch closes the pull request.
        pr.state = 'closed'
        pr.closedAt = pr.updatedAt = now()
        continue
      }
      if (head !== pr.headSha) {
        pr.headSha = head
        pr.updatedAt = now()
      }
      if (base && (await isAncestor(repoDir, head, base))) {
        pr.state = 'closed'
        pr.closedAt = pr.mergedAt = pr.updatedAt = now()
        pr.mergeCommitSha = head
      }
    }
    return heads
  }

  async function renderPull(pr: StoredPull, heads: Map<string, string>): Promise<Record<string, unknown>> {
    const baseSha = heads.get(pr.baseRef) ?? pr.headSha
    const stats =
      heads.has(pr.baseRef) && pr.mergedAt === null
        ? {
            commits: await countCommits(repoDir, baseSha, pr.headSha),
            ...(await diffStats(repoDir, baseSha, pr.headSha))
          }
        : { commits: 0, additions: 0, deletions: 0, changedFiles: 0 }
    return pullObject(ctx, pr, { baseSha, ...stats }, labelId, openCount(), ctx.createdAt)
  }

  function findPull(n: string): StoredPull {
    const pr = pulls.find(p => p.number === Number(n))
    if (!pr) throw notFound(`${DOCS}/pulls/pulls#get-a-pull-request`)
    return pr
  }

  function checkTexts(doc: string, title: unknown, body: unknown): void {
    const errors: Record<string, unknown>[] = []
    if (typeof title === 'string' && charLength(title) > TITLE_MAX)
      errors.push({
        resource: 'Issue',
        code: 'custom',
        field: 'title',
        message: `title is too long (maximum is ${TITLE_MAX} characters)`
      })
    if (typeof body === 'string' && charLength(body) > BODY_MAX)
      errors.push({
        resource: 'Issue',
        code: 'custom',
        field: 'body',
        message: `body is too long (maximum is ${BODY_MAX} characters)`
      })
    if (errors.length) throw validation(doc, errors)
  }

  /** GitHub checks "a pull request already exists" and creates atomically: one creation at a time here. */
  let creations: Promise<unknown> = Promise.resolve()
  function serially<T>(task: () => Promise<T>): Promise<T> {
    const run = creations.then(task, task)
    creations = run.catch(() => undefined)
    return run
  }

  async function createPull(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const doc = `${DOCS}/pulls/pulls#create-a-pull-request`
    const heads = await refresh()
    const headSpec = typeof input.head === 'string' ? input.head : ''
    const [headOwner, headRef] = headSpec.includes(':') ? headSpec.split(/:(.*)/s) : [opts.owner, headSpec]
    const baseRef = typeof input.base === 'string' ? input.base : ''
    const errors: Record<string, unknown>[] = []
    if (typeof input.title !== 'string' || input.title === '')
      errors.push({ resource: 'PullRequest', code: 'missing_field', field: 'title' })
    if (!heads.has(baseRef)) errors.push({ resource: 'PullRequest', field: 'base', code: 'invalid' })
    if (headOwner.toLowerCase() !== opts.owner.toLowerCase() || !heads.has(headRef))
      errors.push({ resource: 'PullRequest', field: 'head', code: 'invalid' })
    if (errors.length) throw validation(doc, errors)
    checkTexts(doc, input.title, input.body)
    if (pulls.some(p => p.state === 'open' && p.headRef === headRef && p.baseRef === baseRef))
      throw validation(doc, [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${opts.owner}:${headRef}.`
        }
      ])
    const headSha = heads.get(headRef) as string
    if ((await countCommits(repoDir, heads.get(baseRef) as string, headSha)) === 0)
      throw validation(doc, [
        { resource: 'PullRequest', code: 'custom', message: `No commits between ${baseRef} and ${headRef}` }
      ])
    const created = now()
    const pr: StoredPull = {
      number: pulls.length + 1,
      title: input.title as string,
      body: typeof input.body === 'string' ? input.body : null,
      state: 'open',
      headRef,
      baseRef,
      headSha,
      draft: input.draft === true,
      maintainerCanModify: input.maintainer_can_modify !== false,
      createdAt: created,
      updatedAt: created,
      closedAt: null,
      mergedAt: null,
      mergeCommitSha: null,
      labels: [],
      comments: []
    }
    pulls.push(pr)
    return renderPull(pr, heads)
  }

  async function updatePull(n: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const doc = `${DOCS}/pulls/pulls#update-a-pull-request`
    const heads = await refresh()
    const pr = findPull(n)
    checkTexts(doc, input.title, input.body)
    if (typeof input.base === 'string' && !heads.has(input.base))
      throw validation(doc, [{ resource: 'PullRequest', field: 'base', code: 'invalid' }])
    if (input.state !== undefined && input.state !== 'open' && input.state !== 'closed')
      throw validation(doc, [{ resource: 'PullRequest', field: 'state', code: 'invalid' }])
    if (input.state === 'open' && pr.state === 'closed') {
      if (pr.mergedAt !== null || !heads.has(pr.headRef))
        throw validation(doc, [
          { resource: 'PullRequest', code: 'custom', field: 'state', message: 'state cannot be changed.' }
        ])
      pr.state = 'open'
      pr.closedAt = null
    } else if (input.state === 'closed' && pr.state === 'open') {
      pr.state = 'closed'
      pr.closedAt = now()
    }
    if (typeof input.title === 'string') pr.title = input.title
    if (typeof input.body === 'string') pr.body = input.body
    if (typeof input.base === 'string') pr.baseRef = input.base
    if (typeof input.maintainer_can_modify === 'boolean') pr.maintainerCanModify = input.maintainer_can_modify
    pr.updatedAt = now()
    return renderPull(pr, heads)
  }

  async function listPulls(url: URL): Promise<{ items: unknown[]; link?: string }> {
    const heads = await refresh()
    const q = url.searchParams
    const state = q.get('state') ?? 'open'
    const sort = q.get('sort') ?? 'created'
    const direction = q.get('direction') ?? (sort === 'created' ? 'desc' : 'asc')
    const headFilter = q.get('head')
    let list = pulls.filter(p => state === 'all' || p.state === state)
    // GitHub ignores a head filter without the `user:` part.
    if (headFilter?.includes(':')) {
      const [owner, ref] = headFilter.split(/:(.*)/s)
      list = list.filter(p => owner.toLowerCase() === opts.owner.toLowerCase() && p.headRef === ref)
    }
    const base = q.get('base')
    if (base) list = list.filter(p => p.baseRef === base)
    const key = sort === 'updated' ? 'updatedAt' : 'createdAt'
    list.sort((a, b) => a[key].localeCompare(b[key]) || a.number - b.number)
    if (direction === 'desc') list.reverse()
    const page = paginate(list, url)
    const items = []
    for (const pr of page.items) items.push(simplePullObject(await renderPull(pr, heads)))
    return { items, link: page.link }
  }

  async function commitInfo(sha: string): Promise<CommitInfo> {
    const out = await git(repoDir, [
      'log',
      '-1',
      '--format=%H%x00%T%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%B',
      sha
    ])
    const [h, tree, parents, an, ae, ad, cn, ce, cd, message] = out.split('\0')
    const utc = (d: string): string => isoSeconds(new Date(d))
    return {
      sha: h,
      tree,
      parents: parents ? parents.split(' ') : [],
      authorName: an,
      authorEmail: ae,
      authorDate: utc(ad),
      committerName: cn,
      committerEmail: ce,
      committerDate: utc(cd),
      message: message.replace(/\n+$/, '')
    }
  }

  /** Routes one REST call below `/repos/{owner}/{repo}`; returns [status, body, extra headers]. */
  async function rest(
    method: string,
    rest: string,
    url: URL,
    input: Record<string, unknown> | unknown[]
  ): Promise<[number, unknown, Record<string, string>?]> {
    const obj = Array.isArray(input) ? {} : input
    let m: RegExpExecArray | null
    if (rest === '' && method === 'GET') return [200, fullRepoObject(ctx, openCount(), ctx.createdAt)]
    if (rest === '/pulls' && method === 'GET') {
      const { items, link } = await listPulls(url)
      return [200, items, link ? { link } : {}]
    }
    if (rest === '/pulls' && method === 'POST') return [201, await serially(() => createPull(obj))]
    if ((m = /^\/pulls\/(\d+)$/.exec(rest))) {
      if (method === 'GET') {
        const heads = await refresh()
        return [200, await renderPull(findPull(m[1]), heads)]
      }
      if (method === 'PATCH') return [200, await updatePull(m[1], obj)]
    }
    if ((m = /^\/issues\/(\d+)$/.exec(rest)) && method === 'GET') {
      await refresh()
      return [200, issueObject(ctx, findIssue(m[1]), labelId)]
    }
    if ((m = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const pr = findIssue(m[1])
      if (method === 'GET') {
        const page = paginate(pr.comments, url)
        return [
          200,
          page.items.map(c => commentObject(ctx, pr.number, c)),
          page.link ? { link: page.link } : {}
        ]
      }
      if (method === 'POST') return [201, addComment(pr, obj.body)]
    }
    if ((m = /^\/issues\/(\d+)\/labels$/.exec(rest))) {
      const pr = findIssue(m[1])
      if (method === 'POST') addLabels(pr, Array.isArray(input) ? input : obj.labels)
      if (method === 'GET' || method === 'POST')
        return [200, pr.labels.map(name => labelObject(ctx, name, labelId(name)))]
    }
    if ((m = /^\/issues\/(\d+)\/labels\/(.+)$/.exec(rest)) && method === 'DELETE') {
      const pr = findIssue(m[1])
      const name = decodeURIComponent(m[2])
      if (!pr.labels.includes(name))
        throw new ApiError(404, 'Label does not exist', `${DOCS}/issues/labels#remove-a-label-from-an-issue`)
      pr.labels = pr.labels.filter(l => l !== name)
      pr.updatedAt = now()
      return [200, pr.labels.map(l => labelObject(ctx, l, labelId(l)))]
    }
    // The git database: refs by prefix (`matching-refs` matches the start of the name, not whole path
    // components), any ref by its full name, and commit objects.
    if ((m = /^\/git\/matching-refs\/(.*)$/.exec(rest)) && method === 'GET') {
      const prefix = `refs/${decodeURIComponent(m[1])}`
      const out = await git(repoDir, ['for-each-ref', '--format=%(refname) %(objectname)', 'refs/'])
      const refs = out
        .split('\n')
        .filter(Boolean)
        .map(line => line.split(' '))
        .filter(([name]) => (name ?? '').startsWith(prefix))
        .map(([name = '', sha = '']) => gitRefObject(ctx, name, sha))
      return [200, refs]
    }
    if (
      (m = /^\/git\/ref\/(.+)$/.exec(rest)) &&
      method === 'GET' &&
      !decodeURIComponent(m[1]).startsWith('heads/')
    ) {
      const name = `refs/${decodeURIComponent(m[1])}`
      const sha = await revParse(repoDir, name)
      if (!sha) throw notFound(`${DOCS}/git/refs#get-a-reference`)
      return [200, gitRefObject(ctx, name, sha)]
    }
    if ((m = /^\/git\/commits\/([0-9a-f]{40})$/.exec(rest)) && method === 'GET') {
      const sha = m[1]
      const type = await git(repoDir, ['cat-file', '-t', sha]).catch(() => '')
      if (type.trim() !== 'commit') throw notFound(`${DOCS}/git/commits#get-a-commit-object`)
      return [200, gitCommitObject(ctx, await commitInfo(sha))]
    }
    // Octokit sends `heads/x` of a ref as `heads%2Fx`; GitHub accepts both.
    if ((m = /^\/git\/refs?\/(.+)$/.exec(rest)) && decodeURIComponent(m[1]).startsWith('heads/')) {
      const branch = decodeURIComponent(m[1]).slice('heads/'.length)
      const sha = await revParse(repoDir, `refs/heads/${branch}`)
      if (method === 'GET' && rest.startsWith('/git/ref/')) {
        if (!sha) throw notFound(`${DOCS}/git/refs#get-a-reference`)
        return [200, refObject(ctx, branch, sha)]
      }
      if (method === 'DELETE' && rest.startsWith('/git/refs/')) {
        if (!sha) throw new ApiError(422, 'Reference does not exist', `${DOCS}/git/refs#delete-a-reference`)
        await git(repoDir, ['update-ref', '-d', `refs/heads/${branch}`])
        return [204, undefined]
      }
    }
    if ((m = /^\/branches\/(.+)$/.exec(rest)) && method === 'GET') {
      const branch = decodeURIComponent(m[1])
      const sha = await revParse(repoDir, `refs/heads/${branch}`)
      if (!sha) throw new ApiError(404, 'Branch not found', `${DOCS}/branches/branches#get-a-branch`)
      return [200, branchObject(ctx, branch, await commitInfo(sha))]
    }
    throw notFound()
  }

  function findIssue(n: string): StoredPull {
    const pr = pulls.find(p => p.number === Number(n))
    if (!pr) throw notFound(`${DOCS}/issues/issues#get-an-issue`)
    return pr
  }

  function addComment(pr: StoredPull, body: unknown): Record<string, unknown> {
    const doc = `${DOCS}/issues/comments#create-an-issue-comment`
    if (typeof body !== 'string' || body === '')
      throw validation(doc, [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }])
    if (charLength(body) > BODY_MAX)
      throw validation(doc, [
        {
          resource: 'IssueComment',
          code: 'custom',
          field: 'body',
          message: `Body is too long (maximum is ${BODY_MAX} characters)`
        }
      ])
    const at = now()
    const comment: StoredComment = { id: nextComment++, body, createdAt: at, updatedAt: at }
    pr.comments.push(comment)
    pr.updatedAt = at
    return commentObject(ctx, pr.number, comment)
  }

  function addLabels(pr: StoredPull, labels: unknown): void {
    const names = (Array.isArray(labels) ? labels : []).map(l =>
      typeof l === 'string'
        ? l
        : typeof l === 'object' && l !== null
          ? (l as { name?: unknown }).name
          : undefined
    )
    if (!names.length || names.some(n => typeof n !== 'string' || n === ''))
      throw validation(`${DOCS}/issues/labels#add-labels-to-an-issue`, [
        { resource: 'Label', code: 'invalid', field: 'labels' }
      ])
    for (const name of names as string[]) if (!pr.labels.includes(name)) pr.labels.push(name)
    pr.updatedAt = now()
  }

  function rateHeaders(): Record<string, string> {
    rateUsed++
    return {
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': String(Math.max(0, 5000 - rateUsed)),
      'x-ratelimit-used': String(rateUsed),
      'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
      'x-ratelimit-resource': 'core',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-api-version-selected': '2022-11-28',
      'x-github-request-id': randomUUID().toUpperCase()
    }
  }

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET'
    const headers = { ...rateHeaders(), 'content-type': 'application/json; charset=utf-8' }
    const auth = req.headers.authorization ?? ''
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(auth)?.[1] ?? basicPassword(auth)?.password
    if (token !== opts.token) {
      sendJson(res, 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' }, headers)
      return
    }
    const fault = faults.take(method, url.pathname)
    if (fault) {
      sendFault(res, fault, headers)
      return
    }
    try {
      const m = /^\/api\/v3\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(url.pathname)
      const sameRepo =
        m && m[1].toLowerCase() === opts.owner.toLowerCase() && m[2].toLowerCase() === opts.repo.toLowerCase()
      if (!m || !sameRepo) throw notFound()
      const raw = await readBody(req)
      let input: Record<string, unknown> | unknown[] = {}
      if (raw.length) {
        const parsed: unknown = (() => {
          try {
            return JSON.parse(raw.toString('utf8')) as unknown
          } catch {
            return undefined
          }
        })()
        if (typeof parsed !== 'object' || parsed === null)
          throw new ApiError(400, 'Problems parsing JSON', DOCS)
        input = parsed as Record<string, unknown> | unknown[]
      }
      const [status, body, extra] = await rest(method, (m[3] ?? '').replace(/\/$/, ''), url, input)
      if (status === 204) {
        res.writeHead(204, rateHeaders())
        res.end()
      } else sendJson(res, status, body, { ...headers, ...extra })
    } catch (err) {
      if (!(err instanceof ApiError)) throw err
      const body: Record<string, unknown> = { message: err.message }
      if (err.errors) body.errors = err.errors
      body.documentation_url = err.documentationUrl
      body.status = String(err.status)
      sendJson(res, err.status, body, { ...headers, ...err.headers })
    }
  }

  async function handleGit(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const m = /^\/([^/]+)\/([^/]+?)(?:\.git)?(\/(?:info\/refs|git-upload-pack|git-receive-pack))$/.exec(
      url.pathname
    )
    const sameRepo =
      m && m[1].toLowerCase() === opts.owner.toLowerCase() && m[2].toLowerCase() === opts.repo.toLowerCase()
    if (!m || !sameRepo) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('Not Found')
      return
    }
    const creds = basicPassword(req.headers.authorization)
    if (!creds || creds.password !== opts.token) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Basic realm="GitHub"' })
      res.end('Invalid username or token. Password authentication is not supported for Git operations.\n')
      return
    }
    const fault = faults.take(req.method ?? 'GET', url.pathname)
    if (fault) {
      sendFault(res, fault, {})
      return
    }
    await serveGitHttp(req, res, {
      projectRoot: root,
      pathInfo: `/${opts.owner}/${opts.repo}.git${m[3]}`,
      query: url.search.replace(/^\?/, ''),
      remoteUser: creds.user || 'x-access-token'
    })
  }

  const server = http.createServer(
    handler(requests, async (req, res) => {
      const url = new URL(req.url ?? '/', ctx.serverUrl)
      if (url.pathname.startsWith('/api/v3/') || url.pathname === '/api/v3') await handleApi(req, res, url)
      else await handleGit(req, res, url)
    })
  )
  const port = await listen(server)
  ctx.serverUrl = `http://127.0.0.1:${port}`
  ctx.apiUrl = `${ctx.serverUrl}/api/v3`

  return {
    serverUrl: ctx.serverUrl,
    apiUrl: ctx.apiUrl,
    repoDir,
    pulls: () => pulls.map(p => ({ ...p, labels: [...p.labels], comments: [...p.comments] })),
    comments: n => [...(pulls.find(p => p.number === n)?.comments ?? [])],
    labels: n => [...(pulls.find(p => p.number === n)?.labels ?? [])],
    agePull(n, days) {
      const pr = pulls.find(p => p.number === n)
      if (!pr) throw new Error(`no pull request #${n}`)
      const back = (iso: string): string => isoSeconds(new Date(Date.parse(iso) - days * 86400000))
      pr.createdAt = back(pr.createdAt)
      pr.updatedAt = back(pr.updatedAt)
    },
    injectFault: fault => faults.add(fault),
    clearFaults: () => faults.clear(),
    requests,
    async close() {
      await closeServer(server)
      await rm(root, { recursive: true, force: true })
    }
  }
}
