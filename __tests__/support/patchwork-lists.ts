/**
 * Patchwork's list behaviour: django-filter filters (an invalid value empties the list instead of
 * failing), `order=`, and DRF's LinkHeaderPagination (`per_page`, `page`, `Link` with sorted query).
 */
import type {
  Project,
  StoredCheck,
  StoredEvent,
  StoredPerson,
  StoredSeries,
  StoredUser,
  Submission
} from './patchwork-objects.js'

/** Turns the values given for one filter into a predicate; null when a value is invalid. */
type Filter<T> = (values: string[]) => ((item: T) => boolean) | null

export interface ListSpec<T> {
  items: T[]
  filters?: Record<string, Filter<T>>
  order?: Record<string, (item: T) => string | number>
  defaultOrder?: string
  render: (item: T) => unknown
}

export const PAGE_SIZE = 30
export const MAX_PAGE_SIZE = 250

const STATES = [
  'new',
  'under-review',
  'accepted',
  'rejected',
  'rfc',
  'not-applicable',
  'changes-requested',
  'awaiting-upstream',
  'superseded',
  'deferred'
]
const CATEGORIES = [
  'cover-created',
  'patch-created',
  'patch-completed',
  'patch-state-changed',
  'patch-relation-changed',
  'patch-delegated',
  'check-created',
  'series-created',
  'series-completed',
  'cover-comment-created',
  'patch-comment-created'
]

/** Python's `quote_plus`, which Django uses to build the Link URLs. */
function quotePlus(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
}

/** DRF's replace_query_param / remove_query_param: parameters re-encoded in sorted key order. */
function withPage(url: URL, base: string, page: number | null): string {
  const keys = [...new Set(url.searchParams.keys())].filter(k => k !== 'page')
  const pairs: [string, string][] = []
  if (page !== null) keys.push('page')
  for (const k of keys.sort()) {
    const values = k === 'page' ? [String(page)] : url.searchParams.getAll(k)
    for (const v of values) pairs.push([k, v])
  }
  const query = pairs.map(([k, v]) => `${quotePlus(k)}=${quotePlus(v)}`).join('&')
  return `${base}${url.pathname}${query ? `?${query}` : ''}`
}

/** Naive UTC (or zoned) ISO 8601 → ms; NaN when invalid. */
export function parseIso(value: string): number {
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) return NaN
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(value)
  return Date.parse(zoned ? value : `${value.replace(' ', 'T')}${value.length === 10 ? 'T00:00:00' : ''}Z`)
}

const naiveMs = (naive: string): number => Date.parse(`${naive}Z`)

export function respondList<T>(
  spec: ListSpec<T>,
  url: URL,
  base: string
): { status: number; body: unknown; link?: string } {
  let items = spec.items
  for (const [name, filter] of Object.entries(spec.filters ?? {})) {
    const values = url.searchParams.getAll(name).filter(v => v !== '')
    if (!values.length) continue
    const predicate = filter(values)
    if (!predicate) {
      items = []
      break
    }
    items = items.filter(predicate)
  }
  const orderParam = url.searchParams.get('order') ?? spec.defaultOrder ?? 'id'
  const field = orderParam.replace(/^-/, '')
  const key = spec.order?.[field] ?? spec.order?.[(spec.defaultOrder ?? 'id').replace(/^-/, '')]
  if (key) {
    const desc = (spec.order?.[field] ? orderParam : (spec.defaultOrder ?? 'id')).startsWith('-')
    items = [...items].sort((a, b) => {
      const x = key(a)
      const y = key(b)
      const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))
      return desc ? -c : c
    })
  }
  const requested = Number(url.searchParams.get('per_page'))
  const perPage =
    Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_PAGE_SIZE) : PAGE_SIZE
  const pageParam = url.searchParams.get('page')
  const page = pageParam === null ? 1 : /^\d+$/.test(pageParam) ? Number(pageParam) : NaN
  const last = Math.max(1, Math.ceil(items.length / perPage))
  if (!(page >= 1 && page <= last)) return { status: 404, body: { detail: 'Invalid page.' } }
  const links: string[] = []
  if (page < last) links.push(`<${withPage(url, base, page + 1)}>; rel="next"`)
  if (page > 1) links.push(`<${withPage(url, base, page === 2 ? null : page - 1)}>; rel="prev"`)
  links.push(`<${withPage(url, base, 1)}>; rel="first"`, `<${withPage(url, base, last)}>; rel="last"`)
  return {
    status: 200,
    body: items.slice((page - 1) * perPage, page * perPage).map(spec.render),
    link: links.join(', ')
  }
}

// Filter builders -----------------------------------------------------------------------------------

function oneOf<T>(
  resolve: (value: string) => number | string | undefined,
  get: (item: T) => number | string | null
): Filter<T> {
  return values => {
    const wanted = values.map(resolve)
    if (wanted.some(w => w === undefined)) return null
    return item => wanted.includes(get(item) ?? '')
  }
}

function dateFilter<T>(get: (item: T) => number, cmp: 'since' | 'before'): Filter<T> {
  return values => {
    const at = parseIso(values[values.length - 1])
    if (Number.isNaN(at)) return null
    return item => (cmp === 'since' ? get(item) >= at : get(item) < at)
  }
}

const numeric = (v: string): number | undefined => (/^\d+$/.test(v) ? Number(v) : undefined)

function projectFilter<T extends { projectId: number }>(projects: Project[]): Filter<T> {
  return oneOf(
    v => projects.find(p => String(p.id) === v || p.linkName === v)?.id,
    item => item.projectId
  )
}

function submitterFilter<T extends { submitterId: number }>(people: StoredPerson[]): Filter<T> {
  return oneOf(
    v => people.find(p => String(p.id) === v || p.email.toLowerCase() === v.toLowerCase())?.id,
    i => i.submitterId
  )
}

function nameSearch<T extends { name: string }>(): Filter<T> {
  return values => item => values.some(v => item.name.toLowerCase().includes(v.toLowerCase()))
}

export function seriesSpec(
  items: StoredSeries[],
  render: (s: StoredSeries) => unknown,
  projects: Project[],
  people: StoredPerson[]
): ListSpec<StoredSeries> {
  return {
    items,
    render,
    filters: {
      project: projectFilter(projects),
      submitter: submitterFilter(people),
      since: dateFilter(s => naiveMs(s.date), 'since'),
      before: dateFilter(s => naiveMs(s.date), 'before'),
      q: nameSearch()
    },
    order: { id: s => s.id, name: s => s.name, date: s => s.date, submitter: s => s.submitterId },
    defaultOrder: 'id'
  }
}

export function submissionSpec(
  items: Submission[],
  render: (s: Submission) => unknown,
  ctx: {
    projects: Project[]
    people: StoredPerson[]
    users: StoredUser[]
    minor: number
    kind: 'patch' | 'cover'
    hashOf: (s: Submission) => string | null
  }
): ListSpec<Submission> {
  const filters: Record<string, Filter<Submission>> = {
    project: projectFilter(ctx.projects),
    series: oneOf(numeric, s => s.seriesId),
    submitter: submitterFilter(ctx.people),
    since: dateFilter(s => naiveMs(s.mail.date), 'since'),
    before: dateFilter(s => naiveMs(s.mail.date), 'before'),
    q: nameSearch()
  }
  if (ctx.minor >= 2) filters.msgid = values => item => values.some(v => `<${v}>` === item.mail.msgid)
  if (ctx.kind === 'patch') {
    Object.assign(filters, {
      state: oneOf<Submission>(
        v => (STATES.includes(v) ? v : STATES[Number(v) - 1]),
        s => s.state
      ),
      delegate: oneOf<Submission>(
        v => ctx.users.find(u => String(u.id) === v || u.username === v)?.id,
        s => s.delegateId
      ),
      archived: oneOf<Submission>(
        v => (v === 'true' || v === 'false' ? v : undefined),
        s => String(s.archived)
      )
    })
    if (ctx.minor >= 2)
      filters.hash = oneOf(
        v => v,
        s => ctx.hashOf(s)
      )
  }
  return {
    items,
    render,
    filters,
    order: {
      id: s => s.id,
      name: s => s.name,
      date: s => s.mail.date,
      state: s => s.state,
      archived: s => String(s.archived),
      submitter: s => s.submitterId
    },
    defaultOrder: 'id'
  }
}

export function eventSpec(
  items: StoredEvent[],
  render: (e: StoredEvent) => unknown,
  projects: Project[]
): ListSpec<StoredEvent> {
  return {
    items,
    render,
    filters: {
      project: projectFilter(projects),
      category: oneOf(
        v => (CATEGORIES.includes(v) ? v : undefined),
        e => e.category
      ),
      series: oneOf(numeric, e => e.seriesId ?? null),
      patch: oneOf(numeric, e => e.patchId ?? null),
      cover: oneOf(numeric, e => e.coverId ?? null),
      since: dateFilter(e => e.date / 1000, 'since'),
      before: dateFilter(e => e.date / 1000, 'before')
    },
    // Events order by date only, newest first by default.
    order: { date: e => e.date },
    defaultOrder: '-date'
  }
}

/** `/patches/{id}/checks/`: filters user, state, context, since, before; ordered by id unless `order=` says. */
export function checkSpec(
  items: StoredCheck[],
  users: StoredUser[],
  render: (c: StoredCheck) => unknown
): ListSpec<StoredCheck> {
  const CHECK_STATES = ['pending', 'success', 'warning', 'fail']
  return {
    items,
    filters: {
      context: values => c => values.includes(c.context),
      state: values => (values.every(v => CHECK_STATES.includes(v)) ? c => values.includes(c.state) : null),
      user: values => {
        const ids = values.map(v => users.find(u => String(u.id) === v || u.username === v)?.id)
        return ids.every(id => id !== undefined) ? c => ids.includes(c.userId) : null
      },
      since: values => (Number.isNaN(parseIso(values[0])) ? null : c => c.date >= parseIso(values[0])),
      before: values => (Number.isNaN(parseIso(values[0])) ? null : c => c.date < parseIso(values[0]))
    },
    order: { id: c => c.id, date: c => c.date },
    defaultOrder: 'id',
    render
  }
}
