/**
 * The stored records of the Patchwork stand-in and their JSON shapes, field for field as Patchwork
 * 3.1.3 serializes them (API 1.1-1.3; fields added in 1.2 are hidden from 1.1 requests).
 */
import { diffHash, type ParsedMail } from './patchwork-mail.js'

export interface Project {
  id: number
  linkName: string
  name: string
  listId: string
  listEmail: string
  listArchiveUrl: string
  listArchiveUrlFormat: string
}

export interface StoredPerson {
  id: number
  name: string
  email: string
}

export interface StoredUser {
  id: number
  username: string
  email: string
}

export interface Submission {
  kind: 'patch' | 'cover'
  id: number
  projectId: number
  mail: ParsedMail
  name: string
  prefixes: string[]
  submitterId: number
  seriesId: number
  number: number
  state: string
  archived: boolean
  delegateId: number | null
  /** Server time (µs since epoch) the mail arrived; invisible before. */
  arrivedAt: number
}

export interface StoredSeries {
  id: number
  projectId: number
  name: string
  date: string
  submitterId: number
  version: number
  total: number
  coverId: number | null
  patchIds: number[]
  createdAt: number
}

export interface StoredCheck {
  id: number
  patchId: number
  userId: number
  date: number
  state: string
  targetUrl: string | null
  context: string
  description: string | null
}

export interface StoredEvent {
  id: number
  category: string
  projectId: number
  date: number
  actorId: number | null
  patchId?: number
  coverId?: number
  seriesId?: number
  checkId?: number
  previousState?: string
  currentState?: string
}

/** Everything a renderer needs: the stores and how URLs look for this request. */
export interface View {
  /** `http://host:port` */
  base: string
  /** `${base}/api/1.3` or `${base}/api` for the unversioned root. */
  api: string
  /** Minor version of the API: 1, 2 or 3. */
  minor: number
  project(id: number): Project
  person(id: number): StoredPerson
  user(id: number): StoredUser
  patch(id: number): Submission
  cover(id: number): Submission
  series(id: number): StoredSeries
  check(id: number): StoredCheck
  visiblePatches(series: StoredSeries): Submission[]
  combinedCheck(patchId: number): string
}

type Json = Record<string, unknown>

/** Microseconds since the epoch → Patchwork's naive timestamp with microseconds. */
export function naiveMicros(us: number): string {
  const d = new Date(Math.floor(us / 1000))
  return `${d.toISOString().slice(0, 19)}.${String(us % 1000000).padStart(6, '0')}`
}

const bare = (msgid: string): string => msgid.replace(/^<|>$/g, '')
const urlMsgid = (msgid: string): string => bare(msgid).replace(/\//g, '%2F')

function since12(v: View, fields: Json): Json {
  return v.minor >= 2 ? fields : {}
}

export function projectJson(v: View, p: Project, detail = false): Json {
  return {
    id: p.id,
    url: `${v.api}/projects/${p.id}/`,
    name: p.name,
    link_name: p.linkName,
    list_id: p.listId,
    list_email: p.listEmail,
    web_url: '',
    scm_url: '',
    webscm_url: '',
    ...(detail ? { maintainers: [userJson(v, v.user(1))], subject_match: '' } : {}),
    ...since12(v, {
      list_archive_url: p.listArchiveUrl,
      list_archive_url_format: p.listArchiveUrlFormat,
      commit_url_format: ''
    })
  }
}

export function personJson(v: View, p: StoredPerson): Json {
  return { id: p.id, url: `${v.api}/people/${p.id}/`, name: p.name, email: p.email }
}

export function userJson(v: View, u: StoredUser): Json {
  return {
    id: u.id,
    url: `${v.api}/users/${u.id}/`,
    username: u.username,
    first_name: '',
    last_name: '',
    email: u.email
  }
}

function archiveUrl(v: View, s: Submission): string | null {
  const format = v.project(s.projectId).listArchiveUrlFormat
  return format ? format.replace('{}', bare(s.mail.msgid)) : null
}

function submissionWebUrl(v: View, s: Submission): string {
  return `${v.base}/project/${v.project(s.projectId).linkName}/${s.kind}/${urlMsgid(s.mail.msgid)}/`
}

export function seriesWebUrl(v: View, s: StoredSeries): string {
  return `${v.base}/project/${v.project(s.projectId).linkName}/list/?series=${s.id}`
}

/** The embedded form of a patch or cover letter (series `patches`, event payloads). */
export function embeddedSubmission(v: View, s: Submission): Json {
  const web = submissionWebUrl(v, s)
  return {
    id: s.id,
    url: `${v.api}/${s.kind === 'patch' ? 'patches' : 'covers'}/${s.id}/`,
    web_url: web,
    msgid: s.mail.msgid,
    ...since12(v, { list_archive_url: archiveUrl(v, s) }),
    date: s.mail.date,
    name: s.name,
    mbox: `${web}mbox/`
  }
}

export function embeddedSeries(v: View, s: StoredSeries): Json {
  return {
    id: s.id,
    url: `${v.api}/series/${s.id}/`,
    web_url: seriesWebUrl(v, s),
    date: s.date,
    name: s.name,
    version: s.version,
    mbox: `${v.base}/series/${s.id}/mbox/`
  }
}

export function seriesJson(v: View, s: StoredSeries): Json {
  const patches = v.visiblePatches(s)
  const cover = s.coverId === null ? null : v.cover(s.coverId)
  return {
    id: s.id,
    url: `${v.api}/series/${s.id}/`,
    web_url: seriesWebUrl(v, s),
    project: projectJson(v, v.project(s.projectId)),
    name: s.name,
    date: s.date,
    submitter: personJson(v, v.person(s.submitterId)),
    version: s.version,
    total: s.total,
    received_total: patches.length,
    received_all: s.total <= patches.length,
    mbox: `${v.base}/series/${s.id}/mbox/`,
    cover_letter: cover ? embeddedSubmission(v, cover) : null,
    // Patchwork orders a series' patches by date, not by number.
    patches: [...patches]
      .sort((a, b) => a.mail.date.localeCompare(b.mail.date) || a.id - b.id)
      .map(p => embeddedSubmission(v, p))
  }
}

export function patchJson(v: View, p: Submission, detail: boolean): Json {
  const web = submissionWebUrl(v, p)
  const out: Json = {
    id: p.id,
    url: `${v.api}/patches/${p.id}/`,
    web_url: web,
    project: projectJson(v, v.project(p.projectId)),
    msgid: p.mail.msgid,
    ...since12(v, { list_archive_url: archiveUrl(v, p) }),
    date: p.mail.date,
    name: p.name,
    commit_ref: null,
    pull_url: null,
    state: p.state,
    archived: p.archived,
    hash: diffHash(p.mail.diff),
    submitter: personJson(v, v.person(p.submitterId)),
    delegate: p.delegateId === null ? null : userJson(v, v.user(p.delegateId)),
    mbox: `${web}mbox/`,
    series: [embeddedSeries(v, v.series(p.seriesId))],
    // Patchwork builds these two without the version segment.
    comments: `${v.base}/api/patches/${p.id}/comments/`,
    check: v.combinedCheck(p.id),
    checks: `${v.base}/api/patches/${p.id}/checks/`,
    tags: {},
    ...since12(v, { related: [] })
  }
  if (detail)
    Object.assign(out, {
      headers: p.mail.headers,
      content: p.mail.content,
      diff: p.mail.diff,
      prefixes: p.prefixes
    })
  return out
}

export function coverJson(v: View, c: Submission, detail: boolean): Json {
  const web = submissionWebUrl(v, c)
  const out: Json = {
    id: c.id,
    url: `${v.api}/covers/${c.id}/`,
    web_url: web,
    project: projectJson(v, v.project(c.projectId)),
    msgid: c.mail.msgid,
    ...since12(v, { list_archive_url: archiveUrl(v, c) }),
    date: c.mail.date,
    name: c.name,
    submitter: personJson(v, v.person(c.submitterId)),
    mbox: `${web}mbox/`,
    series: [embeddedSeries(v, v.series(c.seriesId))],
    comments: `${v.base}/api/covers/${c.id}/comments/`
  }
  if (detail) Object.assign(out, { headers: c.mail.headers, content: c.mail.content })
  return out
}

export function checkJson(v: View, c: StoredCheck, embedded = false): Json {
  const url = `${v.api}/patches/${c.patchId}/checks/${c.id}/`
  if (embedded)
    return {
      id: c.id,
      url,
      date: naiveMicros(c.date),
      state: c.state,
      target_url: c.targetUrl,
      context: c.context
    }
  return {
    id: c.id,
    url,
    user: userJson(v, v.user(c.userId)),
    date: naiveMicros(c.date),
    state: c.state,
    target_url: c.targetUrl,
    context: c.context,
    description: c.description
  }
}

export function eventJson(v: View, e: StoredEvent): Json {
  const payload: Json = {}
  if (e.patchId !== undefined) payload.patch = embeddedSubmission(v, v.patch(e.patchId))
  if (e.coverId !== undefined) payload.cover = embeddedSubmission(v, v.cover(e.coverId))
  if (e.seriesId !== undefined) payload.series = embeddedSeries(v, v.series(e.seriesId))
  if (e.checkId !== undefined) payload.check = checkJson(v, v.check(e.checkId), true)
  if (e.category === 'patch-state-changed') {
    payload.previous_state = e.previousState
    payload.current_state = e.currentState
  }
  return {
    id: e.id,
    category: e.category,
    project: projectJson(v, v.project(e.projectId)),
    date: naiveMicros(e.date),
    ...since12(v, { actor: e.actorId === null ? null : userJson(v, v.user(e.actorId)) }),
    payload
  }
}
