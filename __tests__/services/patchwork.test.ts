/**
 * The Patchwork client against the Patchwork stand-in (and, for hostile answers, a tiny fake server):
 * version negotiation, project validation, series in counter order, paged events, checks.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { HttpClient, HttpError } from '../../src/http.js'
import {
  Patchwork,
  PatchworkError,
  counterFromName,
  toSeriesRef,
  type PatchworkEvent
} from '../../src/services/patchwork.js'
import { makeSeries } from '../e2e/mails.js'
import { startPatchworkStandIn, type PatchworkStandIn } from '../support/patchwork-standin.js'
import { noSleep, startServer, type TinyServer } from './servers.js'

const PROJECT = 'linux-fsdevel'
const LONG_AGO = '2000-01-01T00:00:00'

let pw: PatchworkStandIn
const client = (token = '', base = pw.url): Patchwork =>
  new Patchwork(new HttpClient([base], undefined, noSleep), base, token)

/** Gives patch n the Date of patch (count + 1 - n): Patchwork then lists the patches last to first. */
function reverseDates(patches: Buffer[], start: Date): Buffer[] {
  return patches.map((raw, i) => {
    const at = new Date(start.getTime() + (patches.length - i) * 60_000)
    const date = at.toUTCString().replace('GMT', '+0000')
    return Buffer.from(raw.toString('utf8').replace(/^Date: .*$/m, `Date: ${date}`))
  })
}

beforeAll(async () => {
  pw = await startPatchworkStandIn()
  pw.addProject({ linkName: PROJECT })
})

afterAll(async () => {
  await pw.close()
})

describe('API version', () => {
  it('negotiates 1.3 on a current server', async () => {
    const patchwork = client()
    const before = pw.requests.length
    expect(await patchwork.apiVersion()).toBe('1.3')
    expect(await patchwork.apiVersion()).toBe('1.3')
    expect(pw.requests.slice(before).map(r => r.path)).toEqual(['/api/1.3/'])
  })

  it('falls back to 1.2 on a server that offers 1.1 and 1.2, and uses it afterwards', async () => {
    const old = await startPatchworkStandIn({ versions: ['1.1', '1.2'] })
    try {
      old.addProject({ linkName: PROJECT })
      const patchwork = client('', old.url)
      expect(await patchwork.apiVersion()).toBe('1.2')
      expect((await patchwork.project(PROJECT)).linkName).toBe(PROJECT)
      expect(old.requests.map(r => `${r.status} ${r.path}`)).toEqual([
        '404 /api/1.3/',
        '200 /api/1.2/',
        `200 /api/1.2/projects/${PROJECT}/`
      ])
    } finally {
      await old.close()
    }
  })

  it('names the versions it needs when a server offers none of them', async () => {
    const old = await startPatchworkStandIn({ versions: ['1.0'] })
    try {
      await expect(client('', old.url).apiVersion()).rejects.toThrow(
        `${old.url} offers none of the Patchwork API versions 1.3, 1.2, 1.1`
      )
    } finally {
      await old.close()
    }
  })
})

describe('project', () => {
  it('returns the project with its list', async () => {
    expect(await client().project(PROJECT)).toMatchObject({
      linkName: PROJECT,
      listId: 'linux-fsdevel.vger.kernel.org',
      listEmail: 'linux-fsdevel@vger.kernel.org'
    })
  })

  it('rejects an unknown project by name, although its lists would just be empty', async () => {
    const patchwork = client()
    await expect(patchwork.project('linux-fsdevl')).rejects.toThrow(PatchworkError)
    await expect(patchwork.project('linux-fsdevl')).rejects.toThrow(
      `Patchwork project 'linux-fsdevl' does not exist on ${pw.url}`
    )
    // Why the validation matters: Patchwork answers an unknown filter value with 200 [].
    expect(await patchwork.completedSeriesEvents('linux-fsdevl', LONG_AGO)).toEqual([])
    expect(pw.requests.at(-1)).toMatchObject({ status: 200 })
  })
})

describe('series', () => {
  it('orders the patches by their n/N counter although Patchwork lists them by date', async () => {
    const mails = makeSeries({ tag: 'order', title: 'fs: ordered', count: 3, version: 2 })
    const patches = reverseDates(mails.patches, new Date('2026-11-20T10:00:00Z'))
    const { seriesId, patchIds } = await pw.addSeries({ project: PROJECT, cover: mails.cover, patches })

    // The raw answer really is out of order.
    const raw = (await (await fetch(`${pw.url}/api/1.3/series/${seriesId}/`)).json()) as {
      patches: { msgid: string }[]
    }
    expect(raw.patches.map(p => p.msgid)).toEqual([...mails.patchIds].reverse().map(id => `<${id}>`))

    const ref = await client().series(seriesId)
    expect(ref).toMatchObject({
      key: String(seriesId),
      patchworkId: seriesId,
      version: 2,
      total: 3,
      receivedTotal: 3,
      receivedAll: true,
      submitter: { name: 'Ada Lovelace', email: 'ada@example.org' },
      coverMsgid: mails.coverId,
      patchMsgids: mails.patchIds,
      patchIds,
      mboxUrl: `${pw.url}/series/${seriesId}/mbox/`
    })
  })

  it('returns undefined for a series that does not exist', async () => {
    expect(await client().series(99_999)).toBeUndefined()
  })

  it('lists patch states and delegates of a series', async () => {
    const mails = makeSeries({ tag: 'states', title: 'fs: states', count: 2 })
    const { seriesId, patchIds } = await pw.addSeries({
      project: PROJECT,
      cover: mails.cover,
      patches: mails.patches,
      delegate: 'brauner'
    })
    pw.setPatchState(patchIds[1], 'changes-requested')
    const states = await client().patchStates(seriesId)
    expect(states.map(s => [s.id, s.msgid, s.state, s.delegate?.username])).toEqual([
      [patchIds[0], mails.patchIds[0], 'new', 'brauner'],
      [patchIds[1], mails.patchIds[1], 'changes-requested', 'brauner']
    ])
  })
})

describe('counterFromName on real patchwork.kernel.org series', () => {
  type RawSeries = Parameters<typeof toSeriesRef>[0]
  const load = (name: string): RawSeries =>
    JSON.parse(readFileSync(new URL(`../fixtures/services/${name}`, import.meta.url), 'utf8')) as RawSeries

  it.each(['series-984880.json', 'series-970968.json'])('%s: counter order from any arrival order', file => {
    const raw = load(file)
    const inOrder = raw.patches.map(p => p.id)
    expect(raw.patches.map(p => counterFromName(p.name))).toEqual([1, 2, 3])
    const ref = toSeriesRef({ ...raw, patches: [...raw.patches].reverse() })
    expect(ref.patchIds).toEqual(inOrder)
    expect(ref.patchMsgids).toEqual(raw.patches.map(p => p.msgid.replace(/^<|>$/g, '')))
  })

  it('reads counters from the prefix only', () => {
    expect(counterFromName('[bpf-next,v13,3/3] arm64/cfi,bpf: Support kCFI + BPF on arm64')).toBe(3)
    expect(counterFromName('[RFC,v2,10/12] mm: x')).toBe(10)
    expect(counterFromName('[2 of 7] fs: y')).toBe(2)
    expect(counterFromName(load('series-970926.json').patches[0].name)).toBeUndefined()
    expect(counterFromName('fs: split 1/2 of the work')).toBeUndefined()
    expect(counterFromName(null)).toBeUndefined()
  })
})

describe('completedSeriesEvents', () => {
  it('reads 250 events a page (the most Patchwork serves) and follows Link next: every series once, oldest first', async () => {
    const paged = await startPatchworkStandIn()
    try {
      paged.addProject({ linkName: PROJECT })
      const added: number[] = []
      for (let i = 1; i <= 255; i++) {
        const mails = makeSeries({ tag: `paged${i}`, title: `fs: fix ${i}`, count: 1 })
        added.push((await paged.addSeries({ project: PROJECT, patches: mails.patches })).seriesId)
      }
      const events = await client('', paged.url).completedSeriesEvents(PROJECT, LONG_AGO)
      expect(events.map(e => e.seriesId)).toEqual(added)
      expect(events.every(e => e.category === 'series-completed')).toBe(true)
      const dates = events.map(e => Date.parse(`${e.date}Z`))
      expect(dates).toEqual([...dates].sort((a, b) => a - b))
      const pages = paged.requests.filter(r => r.path.startsWith('/api/1.3/events/'))
      expect(pages).toHaveLength(2)
      expect(pages[1].path).toMatch(/[?&]page=2(&|$)/)
      // The next URL is followed as given: it still carries every filter.
      expect(pages[1].path).toContain('category=series-completed')
      expect(pages[1].path).toContain(`project=${PROJECT}`)
    } finally {
      await paged.close()
    }
  })

  it('sends the cursor as since and returns only later events', async () => {
    const mails = makeSeries({ tag: 'cursor', title: 'fs: cursor', count: 1 })
    const { seriesId } = await pw.addSeries({ project: PROJECT, patches: mails.patches })
    const all = await client().completedSeriesEvents(PROJECT, LONG_AGO)
    const last = all.at(-1) as PatchworkEvent
    expect(last.seriesId).toBe(seriesId)
    const since = await client().completedSeriesEvents(PROJECT, last.date)
    expect(since.map(e => e.seriesId)).toEqual([seriesId])
  })
})

describe('answers that point elsewhere', () => {
  let foreign: TinyServer
  let fake: TinyServer

  beforeAll(async () => {
    foreign = await startServer((_req, res) => res.end('[]'))
    fake = await startServer((req, res) => {
      const json = (body: unknown, headers: Record<string, string> = {}): void => {
        res.writeHead(200, { 'content-type': 'application/json', ...headers })
        res.end(JSON.stringify(body))
      }
      const url = new URL(req.url ?? '/', fake.origin)
      if (url.pathname === '/api/1.3/') json({})
      else if (url.pathname === '/api/1.3/events/')
        json(
          [
            {
              id: 1,
              category: 'series-completed',
              date: '2026-11-20T10:00:00',
              payload: { series: { id: 7 } }
            }
          ],
          { link: `<${foreign.origin}/api/1.3/events/?page=2>; rel="next"` }
        )
      else if (url.pathname === '/api/1.3/series/7/')
        json({
          id: 7,
          name: 'fs: x',
          date: '2026-11-20T10:00:00',
          submitter: { name: 'Ada', email: 'ada@example.org' },
          version: 1,
          total: 1,
          received_total: 1,
          received_all: true,
          mbox: 'http://169.254.169.254/latest/meta-data/',
          cover_letter: null,
          patches: [{ id: 1, msgid: '<x@example.org>', name: '[1/1] fs: x', date: '', mbox: '' }]
        })
      else {
        res.writeHead(404)
        res.end()
      }
    })
  })

  afterAll(async () => {
    await Promise.all([foreign.close(), fake.close()])
  })

  it('refuses a next link on another host', async () => {
    const patchwork = new Patchwork(new HttpClient([fake.origin], undefined, noSleep), fake.origin, 'tok')
    const run = patchwork.completedSeriesEvents(PROJECT, LONG_AGO)
    await expect(run).rejects.toBeInstanceOf(HttpError)
    await expect(run).rejects.toThrow(`Refusing to contact ${foreign.origin}`)
    expect(foreign.seen).toEqual([])
  })

  it('refuses a series mbox URL on another host', async () => {
    const patchwork = new Patchwork(new HttpClient([fake.origin], undefined, noSleep), fake.origin, 'tok')
    const ref = await patchwork.series(7)
    expect(ref?.mboxUrl).toBe('http://169.254.169.254/latest/meta-data/')
    await expect(patchwork.seriesMbox(ref!)).rejects.toThrow('Refusing to contact http://169.254.169.254')
    expect(fake.seen.every(r => r.headers.authorization === undefined)).toBe(true)
  })
})

describe('checks', () => {
  let patchId: number

  beforeAll(async () => {
    const mails = makeSeries({ tag: 'checks', title: 'fs: checked', count: 1 })
    patchId = (await pw.addSeries({ project: PROJECT, patches: mails.patches })).patchIds[0]
  })

  it('posts a check with the token and reads back the newest of its context', async () => {
    const patchwork = client(pw.token)
    expect(await patchwork.latestCheck(patchId, 'ml2pr')).toBeUndefined()
    await patchwork.postCheck(patchId, { state: 'pending', context: 'ml2pr', description: 'Applying' })
    await patchwork.postCheck(patchId, {
      state: 'success',
      context: 'ml2pr',
      targetUrl: 'https://github.com/example/linux/pull/1',
      description: 'PR opened'
    })
    await patchwork.postCheck(patchId, { state: 'fail', context: 'other-ci', description: 'Broken' })
    expect(await patchwork.latestCheck(patchId, 'ml2pr')).toEqual({
      state: 'success',
      targetUrl: 'https://github.com/example/linux/pull/1'
    })
    expect(await patchwork.latestCheck(patchId, 'other-ci')).toEqual({ state: 'fail', targetUrl: null })
    const posts = pw.requests.filter(r => r.method === 'POST')
    expect(posts.slice(-3).map(r => `${r.status} ${r.path}`)).toEqual(
      Array(3).fill(`201 /api/1.3/patches/${patchId}/checks/`)
    )
  })

  it('does not post without a token', async () => {
    const before = pw.requests.length
    await expect(
      client().postCheck(patchId, { state: 'success', context: 'ml2pr', description: 'x' })
    ).rejects.toThrow('Posting checks needs patchwork-token')
    expect(pw.requests.slice(before).filter(r => r.method === 'POST')).toEqual([])
  })

  it('reports a 403 with the server’s reason', async () => {
    const run = client(pw.otherToken).postCheck(patchId, {
      state: 'success',
      context: 'ml2pr',
      description: 'x'
    })
    await expect(run).rejects.toThrow(PatchworkError)
    await expect(run).rejects.toThrow(
      `POST check on patch ${patchId} answered 403: {"detail":"You do not have permission to perform this action."}`
    )
  })

  it('reports a 403 for an invalid token', async () => {
    const run = client('not-a-token').postCheck(patchId, {
      state: 'success',
      context: 'ml2pr',
      description: 'x'
    })
    await expect(run).rejects.toThrow(/answered 403: .*Invalid token/)
  })
})
