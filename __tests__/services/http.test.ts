/**
 * The outbound HTTP layer against real loopback servers: origin pinning across redirects, the byte cap and
 * the overall deadline while streaming, retries, gzip bombs, and Patchwork's recorded `Link` headers.
 */
import { afterEach, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { HttpClient, HttpError, gunzipCapped, isGzip, parseLinkHeader } from '../../src/http.js'
import {
  deadOrigin,
  noSleep,
  recordingSleep,
  startServer,
  streamForever,
  type TinyServer
} from './servers.js'

const SECRET = 'Token very-secret-key'
const servers: TinyServer[] = []

async function server(...args: Parameters<typeof startServer>): Promise<TinyServer> {
  const s = await startServer(...args)
  servers.push(s)
  return s
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map(s => s.close()))
})

describe('HttpClient redirects', () => {
  it('refuses a redirect to another origin; the token never reaches it', async () => {
    const foreign = await server((_req, res) => res.end('secret stolen'))
    const home = await server((_req, res) => {
      res.writeHead(302, { location: `${foreign.origin}/collect` })
      res.end()
    })
    const client = new HttpClient([home.origin], undefined, noSleep)
    const run = client.fetch(`${home.origin}/api/1.3/`, { headers: { authorization: SECRET } })
    await expect(run).rejects.toBeInstanceOf(HttpError)
    await expect(run).rejects.toThrow(`Refusing to contact ${foreign.origin}`)
    // Not transient: a refusal is not retried.
    await expect(run).rejects.toMatchObject({ transient: false })
    expect(home.seen).toHaveLength(1)
    expect(home.seen[0].headers.authorization).toBe(SECRET)
    expect(foreign.seen).toEqual([])
  })

  it('refuses a URL outside the configured origins before sending anything', async () => {
    const foreign = await server((_req, res) => res.end('x'))
    const client = new HttpClient(['https://patchwork.example.org'], undefined, noSleep)
    await expect(client.fetch(`${foreign.origin}/`)).rejects.toThrow(/not a configured service origin/)
    expect(foreign.seen).toEqual([])
  })

  it('follows a redirect within the origin, keeping the headers', async () => {
    const home = await server((req, res) => {
      if (req.url === '/patch/4/mbox/') {
        res.writeHead(302, { location: '/project/linux-fsdevel/patch/a%2Fb@example.org/mbox/' })
        res.end()
      } else res.end(`served ${req.url}`)
    })
    const client = new HttpClient([home.origin], undefined, noSleep)
    const res = await client.fetch(`${home.origin}/patch/4/mbox/`, { headers: { authorization: SECRET } })
    expect(res.status).toBe(200)
    expect(res.url).toBe(`${home.origin}/project/linux-fsdevel/patch/a%2Fb@example.org/mbox/`)
    expect(res.body.toString()).toBe('served /project/linux-fsdevel/patch/a%2Fb@example.org/mbox/')
    expect(home.seen.map(r => r.headers.authorization)).toEqual([SECRET, SECRET])
  })

  it('gives up on a redirect loop', async () => {
    const home = await server((req, res) => {
      res.writeHead(301, { location: req.url === '/a' ? '/b' : '/a' })
      res.end()
    })
    const client = new HttpClient([home.origin], undefined, noSleep)
    await expect(client.fetch(`${home.origin}/a`, { retries: 0 })).rejects.toThrow(/Too many redirects/)
  })
})

describe('HttpClient limits', () => {
  it('aborts a body over maxBytes while it is still streaming', async () => {
    // The body never ends: only the cap can finish this request.
    const home = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      streamForever(res, Buffer.alloc(16 * 1024, 'x'))
    })
    const client = new HttpClient([home.origin], undefined, noSleep)
    const run = client.fetch(`${home.origin}/t.mbox.gz`, { maxBytes: 256 * 1024 })
    await expect(run).rejects.toThrow(`Response from ${home.origin}/t.mbox.gz exceeds 262144 bytes`)
    // Too big stays too big: not transient, not retried.
    await expect(run).rejects.toMatchObject({ transient: false })
    expect(home.seen).toHaveLength(1)
  })

  it('aborts a server that drips bytes past the overall deadline', async () => {
    // A byte every 20 ms never trips a per-chunk timeout; only the deadline for the whole exchange can.
    const home = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/gzip' })
      res.flushHeaders()
      streamForever(res, Buffer.from('x'), 20)
    })
    const client = new HttpClient([home.origin], undefined, noSleep)
    const run = client.fetch(`${home.origin}/slow`, { timeoutMs: 300, retries: 0 })
    await expect(run).rejects.toBeInstanceOf(HttpError)
    await expect(run).rejects.toThrow(/deadline exceeded/)
    await expect(run).rejects.toMatchObject({ transient: true })
  })

  it('applies the deadline to a server that never sends headers', async () => {
    const home = await server(() => undefined)
    const client = new HttpClient([home.origin], { timeoutMs: 300, maxBytes: 1024 }, noSleep)
    const run = client.fetch(`${home.origin}/silent`, { retries: 0 })
    await expect(run).rejects.toMatchObject({ name: 'HttpError', transient: true })
  })
})

describe('HttpClient retries', () => {
  const flaky = (): Promise<TinyServer> =>
    server((_req, res, seen) => {
      res.writeHead(seen.length === 1 ? 502 : 200, { 'content-type': 'text/plain' })
      res.end(seen.length === 1 ? 'Bad Gateway' : 'fine')
    })

  it('retries a GET after a 502 and returns the 200', async () => {
    const home = await flaky()
    const sleeps: number[] = []
    const client = new HttpClient([home.origin], undefined, recordingSleep(sleeps))
    const res = await client.fetch(`${home.origin}/api/1.3/events/`)
    expect(res.status).toBe(200)
    expect(res.body.toString()).toBe('fine')
    expect(home.seen).toHaveLength(2)
    expect(sleeps).toHaveLength(1)
  })

  it('does not retry a POST after a 502', async () => {
    const home = await flaky()
    const client = new HttpClient([home.origin], undefined, noSleep)
    const res = await client.fetch(`${home.origin}/api/1.3/patches/1/checks/`, {
      method: 'POST',
      body: '{}'
    })
    expect(res.status).toBe(502)
    expect(home.seen.map(r => r.method)).toEqual(['POST'])
  })

  it('retries a refused connection, then reports it as transient', async () => {
    const origin = await deadOrigin()
    const sleeps: number[] = []
    const client = new HttpClient([origin], undefined, recordingSleep(sleeps))
    const run = client.fetch(`${origin}/`)
    await expect(run).rejects.toMatchObject({ name: 'HttpError', transient: true })
    expect(sleeps).toHaveLength(2)
  })
})

describe('gunzipCapped', () => {
  // 50 MB of zeros compress to about 50 kB.
  const bomb = gzipSync(Buffer.alloc(50 << 20))

  it('refuses a gzip bomb', async () => {
    expect(isGzip(bomb)).toBe(true)
    expect(bomb.length).toBeLessThan(1 << 20)
    await expect(gunzipCapped(bomb, 1 << 20)).rejects.toThrow('Decompressed data exceeds 1048576 bytes')
  })

  it('stops at the cap instead of inflating the whole bomb', async () => {
    // Cut off the end: inflating it all would end in "unexpected end of file", not at the cap.
    const truncated = bomb.subarray(0, bomb.length - 1024)
    await expect(gunzipCapped(truncated, 1 << 20)).rejects.toThrow(/exceeds 1048576 bytes/)
    await expect(gunzipCapped(truncated, 60 << 20)).rejects.toThrow(/unexpected end of file/)
  })

  it('inflates data under the cap', async () => {
    const text = 'From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: x\n\nbody\n'
    expect((await gunzipCapped(gzipSync(text), 1024)).toString()).toBe(text)
    expect(isGzip(Buffer.from(text))).toBe(false)
  })
})

describe('parseLinkHeader', () => {
  const index = JSON.parse(
    readFileSync(new URL('../fixtures/services/patchwork-responses-index.json', import.meta.url), 'utf8')
  ) as Record<string, { Link?: string }>

  it('reads next, first and last from a recorded Patchwork list page, URLs verbatim', () => {
    const links = parseLinkHeader(index['series-list-page1'].Link)
    expect(links).toEqual({
      next: 'https://patchwork.example.org/api/1.3/series/?order=-id&page=2&per_page=2&project=linux-fsdevel',
      first:
        'https://patchwork.example.org/api/1.3/series/?order=-id&page=1&per_page=2&project=linux-fsdevel',
      last: 'https://patchwork.example.org/api/1.3/series/?order=-id&page=5&per_page=2&project=linux-fsdevel'
    })
  })

  it('has no next on the last page, and nothing without a header', () => {
    const links = parseLinkHeader(index['events-series-completed'].Link)
    expect(Object.keys(links).sort()).toEqual(['first', 'last'])
    expect(links.next).toBeUndefined()
    expect(parseLinkHeader(undefined)).toEqual({})
    expect(parseLinkHeader('')).toEqual({})
  })

  it('keeps a comma inside a URL', () => {
    const links = parseLinkHeader('<https://pw.example.org/api/1.3/events/?category=a,b&page=2>; rel="next"')
    expect(links.next).toBe('https://pw.example.org/api/1.3/events/?category=a,b&page=2')
  })
})
