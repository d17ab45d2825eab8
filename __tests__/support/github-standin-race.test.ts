import { afterAll, beforeAll, expect, it } from '@jest/globals'
import { startGitHubStandIn, type GitHubStandIn } from './github-standin.js'
import { commitFiles, seedFromBundle } from './repos.js'

let gh: GitHubStandIn
beforeAll(async () => {
  gh = await startGitHubStandIn({ owner: 'acme', repo: 'linux', token: 't0k' })
  await seedFromBundle(gh.repoDir, ['main'])
  await commitFiles(gh.repoDir, { branch: 'pw/1/main', parent: 'main', files: { a: 'a\n' }, message: 'a' })
})
afterAll(async () => gh?.close())

it('creates one PR for a head when two creations race, and answers the other 422 as GitHub does', async () => {
  const create = (): Promise<Response> =>
    fetch(`${gh.apiUrl}/repos/acme/linux/pulls`, {
      method: 'POST',
      headers: { authorization: 'token t0k', 'content-type': 'application/json' },
      body: JSON.stringify({ head: 'pw/1/main', base: 'main', title: 'x' })
    })
  const responses = await Promise.all([create(), create(), create()])
  expect(responses.map(r => r.status).sort()).toEqual([201, 422, 422])
  const rejected = (await responses.find(r => r.status === 422)!.json()) as { errors: { message: string }[] }
  expect(rejected.errors[0].message).toBe('A pull request already exists for acme:pw/1/main.')
  expect(gh.pulls()).toHaveLength(1)
})
