import { afterEach, describe, expect, it } from '@jest/globals'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { createOctokit } from '../../src/github/client.js'
import { GitHubPulls } from '../../src/github/pulls.js'
import { Writes } from '../../src/writes.js'

/** Threat 24 and issue item 3: a pagination link to another host must not receive the token. */

const TOKEN = 'ghs_pinnedtoken'
const servers: http.Server[] = []

interface Seen {
  url: string
  authorization?: string
}

async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void
): Promise<string> {
  const server = http.createServer(handler)
  servers.push(server)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => new Promise(r => s.close(r))))
})

function pull(number: number): object {
  return {
    number,
    state: 'open',
    title: `PR ${number}`,
    body: '',
    head: { ref: `pw/${number}/main`, sha: 'a'.repeat(40), repo: { full_name: 'acme/linux' } },
    base: { ref: 'main' },
    created_at: '2026-01-01T00:00:00Z',
    closed_at: null,
    merged_at: null,
    html_url: `https://github.example/acme/linux/pull/${number}`,
    labels: []
  }
}

/** A GitHub API whose list answer points `next` at `nextUrl(apiUrl)`; the second page is one more PR. */
async function hostileApi(nextUrl: (api: string) => string, seen: Seen[], prefix = ''): Promise<string> {
  let api = ''
  api =
    (await serve((req, res) => {
      seen.push({ url: req.url ?? '', authorization: req.headers.authorization })
      const page2 = (req.url ?? '').includes('page=2')
      res.writeHead(200, {
        'content-type': 'application/json',
        ...(page2 ? {} : { link: `<${nextUrl(api)}>; rel="next"` })
      })
      res.end(JSON.stringify([pull(page2 ? 2 : 1)]))
    })) + prefix
  return api
}

function pulls(apiUrl: string): GitHubPulls {
  const log = { info: () => undefined, warning: () => undefined }
  return new GitHubPulls(createOctokit(TOKEN, apiUrl, log), 'acme', 'linux', new Writes(false))
}

describe('the token stays with the configured API', () => {
  it('follows a next link on the API itself', async () => {
    const seen: Seen[] = []
    const api = await hostileApi(a => `${a}/repos/acme/linux/pulls?state=open&per_page=100&page=2`, seen)
    expect((await pulls(api).listOpen('pw/')).map(p => p.number)).toEqual([1, 2])
    expect(seen).toHaveLength(2)
  })

  it('refuses a next link to another host before sending anything there', async () => {
    const elsewhere: Seen[] = []
    const other = await serve((req, res) => {
      elsewhere.push({ url: req.url ?? '', authorization: req.headers.authorization })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('[]')
    })
    const seen: Seen[] = []
    const api = await hostileApi(() => `${other}/repos/acme/linux/pulls?page=2`, seen)
    await expect(pulls(api).listOpen('pw/')).rejects.toThrow(
      `Refusing to send the GitHub token to ${other}/repos/acme/linux/pulls`
    )
    expect(seen).toHaveLength(1)
    expect(seen[0]?.authorization).toBe(`token ${TOKEN}`)
    expect(elsewhere).toEqual([])
  })

  it('refuses a next link outside the API path of a GHES host', async () => {
    const seen: Seen[] = []
    const api = await hostileApi(a => `${a.replace('/api/v3', '')}/collect?page=2`, seen, '/api/v3')
    await expect(pulls(api).listOpen('pw/')).rejects.toThrow('Refusing to send the GitHub token')
    expect(seen).toHaveLength(1)
  })
})

/** Threat 36: an exhausted primary rate limit is waited out only when the wait is affordable. */
describe('the primary rate limit', () => {
  async function limitedApi(resetInSeconds: number, seen: string[]): Promise<string> {
    let limited = true
    return serve((req, res) => {
      seen.push(req.url ?? '')
      if (limited) {
        limited = false
        res.writeHead(403, {
          'content-type': 'application/json',
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + resetInSeconds)
        })
        res.end(JSON.stringify({ message: 'API rate limit exceeded for installation ID 1.', status: '403' }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ ok: true }))
    })
  }

  // Waiting the hour would outlast the test's timeout: the rejection itself shows it did not wait.
  it('gives up at once when GitHub asks for an hour, saying so', async () => {
    const seen: string[] = []
    const warnings: string[] = []
    const api = await limitedApi(3600, seen)
    const octokit = createOctokit(TOKEN, api, { info: () => undefined, warning: w => warnings.push(w) })
    await expect(octokit.request('GET /rate_limit')).rejects.toMatchObject({ status: 403 })
    expect(seen).toHaveLength(1)
    expect(warnings).toEqual([
      expect.stringMatching(/^GitHub rate limit for GET \/rate_limit; retry after \d+s$/)
    ])
  })

  it('waits out a short limit and then succeeds', async () => {
    const seen: string[] = []
    const api = await limitedApi(1, seen)
    const octokit = createOctokit(TOKEN, api, { info: () => undefined, warning: () => undefined })
    await expect(octokit.request('GET /rate_limit')).resolves.toMatchObject({ status: 200 })
    expect(seen).toHaveLength(2)
  })
})
