/**
 * A local stand-in for a Patchwork 3.1.3 server: REST API 1.1-1.3 (and the unversioned `/api/`), the
 * events feed, checks, and the series/patch mbox views. Lists paginate as Patchwork does (bare arrays,
 * `Link` header, `404 Invalid page.`), unknown filter values give `[]`, dates are naive UTC.
 */
import http from 'node:http'
import {
  FaultList,
  closeServer,
  handler,
  listen,
  parseRequestObject,
  readBody,
  sendFault,
  sendJson,
  type Fault,
  type LoggedRequest
} from './http.js'
import {
  cleanSubject,
  diffHash,
  parseMail,
  renderPatchMbox,
  seriesMarkers,
  type Person
} from './patchwork-mail.js'
import {
  checkJson,
  coverJson,
  eventJson,
  patchJson,
  projectJson,
  seriesJson,
  type Project,
  type StoredCheck,
  type StoredEvent,
  type StoredPerson,
  type StoredSeries,
  type StoredUser,
  type Submission,
  type View
} from './patchwork-objects.js'
import {
  checkSpec,
  eventSpec,
  respondList,
  seriesSpec,
  submissionSpec,
  type ListSpec
} from './patchwork-lists.js'

export interface PatchworkStandInOptions {
  /** API versions served under `/api/<v>/` (default 1.1, 1.2, 1.3); bare `/api/` is always the newest. */
  versions?: string[]
  /** Token of the maintainer user `ci-bot` (allowed to post checks). */
  token?: string
  /** Token of a user without rights on any project. */
  otherToken?: string
}

export interface AddProjectOptions {
  linkName: string
  name?: string
  listId?: string
  listEmail?: string
  listArchiveUrl?: string
  listArchiveUrlFormat?: string
}

export interface AddSeriesOptions {
  /** Project link name. */
  project: string
  /** Series name; default: cover subject without prefixes, else patch 1's cleaned subject. */
  name?: string
  /** Default: the `vN` prefix of the first mail. */
  version?: number
  /** Default: the From of the first mail. */
  submitter?: Person
  cover?: Buffer
  /** Raw mails in counter order. */
  patches: Buffer[]
  /** Series date (naive UTC ISO); default: the first mail's Date. */
  date?: string
  /** Default: N of the first patch's `n/N`. */
  total?: number
  /** Username the patches are delegated to. */
  delegate?: string
  /** When the last patch arrives (server time, or ms from now); the series stays incomplete until then. */
  completeAt?: Date | number
}

export interface PatchworkStandIn {
  url: string
  token: string
  otherToken: string
  addProject(opts: AddProjectOptions): number
  addSeries(opts: AddSeriesOptions): Promise<{ seriesId: number; patchIds: number[]; coverId?: number }>
  setPatchState(patchId: number, state: string): void
  /** Moves the server clock (event and check dates, arrival of delayed patches) forward. */
  advanceClock(ms: number): void
  now(): Date
  requests: LoggedRequest[]
  injectFault(fault: Fault): void
  close(): Promise<void>
}

const NOT_FOUND = { detail: 'Not found.' }
const NO_PERMISSION = { detail: 'You do not have permission to perform this action.' }
const CHECK_STATES = ['pending', 'success', 'warning', 'fail']
const DJANGO_404 =
  '<!doctype html>\n<html lang="en">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n'

class HttpReply {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {}
  ) {}
}

export async function startPatchworkStandIn(opts: PatchworkStandInOptions = {}): Promise<PatchworkStandIn> {
  const versions = opts.versions ?? ['1.1', '1.2', '1.3']
  const token = opts.token ?? 'pw-maintainer-token'
  const otherToken = opts.otherToken ?? 'pw-other-token'
  const requests: LoggedRequest[] = []
  const faults = new FaultList()
  const projects: Project[] = []
  const people: StoredPerson[] = []
  const users: StoredUser[] = [
    { id: 1, username: 'ci-bot', email: 'ci-bot@example.org' },
    { id: 2, username: 'someone', email: 'someone@example.org' }
  ]
  const submissions: Submission[] = []
  const series: StoredSeries[] = []
  const checks: StoredCheck[] = []
  const events: StoredEvent[] = []
  let clockOffsetMs = 0
  let lastMicros = 0
  let base = ''

  const nowMicros = (): number => (Date.now() + clockOffsetMs) * 1000
  /**
   * Server timestamps are unique and increasing, like the database's. Uniqueness is kept by adding a
   * microsecond, so a burst within one millisecond runs a little ahead of the clock: that is still "now".
   * A future arrival (a patch that comes late) keeps its own time and moves nothing.
   */
  const stamp = (at = nowMicros()): number => {
    if (at > Math.max(nowMicros(), lastMicros)) return at
    lastMicros = Math.max(at, lastMicros + 1)
    return lastMicros
  }
  const visible = (s: { arrivedAt: number } | { date: number }): boolean =>
    ('arrivedAt' in s ? s.arrivedAt : s.date) <= Math.max(nowMicros(), lastMicros)
  const byId = <T extends { id: number }>(list: T[], id: number, what: string): T => {
    const found = list.find(x => x.id === id)
    if (!found) throw new Error(`no ${what} ${id}`)
    return found
  }

  const patchesOnly = (): Submission[] => submissions.filter(s => s.kind === 'patch')
  const coversOnly = (): Submission[] => submissions.filter(s => s.kind === 'cover')

  function view(apiVersion: string | null): View {
    const minor = Number((apiVersion ?? versions.at(-1) ?? '1.3').split('.')[1])
    return {
      base,
      api: apiVersion ? `${base}/api/${apiVersion}` : `${base}/api`,
      minor,
      project: id => byId(projects, id, 'project'),
      person: id => byId(people, id, 'person'),
      user: id => byId(users, id, 'user'),
      patch: id => byId(patchesOnly(), id, 'patch'),
      cover: id => byId(coversOnly(), id, 'cover'),
      series: id => byId(series, id, 'series'),
      check: id => byId(checks, id, 'check'),
      visiblePatches: s => s.patchIds.map(id => byId(patchesOnly(), id, 'patch')).filter(visible),
      combinedCheck
    }
  }

  function combinedCheck(patchId: number): string {
    const latest = new Map<string, StoredCheck>()
    for (const c of checks.filter(c => c.patchId === patchId && visible(c)))
      latest.set(`${c.userId} ${c.context}`, c)
    const states = [...latest.values()].map(c => c.state)
    return ['fail', 'warning', 'pending', 'success'].find(s => states.includes(s)) ?? 'pending'
  }

  function person(p: Person): number {
    const found = people.find(x => x.email.toLowerCase() === p.email.toLowerCase())
    if (found) return found.id
    people.push({ id: people.length + 1, name: p.name, email: p.email })
    return people.length
  }

  function user(username: string): number {
    const found = users.find(u => u.username === username)
    if (found) return found.id
    users.push({ id: users.length + 1, username, email: `${username}@example.org` })
    return users.length
  }

  function event(e: Omit<StoredEvent, 'id' | 'date'>, at?: number): void {
    events.push({ ...e, id: events.length + 1, date: stamp(at) })
  }

  function findProject(key: string): Project | undefined {
    return projects.find(p => String(p.id) === key || p.linkName === key)
  }

  async function addSeries(
    o: AddSeriesOptions
  ): Promise<{ seriesId: number; patchIds: number[]; coverId?: number }> {
    const project = findProject(o.project)
    if (!project) throw new Error(`unknown project ${o.project}`)
    if (!o.patches.length) throw new Error('a series needs at least one patch')
    const coverMail = o.cover ? await parseMail(o.cover) : undefined
    const patchMails = await Promise.all(o.patches.map(parseMail))
    const first = coverMail ?? patchMails[0]
    const firstPatch = cleanSubject(patchMails[0].subject, project.linkName)
    const markers = seriesMarkers(cleanSubject(first.subject, project.linkName).prefixes, first.subject)
    const submitterId = person(o.submitter ?? first.from)
    const delegateId = o.delegate ? user(o.delegate) : null
    const lateAt =
      o.completeAt === undefined
        ? undefined
        : (typeof o.completeAt === 'number'
            ? Date.now() + clockOffsetMs + o.completeAt
            : o.completeAt.getTime()) * 1000
    const s: StoredSeries = {
      id: series.length + 1,
      projectId: project.id,
      name:
        o.name ??
        (coverMail
          ? cleanSubject(coverMail.subject, project.linkName).name.replace(/^\[[^\]]*\]\s*/, '')
          : firstPatch.name),
      date: o.date ?? first.date,
      submitterId,
      version: o.version ?? markers.version,
      total: o.total ?? seriesMarkers(firstPatch.prefixes, patchMails[0].subject).total,
      coverId: null,
      patchIds: [],
      createdAt: nowMicros()
    }
    series.push(s)
    const base = { projectId: project.id, submitterId, seriesId: s.id, state: 'new', archived: false }
    const add = (
      kind: 'patch' | 'cover',
      mail: typeof first,
      number: number,
      arrivedAt: number
    ): Submission => {
      const { name, prefixes } = cleanSubject(mail.subject, project.linkName)
      const sub: Submission = {
        ...base,
        kind,
        id: submissions.filter(x => x.kind === kind).length + 1,
        mail,
        name,
        prefixes,
        number,
        delegateId: kind === 'patch' ? delegateId : null,
        arrivedAt
      }
      submissions.push(sub)
      return sub
    }
    if (coverMail) {
      const cover = add('cover', coverMail, 0, stamp())
      s.coverId = cover.id
      event(
        { category: 'cover-created', projectId: project.id, actorId: null, coverId: cover.id },
        cover.arrivedAt
      )
      event(
        { category: 'series-created', projectId: project.id, actorId: null, seriesId: s.id },
        cover.arrivedAt
      )
    }
    patchMails.forEach((mail, i) => {
      const late = lateAt !== undefined && i === patchMails.length - 1
      const arrivedAt = late ? lateAt : stamp()
      const number =
        seriesMarkers(cleanSubject(mail.subject, project.linkName).prefixes, mail.subject).number || i + 1
      const patch = add('patch', mail, patchMails.length === 1 ? 1 : number, arrivedAt)
      s.patchIds.push(patch.id)
      const at = late ? arrivedAt : undefined
      const p = { projectId: project.id, actorId: null, patchId: patch.id }
      event({ category: 'patch-created', ...p }, at)
      if (i === 0 && !coverMail)
        event({ category: 'series-created', projectId: project.id, actorId: null, seriesId: s.id }, at)
      event({ category: 'patch-completed', ...p, seriesId: s.id }, at)
      if (s.patchIds.length >= s.total)
        event({ category: 'series-completed', projectId: project.id, actorId: null, seriesId: s.id }, at)
    })
    events.sort((a, b) => a.date - b.date)
    const coverId = s.coverId ?? undefined
    return { seriesId: s.id, patchIds: [...s.patchIds], ...(coverId ? { coverId } : {}) }
  }

  function setPatchState(patchId: number, state: string): void {
    const patch = submissions.find(x => x.kind === 'patch' && x.id === patchId)
    if (!patch) throw new Error(`no patch ${patchId}`)
    const previousState = patch.state
    patch.state = state
    event({
      category: 'patch-state-changed',
      projectId: patch.projectId,
      actorId: 1,
      patchId,
      previousState,
      currentState: state
    })
  }

  /** `Authorization: Token <key>` → user id; undefined when anonymous; null for an unknown token. */
  function authUser(req: http.IncomingMessage): number | null | undefined {
    const m = /^Token\s+(\S+)$/i.exec(req.headers.authorization ?? '')
    if (!m) return undefined
    return m[1] === token ? 1 : m[1] === otherToken ? 2 : null
  }

  async function createCheck(req: http.IncomingMessage, v: View, patch: Submission): Promise<HttpReply> {
    const who = authUser(req)
    if (who === null) return new HttpReply(403, { detail: 'Invalid token.' })
    if (who !== 1) return new HttpReply(403, NO_PERMISSION)
    const input = parseRequestObject(req, await readBody(req))
    if (!input) return new HttpReply(400, { detail: 'JSON parse error.' })
    const errors: Record<string, string[]> = {}
    const state = input.state
    if (state === undefined || state === '') errors.state = ['This field is required.']
    else if (typeof state !== 'string' || !CHECK_STATES.includes(state))
      errors.state = [`"${typeof state === 'string' ? state : JSON.stringify(state)}" is not a valid choice.`]
    const context = input.context ?? 'default'
    if (typeof context !== 'string' || !/^[-a-zA-Z0-9_]+$/.test(context))
      errors.context = ['Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.']
    const target = input.target_url ?? null
    if (target !== null && target !== '' && (typeof target !== 'string' || !/^https?:\/\/\S+$/.test(target)))
      errors.target_url = ['Enter a valid URL.']
    if (Object.keys(errors).length) return new HttpReply(400, errors)
    const check: StoredCheck = {
      id: checks.length + 1,
      patchId: patch.id,
      userId: who,
      date: stamp(),
      state: state as string,
      targetUrl: typeof target === 'string' && target !== '' ? target : null,
      context: context as string,
      description: typeof input.description === 'string' ? input.description : null
    }
    checks.push(check)
    event({
      category: 'check-created',
      projectId: patch.projectId,
      actorId: who,
      patchId: patch.id,
      checkId: check.id
    })
    const body = checkJson(v, check)
    return new HttpReply(201, body, { location: body.url as string })
  }

  /** Routes `/api/[<version>/]<rest>`. */
  async function api(req: http.IncomingMessage, url: URL, v: View, rest: string): Promise<HttpReply> {
    const method = req.method ?? 'GET'
    const list = <T>(spec: ListSpec<T>): HttpReply => {
      const { status, body, link } = respondList(spec, url, base)
      return new HttpReply(status, body, link ? { link } : {})
    }
    const visibleSubs = (kind: 'patch' | 'cover'): Submission[] =>
      submissions.filter(s => s.kind === kind && visible(s))
    const visibleSeries = (): StoredSeries[] =>
      series.filter(s => v.visiblePatches(s).length || s.coverId !== null)
    let m: RegExpExecArray | null
    if (method !== 'GET' && method !== 'HEAD' && !/^patches\/\d+\/checks\/$/.test(rest))
      return new HttpReply(405, { detail: `Method "${method}" not allowed.` })
    if (rest === '') {
      const names = ['bundles', 'covers', 'events', 'patches', 'people', 'projects', 'series', 'users']
      return new HttpReply(200, Object.fromEntries(names.map(n => [n, `${v.api}/${n}/`])))
    }
    if (rest === 'projects/') return list({ items: projects, render: p => projectJson(v, p, true) })
    if ((m = /^projects\/([^/]+)\/$/.exec(rest))) {
      const p = findProject(decodeURIComponent(m[1]))
      return p ? new HttpReply(200, projectJson(v, p, true)) : new HttpReply(404, NOT_FOUND)
    }
    if (rest === 'series/') return list(seriesSpec(visibleSeries(), s => seriesJson(v, s), projects, people))
    if ((m = /^series\/(\d+)\/$/.exec(rest))) {
      const s = visibleSeries().find(x => x.id === Number(m?.[1]))
      return s ? new HttpReply(200, seriesJson(v, s)) : new HttpReply(404, NOT_FOUND)
    }
    for (const kind of ['patch', 'cover'] as const) {
      const plural = kind === 'patch' ? 'patches' : 'covers'
      const render = (s: Submission, detail: boolean): Record<string, unknown> =>
        kind === 'patch' ? patchJson(v, s, detail) : coverJson(v, s, detail)
      if (rest === `${plural}/`)
        return list(
          submissionSpec(visibleSubs(kind), s => render(s, false), {
            projects,
            people,
            users,
            minor: v.minor,
            kind,
            hashOf: s => diffHash(s.mail.diff)
          })
        )
      if ((m = new RegExp(`^${plural}/(\\d+)/(comments/|checks/(?:(\\d+)/)?)?$`).exec(rest))) {
        const sub = visibleSubs(kind).find(x => x.id === Number(m?.[1]))
        if (!sub) return new HttpReply(404, NOT_FOUND)
        if (!m[2]) return new HttpReply(200, render(sub, true))
        if (m[2] === 'comments/') return list({ items: [], render: () => ({}) })
        if (kind !== 'patch') break
        if (m[3]) {
          const c = checks.find(x => x.patchId === sub.id && x.id === Number(m?.[3]) && visible(x))
          return c ? new HttpReply(200, checkJson(v, c)) : new HttpReply(404, NOT_FOUND)
        }
        if (method === 'POST') return createCheck(req, v, sub)
        if (method !== 'GET' && method !== 'HEAD')
          return new HttpReply(405, { detail: `Method "${method}" not allowed.` })
        return list(
          checkSpec(
            checks.filter(c => c.patchId === sub.id && visible(c)),
            users,
            c => checkJson(v, c)
          )
        )
      }
    }
    if (rest === 'events/') {
      const items = events.filter(
        e => visible(e) && (v.minor >= 3 || !e.category.endsWith('comment-created'))
      )
      return list(eventSpec(items, e => eventJson(v, e), projects))
    }
    return new HttpReply(404, DJANGO_404, { 'content-type': 'text/html; charset=utf-8' })
  }

  function allowFor(rest: string): string {
    if (/^patches\/\d+\/checks\/$/.test(rest)) return 'GET, POST, HEAD, OPTIONS'
    if (/^(patches|projects)\/[^/]+\/$/.test(rest)) return 'GET, PUT, PATCH, HEAD, OPTIONS'
    return 'GET, HEAD, OPTIONS'
  }

  /** The web views that serve mbox files. */
  function web(url: URL): HttpReply {
    const p = url.pathname
    let m: RegExpExecArray | null
    const redirect = (kind: 'patch' | 'cover', id: number): HttpReply => {
      const sub = submissions.find(s => s.kind === kind && s.id === id && visible(s))
      if (!sub) return new HttpReply(404, DJANGO_404, { 'content-type': 'text/html; charset=utf-8' })
      const link = byId(projects, sub.projectId, 'project').linkName
      const msgid = sub.mail.msgid.replace(/^<|>$/g, '').replace(/\//g, '%2F')
      // Patchwork drops the query string on this redirect.
      return new HttpReply(302, '', {
        location: `/project/${link}/${kind}/${msgid}/mbox/`,
        'content-type': 'text/html; charset=utf-8'
      })
    }
    if ((m = /^\/(patch|cover)\/(\d+)\/mbox\/$/.exec(p)))
      return redirect(m[1] as 'patch' | 'cover', Number(m[2]))
    const mbox = (subs: Submission[], name: string, type: string): HttpReply => {
      const text = subs
        .map(s => renderPatchMbox(s.mail, s.id, byId(people, s.submitterId, 'person'), delegateName(s)))
        .join('\n')
      const file = name.replace(/[^\w-]+/g, '-').replace(/^-+|-+$/g, '')
      return new HttpReply(200, text, {
        'content-type': type,
        'content-disposition': `attachment; filename=${file}.patch`
      })
    }
    if ((m = /^\/series\/(\d+)\/mbox\/$/.exec(p))) {
      const s = series.find(x => x.id === Number(m?.[1]))
      if (!s) return new HttpReply(404, DJANGO_404, { 'content-type': 'text/html; charset=utf-8' })
      const patches = view(null)
        .visiblePatches(s)
        .sort((a, b) => a.number - b.number)
      return mbox(patches, s.name, 'text/plain')
    }
    if ((m = /^\/project\/([^/]+)\/(patch|cover)\/([^/]+)\/mbox\/$/.exec(p))) {
      const project = findProject(m[1])
      const msgid = `<${decodeURIComponent(m[3])}>`
      const sub = submissions.find(
        s => s.kind === m?.[2] && s.projectId === project?.id && s.mail.msgid === msgid && visible(s)
      )
      if (!sub) return new HttpReply(404, DJANGO_404, { 'content-type': 'text/html; charset=utf-8' })
      const wanted = url.searchParams.get('series')
      let subs = [sub]
      if (sub.kind === 'patch' && wanted !== null) {
        if (wanted !== '*' && wanted !== String(sub.seriesId))
          return new HttpReply(404, DJANGO_404, { 'content-type': 'text/html; charset=utf-8' })
        const s = byId(series, sub.seriesId, 'series')
        subs = [
          ...view(null)
            .visiblePatches(s)
            .filter(x => x.number < sub.number)
            .sort((a, b) => a.number - b.number),
          sub
        ]
      }
      return mbox(subs, sub.name, 'text/plain; charset=utf-8')
    }
    return new HttpReply(404, DJANGO_404, { 'content-type': 'text/html; charset=utf-8' })
  }

  function delegateName(s: Submission): string | undefined {
    return s.delegateId === null ? undefined : byId(users, s.delegateId, 'user').username
  }

  const server = http.createServer(
    handler(requests, async (req, res) => {
      const url = new URL(req.url ?? '/', base)
      const fault = faults.take(req.method ?? 'GET', url.pathname)
      if (fault) {
        sendFault(res, fault, {})
        return
      }
      const m = /^\/api\/(?:(\d+\.\d+)\/)?(.*)$/.exec(url.pathname)
      let reply: HttpReply
      if (m && (m[1] === undefined || versions.includes(m[1]))) {
        reply = await api(req, url, view(m[1] ?? null), m[2])
        if (reply.status !== 404 || typeof reply.body !== 'string') {
          Object.assign(reply.headers, { allow: allowFor(m[2]), vary: 'Accept, Cookie' })
        }
      } else if (m) {
        reply = new HttpReply(404, DJANGO_404, { 'content-type': 'text/html; charset=utf-8' })
      } else reply = web(url)
      if (typeof reply.body === 'string') {
        res.writeHead(reply.status, { 'content-type': 'text/plain', ...reply.headers })
        res.end(req.method === 'HEAD' ? undefined : reply.body)
      } else sendJson(res, reply.status, reply.body, reply.headers)
    })
  )
  const port = await listen(server)
  base = `http://127.0.0.1:${port}`

  return {
    url: base,
    token,
    otherToken,
    addProject(o) {
      const id = projects.length + 1
      projects.push({
        id,
        linkName: o.linkName,
        name: o.name ?? o.linkName,
        listId: o.listId ?? `${o.linkName}.vger.kernel.org`,
        listEmail: o.listEmail ?? `${o.linkName}@vger.kernel.org`,
        listArchiveUrl: o.listArchiveUrl ?? `https://lore.kernel.org/${o.linkName}/`,
        listArchiveUrlFormat: o.listArchiveUrlFormat ?? 'https://lore.kernel.org/r/{}'
      })
      return id
    },
    addSeries,
    setPatchState,
    advanceClock(ms) {
      clockOffsetMs += ms
    },
    now: () => new Date(Date.now() + clockOffsetMs),
    requests,
    injectFault: f => faults.add(f),
    close: () => closeServer(server)
  }
}
