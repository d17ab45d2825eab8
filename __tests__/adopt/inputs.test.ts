/**
 * action.yml is the one source of ml2pr's inputs: the composite action, the reusable workflow, the README
 * table and settings.ts are checked against it here (every input, default and output present and equal),
 * and every workflow, action and README YAML example is parsed by GitHub's own workflow parser.
 */
import { describe, expect, it } from '@jest/globals'
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/action-parser'
import { readdirSync, readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { DEFAULTS, readSettings } from '../../src/settings.js'

const root = new URL('../../', import.meta.url)
const read = (rel: string): string => readFileSync(new URL(rel, root), 'utf8')

interface InputDef {
  description?: string
  default?: string | boolean
  required?: boolean
  type?: string
}
interface ActionYml {
  inputs: Record<string, InputDef>
  outputs: Record<string, { value?: string }>
  runs: {
    using: string
    steps?: { id?: string; uses?: string; with?: Record<string, unknown>; env?: Record<string, string> }[]
  }
}

const action = parse(read('action.yml')) as ActionYml
const bridge = parse(read('bridge/action.yml')) as ActionYml
const workflow = parse(read('.github/workflows/ml2pr.yml')) as {
  on: {
    workflow_call: {
      inputs: Record<string, InputDef>
      secrets: Record<string, unknown>
      outputs: Record<string, unknown>
    }
  }
  jobs: Record<string, { steps: { id?: string; uses?: string; with?: Record<string, string> }[] }>
}
const names = Object.keys(action.inputs)
const defaultOf = (def: InputDef): string => (def.default === undefined ? '' : String(def.default))
const trace = new NoOperationTraceWriter()

/** Secrets of the reusable workflow: passed as secrets, not inputs. */
const SECRETS = ['github-token', 'patchwork-token']

describe('action.yml is the source of the inputs', () => {
  it('bridge/action.yml declares every input with the same default and requiredness, and passes it on', () => {
    const run = bridge.runs.steps?.find(s => s.id === 'run')
    for (const name of names) {
      expect([name, bridge.inputs[name] && defaultOf(bridge.inputs[name])]).toEqual([
        name,
        defaultOf(action.inputs[name])
      ])
      expect([name, bridge.inputs[name].required ?? false]).toEqual([
        name,
        action.inputs[name].required ?? false
      ])
      expect([name, run?.env?.[`INPUT_${name.toUpperCase()}`]]).toEqual([
        name,
        name === 'github-token'
          ? '${{ steps.app-token.outputs.token || inputs.github-token }}'
          : `\${{ inputs.${name} }}`
      ])
    }
    const extra = Object.keys(bridge.inputs).filter(n => !names.includes(n))
    expect(extra.sort()).toEqual(['app-id', 'app-private-key'])
    expect(Object.keys(run?.env ?? {}).length).toBe(names.length)
  })

  it('the reusable workflow takes every input (or secret) with the same default and passes each to the step', () => {
    const inputs = workflow.on.workflow_call.inputs
    const step = workflow.jobs.ml2pr.steps.find(s => s.id === 'bridge')
    expect(step?.uses).toBe('vfsci/ml2pr-action/bridge@v1')
    const secrets = Object.keys(workflow.on.workflow_call.secrets)
    expect(SECRETS.filter(n => n !== 'github-token' && !secrets.includes(n))).toEqual([])
    for (const name of names.filter(n => !SECRETS.includes(n))) {
      expect([name, name in inputs]).toEqual([name, true])
      // The repository defaults to the caller's (github.repository is not available in a default here),
      // and base-branch may come from each entry of `lists` instead.
      const exempt = name === 'repository' || name === 'base-branch'
      expect([name, exempt || defaultOf(inputs[name])]).toEqual([
        name,
        exempt || defaultOf(action.inputs[name])
      ])
      expect([name, step?.with?.[name]]).toBeDefined()
      expect(step?.with?.[name]).toMatch(
        new RegExp(`matrix\\.entry(\\['${name}'\\]|\\.${name})|inputs\\.|secrets\\.${name}`)
      )
    }
    expect(Object.keys(step?.with ?? {}).sort()).toEqual(
      [...names.filter(n => n !== 'github-token'), 'app-id', 'app-private-key'].sort()
    )
  })

  it('every output is declared by the action, the composite and the reusable workflow, and set by the code', () => {
    const outputs = Object.keys(action.outputs).sort()
    expect(Object.keys(bridge.outputs).sort()).toEqual(outputs)
    expect(Object.keys(workflow.on.workflow_call.outputs).sort()).toEqual(outputs)
    const main = read('src/main.ts')
    for (const name of outputs) expect(main).toContain(`core.setOutput('${name}'`)
  })

  it("settings.ts reads every input and its defaults equal action.yml's", () => {
    const asked = new Set<string>()
    readSettings(
      name => {
        asked.add(name)
        return { 'github-token': 't', 'patchwork-project': 'p', 'base-branch': 'main' }[name] ?? ''
      },
      { GITHUB_REPOSITORY: 'o/r' }
    )
    expect([...asked].sort()).toEqual([...names].sort())
    for (const [name, value] of Object.entries(DEFAULTS)) {
      expect([name, value]).toEqual([name, defaultOf(action.inputs[name])])
    }
    // Inputs whose default is the runner's context, or computed (branch-prefix: pw or pw-<name>).
    const notInDefaults = names.filter(n => !(n in DEFAULTS) && defaultOf(action.inputs[n]) !== '')
    expect(notInDefaults.sort()).toEqual(['github-token', 'repository'])
  })

  it('the README table lists every input with its default', () => {
    const readme = read('README.md')
    const table = readme.slice(readme.indexOf('### Inputs'), readme.indexOf('Outputs:'))
    const rows = new Map<string, string>()
    for (const line of table.split('\n')) {
      const cells = line.split(/(?<!\\)\|/).map(c => c.trim())
      if (cells.length < 4 || !cells[1].startsWith('`')) continue
      const inputs = [...cells[1].matchAll(/`([a-z-]+)`/g)].map(m => m[1])
      const defaults = [...cells[2].matchAll(/`([^`]*)`/g)].map(m => m[1].replace(/\\\|/g, '|'))
      inputs.forEach((name, i) => rows.set(name, defaults[i] ?? ''))
    }
    for (const name of names) {
      expect([name, rows.has(name)]).toEqual([name, true])
      const want = defaultOf(action.inputs[name])
      // An empty default may be described in words (e.g. "the project's list"); a real one must be shown.
      expect([name, want === '' || rows.get(name)]).toEqual([name, want === '' || want])
    }
    expect([...rows.keys()].filter(n => !names.includes(n))).toEqual([])
  })
})

describe("GitHub's workflow parser accepts every workflow and example", () => {
  const workflows = readdirSync(new URL('.github/workflows/', root)).filter(f => /\.ya?ml$/.test(f))
  it.each(workflows)('.github/workflows/%s', file => {
    const result = parseWorkflow({ name: file, content: read(`.github/workflows/${file}`) }, trace)
    expect(result.context.errors.getErrors().map(e => e.message)).toEqual([])
    expect(result.value).toBeDefined()
  })

  it.each(['action.yml', 'bridge/action.yml', 'entries/action.yml'])('%s', file => {
    const result = parseAction({ name: file, content: read(file) }, trace)
    expect(result.context.errors.getErrors().map(e => e.message)).toEqual([])
  })

  const examples = [...read('README.md').matchAll(/```yaml\n([\s\S]*?)```/g)].map(
    (m, i) => [i, m[1]] as const
  )
  it('the README has workflow examples', () => expect(examples.length).toBeGreaterThanOrEqual(3))
  it.each(examples)('README example %d', (_, content) => {
    const result = parseWorkflow({ name: 'README.md', content }, trace)
    expect(result.context.errors.getErrors().map(e => e.message)).toEqual([])
    const ours = [...content.matchAll(/uses: (\S+)/g)].map(u => u[1]).filter(u => /ml2pr/.test(u))
    expect(
      ours.filter(u => !/^vfsci\/ml2pr-action(\/\.github\/workflows\/ml2pr\.yml|\/bridge)?@v1$/.test(u))
    ).toEqual([])
  })

  it('the parser does find errors (a misspelt key, a broken expression)', () => {
    const bad = parseWorkflow(
      { name: 'bad.yml', content: 'on: push\njobs:\n  a:\n    runs-on: x\n    stepz: []\n' },
      trace
    )
    expect(bad.context.errors.getErrors().map(e => e.message)).toEqual([
      "bad.yml (Line: 5, Col: 5): Unexpected value 'stepz'"
    ])
  })
})

describe('releases', () => {
  it('the newest CHANGELOG entry is the package version, which the release workflow checks against its tag', () => {
    const version = (JSON.parse(read('package.json')) as { version: string }).version
    expect(/^## (\S+)$/m.exec(read('CHANGELOG.md'))?.[1]).toBe(version)
    const release = read('.github/workflows/release.yml')
    expect(release).toContain('npm run check-dist')
    expect(release).toContain("tags: ['v[0-9]+.[0-9]+.[0-9]+']")
  })
})
