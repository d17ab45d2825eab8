/**
 * Which files a patch reads, found by reading its headers the way `git apply -p1` does. Used only to
 * prefetch blobs in one batch; `git apply` itself remains the judge of what the patch means.
 */

export interface PatchFiles {
  /** Paths (after stripping one leading component) whose current content the patch needs. */
  paths: Set<string>
  /** Abbreviated preimage blob ids from `index <old>..<new>` lines (for a 3-way fallback). */
  preimageIds: Set<string>
}

const C_ESCAPES: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, '\\': 92 }

/** Undoes git's C-style quoting of a path (`"a/caf\303\251"`), returning the rest of the line too. */
export function unquotePath(text: string): { path: string; rest: string } | undefined {
  if (!text.startsWith('"')) return undefined
  const bytes: number[] = []
  let i = 1
  while (i < text.length) {
    const c = text[i] ?? ''
    if (c === '"') return { path: Buffer.from(bytes).toString('utf8'), rest: text.slice(i + 1) }
    if (c === '\\') {
      const next = text[i + 1] ?? ''
      if (/[0-7]/.test(next)) {
        bytes.push(parseInt(text.slice(i + 1, i + 4), 8))
        i += 4
        continue
      }
      const code = C_ESCAPES[next]
      if (code === undefined) return undefined
      bytes.push(code)
      i += 2
      continue
    }
    bytes.push(...Buffer.from(c, 'utf8'))
    i++
  }
  return undefined
}

/** `a/fs/x.c` → `fs/x.c` (what -p1 does), undefined for /dev/null. */
function stripOne(name: string): string | undefined {
  if (name === '/dev/null') return undefined
  const slash = name.indexOf('/')
  return slash === -1 ? undefined : name.slice(slash + 1)
}

/** A name on a `---`/`+++` line: quoted, or up to a tab (non-git diffs append a timestamp). */
function headerName(text: string): string {
  const quoted = unquotePath(text)
  if (quoted) return quoted.path
  const tab = text.indexOf('\t')
  return (tab === -1 ? text : text.slice(0, tab)).trimEnd()
}

/** Both names of `diff --git a/X b/X` when they are equal (mode changes and binary patches have no ---/+++). */
function gitHeaderName(rest: string): string | undefined {
  const first = unquotePath(rest)
  if (first) {
    const second = unquotePath(first.rest.trimStart())
    const a = stripOne(first.path)
    return a !== undefined && second && stripOne(second.path) === a ? a : undefined
  }
  if ((rest.length - 1) % 2 !== 0) return undefined
  const half = (rest.length - 1) / 2
  const a = stripOne(rest.slice(0, half))
  const b = stripOne(rest.slice(half + 1))
  return a !== undefined && a === b && rest[half] === ' ' ? a : undefined
}

export function patchFiles(patch: string): PatchFiles {
  const paths = new Set<string>()
  const preimageIds = new Set<string>()
  let oldLeft = 0
  let newLeft = 0
  for (const line of patch.split('\n')) {
    if (oldLeft > 0 || newLeft > 0) {
      // Inside a hunk: a removed line reading "-- x" must not be taken for a header.
      const c = line[0]
      if (c === ' ' || c === undefined || c === '') {
        oldLeft--
        newLeft--
      } else if (c === '-') oldLeft--
      else if (c === '+') newLeft--
      else if (c !== '\\') {
        oldLeft = 0
        newLeft = 0
      }
      continue
    }
    const hunk = /^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/.exec(line)
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1])
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2])
      continue
    }
    let name: string | undefined
    if (line.startsWith('diff --git ')) name = gitHeaderName(line.slice('diff --git '.length))
    else if (line.startsWith('--- ') || line.startsWith('+++ ')) name = stripOne(headerName(line.slice(4)))
    else {
      const m = /^(?:rename|copy) (?:from|to) (.*)$/.exec(line)
      if (m) name = headerName(m[1] ?? '')
      const index = /^index ([0-9a-f]{4,64})\.\.[0-9a-f]+/.exec(line)
      if (index && !/^0+$/.test(index[1] ?? '')) preimageIds.add(index[1] ?? '')
    }
    if (name) paths.add(name)
  }
  return { paths, preimageIds }
}
