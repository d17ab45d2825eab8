import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { getOctokit } from '@actions/github'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { startGitHubStandIn, type GitHubStandIn } from './github-standin.js'
import { GitHubResponseValidator } from './github-openapi.js'
import { parseLinkHeader } from './http.js'
import { isolatedGitEnv } from './github-git.js'
import { commitFiles, kernelLikeFiles, seedFromBundle, BUNDLE_TIP } from './repos.js'

const run = promisify(execFile)
const OWNER = 'acme'
const REPO = 'linux'
const TOKEN = 'ghs_standintoken'
const repo = { owner: OWNER, repo: REPO }

interface HttpError {
  status: number
  response: { data: unknown; headers: Record<string, string> }
}

async function failure(p: Promise<unknown>): Promise<HttpError> {
  try {
    await p
  } catch (err) {
    return err as HttpError
  }
  throw new Error('expected the request to fail')
}

let gh: GitHubStandIn
let validator: GitHubResponseValidator
const problems: string[] = []
const validated = new Set<string>()

function client(token = TOKEN): ReturnType<typeof getOctokit> {
  const octokit = getOctokit(token, { baseUrl: gh.apiUrl })
  // Every response, success or error, must match the operation's schema in GitHub's description.
  octokit.hook.wrap('request', async (request, options) => {
    const check = (status: number, data: unknown): void => {
      if (status >= 500 || status === 401) return
      const url = String(options.url)
      const route = url.startsWith('http')
        ? (validator.routeOf(options.method, new URL(url).pathname.replace(/^\/api\/v3/, '')) ?? url)
        : url
      validated.add(`${options.method} ${route} ${status}`)
      for (const p of validator.validate(options.method, route, status, data))
        problems.push(`${options.method} ${route} ${status}: ${p}`)
    }
    try {
      const response = await request(options)
      check(response.status, response.data)
      return response
    } catch (err) {
      const e = err as HttpError
      if (e.response) check(e.status, e.response.data)
      throw err
    }
  })
  return octokit
}

beforeAll(async () => {
  validator = new GitHubResponseValidator()
  gh = await startGitHubStandIn({ owner: OWNER, repo: REPO, token: TOKEN })
  await seedFromBundle(gh.repoDir, ['main'])
})

afterAll(async () => {
  await gh.close()
})

afterEach(() => {
  // Schema mismatches collected by the hook fail the test that caused them.
  const found = problems.splice(0)
  if (found.length) throw new Error(`responses do not match GitHub's description:\n${found.join('\n')}`)
})

async function branch(name: string, file = `${name}.txt`): Promise<string> {
  return commitFiles(gh.repoDir, {
    branch: name,
    parent: 'main',
    files: { [file]: `${name}\n` },
    message: name
  })
}

describe('REST', () => {
  it('serves the repository with rate-limit headers and rejects bad credentials', async () => {
    const res = await client().rest.repos.get(repo)
    expect(res.data.default_branch).toBe('main')
    expect(res.data.full_name).toBe('acme/linux')
    expect(res.headers['x-ratelimit-limit']).toBe('5000')
    expect(Number(res.headers['x-ratelimit-remaining'])).toBeLessThan(5000)
    const err = await failure(client('wrong').rest.repos.get(repo))
    expect(err.status).toBe(401)
    expect(err.response.data).toEqual({
      message: 'Bad credentials',
      documentation_url: 'https://docs.github.com/rest',
      status: '401'
    })
  })

  it('creates pull requests and refuses duplicates, empty ones, unknown branches and long texts', async () => {
    const octokit = client()
    const tip = await branch('pw/101/main')
    const created = await octokit.rest.pulls.create({
      ...repo,
      head: 'pw/101/main',
      base: 'main',
      title: 'fs: one',
      body: 'b'
    })
    expect(created.status).toBe(201)
    expect(created.data.head).toMatchObject({ ref: 'pw/101/main', sha: tip, label: 'acme:pw/101/main' })
    expect(created.data.base).toMatchObject({ ref: 'main', sha: BUNDLE_TIP })
    expect(created.data.commits).toBe(1)

    const dup = await failure(
      octokit.rest.pulls.create({ ...repo, head: 'acme:pw/101/main', base: 'main', title: 'x' })
    )
    expect(dup.status).toBe(422)
    expect(dup.response.data).toMatchObject({
      message: 'Validation Failed',
      errors: [
        {
          resource: 'PullRequest',
          code: 'custom',
          message: 'A pull request already exists for acme:pw/101/main.'
        }
      ],
      status: '422'
    })

    await seedFromBundle(gh.repoDir, ['same-as-main'])
    const empty = await failure(
      octokit.rest.pulls.create({ ...repo, head: 'same-as-main', base: 'main', title: 'x' })
    )
    expect(empty.response.data).toMatchObject({
      errors: [{ message: 'No commits between main and same-as-main' }]
    })

    const missing = await failure(
      octokit.rest.pulls.create({ ...repo, head: 'no-such', base: 'main', title: 'x' })
    )
    expect(missing.response.data).toMatchObject({
      errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]
    })

    await branch('pw/102/main')
    const long = await failure(
      octokit.rest.pulls.create({
        ...repo,
        head: 'pw/102/main',
        base: 'main',
        title: 't'.repeat(257),
        body: 'b'.repeat(65537)
      })
    )
    expect(long.status).toBe(422)
    expect((long.response.data as { errors: { message: string }[] }).errors.map(e => e.message)).toEqual([
      'title is too long (maximum is 256 characters)',
      'body is too long (maximum is 65536 characters)'
    ])
    expect(gh.pulls().map(p => p.headRef)).toEqual(['pw/101/main'])
  })

  it('lists with filters and Link pagination', async () => {
    const octokit = client()
    for (const n of [201, 202, 203]) {
      await branch(`pw/${n}/main`)
      await octokit.rest.pulls.create({ ...repo, head: `pw/${n}/main`, base: 'main', title: `series ${n}` })
    }
    const first = await octokit.rest.pulls.list({ ...repo, state: 'open', per_page: 2 })
    expect(first.data).toHaveLength(2)
    const links = parseLinkHeader(first.headers.link)
    expect(Object.keys(links).sort()).toEqual(['last', 'next'])
    expect(new URL(links.next).searchParams.get('page')).toBe('2')
    expect(new URL(links.next).searchParams.get('per_page')).toBe('2')
    const second = await octokit.request(`GET ${links.next}`)
    expect(Object.keys(parseLinkHeader(second.headers.link)).sort()).toEqual(['first', 'prev'])

    const all = await octokit.paginate(octokit.rest.pulls.list, { ...repo, state: 'all', per_page: 1 })
    expect(all.map(p => p.number)).toEqual([...gh.pulls().map(p => p.number)].reverse())

    const byHead = await octokit.rest.pulls.list({ ...repo, state: 'all', head: 'acme:pw/202/main' })
    expect(byHead.data.map(p => p.title)).toEqual(['series 202'])
    const byBase = await octokit.rest.pulls.list({ ...repo, base: 'other' })
    expect(byBase.data).toEqual([])
  })

  it('updates pull requests, follows force-pushes and keeps the last head of a deleted branch', async () => {
    const octokit = client()
    await branch('pw/301/main')
    const { data: pr } = await octokit.rest.pulls.create({
      ...repo,
      head: 'pw/301/main',
      base: 'main',
      title: 'v1'
    })
    const tip2 = await commitFiles(gh.repoDir, {
      branch: 'pw/301/main',
      files: { 'more.txt': 'x\n' },
      message: 'more'
    })
    const got = await octokit.rest.pulls.get({ ...repo, pull_number: pr.number })
    expect(got.data.head.sha).toBe(tip2)
    expect(got.data.commits).toBe(2)

    const upd = await octokit.rest.pulls.update({ ...repo, pull_number: pr.number, title: 'v2', body: 'new' })
    expect(upd.data).toMatchObject({ title: 'v2', body: 'new', state: 'open' })

    await octokit.rest.git.deleteRef({ ...repo, ref: 'heads/pw/301/main' })
    const closed = await octokit.rest.pulls.get({ ...repo, pull_number: pr.number })
    expect(closed.data.state).toBe('closed')
    expect(closed.data.closed_at).not.toBeNull()
    expect(closed.data.head.sha).toBe(tip2)

    await branch('pw/302/main')
    const { data: pr2 } = await octokit.rest.pulls.create({
      ...repo,
      head: 'pw/302/main',
      base: 'main',
      title: 'x'
    })
    const shut = await octokit.rest.pulls.update({ ...repo, pull_number: pr2.number, state: 'closed' })
    expect(shut.data.state).toBe('closed')
    expect(shut.data.merged).toBe(false)

    const before = gh.pulls().find(p => p.number === pr2.number)?.createdAt as string
    gh.agePull(pr2.number, 10)
    const aged = await octokit.rest.pulls.get({ ...repo, pull_number: pr2.number })
    expect(Date.parse(before) - Date.parse(aged.data.created_at)).toBe(10 * 86400000)
  })

  it('marks a pull request merged when its head reaches the base branch', async () => {
    const octokit = client()
    await seedFromBundle(gh.repoDir, ['stable'])
    const tip = await commitFiles(gh.repoDir, {
      branch: 'pw/401/stable',
      parent: 'stable',
      files: { a: 'a\n' },
      message: 'a'
    })
    const { data: pr } = await octokit.rest.pulls.create({
      ...repo,
      head: 'pw/401/stable',
      base: 'stable',
      title: 'm'
    })
    await run('git', ['--git-dir', gh.repoDir, 'update-ref', 'refs/heads/stable', tip], {
      env: isolatedGitEnv()
    })
    const got = await octokit.rest.pulls.get({ ...repo, pull_number: pr.number })
    expect(got.data).toMatchObject({ state: 'closed', merged: true })
    expect(got.data.merged_at).not.toBeNull()
  })

  it('handles comments, labels and the issue view', async () => {
    const octokit = client()
    await branch('pw/501/main')
    const { data: pr } = await octokit.rest.pulls.create({
      ...repo,
      head: 'pw/501/main',
      base: 'main',
      title: 'c'
    })
    const n = { ...repo, issue_number: pr.number }
    const c = await octokit.rest.issues.createComment({ ...n, body: 'Applied.' })
    expect(c.status).toBe(201)
    expect((await octokit.rest.issues.listComments(n)).data.map(x => x.body)).toEqual(['Applied.'])
    const tooLong = await failure(octokit.rest.issues.createComment({ ...n, body: 'x'.repeat(65537) }))
    expect(tooLong.response.data).toMatchObject({
      errors: [{ message: 'Body is too long (maximum is 65536 characters)' }]
    })
    expect(gh.comments(pr.number)).toHaveLength(1)

    const labels = await octokit.rest.issues.addLabels({ ...n, labels: ['ml2pr', 'v2'] })
    expect(labels.data.map(l => l.name)).toEqual(['ml2pr', 'v2'])
    const left = await octokit.rest.issues.removeLabel({ ...n, name: 'v2' })
    expect(left.data.map(l => l.name)).toEqual(['ml2pr'])
    const gone = await failure(octokit.rest.issues.removeLabel({ ...n, name: 'v2' }))
    expect(gone.status).toBe(404)
    expect(gone.response.data).toMatchObject({ message: 'Label does not exist' })
    expect(gh.labels(pr.number)).toEqual(['ml2pr'])

    const issue = await octokit.rest.issues.get(n)
    expect(issue.data.pull_request?.url).toBe(pr.url)
    expect(issue.data.comments).toBe(1)
    expect((await failure(octokit.rest.issues.get({ ...repo, issue_number: 9999 }))).status).toBe(404)
  })

  it('serves refs and branches, with GitHub errors for missing ones', async () => {
    const octokit = client()
    const tip = await branch('pw/601/main')
    const ref = await octokit.rest.git.getRef({ ...repo, ref: 'heads/pw/601/main' })
    expect(ref.data).toMatchObject({ ref: 'refs/heads/pw/601/main', object: { sha: tip, type: 'commit' } })
    const b = await octokit.rest.repos.getBranch({ ...repo, branch: 'pw/601/main' })
    expect(b.data.commit.sha).toBe(tip)
    expect(b.data.commit.parents.map(p => p.sha)).toEqual([BUNDLE_TIP])

    expect((await octokit.rest.git.deleteRef({ ...repo, ref: 'heads/pw/601/main' })).status).toBe(204)
    const missing = await failure(octokit.rest.git.getRef({ ...repo, ref: 'heads/pw/601/main' }))
    expect(missing.status).toBe(404)
    expect(missing.response.data).toMatchObject({ message: 'Not Found' })
    const again = await failure(octokit.rest.git.deleteRef({ ...repo, ref: 'heads/pw/601/main' }))
    expect(again.status).toBe(422)
    expect(again.response.data).toMatchObject({ message: 'Reference does not exist', status: '422' })
    expect((await failure(octokit.rest.repos.getBranch({ ...repo, branch: 'nope' }))).status).toBe(404)
  })

  it('answers unknown routes and other repositories with 404 Not Found', async () => {
    const res = await fetch(`${gh.apiUrl}/repos/acme/linux/no/such/route`, {
      headers: { authorization: `token ${TOKEN}` }
    })
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({
      message: 'Not Found',
      documentation_url: 'https://docs.github.com/rest',
      status: '404'
    })
    const other = await failure(client().rest.repos.get({ owner: 'acme', repo: 'other' }))
    expect(other.status).toBe(404)
  })

  it('injects faults: a 502 once, then a secondary rate limit with retry-after', async () => {
    const octokit = client()
    await branch('pw/701/main')
    gh.injectFault({ method: 'POST', path: /\/pulls$/, status: 502, body: 'Bad Gateway' })
    const bad = await failure(
      octokit.rest.pulls.create({ ...repo, head: 'pw/701/main', base: 'main', title: 'f' })
    )
    expect(bad.status).toBe(502)
    const message =
      'You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.'
    gh.injectFault({
      method: 'POST',
      path: /\/pulls$/,
      status: 403,
      body: {
        message,
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api'
      },
      headers: { 'retry-after': '1' }
    })
    const limited = await failure(
      octokit.rest.pulls.create({ ...repo, head: 'pw/701/main', base: 'main', title: 'f' })
    )
    expect(limited.status).toBe(403)
    expect(limited.response.headers['retry-after']).toBe('1')
    const ok = await octokit.rest.pulls.create({ ...repo, head: 'pw/701/main', base: 'main', title: 'f' })
    expect(ok.status).toBe(201)
    expect(
      gh.requests
        .filter(r => r.method === 'POST' && r.path.endsWith('/pulls'))
        .slice(-3)
        .map(r => r.status)
    ).toEqual([502, 403, 201])
  })

  it('the schema check itself rejects a malformed pull request', () => {
    const route = '/repos/{owner}/{repo}/pulls/{pull_number}'
    expect(validator.validate('GET', route, 200, { number: 1, state: 'open' })).not.toEqual([])
  })

  it('validated every route against the description', () => {
    for (const route of [
      'GET /repos/{owner}/{repo} 200',
      'POST /repos/{owner}/{repo}/pulls 201',
      'POST /repos/{owner}/{repo}/pulls 422',
      'GET /repos/{owner}/{repo}/pulls 200',
      'GET /repos/{owner}/{repo}/pulls/{pull_number} 200',
      'PATCH /repos/{owner}/{repo}/pulls/{pull_number} 200',
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments 201',
      'POST /repos/{owner}/{repo}/issues/{issue_number}/comments 422',
      'GET /repos/{owner}/{repo}/issues/{issue_number}/comments 200',
      'POST /repos/{owner}/{repo}/issues/{issue_number}/labels 200',
      'DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name} 200',
      'DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name} 404',
      'GET /repos/{owner}/{repo}/issues/{issue_number} 200',
      'GET /repos/{owner}/{repo}/issues/{issue_number} 404',
      'GET /repos/{owner}/{repo}/git/ref/{ref} 200',
      'GET /repos/{owner}/{repo}/git/ref/{ref} 404',
      'DELETE /repos/{owner}/{repo}/git/refs/{ref} 204',
      'DELETE /repos/{owner}/{repo}/git/refs/{ref} 422',
      'GET /repos/{owner}/{repo}/branches/{branch} 200',
      'GET /repos/{owner}/{repo}/branches/{branch} 404',
      'POST /repos/{owner}/{repo}/pulls 403'
    ])
      expect([...validated]).toContain(route)
  })
})

describe('git smart HTTP', () => {
  let work: string
  const auth = (token: string): string =>
    `http.extraheader=AUTHORIZATION: basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`
  const gitIn = async (
    cwd: string,
    args: string[],
    token = TOKEN
  ): Promise<{ stdout: string; stderr: string }> =>
    run('git', ['-c', auth(token), ...args], {
      cwd,
      env: isolatedGitEnv({
        GIT_AUTHOR_NAME: 'T',
        GIT_AUTHOR_EMAIL: 't@e',
        GIT_COMMITTER_NAME: 'T',
        GIT_COMMITTER_EMAIL: 't@e'
      })
    })

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), 'gh-standin-git-'))
    await commitFiles(gh.repoDir, { branch: 'kernel', files: kernelLikeFiles(60), message: 'Linux 6.12' })
  })
  afterAll(async () => {
    await rm(work, { recursive: true, force: true })
  })

  it('clones blobless at depth 1 and fetches missing blobs by id', async () => {
    const dir = path.join(work, 'blobless')
    await gitIn(work, [
      'clone',
      '--quiet',
      '--no-checkout',
      '--filter=blob:none',
      '--depth=1',
      '--branch',
      'kernel',
      `${gh.serverUrl}/${OWNER}/${REPO}.git`,
      dir
    ])
    const blob = (await gitIn(dir, ['rev-parse', 'HEAD:fs/namei.c'])).stdout.trim()
    const missing = (await gitIn(dir, ['rev-list', '--objects', '--missing=print', 'HEAD'])).stdout
    expect(missing).toContain(`?${blob}`)
    // A batch of 60+ wants makes git gzip the request body.
    await gitIn(dir, ['-c', 'core.sparseCheckout=false', 'checkout', '--quiet', 'kernel'])
    expect((await gitIn(dir, ['cat-file', '-p', blob])).stdout).toContain('lookup_one')
    expect((await gitIn(dir, ['rev-parse', '--is-shallow-repository'])).stdout.trim()).toBe('true')
  })

  it('accepts a gzip-encoded request body', async () => {
    const pkt = (line: string): string => (line.length + 4).toString(16).padStart(4, '0') + line
    const body = gzipSync(`${pkt('command=ls-refs\n')}0001${pkt('ref-prefix refs/heads/main\n')}0000`)
    const res = await fetch(`${gh.serverUrl}/${OWNER}/${REPO}.git/git-upload-pack`, {
      method: 'POST',
      body,
      headers: {
        authorization: `basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
        'content-type': 'application/x-git-upload-pack-request',
        'content-encoding': 'gzip',
        'git-protocol': 'version=2'
      }
    })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain(`${BUNDLE_TIP} refs/heads/main`)
  })

  it('pushes with the extraheader and refuses workflow changes', async () => {
    const dir = path.join(work, 'push')
    await gitIn(work, ['clone', '--quiet', '--branch', 'main', `${gh.serverUrl}/${OWNER}/${REPO}.git`, dir])
    await run('sh', ['-c', 'echo change >> file1.txt && git add file1.txt'], { cwd: dir })
    await gitIn(dir, ['commit', '--quiet', '-m', 'change'])
    await gitIn(dir, ['push', '--quiet', 'origin', 'HEAD:refs/heads/pw/801/main'])
    const local = (await gitIn(dir, ['rev-parse', 'HEAD'])).stdout.trim()
    const { stdout } = await run('git', ['--git-dir', gh.repoDir, 'rev-parse', 'refs/heads/pw/801/main'])
    expect(stdout.trim()).toBe(local)

    await run(
      'sh',
      ['-c', 'mkdir -p .github/workflows && echo x > .github/workflows/evil.yml && git add .github'],
      { cwd: dir }
    )
    await gitIn(dir, ['commit', '--quiet', '-m', 'evil'])
    const err = (await failure(gitIn(dir, ['push', 'origin', 'HEAD:refs/heads/pw/802/main']))) as unknown as {
      stderr: string
    }
    expect(err.stderr).toContain(
      'refusing to allow a GitHub App to create or update workflow `.github/workflows/evil.yml` without `workflows` permission'
    )
    expect(err.stderr).toContain('[remote rejected]')
  })

  it('rejects a wrong token with 401 and a Basic challenge', async () => {
    const err = (await failure(
      gitIn(work, ['ls-remote', `${gh.serverUrl}/${OWNER}/${REPO}.git`], 'wrong')
    )) as unknown as {
      stderr: string
    }
    expect(err.stderr).toMatch(/Authentication failed|could not read Username/)
    const res = await fetch(`${gh.serverUrl}/${OWNER}/${REPO}.git/info/refs?service=git-upload-pack`)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="GitHub"')
  })
})
