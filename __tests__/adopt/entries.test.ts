/**
 * Many lists, one repository: the `lists` input becomes one matrix job per entry. The reusable workflow's own
 * expressions (toJSON(inputs), fromJSON(needs…), matrix.entry[…], the concurrency group) are evaluated here
 * with GitHub's expression engine, and what each job would pass to ml2pr is read by ml2pr's settings.
 */
import { describe, expect, it } from '@jest/globals'
import { data, Evaluator, Lexer, Parser } from '@actions/expressions'
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { EntriesError, expandEntries, type Entry } from '../../src/entries.js'
import { envInputReader, readSettings } from '../../src/settings.js'

const workflow = parse(
  readFileSync(new URL('../../.github/workflows/ml2pr.yml', import.meta.url), 'utf8')
) as {
  on: { workflow_call: { inputs: Record<string, { default?: string | boolean }> } }
  jobs: {
    entries: { steps: { with: Record<string, string> }[] }
    ml2pr: {
      strategy: { 'fail-fast': boolean; matrix: { entry: string } }
      concurrency: { group: string }
      steps: { id?: string; with: Record<string, string> }[]
    }
  }
}

type Contexts = Record<string, unknown>

const asText = (value: unknown): string =>
  value == null ? '' : typeof value === 'string' ? value : JSON.stringify(value)

/** Evaluates a workflow value: a single `${{ }}` keeps its type, anything else is interpolated text. */
function evaluate(template: string, contexts: Contexts): unknown {
  const names = Object.keys(contexts)
  const context = JSON.parse(JSON.stringify(contexts), data.reviver) as data.Dictionary
  const one = (expr: string): data.ExpressionData => {
    const lexed = new Lexer(expr).lex()
    return new Evaluator(new Parser(lexed.tokens, names, []).parse(), context).evaluate()
  }
  const whole = /^\$\{\{(.*)\}\}$/s.exec(template.trim())
  if (whole && !whole[1].includes('}}')) return JSON.parse(JSON.stringify(one(whole[1]), data.replacer))
  return template.replace(/\$\{\{(.*?)\}\}/g, (_, expr: string) => one(expr).coerceString())
}

/** The workflow's inputs as a caller's `with:` leaves them: declared defaults, overridden. */
function callerInputs(withValues: Record<string, unknown>): Record<string, unknown> {
  const inputs: Record<string, unknown> = {}
  for (const [name, def] of Object.entries(workflow.on.workflow_call.inputs)) inputs[name] = def.default ?? ''
  return { ...inputs, ...withValues }
}

/** Runs the two jobs' expressions: the entries step, then each matrix job's concurrency and step inputs. */
function expandWorkflow(
  withValues: Record<string, unknown>
): { group: string; passed: Record<string, string> }[] {
  const inputs = callerInputs(withValues)
  const github = { repository: 'acme/ci' }
  const step = workflow.jobs.entries.steps[0].with
  const common = evaluate(step.common, { inputs, github }) as string
  const entries = expandEntries(
    JSON.parse(common) as Record<string, unknown>,
    evaluate(step.lists, { inputs }) as string,
    evaluate(step.only, { inputs }) as string
  )
  const needs = { entries: { outputs: { entries: JSON.stringify(entries) } } }
  const matrix = evaluate(workflow.jobs.ml2pr.strategy.matrix.entry, { needs }) as Entry[]
  return matrix.map(entry => {
    const contexts = { inputs, github, matrix: { entry }, secrets: { 'patchwork-token': 'pw-secret' } }
    const bridge = workflow.jobs.ml2pr.steps.find(s => s.id === 'bridge')!.with
    const passed: Record<string, string> = {}
    for (const [name, value] of Object.entries(bridge)) passed[name] = asText(evaluate(value, contexts))
    return { group: evaluate(workflow.jobs.ml2pr.concurrency.group, contexts) as string, passed }
  })
}

/** What ml2pr makes of a job's inputs (the composite passes them as INPUT_*; github-token from the App). */
function settingsOf(passed: Record<string, string>): ReturnType<typeof readSettings> {
  const env: Record<string, string> = { GITHUB_REPOSITORY: 'acme/ci', 'INPUT_GITHUB-TOKEN': 't' }
  for (const [name, value] of Object.entries(passed)) env[`INPUT_${name.toUpperCase()}`] = value
  return readSettings(envInputReader(env), env)
}

const LISTS_YAML = `
- name: fsdevel
  patchwork-project: linux-fsdevel
  base-branch: vfs.base.ci
  apply-branch: vfs.base
- patchwork-project: netdevbpf
  base-branch: bpf-next_base
  max-series: 5
`
const LISTS_JSON = JSON.stringify([
  {
    name: 'fsdevel',
    'patchwork-project': 'linux-fsdevel',
    'base-branch': 'vfs.base.ci',
    'apply-branch': 'vfs.base'
  },
  { 'patchwork-project': 'netdevbpf', 'base-branch': 'bpf-next_base', 'max-series': 5 }
])

describe('the reusable workflow fans out over lists', () => {
  it('never fails fast: one list failing does not stop the others', () => {
    expect(workflow.jobs.ml2pr.strategy['fail-fast']).toBe(false)
  })

  it.each([
    ['YAML', LISTS_YAML],
    ['JSON', LISTS_JSON]
  ])('expands %s lists to one job per entry, each with its own group, state and branches', (_, lists) => {
    const jobs = expandWorkflow({ lists, 'grace-minutes': '0' })
    expect(jobs.map(j => j.group)).toEqual(['ml2pr-acme/ci-fsdevel', 'ml2pr-acme/ci-netdevbpf'])
    const [fs, bpf] = jobs.map(j => settingsOf(j.passed))
    expect(fs).toMatchObject({
      name: 'fsdevel',
      stateRef: 'refs/ml2pr/states/fsdevel',
      branchPrefix: 'pw-fsdevel',
      patchworkProject: 'linux-fsdevel',
      baseBranch: 'vfs.base.ci',
      applyBranch: 'vfs.base',
      graceMinutes: 0,
      maxSeries: 20
    })
    expect(bpf).toMatchObject({
      name: 'netdevbpf',
      stateRef: 'refs/ml2pr/states/netdevbpf',
      branchPrefix: 'pw-netdevbpf',
      baseBranch: 'bpf-next_base',
      applyBranch: 'bpf-next_base',
      graceMinutes: 0,
      maxSeries: 5,
      patchworkToken: 'pw-secret'
    })
  })

  it('without lists runs one unnamed job on refs/ml2pr/state and pw/, as a single list always did', () => {
    const jobs = expandWorkflow({
      'patchwork-project': 'linux-fsdevel',
      'base-branch': 'vfs.base.ci',
      'dry-run': true
    })
    expect(jobs).toHaveLength(1)
    expect(jobs[0].group).toBe('ml2pr-acme/ci-')
    expect(settingsOf(jobs[0].passed)).toMatchObject({
      name: '',
      stateRef: 'refs/ml2pr/state',
      branchPrefix: 'pw',
      dryRun: true,
      refreshOpenPrs: true,
      owner: 'acme',
      repo: 'ci'
    })
  })

  it('runs only the named list when asked (a dispatch for one series)', () => {
    const jobs = expandWorkflow({ lists: LISTS_YAML, only: 'netdevbpf', 'series-id': '42' })
    expect(jobs.map(j => settingsOf(j.passed))).toMatchObject([{ name: 'netdevbpf', seriesId: '42' }])
    expect(() => expandWorkflow({ lists: LISTS_YAML, only: 'net' })).toThrow(
      "only: no list is named 'net' (lists: fsdevel, netdevbpf)."
    )
  })
})

describe('expandEntries refuses lists that would share state or leak secrets', () => {
  const common = { 'base-branch': 'main', 'patchwork-project': '', 'lore-list': '', 'branch-prefix': '' }
  it.each([
    [
      '- { patchwork-project: a }\n- { patchwork-project: a }',
      "lists[1]: the name 'a' is taken by lists[0]; names must differ"
    ],
    [
      '- { name: a, branch-prefix: x }\n- { name: b, branch-prefix: x }',
      "lists[1]: branch-prefix 'x' is used by lists[0]"
    ],
    [
      '- { name: a, patchwork-token: s }',
      'lists[0].patchwork-token: set it once for the workflow, not per list'
    ],
    ['- { name: a, base-brnach: x }', 'lists[0].base-brnach: not an input of ml2pr'],
    ['- { base-branch: x }', 'lists[0]: needs a name (or a patchwork-project or lore-list to name it)'],
    ['{ name: a }', 'lists: expected a list of entries'],
    ['- [', 'lists: not YAML or JSON']
  ])('%s', (lists, message) => {
    expect(() => expandEntries(common, lists)).toThrow(EntriesError)
    expect(() => expandEntries(common, lists)).toThrow(message)
  })
})
