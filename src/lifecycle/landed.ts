/**
 * Has a series landed in the base branch? Pure: the runner (merged.ts) gathers the facts from git.
 *
 * A patch has landed when a base commit names its Message-ID (a `Link:` to lore or patch.msgid.link, or a
 * `Message-Id:` trailer, as `b4 am -l` and `git am --message-id` write them) or, failing that, when a base
 * commit has the same `git patch-id --stable` (which survives an edited message or missing Link:). Only when
 * every patch has landed is the series merged: a half-applied series keeps its PR.
 */

/** One patch of the series, as far as it is known. */
export interface SeriesPatchFacts {
  /** 1-based position in the series. */
  counter: number
  /** The patch mail's Message-ID, without angle brackets. */
  msgid?: string
  /** `git patch-id --stable` of the commit ml2pr made for it. */
  patchId?: string
}

/** One commit of the base branch. */
export interface BaseCommitFacts {
  sha: string
  subject: string
  /** Message-IDs its trailers point at (see trailerMessageIds). */
  msgids: string[]
  /** Present only for the commits whose patch-id was worth computing. */
  patchId?: string
}

export interface LandedMatch {
  counter: number
  sha: string
  subject: string
  by: 'message-id' | 'patch-id'
}

export type Landing =
  { landed: true; matches: LandedMatch[] } | { landed: false; matches: LandedMatch[]; missing: number[] }

const TRAILER = /^[ \t]*(Link|Message-Id)[ \t]*:[ \t]*(.+?)[ \t]*$/gim

/**
 * The Message-IDs a commit message's trailers point at: `Message-Id: <id>`, and the id in any `Link:` URL
 * whose path segment looks like one (`lore.kernel.org/r/<id>`, `patch.msgid.link/<id>`,
 * `lore.kernel.org/<list>/<id>/`, percent-encoded or not). Matching is exact afterwards, so a liberal
 * reading here cannot make a foreign commit match.
 */
export function trailerMessageIds(message: string): string[] {
  const ids = new Set<string>()
  for (const m of message.matchAll(TRAILER)) {
    const name = (m[1] ?? '').toLowerCase()
    const value = (m[2] ?? '').replace(/^<|>$/g, '')
    if (name === 'message-id') {
      if (value.includes('@')) ids.add(value)
      continue
    }
    for (const id of messageIdsInUrl(value)) ids.add(id)
  }
  return [...ids]
}

function messageIdsInUrl(value: string): string[] {
  let url: URL
  try {
    url = new URL(value.split(/\s/)[0] ?? '')
  } catch {
    return []
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return []
  return url.pathname
    .split('/')
    .map(segment => {
      try {
        return decodeURIComponent(segment)
      } catch {
        return segment
      }
    })
    .filter(segment => /^[^\s@<>]+@[^\s@<>]+$/.test(segment))
}

/**
 * Matches every patch to a base commit: by Message-ID first, then by patch-id. Each base commit accounts
 * for one patch at most, so two identical patches need two commits.
 */
export function findLanded(patches: SeriesPatchFacts[], base: BaseCommitFacts[]): Landing {
  const byMsgid = new Map<string, BaseCommitFacts>()
  const byPatchId = new Map<string, BaseCommitFacts[]>()
  // Newest first in `base`: the oldest commit naming a Message-ID is the one that landed it.
  for (const commit of [...base].reverse()) {
    for (const id of commit.msgids) if (!byMsgid.has(id)) byMsgid.set(id, commit)
    if (commit.patchId) byPatchId.set(commit.patchId, [...(byPatchId.get(commit.patchId) ?? []), commit])
  }
  const used = new Set<string>()
  const matches: LandedMatch[] = []
  const missing: number[] = []
  for (const patch of patches) {
    const named = patch.msgid ? byMsgid.get(patch.msgid) : undefined
    if (named && !used.has(named.sha)) {
      used.add(named.sha)
      matches.push({ counter: patch.counter, sha: named.sha, subject: named.subject, by: 'message-id' })
      continue
    }
    const same = patch.patchId ? byPatchId.get(patch.patchId)?.find(c => !used.has(c.sha)) : undefined
    if (same) {
      used.add(same.sha)
      matches.push({ counter: patch.counter, sha: same.sha, subject: same.subject, by: 'patch-id' })
      continue
    }
    missing.push(patch.counter)
  }
  if (patches.length > 0 && missing.length === 0) return { landed: true, matches }
  return { landed: false, matches, missing }
}

/**
 * The series' patches as the facts allow: Message-IDs (from Patchwork, in counter order) and the PR's commits'
 * patch-ids (oldest first). Paired by position only when both lists have the same length; otherwise the longer
 * evidence is kept on its own, since a guess at pairing could close a PR wrongly.
 */
export function seriesPatches(msgids: string[], patchIds: string[]): SeriesPatchFacts[] {
  if (msgids.length > 0 && patchIds.length > 0 && msgids.length !== patchIds.length) {
    return patchIds.map((patchId, i) => ({ counter: i + 1, patchId }))
  }
  const n = Math.max(msgids.length, patchIds.length)
  return Array.from({ length: n }, (_, i) => ({
    counter: i + 1,
    ...(msgids[i] === undefined ? {} : { msgid: msgids[i] }),
    ...(patchIds[i] === undefined ? {} : { patchId: patchIds[i] })
  }))
}
