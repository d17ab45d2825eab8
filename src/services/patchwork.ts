/**
 * Patchwork REST client (API 1.3, falling back to the older versions a server offers).
 * Facts it relies on: list bodies are bare arrays paged by the `Link` header; unknown filter values give
 * `200 []`, not an error; event dates are server time, series dates the sender's clock; `patches` in a
 * series are ordered by date, not by number.
 */
import { HttpClient, HttpError, parseLinkHeader } from '../http.js'
import type { Person, SeriesRef } from '../model.js'

export const API_VERSIONS = ['1.3', '1.2', '1.1'] as const

/** Patchwork's largest page (MAX_REST_RESULTS_PER_PAGE): an idle run reads one page. */
const EVENTS_PER_PAGE = 250

export interface PatchworkProject {
  id: number
  linkName: string
  listId: string
  listEmail: string
  listArchiveUrl: string
}

export interface PatchworkEvent {
  id: number
  category: string
  /** Server time, naive ISO 8601 UTC. */
  date: string
  seriesId?: number
  patchId?: number
  /** The patch's Message-ID without angle brackets (patch events). */
  patchMsgid?: string
  currentState?: string
}

export interface PatchState {
  id: number
  msgid: string
  state: string
  delegate?: { id: number; username: string; email: string }
}

export interface CheckInput {
  state: 'pending' | 'success' | 'warning' | 'fail'
  context: string
  targetUrl?: string
  description: string
}

interface RawPerson {
  name?: string | null
  email: string
}
interface RawSubmission {
  id: number
  msgid: string
  name: string | null
  date: string
  mbox: string
}
interface RawSeries {
  id: number
  web_url?: string
  name: string | null
  date: string
  submitter: RawPerson
  version: number
  total: number
  received_total: number
  received_all: boolean
  mbox: string
  cover_letter: RawSubmission | null
  patches: RawSubmission[]
}

export class PatchworkError extends Error {
  override name = 'PatchworkError'
}

export class Patchwork {
  private version: string | undefined

  constructor(
    private readonly http: HttpClient,
    private readonly baseUrl: string,
    private readonly token = ''
  ) {}

  /** The API version in use (negotiated on first call). */
  async apiVersion(): Promise<string> {
    if (this.version) return this.version
    for (const candidate of API_VERSIONS) {
      const res = await this.http.fetch(`${this.baseUrl}/api/${candidate}/`, { headers: jsonHeaders() })
      if (res.status === 200) return (this.version = candidate)
      if (res.status !== 404)
        throw new PatchworkError(`Patchwork ${this.baseUrl} answered ${res.status} for /api/${candidate}/`)
    }
    throw new PatchworkError(
      `${this.baseUrl} offers none of the Patchwork API versions ${API_VERSIONS.join(', ')}`
    )
  }

  private async api(path: string): Promise<string> {
    return `${this.baseUrl}/api/${await this.apiVersion()}/${path}`
  }

  private async getJson<T>(url: string): Promise<{ data: T; links: Record<string, string> } | undefined> {
    const res = await this.http.fetch(url, { headers: jsonHeaders(), maxBytes: 32 << 20 })
    if (res.status === 404) return undefined
    if (res.status !== 200)
      throw new PatchworkError(`GET ${url} answered ${res.status}: ${res.body.toString('utf8', 0, 300)}`)
    try {
      return { data: JSON.parse(res.body.toString('utf8')) as T, links: parseLinkHeader(res.headers.link) }
    } catch {
      throw new PatchworkError(`GET ${url} did not return JSON`)
    }
  }

  /** Every page of a list endpoint, following `Link: rel="next"` verbatim (it carries every filter). */
  async *list<T>(firstUrl: string, maxPages = 200): AsyncGenerator<T> {
    let url: string | undefined = firstUrl
    for (let page = 0; url && page < maxPages; page++) {
      this.http.assertAllowed(url)
      const res: { data: T[]; links: Record<string, string> } | undefined = await this.getJson<T[]>(url)
      if (!res) return // 404 "Invalid page." past the end
      if (!Array.isArray(res.data)) throw new PatchworkError(`GET ${url} did not return a list`)
      yield* res.data
      url = res.links.next
    }
  }

  /**
   * Validates the project once: an unknown project would otherwise silently match nothing. Also settles the
   * API version in the same request: the project is asked for under the newest version first, and only a 404
   * makes the version root tell "no such project" from "no such version".
   */
  async project(linkName: string): Promise<PatchworkProject> {
    type RawProject = {
      id: number
      link_name: string
      list_id: string
      list_email: string
      list_archive_url?: string
    }
    const path = `projects/${encodeURIComponent(linkName)}/`
    let res: { data: RawProject } | undefined
    if (this.version) {
      res = await this.getJson<RawProject>(await this.api(path))
    } else {
      for (const candidate of API_VERSIONS) {
        res = await this.getJson<RawProject>(`${this.baseUrl}/api/${candidate}/${path}`)
        if (res) {
          this.version = candidate
          break
        }
        const root = await this.http.fetch(`${this.baseUrl}/api/${candidate}/`, { headers: jsonHeaders() })
        if (root.status === 200) {
          this.version = candidate
          break
        }
        if (root.status !== 404)
          throw new PatchworkError(`Patchwork ${this.baseUrl} answered ${root.status} for /api/${candidate}/`)
      }
      if (!this.version)
        throw new PatchworkError(
          `${this.baseUrl} offers none of the Patchwork API versions ${API_VERSIONS.join(', ')}`
        )
    }
    if (!res) throw new PatchworkError(`Patchwork project '${linkName}' does not exist on ${this.baseUrl}`)
    const p = res.data
    return {
      id: p.id,
      linkName: p.link_name,
      listId: p.list_id,
      listEmail: p.list_email,
      listArchiveUrl: p.list_archive_url ?? ''
    }
  }

  async series(id: number): Promise<SeriesRef | undefined> {
    const res = await this.getJson<RawSeries>(await this.api(`series/${id}/`))
    return res && toSeriesRef(res.data)
  }

  /**
   * Events of these categories since a server-time cursor (inclusive, as Patchwork's `since` is), oldest
   * first, in one paged list: repeated `category` keys are OR'ed (API 1.1+). Not de-duplicated: a series
   * can complete again (an extra patch arrived), and the latest completion restarts its grace period.
   */
  async events(project: string, since: string, categories: readonly string[]): Promise<PatchworkEvent[]> {
    const query = new URLSearchParams({ project })
    for (const category of categories) query.append('category', category)
    query.set('since', since)
    query.set('order', 'date')
    query.set('per_page', String(EVENTS_PER_PAGE))
    const events: PatchworkEvent[] = []
    for await (const raw of this.list<RawEvent>(`${await this.api('events/')}?${query.toString()}`))
      events.push(toEvent(raw))
    return events
  }

  /** series-completed events since a server-time cursor, oldest first. */
  async completedSeriesEvents(project: string, since: string): Promise<PatchworkEvent[]> {
    return this.events(project, since, ['series-completed'])
  }

  /** The series a patch belongs to (undefined: none, or no such patch). */
  async patchSeries(patchId: number): Promise<number | undefined> {
    const res = await this.getJson<{ series?: { id: number }[] }>(await this.api(`patches/${patchId}/`))
    return res?.data.series?.[0]?.id
  }

  async patchStates(seriesId: number): Promise<PatchState[]> {
    const query = new URLSearchParams({ series: String(seriesId), per_page: '250' })
    const states: PatchState[] = []
    for await (const p of this.list<RawPatch>(`${await this.api('patches/')}?${query.toString()}`)) {
      states.push({
        id: p.id,
        msgid: stripBrackets(p.msgid),
        state: p.state,
        delegate: p.delegate
          ? { id: p.delegate.id, username: p.delegate.username, email: p.delegate.email }
          : undefined
      })
    }
    return states
  }

  async seriesMbox(ref: SeriesRef): Promise<Buffer> {
    if (!ref.mboxUrl) throw new PatchworkError(`Series ${ref.key} has no mbox URL`)
    const res = await this.http.fetch(ref.mboxUrl, { maxBytes: 64 << 20 })
    if (res.status !== 200) throw new PatchworkError(`GET ${ref.mboxUrl} answered ${res.status}`)
    return res.body
  }

  /** The newest check of this context on a patch, to post only on a state change. */
  async latestCheck(
    patchId: number,
    context: string
  ): Promise<{ state: string; targetUrl: string | null } | undefined> {
    const query = new URLSearchParams({ context, order: '-date', per_page: '1' })
    const res = await this.getJson<{ state: string; target_url: string | null }[]>(
      `${await this.api(`patches/${patchId}/checks/`)}?${query.toString()}`
    )
    const check = res?.data[0]
    return check && { state: check.state, targetUrl: check.target_url }
  }

  async postCheck(patchId: number, check: CheckInput): Promise<void> {
    if (!this.token) throw new PatchworkError('Posting checks needs patchwork-token')
    const url = await this.api(`patches/${patchId}/checks/`)
    const res = await this.http.fetch(url, {
      method: 'POST',
      headers: { ...jsonHeaders(), 'content-type': 'application/json', authorization: `Token ${this.token}` },
      body: JSON.stringify({
        state: check.state,
        context: check.context,
        target_url: check.targetUrl ?? null,
        description: check.description.slice(0, 1000)
      })
    })
    if (res.status !== 201) {
      throw new PatchworkError(
        `POST check on patch ${patchId} answered ${res.status}: ${res.body.toString('utf8', 0, 300)}`
      )
    }
  }
}

interface RawEvent {
  id: number
  category: string
  date: string
  payload: { series?: { id: number }; patch?: { id: number; msgid?: string }; current_state?: string }
}
interface RawPatch {
  id: number
  msgid: string
  state: string
  delegate: { id: number; username: string; email: string } | null
}

function toEvent(raw: RawEvent): PatchworkEvent {
  return {
    id: raw.id,
    category: raw.category,
    date: raw.date,
    seriesId: raw.payload.series?.id,
    patchId: raw.payload.patch?.id,
    patchMsgid: raw.payload.patch?.msgid === undefined ? undefined : stripBrackets(raw.payload.patch.msgid),
    currentState: raw.payload.current_state
  }
}

function jsonHeaders(): Record<string, string> {
  return { accept: 'application/json' }
}

export function stripBrackets(msgid: string): string {
  return msgid.trim().replace(/^<|>$/g, '')
}

/** `n` of a Patchwork patch name such as `[v2,3/7] fs: x` or `[bpf-next,v13,1/3] bpf: y`. */
export function counterFromName(name: string | null): number | undefined {
  const prefix = /^\[([^\]]*)\]/.exec(name ?? '')
  const match = prefix && /(?:^|[\s,])(\d+)\s*(?:\/|\s+of\s+)\s*\d+(?:$|[\s,])/.exec(prefix[1])
  return match ? Number(match[1]) : undefined
}

export function toSeriesRef(raw: RawSeries): SeriesRef {
  const patches = raw.patches
    .map((p, index) => ({ p, n: counterFromName(p.name) ?? 1000 + index }))
    .sort((a, b) => a.n - b.n)
    .map(x => x.p)
  const submitter: Person = { name: raw.submitter.name ?? raw.submitter.email, email: raw.submitter.email }
  return {
    key: String(raw.id),
    patchworkId: raw.id,
    name: raw.name ?? raw.cover_letter?.name ?? patches[0]?.name ?? `series ${raw.id}`,
    version: raw.version,
    total: raw.total,
    receivedTotal: raw.received_total,
    receivedAll: raw.received_all,
    submitter,
    webUrl: raw.web_url,
    coverMsgid: raw.cover_letter ? stripBrackets(raw.cover_letter.msgid) : undefined,
    patchMsgids: patches.map(p => stripBrackets(p.msgid)),
    patchIds: patches.map(p => p.id),
    mboxUrl: raw.mbox,
    date: raw.date
  }
}

export { HttpError }
