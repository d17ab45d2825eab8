/**
 * `npx ml2pr` (the bundled dist/cli/index.js, run as a user runs it) against the stand-ins: `plan` shows what
 * a run would do and writes nothing; bad flags are all reported at once, naming the flag and the input.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { makeSeries } from './mails.js'
import { OWNER, PROJECT, REPO, startWorld, TOKEN, type World } from './world.js'

const CLI = fileURLToPath(new URL('../../dist/cli/index.js', import.meta.url))
const ACTION = parse(readFileSync(new URL('../../action.yml', import.meta.url), 'utf8')) as {
  inputs: Record<string, unknown>
}

interface Result {
  code: number
  stdout: string
  stderr: string
}

function ml2pr(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise(resolve => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent', ...env }, maxBuffer: 1 << 24 },
      (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
    )
  })
}

describe('ml2pr command line (bundled)', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld({ lore: false })
  }, 120_000)
  afterAll(async () => world?.close())

  it('--help lists the commands, and plan --help every input of action.yml as a flag', async () => {
    const top = await ml2pr(['--help'])
    expect(top.code).toBe(0)
    expect(top.stdout).toContain('plan    what a run would do now')
    const plan = await ml2pr(['plan', '--help'])
    expect(plan.code).toBe(0)
    const flags = Object.keys(ACTION.inputs).filter(name => name !== 'dry-run')
    expect(flags.filter(name => !plan.stdout.includes(`--${name} <value>`))).toEqual([])
    expect(flags.length).toBeGreaterThan(20)
  })

  it('reports every invalid flag at once, each naming its flag and input, and exits 2', async () => {
    const run = await ml2pr(
      [
        'plan',
        '--max-series',
        '2.5',
        '--close-on-states=acepted',
        '--base-brnach',
        'x',
        '--repository',
        'a/b'
      ],
      { GITHUB_TOKEN: 't' }
    )
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('ml2pr plan: 5 problem(s) with the flags:')
    expect(run.stderr).toContain('- --base-brnach: no such flag (and no input base-brnach in action.yml)')
    expect(run.stderr).toContain(
      "- --max-series (input max-series): Invalid max-series '2.5': expected a whole number from 1 to 500."
    )
    expect(run.stderr).toContain(
      "- --close-on-states (input close-on-states): Invalid close-on-states: unknown Patchwork state 'acepted' (did you mean 'accepted'?)"
    )
    expect(run.stderr).toContain(
      '- --base-branch (input base-branch): Input required and not supplied: base-branch'
    )
    expect(run.stderr).toContain('- --patchwork-project (input patchwork-project): Input required')
  })

  it('plan shows the series a run would open and changes nothing', async () => {
    const s = makeSeries({ tag: 'cli-plan', title: 'fs: planned', count: 2 })
    const id = await world.post({ cover: s.cover, patches: s.patches })
    const refsBefore = await world.git(['for-each-ref'])
    const run = await ml2pr(
      [
        'plan',
        `--repository=${OWNER}/${REPO}`,
        `--patchwork-url=${world.patchwork.url}`,
        `--patchwork-project=${PROJECT}`,
        `--lore-url=${world.loreUrl}`,
        '--base-branch=vfs.base.ci',
        '--apply-branch=vfs.base',
        '--grace-minutes=0'
      ],
      { GITHUB_TOKEN: TOKEN, GITHUB_SERVER_URL: world.github.serverUrl, GITHUB_API_URL: world.github.apiUrl }
    )
    expect(run.stderr).not.toContain(TOKEN)
    expect(run.stdout).not.toContain(TOKEN)
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('## ml2pr (dry run: nothing was written)')
    expect(run.stdout).toContain(`▸ Series ${id}`)
    expect(run.stdout).toContain('fs: planned')
    expect(world.github.pulls()).toEqual([])
    expect(await world.git(['for-each-ref'])).toBe(refsBefore)
  }, 120_000)
})
