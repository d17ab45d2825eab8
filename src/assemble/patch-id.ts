import { createHash, type Hash } from 'node:crypto'

/**
 * The `git patch-id --stable` of a patch mail's body, computed the way git does it (git/git
 * `builtin/patch-id.c`), so that b4's rule "trailers given to an earlier revision carry over when the
 * patch-id is unchanged" needs no git process.
 *
 * What the id ignores: the commit message (everything before the first `diff ` line), `index` lines, the
 * line numbers in hunk headers, all whitespace, `\ No newline at end of file` markers, and the order of
 * the files (each file's SHA-1 is summed, not chained). It ends where the patch ends (a line that cannot
 * continue a hunk, such as the `-- ` signature).
 *
 * Returns undefined when the body has no `diff ` section, as git prints nothing for it then.
 */
export function patchId(body: string): string | undefined {
  const state: State = {
    sum: new Uint8Array(20),
    hash: createHash('sha1'),
    patchLength: 0,
    before: -1,
    after: -1,
    binary: false,
    preImage: '',
    postImage: ''
  }
  for (const line of lines(body)) if (!feed(state, line)) break
  flush(state)
  return state.patchLength > 0 ? Buffer.from(state.sum).toString('hex') : undefined
}

interface State {
  /** The 20-byte sum of the per-file SHA-1s, little end first, as git adds them. */
  sum: Uint8Array
  hash: Hash
  /** Bytes hashed so far; 0 means no diff has started yet. */
  patchLength: number
  /** Lines left in the current hunk on each side; -1 while reading a file's diff header. */
  before: number
  after: number
  binary: boolean
  preImage: string
  postImage: string
}

/** Lines with their `\n`, the way git's strbuf_getwholeline reads them. */
function lines(body: string): string[] {
  const out = body.split(/(?<=\n)/)
  return out.length > 0 && out[out.length - 1] === '' ? out.slice(0, -1) : out
}

/** One line of git's get_one_patchid loop; false where git stops reading the patch. */
function feed(state: State, line: string): boolean {
  if (state.patchLength === 0 && !line.startsWith('diff ')) return true // commit message
  if (state.before === -1) {
    if (line.startsWith('GIT binary patch') || line.startsWith('Binary files')) {
      // A binary file counts by its blob ids alone.
      state.binary = true
      state.before = 0
      state.hash.update(state.preImage)
      state.hash.update(state.postImage)
      flush(state)
      return true
    }
    if (line.startsWith('index ')) {
      readBlobIds(state, line)
      return true
    }
    if (line.startsWith('--- ')) {
      state.before = state.after = 1
    } else if (!/^[A-Za-z]/.test(line)) {
      return false
    }
  }
  if (line.startsWith('\\ ') && Buffer.byteLength(line) > 12) return true
  if (state.binary) {
    if (line.startsWith('diff ')) {
      state.binary = false
      state.before = -1
    }
    return true
  }
  if (state.before === 0 && state.after === 0) {
    if (line.startsWith('@@ -')) {
      scanHunkHeader(state, line)
      return true
    }
    if (!line.startsWith('diff ')) return false
    // The next file: --stable sums each file's hash, which makes the id independent of file order.
    flush(state)
    state.before = state.after = -1
  }
  if (line[0] === '-' || line[0] === ' ') state.before--
  if (line[0] === '+' || line[0] === ' ') state.after--
  // C's isspace in the C locale: only ASCII whitespace goes.
  const bytes = Buffer.from(line.replace(/[ \t\n\v\f\r]/g, ''), 'utf8')
  state.patchLength += bytes.length
  state.hash.update(bytes)
  return true
}

/** `index <pre>..<post> <mode>`: kept for binary files, whose content is not hashed. */
function readBlobIds(state: State, line: string): void {
  const dots = line.indexOf('..')
  if (dots === -1) return
  const space = line.indexOf(' ', dots)
  const end = space === -1 ? line.length - 1 : space
  state.preImage = line.slice('index '.length, dots).slice(0, 64)
  state.postImage = line.slice(dots + 2, end).slice(0, 64)
}

/**
 * `@@ -a[,b] +c[,d] @@`: only the line counts matter (a missing count is 1). Like git, a malformed header
 * still sets what it parsed before the error.
 */
function scanHunkHeader(state: State, line: string): void {
  let q = 4
  let n = digitsAt(line, q)
  if (line[q + n] === ',') {
    q += n + 1
    n = digitsAt(line, q)
    state.before = leadingNumber(line, q)
  } else {
    state.before = 1
  }
  if (n === 0 || line[q + n] !== ' ' || line[q + n + 1] !== '+') return
  let r = q + n + 2
  n = digitsAt(line, r)
  if (line[r + n] === ',') {
    r += n + 1
    state.after = leadingNumber(line, r)
  } else {
    state.after = 1
  }
}

function digitsAt(line: string, at: number): number {
  let n = 0
  while (at + n < line.length && line[at + n] >= '0' && line[at + n] <= '9') n++
  return n
}

/** C's atoi: optional leading whitespace and sign, then digits; 0 when there are none. */
function leadingNumber(line: string, at: number): number {
  const match = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(line.slice(at))
  return match ? Number.parseInt(match[1], 10) : 0
}

/** Adds the current SHA-1 to the sum, byte by byte with carry (git's flush_one_hunk). */
function flush(state: State): void {
  const digest = state.hash.digest()
  state.hash = createHash('sha1')
  let carry = 0
  for (let i = 0; i < state.sum.length; i++) {
    carry += state.sum[i] + digest[i]
    state.sum[i] = carry & 0xff
    carry >>= 8
  }
}
