import { describe, expect, it } from '@jest/globals'
import {
  envInputReader,
  parseBaseMap,
  readSettings,
  SettingsError,
  type Settings
} from '../../src/settings.js'

const baseEnv = {
  GITHUB_REPOSITORY: 'acme/linux',
  GITHUB_SERVER_URL: 'https://ghe.example.com',
  GITHUB_API_URL: 'https://ghe.example.com/api/v3',
  RUNNER_TEMP: '/runner/tmp'
}

function settings(inputs: Record<string, string>, env: Record<string, string> = baseEnv): Readonly<Settings> {
  const all: Record<string, string> = { ...env }
  for (const [k, v] of Object.entries(inputs)) all[`INPUT_${k.toUpperCase()}`] = v
  return readSettings(envInputReader(all), all)
}

describe('readSettings', () => {
  it('applies the documented defaults when inputs are absent (node dist/index.js without the runner)', () => {
    const s = settings({
      'github-token': 't',
      'patchwork-project': 'linux-fsdevel',
      'base-branch': 'vfs.base.ci'
    })
    expect(s).toMatchObject({
      owner: 'acme',
      repo: 'linux',
      patchworkUrl: 'https://patchwork.kernel.org',
      loreUrl: 'https://lore.kernel.org',
      applyBranch: 'vfs.base.ci',
      branchPrefix: 'pw',
      lookbackDays: 7,
      graceMinutes: 10,
      closeAfterDays: 14,
      maxSeries: 20,
      maxPatches: 500,
      protectedPaths: ['.github/'],
      dryRun: false,
      refreshOpenPrs: true,
      serverUrl: 'https://ghe.example.com',
      apiUrl: 'https://ghe.example.com/api/v3',
      workDir: '/runner/tmp/ml2pr'
    })
    expect(s.excludeSubject?.test('[PATCH RFC 0/3] fs: idea')).toBe(true)
    expect(s.excludeSubject?.test('[GIT PULL] vfs fixes')).toBe(true)
    expect(s.excludeSubject?.test('[PATCH v2 0/3] fs: rfcomm cleanup')).toBe(false)
    expect(Object.isFrozen(s)).toBe(true)
  })

  it('always protects .github/: the input adds paths, and an empty list cannot switch protection off', () => {
    const base = { 'github-token': 't', 'patchwork-project': 'p', 'base-branch': 'main' }
    expect(settings({ ...base, 'protected-paths': ',' }).protectedPaths).toEqual(['.github/'])
    expect(settings({ ...base, 'protected-paths': ' , \n , /' }).protectedPaths).toEqual(['.github/'])
    expect(settings({ ...base, 'protected-paths': 'Makefile, /scripts/' }).protectedPaths).toEqual([
      '.github/',
      'Makefile',
      'scripts/'
    ])
    expect(settings({ ...base, 'protected-paths': '.github/, .github/' }).protectedPaths).toEqual([
      '.github/'
    ])
  })

  it('caps patches per series (max-patches, default 500)', () => {
    const base = { 'github-token': 't', 'patchwork-project': 'p', 'base-branch': 'main' }
    expect(settings({ ...base, 'max-patches': '50' }).maxPatches).toBe(50)
    expect(() => settings({ ...base, 'max-patches': '0' })).toThrow(SettingsError)
    expect(() => settings({ ...base, 'max-patches': 'many' })).toThrow('Invalid max-patches')
  })

  it('treats empty inputs (the runner passing defaults of "") like absent ones', () => {
    const s = settings({
      'github-token': 't',
      'patchwork-project': 'p',
      'base-branch': 'main',
      'apply-branch': '',
      'dry-run': '',
      'max-series': ''
    })
    expect(s.applyBranch).toBe('main')
    expect(s.dryRun).toBe(false)
    expect(s.maxSeries).toBe(20)
  })

  it('selects lore-only mode only when patchwork-url is explicitly empty', () => {
    const s = settings({
      'github-token': 't',
      'patchwork-url': '',
      'lore-list': 'linux-fsdevel',
      'base-branch': 'main'
    })
    expect(s.patchworkUrl).toBe('')
    expect(() => settings({ 'github-token': 't', 'patchwork-url': '', 'base-branch': 'main' })).toThrow(
      'lore-only mode'
    )
  })

  it.each([
    [{ 'series-id': '12a' }, "Invalid series-id '12a'"],
    [{ 'base-branch': '-x' }, "Invalid base-branch '-x'"],
    [{ 'base-branch': 'a..b' }, 'not a safe branch name'],
    [{ 'base-branch': 'refs.lock' }, 'not a safe branch name'],
    [{ 'dry-run': 'yes' }, "Invalid dry-run 'yes': expected true or false."],
    [{ 'lookback-days': 'NaN' }, "Invalid lookback-days 'NaN'"],
    [{ 'patchwork-url': 'ftp://x' }, 'only http(s) URLs'],
    [{ 'lore-url': 'https://user:pw@lore' }, 'credentials do not belong in a URL'],
    [{ 'exclude-subject': '(' }, 'Invalid exclude-subject'],
    [{ 'max-series': '2.5' }, "Invalid max-series '2.5': expected a whole number from 1 to 500."],
    [{ 'grace-minutes': '-1' }, "Invalid grace-minutes '-1'"],
    [
      { 'close-on-states': 'accepted, acepted' },
      "Invalid close-on-states: unknown Patchwork state 'acepted' (did you mean 'accepted'?)"
    ],
    [{ 'close-on-states': 'merged' }, "unknown Patchwork state 'merged'; known states: new,"],
    [{ name: 'Net Dev' }, "Invalid name 'Net Dev'"]
  ])('rejects bad input %j with a clear message', (bad, message) => {
    const inputs = { 'github-token': 't', 'patchwork-project': 'p', 'base-branch': 'main', ...bad }
    expect(() => settings(inputs)).toThrow(SettingsError)
    expect(() => settings(inputs)).toThrow(message)
  })

  it('requires a repository, a token and a base branch', () => {
    expect(() => settings({ 'github-token': 't', 'patchwork-project': 'p', 'base-branch': 'm' }, {})).toThrow(
      'Invalid repository'
    )
    expect(() => settings({ 'patchwork-project': 'p', 'base-branch': 'm' })).toThrow('github-token')
    expect(() => settings({ 'github-token': 't', 'patchwork-project': 'p' })).toThrow('base-branch')
  })
})

describe('readSettings reports every invalid input at once', () => {
  it('collects all problems in one error, each naming its input', () => {
    let caught: unknown
    try {
      settings({
        'patchwork-project': 'p',
        'base-branch': 'a..b',
        'max-series': '2.5',
        'close-on-states': 'acepted',
        'dry-run': 'maybe',
        'base-map': 'bpf-next'
      })
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(SettingsError)
    const problems = (caught as SettingsError).problems
    expect(problems).toEqual([
      'Input required and not supplied: github-token',
      "Invalid base-branch 'a..b': not a safe branch name.",
      "Invalid base-map line 1 'bpf-next': expected 'subject-tag = branch'.",
      "Invalid close-on-states: unknown Patchwork state 'acepted' (did you mean 'accepted'?); known states: " +
        'new, under-review, accepted, rejected, rfc, not-applicable, changes-requested, awaiting-upstream, ' +
        'superseded, deferred, mainlined, queued, needs-ack, handled-elsewhere.',
      "Invalid max-series '2.5': expected a whole number from 1 to 500.",
      "Invalid dry-run 'maybe': expected true or false."
    ])
    expect((caught as Error).message).toMatch(/^6 invalid inputs:\n- Input required/)
  })

  it('accepts every known Patchwork state, in any case', () => {
    const s = settings({
      'github-token': 't',
      'patchwork-project': 'p',
      'base-branch': 'main',
      'close-on-states': 'Accepted, queued\nhandled-elsewhere'
    })
    expect(s.closeOnStates).toEqual(['accepted', 'queued', 'handled-elsewhere'])
  })
})

describe('several ml2pr in one repository', () => {
  const base = { 'github-token': 't', 'patchwork-project': 'p', 'base-branch': 'main' }

  it('keeps the only one on refs/ml2pr/state and pw/', () => {
    expect(settings(base)).toMatchObject({ name: '', stateRef: 'refs/ml2pr/state', branchPrefix: 'pw' })
  })

  it('gives a named one its own state ref and branch prefix, neither overlapping the unnamed one', () => {
    expect(settings({ ...base, name: 'netdev' })).toMatchObject({
      stateRef: 'refs/ml2pr/states/netdev',
      branchPrefix: 'pw-netdev'
    })
    // An explicit prefix wins.
    expect(settings({ ...base, name: 'netdev', 'branch-prefix': 'net' }).branchPrefix).toBe('net')
  })
})

describe('parseBaseMap', () => {
  it('reads one rule per line with comments', () => {
    expect(parseBaseMap('bpf-next = bpf-next_base\n# comment\n net=net_base # trailing\n')).toEqual([
      { tag: 'bpf-next', branch: 'bpf-next_base' },
      { tag: 'net', branch: 'net_base' }
    ])
  })
  it('rejects a line without a branch and unsafe branch names', () => {
    expect(() => parseBaseMap('bpf-next')).toThrow("Invalid base-map line 1 'bpf-next'")
    expect(() => parseBaseMap('net = ../x')).toThrow('not a safe branch name')
  })
})
