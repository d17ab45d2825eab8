/**
 * Every input, read once into one typed, validated, frozen object. Defaults live here as well as in
 * action.yml, so `node dist/index.js` run without the runner's defaulting behaves the same.
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
  /** Where ml2pr keeps its private git dir and scratch files. */
  workDir: string
}

export type InputReader = (name: string) => string

export class SettingsError extends Error {
  override name = 'SettingsError'
}

export const DEFAULTS = {
  'patchwork-url': 'https://patchwork.kernel.org',
  'lore-url': 'https://lore.kernel.org',
  'branch-prefix': 'pw',
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
  'dry-run': 'false'
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

  const repository = get('repository') || env.GITHUB_REPOSITORY || ''
  const [owner, repo, ...rest] = repository.split('/')
  if (!owner || !repo || rest.length > 0) {
    throw new SettingsError(`Invalid repository '${repository}'. Expected format {owner}/{repo}.`)
  }
  const token = get('github-token') || env.GITHUB_TOKEN || ''
  if (!token) throw new SettingsError('Input required and not supplied: github-token')

  const serverUrl = stripSlash(env.GITHUB_SERVER_URL || 'https://github.com')
  const apiUrl = stripSlash(env.GITHUB_API_URL || 'https://api.github.com')
  assertHttpUrl('GITHUB_SERVER_URL', serverUrl)
  assertHttpUrl('GITHUB_API_URL', apiUrl)

  // An explicitly empty patchwork-url selects lore-only mode, so only an unset input takes the default.
  const rawPatchwork = input('patchwork-url')
  const patchworkUrl = stripSlash(
    rawPatchwork === '' && !hasInput(env, 'patchwork-url') ? DEFAULTS['patchwork-url'] : rawPatchwork.trim()
  )
  if (patchworkUrl) assertHttpUrl('patchwork-url', patchworkUrl)
  const patchworkProject = get('patchwork-project')
  const loreUrl = stripSlash(get('lore-url'))
  assertHttpUrl('lore-url', loreUrl)
  const loreList = get('lore-list')
  if (loreList && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(loreList)) {
    throw new SettingsError(`Invalid lore-list '${loreList}': expected an inbox name such as linux-fsdevel.`)
  }
  if (patchworkUrl && !patchworkProject) {
    throw new SettingsError(
      'Input required and not supplied: patchwork-project (or set patchwork-url to empty for lore-only mode)'
    )
  }
  if (!patchworkUrl && !loreList) {
    throw new SettingsError('lore-only mode (empty patchwork-url) needs lore-list')
  }

  const baseBranch = get('base-branch')
  if (!baseBranch) throw new SettingsError('Input required and not supplied: base-branch')
  assertBranchName('base-branch', baseBranch)
  const applyBranch = get('apply-branch') || baseBranch
  assertBranchName('apply-branch', applyBranch)
  const branchPrefix = get('branch-prefix')
  assertBranchName('branch-prefix', branchPrefix)
  const baseMap = parseBaseMap(input('base-map'))

  const seriesId = get('series-id')
  if (seriesId && !/^[1-9][0-9]{0,11}$/.test(seriesId)) {
    throw new SettingsError(`Invalid series-id '${seriesId}': expected a Patchwork series number.`)
  }
  if (seriesId && !patchworkUrl) throw new SettingsError('series-id needs patchwork-url')

  return Object.freeze({
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
    lookbackDays: readNumber('lookback-days', get('lookback-days'), 0, 365),
    graceMinutes: readNumber('grace-minutes', get('grace-minutes'), 0, 7 * 24 * 60),
    closeAfterDays: readNumber('close-after-days', get('close-after-days'), 0, 3650),
    closeOnStates: splitList(get('close-on-states')),
    refreshOpenPrs: readBoolean('refresh-open-prs', get('refresh-open-prs')),
    excludeSubject: readRegExp('exclude-subject', get('exclude-subject')),
    maxSeries: readNumber('max-series', get('max-series'), 1, 500),
    maxWrites: readNumber('max-writes', get('max-writes'), 1, 10_000),
    maxPatches: readNumber('max-patches', get('max-patches'), 1, 5000),
    protectedPaths: protectedPaths(get('protected-paths')),
    committerName: get('committer-name'),
    committerEmail: get('committer-email'),
    dryRun: readBoolean('dry-run', get('dry-run')),
    workDir: `${stripSlash(env.RUNNER_TEMP || env.TMPDIR || '/tmp')}/ml2pr`
  })
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

function readNumber(name: string, value: string, min: number, max: number): number {
  const n = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n) || n < min || n > max) {
    throw new SettingsError(`Invalid ${name} '${value}': expected a number from ${min} to ${max}.`)
  }
  return n
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
