import path from 'node:path'

/**
 * What a series may not change, judged on `git diff-tree --raw` of each commit (modes and ids only, so no
 * blob is fetched for it). Checked per commit: a file added by patch 1 and removed by patch 2 is still pushed.
 */

export interface TreeChange {
  oldMode: string
  newMode: string
  oldOid: string
  newOid: string
  /** A, M, D, T (no rename detection). */
  status: string
  path: string
}

export const GITLINK_MODE = '160000'
export const SYMLINK_MODE = '120000'

/** Parses `git diff-tree -r -z --raw --no-renames` output. */
export function parseRawDiff(out: Buffer): TreeChange[] {
  const fields = out.toString('utf8').split('\0')
  const changes: TreeChange[] = []
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const m = /^:(\d{6}) (\d{6}) ([0-9a-f]+) ([0-9a-f]+) ([A-Z])/.exec(fields[i] ?? '')
    if (!m) continue
    changes.push({
      oldMode: m[1] ?? '',
      newMode: m[2] ?? '',
      oldOid: m[3] ?? '',
      newOid: m[4] ?? '',
      status: m[5] ?? '',
      path: fields[i + 1] ?? ''
    })
  }
  return changes
}

/** Paths under a protected prefix (compared without case: `.GitHub/` is refused as well). */
export function protectedFiles(changes: TreeChange[], prefixes: string[]): string[] {
  const lowered = prefixes.map(p => p.toLowerCase())
  return changes
    .map(c => c.path)
    .filter(p => {
      const lp = p.toLowerCase()
      return lowered.some(
        prefix => lp.startsWith(prefix) || (prefix.endsWith('/') && lp === prefix.slice(0, -1))
      )
    })
}

export interface Violation {
  path: string
  reason: string
}

/** Submodules: gitlinks and `.gitmodules` (their URL and name handling has a long CVE history). */
export function submoduleViolations(changes: TreeChange[]): Violation[] {
  const out: Violation[] = []
  for (const c of changes) {
    if (c.newMode === GITLINK_MODE) out.push({ path: c.path, reason: 'adds a submodule (gitlink)' })
    else if (path.posix.basename(c.path).toLowerCase() === '.gitmodules') {
      out.push({ path: c.path, reason: 'changes .gitmodules' })
    }
  }
  return out
}

/** True when a symlink at `linkPath` pointing to `target` leaves the tree or points into `.git`. */
export function symlinkEscapes(linkPath: string, target: string): boolean {
  return resolveLink(linkPath, new Map([[linkPath, target]])).outcome !== 'inside'
}

/** Links followed in one resolution before it counts as a loop (Linux's MAXSYMLINKS). */
const MAX_HOPS = 40

export interface Resolution {
  outcome: 'inside' | 'escapes' | 'git-dir' | 'loop'
  /** Every link the resolution went through, the first one included. */
  visited: string[]
}

/**
 * Resolves the symlink at `linkPath` the way the kernel would in a checkout of the tree whose symlinks are
 * `links` (path → target): component by component, following links through links, `..` from the link's
 * physical directory. Each link alone can look harmless (`a/l1 -> ..`, `l2 -> a/l1/..`); together they
 * leave the checkout, so only a resolution against the whole tree can tell.
 */
export function resolveLink(linkPath: string, links: ReadonlyMap<string, string>): Resolution {
  const visited = [linkPath]
  const current = linkPath.split('/').slice(0, -1)
  let pending: string[] = []
  const follow = (target: string): boolean => {
    if (target === '' || target.startsWith('/') || target.includes('\0') || target.includes('\\'))
      return false
    pending = [...target.split('/'), ...pending]
    return true
  }
  if (!follow(links.get(linkPath) ?? '')) return { outcome: 'escapes', visited }
  while (pending.length > 0) {
    const part = pending.shift() ?? ''
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (current.length === 0) return { outcome: 'escapes', visited }
      current.pop()
      continue
    }
    if (part.toLowerCase() === '.git') return { outcome: 'git-dir', visited }
    current.push(part)
    const target = links.get(current.join('/'))
    if (target === undefined) continue
    if (visited.length > MAX_HOPS) return { outcome: 'loop', visited }
    visited.push(current.join('/'))
    current.pop()
    if (!follow(target)) return { outcome: 'escapes', visited }
  }
  return { outcome: 'inside', visited }
}

const RESOLUTION_REASONS: Record<Exclude<Resolution['outcome'], 'inside'>, string> = {
  escapes: 'symlink pointing outside the tree',
  'git-dir': 'symlink pointing into .git',
  loop: 'symlink loop'
}

/**
 * The symlinks of a tree that escape it (or reach `.git`, or loop) through at least one link the series
 * added or changed; links the base already had are upstream's business. `links` is every symlink of the
 * resulting tree, `changed` the links the series touched so far (in any of its commits).
 */
export function escapingLinks(links: ReadonlyMap<string, string>, changed: ReadonlySet<string>): Violation[] {
  const out: Violation[] = []
  for (const linkPath of [...links.keys()].sort()) {
    const { outcome, visited } = resolveLink(linkPath, links)
    if (outcome === 'inside' || !visited.some(link => changed.has(link))) continue
    const through = visited.length > 1 ? ` (through ${visited.slice(1).join(', ')})` : ''
    out.push({ path: linkPath, reason: `${RESOLUTION_REASONS[outcome]}${through}` })
  }
  return out
}

/** Blob ids this commit introduces (not ones it only moves), with their paths. */
export function newBlobs(changes: TreeChange[]): Map<string, string> {
  const old = new Set(changes.map(c => c.oldOid))
  const blobs = new Map<string, string>()
  for (const c of changes) {
    if (c.status === 'D' || c.newMode === GITLINK_MODE || /^0+$/.test(c.newOid) || old.has(c.newOid)) continue
    blobs.set(c.newOid, c.path)
  }
  return blobs
}
