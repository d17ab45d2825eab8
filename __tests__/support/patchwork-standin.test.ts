import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { startPatchworkStandIn, type PatchworkStandIn } from './patchwork-standin.js'
import { splitMbox } from './patchwork-mail.js'
import { parseLinkHeader } from './http.js'

const FIXTURES = new URL('../fixtures/patchwork/', import.meta.url)
const RECORDED_HOST = 'https://patchwork.example.org'
const read = (name: string): string => readFileSync(new URL(name, FIXTURES), 'utf8')
const recorded = (name: string): unknown => JSON.parse(read(`generated-v3.1.3/${name}`)) as unknown
const index = recorded('responses-index.json') as Record<string, Record<string, unknown>>
const mails = (name: string): Buffer[] => splitMbox(readFileSync(new URL(`inputs/${name}`, FIXTURES)))

/** Key sets and value types, recursively; arrays by their first element. */
function shape(value: unknown): unknown {
  if (value === null) return 'null'
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : []
  if (typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map(k => [k, shape((value as Record<string, unknown>)[k])])
    )
  return typeof value
}

let pw: PatchworkStandIn
/** Fetches JSON from the stand-in, with its address replaced by the recorded host. */
async function get(
  path: string,
  init?: RequestInit
): Promise<{ status: number; headers: Headers; body: unknown }> {
  const res = await fetch(`${pw.url}${path}`, init)
  const text = (await res.text()).split(pw.url).join(RECORDED_HOST)
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as unknown) : undefined }
}
const link = (headers: Headers): string => (headers.get('link') ?? '').split(pw.url).join(RECORDED_HOST)

beforeAll(async () => {
  pw = await startPatchworkStandIn()
  pw.addProject({ linkName: 'linux-fsdevel', name: 'Linux FS Development' })
  // The recording's inputs, in its order: series 1, then 2 (v1) and 3 (v2), then one without cover.
  const b4 = mails('trailers-thread-with-followups.mbox')
  await pw.addSeries({ project: 'linux-fsdevel', cover: b4[0], patches: b4.slice(1, 5) })
  const rev = mails('revision-threaded-to-cover.mbox')
  await pw.addSeries({ project: 'linux-fsdevel', cover: rev[0], patches: rev.slice(1, 3) })
  await pw.addSeries({ project: 'linux-fsdevel', cover: rev[3], patches: rev.slice(4, 6) })
  await pw.addSeries({ project: 'linux-fsdevel', patches: mails('base-no-cover-letter.mbox') })
})

afterAll(async () => {
  await pw.close()
})

describe('resources match the recorded Patchwork 3.1.3 responses', () => {
  it('series 1 (cover + 4 patches) is identical to the recording', async () => {
    const res = await get('/api/1.3/series/1/')
    expect(res.status).toBe(200)
    expect(res.body).toEqual(recorded('series-1.json'))
    expect(res.headers.get('allow')).toBe(index['series-1'].Allow)
    expect(res.headers.get('vary')).toBe(index['series-1'].Vary)
  })

  it('a v2 series and a series without cover letter have the recorded shapes', async () => {
    const v2 = (await get('/api/1.3/series/3/')).body as Record<string, unknown>
    expect(shape(v2)).toEqual(shape(recorded('series-3.json')))
    expect(v2).toMatchObject({ version: 2, name: 'A sample series', total: 2, received_all: true })
    const noCover = (await get('/api/1.3/series/4/')).body as Record<string, unknown>
    expect(shape(noCover)).toEqual(shape(recorded('series-7.json')))
    expect(noCover).toMatchObject({ cover_letter: null, name: '[1/2] test: Add some lorem ipsum' })
  })

  it('patch, cover, project and patch list match (hash aside)', async () => {
    const patch = (await get('/api/1.3/patches/4/')).body as Record<string, unknown>
    const want = recorded('patch-4.json') as Record<string, unknown>
    expect(patch.hash).toMatch(/^[0-9a-f]{40}$/)
    expect({ ...patch, hash: want.hash }).toEqual(want)
    expect((await get('/api/1.3/covers/1/')).body).toEqual(recorded('cover-1.json'))
    expect((await get('/api/1.3/projects/linux-fsdevel/')).body).toEqual(recorded('project-detail.json'))
    const list = (await get('/api/1.3/patches/?series=1')).body as Record<string, unknown>[]
    const wantList = recorded('patches-list-series-1.json') as Record<string, unknown>[]
    expect(list.map(p => ({ ...p, hash: null }))).toEqual(wantList.map(p => ({ ...p, hash: null })))
  })

  it('events have the recorded shapes per category', async () => {
    const all = (await get('/api/1.3/events/?project=linux-fsdevel&per_page=100')).body as Record<
      string,
      unknown
    >[]
    const byCategory = (list: Record<string, unknown>[]): Map<unknown, unknown> =>
      new Map(list.map(e => [e.category, shape(e)]))
    const ours = byCategory(all)
    const theirs = byCategory(recorded('events-all.json') as Record<string, unknown>[])
    const common = [...ours.keys()].filter(c => theirs.has(c))
    expect(common.map(c => [c, ours.get(c)])).toEqual(common.map(c => [c, theirs.get(c)]))
    expect([...ours.keys()].sort()).toEqual(
      ['cover-created', 'patch-completed', 'patch-created', 'series-completed', 'series-created'].sort()
    )
    expect(all[0].date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/)
    const completed = (
      await get('/api/1.3/events/?project=linux-fsdevel&category=series-completed&order=date')
    ).body
    const first = (recorded('events-series-completed.json') as Record<string, unknown>[])[0]
    expect(shape((completed as unknown[])[0])).toEqual(shape(first))
    expect((completed as { payload: { series: { id: number } } }[]).map(e => e.payload.series.id)).toEqual([
      1, 2, 3, 4
    ])
  })

  it('the series mbox is the recorded one without reply trailers', async () => {
    const res = await fetch(`${pw.url}/series/1/mbox/`)
    expect(res.headers.get('content-type')).toBe(index['series-1-mbox']['content-type'])
    expect(res.headers.get('content-disposition')).toBe(index['series-1-mbox']['Content-Disposition'])
    const withoutReplies = read('generated-v3.1.3/series-1-mbox.mbox').replace(
      /^Reviewed-by: Follow Upper.*\n/m,
      ''
    )
    expect(await res.text()).toBe(withoutReplies)
  })

  it('patch mboxes redirect without the query and ?series=* prepends the earlier patches', async () => {
    const redirect = await fetch(`${pw.url}/patch/4/mbox/?series=*`, { redirect: 'manual' })
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe(index['patch-4-mbox-redirect'].Location)
    const star = await fetch(
      `${pw.url}${String(index['patch-4-mbox-series-star'].request).replace(/^GET /, '')}`
    )
    expect(star.headers.get('content-disposition')).toBe(
      index['patch-4-mbox-series-star']['Content-Disposition']
    )
    const want = read('generated-v3.1.3/patch-4-mbox-series-star.mbox').replace(
      /^Reviewed-by: Follow Upper.*\n/m,
      ''
    )
    expect(await star.text()).toBe(want)
    const cover = await fetch(`${pw.url}/cover/1/mbox/`, { redirect: 'manual' })
    expect(cover.headers.get('location')).toBe(index['cover-1-mbox-redirect'].Location)
  })
})

describe('lists', () => {
  it('paginates with Patchwork Link headers (sorted query, prev without page)', async () => {
    const base = `${RECORDED_HOST}/api/1.3/series/?order=-id`
    const p1 = await get('/api/1.3/series/?project=linux-fsdevel&order=-id&per_page=2')
    expect((p1.body as { id: number }[]).map(s => s.id)).toEqual([4, 3])
    expect(link(p1.headers)).toBe(
      `<${base}&page=2&per_page=2&project=linux-fsdevel>; rel="next", <${base}&page=1&per_page=2&project=linux-fsdevel>; rel="first", <${base}&page=2&per_page=2&project=linux-fsdevel>; rel="last"`
    )
    const p2 = await get('/api/1.3/series/?project=linux-fsdevel&order=-id&per_page=2&page=2')
    expect(parseLinkHeader(link(p2.headers)).prev).toBe(`${base}&per_page=2&project=linux-fsdevel`)
    const past = await get('/api/1.3/patches/?page=99')
    expect([past.status, past.body]).toEqual([
      index['patches-page-out-of-range'].status,
      recorded('patches-page-out-of-range.json')
    ])
  })

  it('returns [] for unknown filter values, with first/last links', async () => {
    const res = await get('/api/1.3/series/?project=no-such-project')
    expect([res.status, res.body]).toEqual([200, recorded('series-list-bad-project.json')])
    expect(link(res.headers)).toBe(index['series-list-bad-project'].Link)
    expect((await get('/api/1.3/patches/?state=bogus')).body).toEqual([])
    expect((await get('/api/1.3/events/?since=not-a-date')).body).toEqual([])
    const future = await get('/api/1.3/events/?since=2999-01-01T00%3A00%3A00')
    expect(future.body).toEqual([])
    expect(link(future.headers)).toBe(index['events-since-future'].Link)
  })

  it('filters patches and covers by msgid, series, project and date', async () => {
    const byMsgid = await get(
      '/api/1.3/patches/?project=linux-fsdevel&msgid=20221025-test1-v1-1-e4f28f57990c%40linuxfoundation.org'
    )
    expect((byMsgid.body as { id: number }[]).map(p => p.id)).toEqual([1])
    expect(link(byMsgid.headers)).toBe(index['patches-by-msgid'].Link)
    const covers = await get('/api/1.3/covers/?msgid=20221025-test1-v1-0-e4f28f57990c%40linuxfoundation.org')
    expect(covers.body).toEqual(recorded('covers-by-msgid.json'))
    const since = (await get('/api/1.3/series/?project=linux-fsdevel&since=2022-01-01T00%3A00%3A00'))
      .body as { id: number }[]
    expect(since.map(s => s.id)).toEqual([1])
    const ordered = (await get('/api/1.3/events/?category=patch-created&order=date')).body as {
      date: string
    }[]
    expect(ordered.map(e => e.date)).toEqual([...ordered.map(e => e.date)].sort())
  })
})

describe('checks', () => {
  const post = (
    body: unknown,
    auth?: string,
    type = 'application/json'
  ): Promise<{ status: number; headers: Headers; body: unknown }> =>
    get('/api/1.3/patches/1/checks/', {
      method: 'POST',
      headers: { 'content-type': type, ...(auth ? { authorization: `Token ${auth}` } : {}) },
      body:
        type === 'application/json'
          ? JSON.stringify(body)
          : new URLSearchParams(body as Record<string, string>).toString()
    })

  it('refuses anonymous and non-maintainer posts with 403', async () => {
    const anon = await post({ state: 'success', context: 'ml2pr-build' })
    expect([anon.status, anon.body]).toEqual([403, recorded('check-create-unauthenticated.json')])
    const other = await post({ state: 'success', context: 'ml2pr-build' }, pw.otherToken)
    expect([other.status, other.body]).toEqual([403, index['check-create-not-maintainer'].body])
    expect((await post({ state: 'success' }, 'wrong-token')).status).toBe(403)
  })

  it('rejects a bad state and a non-slug context with field errors', async () => {
    const bad = await post({ state: 'bogus', context: 'not a slug' }, pw.token)
    expect([bad.status, bad.body]).toEqual([400, recorded('check-create-invalid.json')])
  })

  it('creates checks (JSON and form-encoded) and combines them into the patch state', async () => {
    const ok = await post(
      {
        state: 'success',
        context: 'ml2pr-build',
        target_url: 'https://github.com/example/linux/pull/1',
        description: 'Applied cleanly, PR opened'
      },
      pw.token
    )
    expect(ok.status).toBe(201)
    const body = ok.body as Record<string, unknown>
    expect(shape(body)).toEqual(shape(recorded('check-create-success.json')))
    expect(ok.headers.get('location')?.split(pw.url).join(RECORDED_HOST)).toBe(body.url)
    const form = await post(
      { state: 'warning', context: 'ml2pr-checkpatch', description: 'form-encoded request' },
      pw.token,
      'application/x-www-form-urlencoded'
    )
    expect(form.status).toBe(201)
    expect(form.body).toMatchObject({ state: 'warning', target_url: null })
    const list = await get('/api/1.3/patches/1/checks/')
    expect(shape(list.body)).toEqual(shape(recorded('patch-1-checks.json')))
    expect(((await get('/api/1.3/patches/1/')).body as { check: string }).check).toBe('warning')
    const events = (await get('/api/1.3/events/?category=check-created')).body as {
      actor: { username: string }
    }[]
    expect(events.map(e => e.actor.username)).toEqual(['ci-bot', 'ci-bot'])
  })

  it('filters checks by context and orders them by date, newest first on request', async () => {
    const first = await post({ state: 'fail', context: 'ml2pr', description: 'did not apply' }, pw.token)
    pw.advanceClock(1000)
    const second = await post({ state: 'success', context: 'ml2pr', description: 'applied' }, pw.token)
    expect([first.status, second.status]).toEqual([201, 201])
    const newest = (await get('/api/1.3/patches/1/checks/?context=ml2pr&order=-date&per_page=1')).body as {
      state: string
    }[]
    expect(newest.map(c => c.state)).toEqual(['success'])
    const all = (await get('/api/1.3/patches/1/checks/?context=ml2pr')).body as {
      state: string
      context: string
    }[]
    expect(all.map(c => c.state)).toEqual(['fail', 'success'])
    expect(((await get('/api/1.3/patches/1/checks/?state=bogus')).body as unknown[]).length).toBe(0)
  })
})

describe('versions, state changes and the clock', () => {
  it('serves 1.1 without the 1.2 fields and the bare /api/ as the newest', async () => {
    const v11 = (await get('/api/1.1/series/1/')).body as { project: Record<string, unknown>; url: string }
    const kpd = JSON.parse(read('kernel-patches-daemon/series-984880.json')) as Record<string, unknown>
    expect(Object.keys(v11.project).sort()).toEqual(Object.keys(kpd.project as object).sort())
    expect(shape((v11 as unknown as { patches: unknown[] }).patches[0])).toEqual(
      shape((kpd.patches as unknown[])[0])
    )
    const bare = (await get('/api/series/1/')).body as { url: string; project: Record<string, unknown> }
    expect(bare.url).toBe(`${RECORDED_HOST}/api/series/1/`)
    expect(bare.project).toHaveProperty('list_archive_url')
    const events11 = (await get('/api/1.1/events/?per_page=1')).body as Record<string, unknown>[]
    expect(events11[0]).not.toHaveProperty('actor')
  })

  it('answers 404 for versions an older server lacks', async () => {
    const old = await startPatchworkStandIn({ versions: ['1.1', '1.2'] })
    try {
      expect((await fetch(`${old.url}/api/1.3/series/`)).status).toBe(404)
      expect((await fetch(`${old.url}/api/1.2/series/`)).status).toBe(200)
    } finally {
      await old.close()
    }
  })

  it('records state changes as events and filters by state', async () => {
    pw.setPatchState(5, 'superseded')
    const ev = (await get('/api/1.3/events/?category=patch-state-changed')).body as Record<string, unknown>[]
    expect(ev[0]).toMatchObject({ payload: { previous_state: 'new', current_state: 'superseded' } })
    const superseded = (await get('/api/1.3/patches/?state=superseded')).body as { id: number }[]
    expect(superseded.map(p => p.id)).toEqual([5])
  })

  it('keeps a series incomplete until its last patch arrives', async () => {
    const rev = mails('revision-threaded-to-cover.mbox')
    const { seriesId, patchIds } = await pw.addSeries({
      project: 'linux-fsdevel',
      name: 'late series',
      patches: rev.slice(4, 6),
      completeAt: 3600_000,
      delegate: 'maintainer'
    })
    const before = (await get(`/api/1.3/series/${seriesId}/`)).body as Record<string, unknown>
    expect(before).toMatchObject({ received_total: 1, received_all: false })
    const cursor = (await get('/api/1.3/events/?category=series-completed')).body as {
      payload: { series: { id: number } }
    }[]
    expect(cursor.map(e => e.payload.series.id)).not.toContain(seriesId)
    expect((await get(`/api/1.3/patches/${patchIds[1]}/`)).status).toBe(404)

    pw.advanceClock(3601_000)
    const after = (await get(`/api/1.3/series/${seriesId}/`)).body as Record<string, unknown>
    expect(after).toMatchObject({ received_total: 2, received_all: true })
    const done = (await get(`/api/1.3/events/?category=series-completed&series=${seriesId}`)).body as {
      date: string
    }[]
    expect(done).toHaveLength(1)
    expect(Date.parse(`${done[0].date}Z`)).toBeGreaterThan(Date.now() + 3000_000)
    const delegated = (await get('/api/1.3/patches/?delegate=maintainer')).body as { id: number }[]
    expect(delegated.map(p => p.id)).toEqual(patchIds)
  })

  it('injects faults and logs requests', async () => {
    pw.injectFault({ method: 'GET', path: /^\/api\/1\.3\/events\/$/, status: 502, body: 'Bad Gateway' })
    expect((await fetch(`${pw.url}/api/1.3/events/`)).status).toBe(502)
    expect((await fetch(`${pw.url}/api/1.3/events/`)).status).toBe(200)
    expect(pw.requests.slice(-2).map(r => r.status)).toEqual([502, 200])
  })
})
