/**
 * lore answers bots with `200 text/html` challenge pages. Discovery must take that for "try again",
 * never for "no series": the search failing stops the run before the cursor moves, and a thread failing
 * keeps its series pending.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import { discoverLoreSeries, loreSeriesKey } from '../../src/discover/lore.js'
import { parseState } from '../../src/discover/state.js'
import { HttpClient } from '../../src/http.js'
import { Lore, LoreError } from '../../src/services/lore.js'

const CHALLENGE =
  '<!DOCTYPE html><html><head><title>Making sure you are not a bot!</title></head><body></body></html>'
const RESULTS = readFileSync(
  new URL('../fixtures/mail/generated-public-inbox-1.9/search-mbox-results-only.mbox', import.meta.url)
)

/** A tiny lore: the search answers as told, every thread gets the challenge page. */
let searchAnswer: 'challenge' | 'results' = 'challenge'
const requests: string[] = []
let server: http.Server
let origin: string

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    req.resume()
    req.on('end', () => {
      if (req.method === 'POST' && searchAnswer === 'results') {
        res.writeHead(200, { 'content-type': 'application/gzip' })
        res.end(gzipSync(RESULTS))
        return
      }
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
      res.end(CHALLENGE)
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  await new Promise(resolve => server.close(resolve))
})

const settings = { lookbackDays: 7, graceMinutes: 10 }
const now = new Date('2022-10-26T12:00:00Z')

describe('lore serving a challenge page', () => {
  it('makes the search a transient error, not an empty result', async () => {
    searchAnswer = 'challenge'
    const lore = new Lore(new HttpClient([origin]), origin)
    const run = discoverLoreSeries(lore, 'test', parseState(undefined), now, settings)
    await expect(run).rejects.toBeInstanceOf(LoreError)
    await expect(run).rejects.toMatchObject({ transient: true })
    expect(requests.pop()).toMatch(/^POST \/test\/\?q=rt%3A\d+\.\.&x=m$/)
  })

  it('keeps a series pending when its thread cannot be fetched, and still moves the cursor', async () => {
    searchAnswer = 'results'
    const lore = new Lore(new HttpClient([origin]), origin)
    const found = await discoverLoreSeries(lore, 'test', parseState(undefined), now, settings)
    expect(found.refs).toEqual([])
    expect(found.pending).toHaveLength(1)
    const [entry] = found.pending
    // The hits are patches 3 and 4 only: until its thread is read, the series is known by patch 3.
    expect(entry.messageId).toBe('20221025-test1-v1-3-e4f28f57990c@linuxfoundation.org')
    expect(entry.key).toBe(loreSeriesKey(entry.messageId))
    expect(entry.reason).toMatch(/^lore: .*did not return gzip/)
    expect(entry.attempts).toBe(1)
    expect(found.warnings.join('\n')).toMatch(/gzip/)
    expect(found.cursor).toBe(Math.floor(now.getTime() / 1000))
    expect(requests.some(r => r.startsWith('GET /test/') && r.endsWith('/t.mbox.gz'))).toBe(true)
  })
})
