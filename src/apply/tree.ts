import type { Git } from './git.js'

/**
 * Looks up a few paths in a commit's tree by reading only the trees on their way (one `cat-file --batch`
 * per directory level), instead of listing all ~90,000 entries of a kernel tree. Paths come from mail, so
 * they travel on stdin as tree ids, never on the command line.
 */

export interface TreeEntry {
  mode: string
  name: string
  oid: string
}

/** Parses a raw tree object: `<mode> <name>\0<binary id>` repeated. */
export function parseTree(raw: Buffer, hashBytes: number): TreeEntry[] {
  const entries: TreeEntry[] = []
  let i = 0
  while (i < raw.length) {
    const space = raw.indexOf(0x20, i)
    const nul = raw.indexOf(0x00, space)
    if (space === -1 || nul === -1 || nul + 1 + hashBytes > raw.length) break
    entries.push({
      mode: raw.toString('latin1', i, space),
      name: raw.toString('utf8', space + 1, nul),
      oid: raw.toString('hex', nul + 1, nul + 1 + hashBytes)
    })
    i = nul + 1 + hashBytes
  }
  return entries
}

/** Parses `git cat-file --batch` output into object id → content. */
export function parseBatch(out: Buffer): Map<string, Buffer> {
  const objects = new Map<string, Buffer>()
  let i = 0
  while (i < out.length) {
    const eol = out.indexOf(0x0a, i)
    if (eol === -1) break
    const [oid = '', type = '', size = ''] = out.toString('latin1', i, eol).split(' ')
    if (type === 'missing' || size === '') {
      i = eol + 1
      continue
    }
    const start = eol + 1
    const end = start + Number(size)
    objects.set(oid, out.subarray(start, end))
    i = end + 1
  }
  return objects
}

/** Blob ids of those `files` (full paths) that exist in `commit`'s tree. */
export async function findBlobs(git: Git, commit: string, files: Set<string>): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  if (files.size === 0) return found
  const hashBytes = commit.length / 2
  const dirs = new Set<string>()
  for (const f of files) {
    const parts = f.split('/')
    for (let n = 1; n < parts.length; n++) dirs.add(parts.slice(0, n).join('/'))
  }
  let level = new Map<string, string>([[await git.text(['rev-parse', '--verify', `${commit}^{tree}`]), '']])
  while (level.size > 0) {
    const out = await git.exec(['cat-file', '--batch'], { input: [...level.keys()].join('\n') + '\n' })
    const trees = parseBatch(out.stdout)
    const next = new Map<string, string>()
    for (const [oid, dir] of level) {
      for (const entry of parseTree(trees.get(oid) ?? Buffer.alloc(0), hashBytes)) {
        const full = dir ? `${dir}/${entry.name}` : entry.name
        if (entry.mode === '40000') {
          if (dirs.has(full)) next.set(entry.oid, full)
        } else if (entry.mode !== '160000' && files.has(full)) found.set(full, entry.oid)
      }
    }
    level = next
  }
  return found
}
