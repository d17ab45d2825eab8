/**
 * Validation of the names ml2pr hands to git. Branch names are built from integers and allow-listed bases,
 * but they are checked again here so a bad one can never become an option or a surprising refspec.
 */

const OBJECT_ID = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/

export function isObjectId(value: string): boolean {
  return OBJECT_ID.test(value)
}

export function assertObjectId(value: string): string {
  if (!isObjectId(value)) throw new Error(`Not a full object id: ${JSON.stringify(value)}`)
  return value
}

/** A subset of git's check-ref-format rules that is strict enough for branch names ml2pr creates. */
export function isSafeBranchName(name: string): boolean {
  if (!/^[A-Za-z0-9._/-]+$/.test(name)) return false
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false
  if (name.includes('..') || name.includes('//') || name.includes('@{')) return false
  return name.split('/').every(part => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'))
}

export function assertBranchName(name: string): string {
  if (!isSafeBranchName(name)) throw new Error(`Unsafe branch name: ${JSON.stringify(name)}`)
  return name
}

/** A revision range made of full object ids or ml2pr's own refs, e.g. `<sha>..<sha>`. */
export function assertRange(range: string): string {
  const ends = range.split(/\.{2,3}/)
  const ok =
    ends.length <= 2 &&
    ends.every(e => isObjectId(e) || (e.startsWith('refs/') && isSafeBranchName(e.slice('refs/'.length))))
  if (!ok) throw new Error(`Unsafe revision range: ${JSON.stringify(range)}`)
  return range
}
