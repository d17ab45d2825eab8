/**
 * Every input, read once into one typed, validated, frozen object. Defaults live here as well as in
 * action.yml (the source; a test keeps them equal), so `node dist/index.js` run without the runner's
 * defaulting, and the command line, behave the same. Every invalid input is reported, not just the first.
 */

export interface BaseRule {
  /** A subject prefix token such as `bpf-next` (compared case-insensitively). */
  tag: string
  branch: string
}

export interface Settings {
  /** `owner/name` of the repository ml2pr works in. */
  owner: string
  repo: string
  token: string
  /** `${GITHUB_SERVER_URL}` without a trailing slash; git talks to `${serverUrl}/${owner}/${repo}.git`. */
  serverUrl: string
  /** `${GITHUB_API_URL}` (GHES: `https://host/api/v3`). */
  apiUrl: string
  /** Empty in lore-only mode. */
  patchworkUrl: string
  patchworkProject: string
  patchworkDelegate: string
  patchworkToken: string
  loreUrl: string
  /** Empty means: the Patchwork project's list name. */
  loreList: string
  baseBranch: string
  applyBranch: string
  baseMap: BaseRule[]
  branchPrefix: string
  /** Manual mode: process exactly this series. */
  seriesId: string
  lookbackDays: number
  graceMinutes: number
  closeAfterDays: number
  closeOnStates: string[]
  refreshOpenPrs: boolean
  excludeSubject?: RegExp
  maxSeries: number
  /** Writes per run (pushes, PR and comment requests, Patchwork checks); the rest wait for the next run. */
  maxWrites: number
  /** A series with more patches than this is refused before anything is fetched or applied. */
  maxPatches: number
  /** Always starts with `.github/` (workflows run with the repository's secrets); the input only adds. */
  protectedPaths: string[]
  committerName: string
  committerEmail: string
  dryRun: boolean
  /** Names one of several ml2pr configurations in one repository (one per list); empty for the only one. */
  name: string
  /** The ref holding the run state: `refs/ml2pr/state`, or `refs/ml2pr/states/<name>` for a named one. */
  stateRef: string
  /** Where ml2pr keeps its private git dir and scratch files. */
  workDir: string
}

export type InputReader = (name: string) => string

/** Every problem with the inputs at once, each message naming its input. */
export class SettingsError extends Error {
  override name = 'SettingsError'
  readonly problems: string[]

  constructor(problems: string | string[]) {
    const list = typeof problems === 'string' ? [problems] : problems
    super(list.length === 1 ? list[0] : `${list.length} invalid inputs:\n- ${list.join('\n- ')}`)
    this.problems = list
  }
}

/** The state ref of the only ml2pr of a repository; named ones live beside it (see stateRefOf). */
export const STATE_REF = 'refs/ml2pr/state'

/**
 * `refs/ml2pr/states/<name>`, not `refs/ml2pr/state/<name>`: git cannot hold a ref and a directory of refs
 * under the same name, so a repository moving from one list to several could not keep its old state.
 */
export function stateRefOf(name: string): string {
  return name ? `refs/ml2pr/states/${name}` : STATE_REF
}

/**
 * Patchwork's states (the default set, plus those patchwork.kernel.org adds). A misspelt state would
 * silently never close anything, so anything else is refused.
 */
export const PATCHWORK_STATES = [
  'new',
  'under-review',
  'accepted',
  'rejected',
  'rfc',
  'not-applicable',
  'changes-requested',
  'awaiting-upstream',
  'superseded',
  'deferred',
  'mainlined',
  'queued',
  'needs-ack',
  'handled-elsewhere'
] as const

export const DEFAULTS = {
  'patchwork-url': 'https://patchwork.kernel.org',
  'lore-url': 'https://lore.kernel.org',
  'lookback-days': '7',
  'grace-minutes': '10',
  'close-after-days': '14',
  'close-on-states': 'accepted, rejected, superseded, changes-requested, not-applicable',
  'refresh-open-prs': 'true',
  'exclude-subject': '^\\[[^\\]]*\\b(GIT PULL|RFC)\\b',
  'max-series': '20',
  'max-writes': '200',
  'max-patches': '500',
  'protected-paths': '.github/',
  'committer-name': 'ml2pr',
  'committer-email': 'ml2pr@users.noreply.github.com',
  'dry-run': 'false',
  name: ''
} as const

/** Reads `INPUT_<NAME>` the way the runner passes inputs (upper-cased, hyphens kept). */
export function envInputReader(env: NodeJS.ProcessEnv): InputReader {
  return name => (env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] ?? '').trim()
}

export function readSettings(input: InputReader, env: NodeJS.ProcessEnv): Readonly<Settings> {
  const get = (name: string): string => {
    const value = input(name).trim()
    if (value !== '') return value
    return (DEFAULTS as Record<string, string>)[name] ?? ''
  }
  // Each check runs even when an earlier one failed, so one run reports every invalid input.
  const problems: string[] = []
  const check = <T>(read: () => T, fallback: T): T => {
    try {
      return read()
    } catch (error) {
      if (!(error instanceof SettingsError)) throw error
      problems.push(...error.problems)
      return fallback
    }
  }
  const fail = (message: string): void => void problems.push(message)

  const repository = get('repository') || env.GITHUB_REPOSITORY || ''
  const [owner = '', repo = '', ...rest] = repository.split('/')
  if (!owner || !repo || rest.length > 0) {
    fail(`Invalid repository '${repository}'. Expected format {owner}/{repo}.`)
  }
  const token = get('github-token') || env.GITHUB_TOKEN || ''
  if (!token) fail('Input required and not supplied: github-token')

  const serverUrl = stripSlash(env.GITHUB_SERVER_URL || 'https://github.com')
  const apiUrl = stripSlash(env.GITHUB_API_URL || 'https://api.github.com')
  check(() => assertHttpUrl('GITHUB_SERVER_URL', serverUrl), undefined)
  check(() => assertHttpUrl('GITHUB_API_URL', apiUrl), undefined)

  // An explicitly empty patchwork-url selects lore-only mode, so only an unset input takes the default.
  const rawPatchwork = input('patchwork-url')
  const patchworkUrl = stripSlash(
    rawPatchwork === '' && !hasInput(env, 'patchwork-url') ? DEFAULTS['patchwork-url'] : rawPatchwork.trim()
  )
  if (patchworkUrl) check(() => assertHttpUrl('patchwork-url', patchworkUrl), undefined)
  const patchworkProject = get('patchwork-project')
  const loreUrl = stripSlash(get('lore-url'))
  check(() => assertHttpUrl('lore-url', loreUrl), undefined)
  const loreList = get('lore-list')
  if (loreList && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(loreList)) {
    fail(`Invalid lore-list '${loreList}': expected an inbox name such as linux-fsdevel.`)
  }
  if (patchworkUrl && !patchworkProject) {
    fail(
      'Input required and not supplied: patchwork-project (or set patchwork-url to empty for lore-only mode)'
    )
  }
  if (!patchworkUrl && !loreList) fail('lore-only mode (empty patchwork-url) needs lore-list')

  const baseBranch = get('base-branch')
  if (!baseBranch) fail('Input required and not supplied: base-branch')
  else check(() => assertBranchName('base-branch', baseBranch), undefined)
  const applyBranch = get('apply-branch') || baseBranch
  if (get('apply-branch')) check(() => assertBranchName('apply-branch', applyBranch), undefined)
  const name = get('name')
  if (name && !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(name)) {
    fail(`Invalid name '${name}': expected lower-case letters, digits, '-' or '_' (it names a ref).`)
  }
  // Several ml2pr in one repository each find their PRs by their branch prefix: a named one gets its own.
  const branchPrefix = get('branch-prefix') || (name ? `pw-${name}` : 'pw')
  check(() => assertBranchName('branch-prefix', branchPrefix), undefined)
  const baseMap = check(() => parseBaseMap(input('base-map')), [])

  const seriesId = get('series-id')
  if (seriesId && !/^[1-9][0-9]{0,11}$/.test(seriesId)) {
    fail(`Invalid series-id '${seriesId}': expected a Patchwork series number.`)
  }
  if (seriesId && !patchworkUrl) fail('series-id needs patchwork-url')

  const settings: Settings = {
    owner,
    repo,
    token,
    serverUrl,
    apiUrl,
    patchworkUrl,
    patchworkProject,
    patchworkDelegate: get('patchwork-delegate'),
    patchworkToken: get('patchwork-token'),
    loreUrl,
    loreList,
    baseBranch,
    applyBranch,
    baseMap,
    branchPrefix,
    seriesId,
    lookbackDays: check(() => readInteger('lookback-days', get('lookback-days'), 0, 365), 0),
    graceMinutes: check(() => readInteger('grace-minutes', get('grace-minutes'), 0, 7 * 24 * 60), 0),
    closeAfterDays: check(() => readInteger('close-after-days', get('close-after-days'), 0, 3650), 0),
    closeOnStates: check(() => readStates('close-on-states', get('close-on-states')), []),
    refreshOpenPrs: check(() => readBoolean('refresh-open-prs', get('refresh-open-prs')), false),
    excludeSubject: check(() => readRegExp('exclude-subject', get('exclude-subject')), undefined),
    maxSeries: check(() => readInteger('max-series', get('max-series'), 1, 500), 1),
    maxWrites: check(() => readInteger('max-writes', get('max-writes'), 1, 10_000), 1),
    maxPatches: check(() => readInteger('max-patches', get('max-patches'), 1, 5000), 1),
    protectedPaths: protectedPaths(get('protected-paths')),
    committerName: get('committer-name'),
    committerEmail: get('committer-email'),
    dryRun: check(() => readBoolean('dry-run', get('dry-run')), true),
    name,
    stateRef: stateRefOf(name),
    workDir: `${stripSlash(env.RUNNER_TEMP || env.TMPDIR || '/tmp')}/ml2pr`
  }
  if (problems.length > 0) throw new SettingsError(problems)
  return Object.freeze(settings)
}

function hasInput(env: NodeJS.ProcessEnv, name: string): boolean {
  return `INPUT_${name.toUpperCase()}` in env
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '')
}

function assertHttpUrl(name: string, value: string): void {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new SettingsError(`Invalid ${name} '${value}': not a URL.`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SettingsError(`Invalid ${name} '${value}': only http(s) URLs are supported.`)
  }
  if (url.username || url.password)
    throw new SettingsError(`Invalid ${name}: credentials do not belong in a URL.`)
}

/** Branch names end up in refspecs and URLs: allow only what `git check-ref-format --branch` allows, minus oddities. */
export function assertBranchName(name: string, value: string): void {
  const ok =
    /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(value) &&
    !value.includes('..') &&
    !value.includes('//') &&
    !value.endsWith('/') &&
    !value.endsWith('.') &&
    !value.split('/').some(part => part.startsWith('.') || part.endsWith('.lock'))
  if (!ok) throw new SettingsError(`Invalid ${name} '${value}': not a safe branch name.`)
}

function readInteger(name: string, value: string, min: number, max: number): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new SettingsError(`Invalid ${name} '${value}': expected a whole number from ${min} to ${max}.`)
  }
  return n
}

function readStates(name: string, value: string): string[] {
  const states = splitList(value).map(s => s.toLowerCase())
  const unknown = states.filter(s => !(PATCHWORK_STATES as readonly string[]).includes(s))
  if (unknown.length > 0) {
    const hints = unknown.map(s => {
      const near = closest(s, PATCHWORK_STATES)
      return near ? `'${s}' (did you mean '${near}'?)` : `'${s}'`
    })
    throw new SettingsError(
      `Invalid ${name}: unknown Patchwork state ${hints.join(', ')}; known states: ${PATCHWORK_STATES.join(', ')}.`
    )
  }
  return states
}

/** The known word within two edits of `word`, if any (for "did you mean"). */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: { word: string; distance: number } | undefined
  for (const candidate of known) {
    const distance = editDistance(word, candidate)
    if (distance <= 2 && (!best || distance < best.distance)) best = { word: candidate, distance }
  }
  return best?.word
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    row = next
  }
  return row[b.length]
}

function readBoolean(name: string, value: string): boolean {
  if (/^(true|True|TRUE)$/.test(value)) return true
  if (/^(false|False|FALSE)$/.test(value)) return false
  throw new SettingsError(`Invalid ${name} '${value}': expected true or false.`)
}

function readRegExp(name: string, value: string): RegExp | undefined {
  if (!value) return undefined
  try {
    return new RegExp(value, 'i')
  } catch (error) {
    throw new SettingsError(`Invalid ${name} '${value}': ${(error as Error).message}`)
  }
}

/** Branches in the repository run their own workflow files: `.github/` is protected whatever the input says. */
export const ALWAYS_PROTECTED = '.github/'

function protectedPaths(value: string): string[] {
  const listed = splitList(value)
    .map(p => p.replace(/^\/+/, ''))
    .filter(Boolean)
  return [...new Set([ALWAYS_PROTECTED, ...listed])]
}

function splitList(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map(s => s.trim())
    .filter(Boolean)
}

/** `base-map`: one `subject-tag = branch` rule per line; `#` starts a comment. */
export function parseBaseMap(text: string): BaseRule[] {
  const rules: BaseRule[] = []
  for (const [index, rawLine] of text.split('\n').entries()) {
    const line = rawLine.replace(/#.*/, '').trim()
    if (!line) continue
    const match = /^([^=\s]+)\s*=\s*(\S+)$/.exec(line)
    if (!match)
      throw new SettingsError(
        `Invalid base-map line ${index + 1} '${line}': expected 'subject-tag = branch'.`
      )
    assertBranchName('base-map branch', match[2])
    rules.push({ tag: match[1].toLowerCase(), branch: match[2] })
  }
  return rules
}
