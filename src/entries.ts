/**
 * Many lists, one repository: the reusable workflow's `lists` input (YAML or JSON: a list of entries, each
 * a set of ml2pr inputs) becomes one matrix job per entry. Each entry gets a name (its own, else its
 * Patchwork project or lore list), which gives it its own state ref, branch prefix and concurrency group,
 * so two lists never share or overwrite each other's state. Pure: the workflow step is entries-main.ts.
 */
import { parse } from 'yaml'

/** One matrix job's inputs, every value a string as the action receives it. */
export type Entry = Record<string, string>

export class EntriesError extends Error {
  override name = 'EntriesError'
}

/** Inputs an entry may not set: secrets stay secrets of the caller, the repository is the caller's. */
const NOT_PER_ENTRY = new Set([
  'github-token',
  'patchwork-token',
  'app-id',
  'app-private-key',
  'repository',
  'lists',
  'only'
])

/**
 * `common`: the workflow's own inputs (defaults for every entry). `lists`: the entries text; empty means
 * one entry made of the common inputs alone (a single list, state in `refs/ml2pr/state`).
 */
export function expandEntries(common: Record<string, unknown>, lists: string, only = ''): Entry[] {
  const base: Entry = {}
  for (const [key, value] of Object.entries(common)) {
    if (!NOT_PER_ENTRY.has(key)) base[key] = scalar(value)
  }
  if (!lists.trim()) {
    if (only && only !== (base.name ?? '')) throw new EntriesError(`only: no list is named '${only}'.`)
    return [base]
  }
  let raw: unknown
  try {
    raw = parse(lists)
  } catch (error) {
    throw new EntriesError(`lists: not YAML or JSON: ${(error as Error).message}`)
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new EntriesError(
      'lists: expected a list of entries, e.g. [{ patchwork-project: …, base-branch: … }]'
    )
  }
  const problems: string[] = []
  const entries = raw.map((item: unknown, index): Entry => {
    const where = `lists[${index}]`
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      problems.push(`${where}: expected a mapping of inputs`)
      return {}
    }
    const entry: Entry = { ...base }
    for (const [key, value] of Object.entries(item as Record<string, unknown>)) {
      if (NOT_PER_ENTRY.has(key)) problems.push(`${where}.${key}: set it once for the workflow, not per list`)
      else if (!(key in base) && key !== 'name') problems.push(`${where}.${key}: not an input of ml2pr`)
      else if (value !== null && typeof value === 'object') problems.push(`${where}.${key}: expected a value`)
      else entry[key] = scalar(value)
    }
    entry.name = (item as Entry).name ?? (entry['patchwork-project'] || entry['lore-list'] || '')
    if (!entry.name) problems.push(`${where}: needs a name (or a patchwork-project or lore-list to name it)`)
    return entry
  })
  const seen = new Map<string, number>()
  entries.forEach((entry, index) => {
    const first = seen.get(entry.name)
    if (entry.name && first !== undefined) {
      problems.push(
        `lists[${index}]: the name '${entry.name}' is taken by lists[${first}]; names must differ`
      )
    }
    seen.set(entry.name, index)
  })
  const prefixes = new Map<string, number>()
  entries.forEach((entry, index) => {
    const prefix = entry['branch-prefix']
    if (!prefix) return
    const first = prefixes.get(prefix)
    if (first !== undefined)
      problems.push(`lists[${index}]: branch-prefix '${prefix}' is used by lists[${first}]`)
    prefixes.set(prefix, index)
  })
  if (problems.length > 0) throw new EntriesError(problems.join('\n'))
  if (!only) return entries
  const chosen = entries.filter(e => e.name === only)
  if (chosen.length === 0) {
    throw new EntriesError(
      `only: no list is named '${only}' (lists: ${entries.map(e => e.name).join(', ')}).`
    )
  }
  return chosen
}

/** A workflow input as the action receives it: a string (booleans and numbers as YAML writes them). */
function scalar(value: unknown): string {
  if (value == null) return ''
  return typeof value === 'string' ? value : JSON.stringify(value)
}
