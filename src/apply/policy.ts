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
  if (target === '' || target.startsWith('/') || target.includes('\0') || target.includes('\\')) return true
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(linkPath), target))
  if (resolved === '..' || resolved.startsWith('../')) return true
  return resolved.split('/').some(part => part.toLowerCase() === '.git')
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
