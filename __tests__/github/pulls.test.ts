import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { getOctokit } from '@actions/github'
import { createOctokit } from '../../src/github/client.js'
import { GitHubPulls } from '../../src/github/pulls.js'
import { WriteBudgetExceeded, Writes } from '../../src/writes.js'
import { startGitHubStandIn, type GitHubStandIn } from '../support/github-standin.js'
import { commitFiles, seedFromBundle } from '../support/repos.js'

/** Threats 29, 34 and 35: a PR is created once, whatever GitHub answers on the way. */

const TOKEN = 'ghs_pullstoken'
const repo = { owner: 'acme', repo: 'linux' }
let gh: GitHubStandIn

beforeAll(async () => {
  gh = await startGitHubStandIn({ ...repo, token: TOKEN })
  await seedFromBundle(gh.repoDir, ['main'])
})

afterAll(async () => {
  await gh.close()
})

async function branch(name: string): Promise<void> {
  await commitFiles(gh.repoDir, {
    branch: name,
    parent: 'main',
    files: { [`${name}.txt`]: `${name}\n` },
    message: name
  })
}

function pulls(writes = new Writes(false)): GitHubPulls {
  const log = { info: () => undefined, warning: () => undefined }
  return new GitHubPulls(createOctokit(TOKEN, gh.apiUrl, log), repo.owner, repo.repo, writes)
}

async function prsFor(head: string): Promise<number[]> {
  const { data } = await getOctokit(TOKEN, { baseUrl: gh.apiUrl }).rest.pulls.list({
    ...repo,
    state: 'all',
    head: `acme:${head}`
  })
  return data.map(p => p.number)
}

const posts = (): number[] =>
  gh.requests.filter(r => r.method === 'POST' && r.path.endsWith('/pulls')).map(r => r.status)

describe('opening a PR', () => {
  it('adopts the PR a lost response created: 502 after the create, then 422 "already exists"', async () => {
    await branch('pw/801/main')
    // A racing or earlier attempt created it; this attempt's answer is lost.
    const first = await getOctokit(TOKEN, { baseUrl: gh.apiUrl }).rest.pulls.create({
      ...repo,
      head: 'pw/801/main',
      base: 'main',
      title: 'first'
    })
    gh.injectFault({ method: 'POST', path: /\/pulls$/, status: 502, body: 'Bad Gateway' })
    const got = await pulls().create({ head: 'pw/801/main', base: 'main', title: 'first', body: '' })
    expect(got).toMatchObject({ created: false, pull: { number: first.data.number } })
    expect(await prsFor('pw/801/main')).toEqual([first.data.number])
  })

  it('adopts on 422 "A pull request already exists" instead of failing or duplicating', async () => {
    await branch('pw/802/main')
    const first = await getOctokit(TOKEN, { baseUrl: gh.apiUrl }).rest.pulls.create({
      ...repo,
      head: 'pw/802/main',
      base: 'main',
      title: 'first'
    })
    const got = await pulls().create({ head: 'pw/802/main', base: 'main', title: 'again', body: '' })
    expect(got).toMatchObject({ created: false, pull: { number: first.data.number } })
    expect(posts().slice(-2)).toEqual([201, 422])
    expect(await prsFor('pw/802/main')).toEqual([first.data.number])
  })

  it('waits out a secondary rate limit (retry-after) and creates the PR once', async () => {
    await branch('pw/803/main')
    gh.injectFault({
      method: 'POST',
      path: /\/pulls$/,
      status: 403,
      body: {
        message:
          'You have exceeded a secondary rate limit and have been temporarily blocked from content creation. Please retry your request again later.',
        documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api'
      },
      headers: { 'retry-after': '1' }
    })
    const got = await pulls().create({ head: 'pw/803/main', base: 'main', title: 't', body: '' })
    expect(got?.created).toBe(true)
    expect(await prsFor('pw/803/main')).toHaveLength(1)
  })

  it('defers on 422 "was submitted too quickly": nothing dropped, no further writes this run', async () => {
    await branch('pw/804/main')
    gh.injectFault({
      method: 'POST',
      path: /\/pulls$/,
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [{ resource: 'PullRequest', code: 'custom', message: 'was submitted too quickly' }],
        documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request'
      }
    })
    const writes = new Writes(false)
    const client = pulls(writes)
    await expect(client.create({ head: 'pw/804/main', base: 'main', title: 't', body: '' })).rejects.toThrow(
      WriteBudgetExceeded
    )
    await expect(client.update(1, { title: 'x' })).rejects.toThrow(WriteBudgetExceeded)
    expect(await prsFor('pw/804/main')).toEqual([])
    // The next run (a fresh budget) opens it.
    const next = await pulls().create({ head: 'pw/804/main', base: 'main', title: 't', body: '' })
    expect(next?.created).toBe(true)
  })
})
