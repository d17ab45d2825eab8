/**
 * `ml2pr` at the maintainer's desk, the same code as the action. Flags are the action's inputs (read from
 * action.yml, the one source), passed to the settings exactly as the runner passes inputs (INPUT_*), so a
 * flag and an input can never mean different things.
 *
 *   ml2pr plan --patchwork-project linux-fsdevel --base-branch vfs.base.ci …
 *
 * `plan` runs one scheduled run in dry-run mode: every write goes through the dry-run gate, so it reads and
 * prints what a run would do now, series by series, with reasons.
 */
import { readFileSync } from 'node:fs'
import { parse } from 'yaml'
import { inert } from './log.js'
import { runOnce } from './main.js'
import { renderSummary } from './report/summary.js'
import { envInputReader, readSettings, SettingsError } from './settings.js'

export interface InputDef {
  description?: string
  default?: string
  required?: boolean
}

export interface CliIo {
  out: (text: string) => void
  err: (text: string) => void
  env: NodeJS.ProcessEnv
}

/** Inputs the command line does not take as flags: the desk is not a workflow run. */
const NOT_FLAGS = new Set(['dry-run'])

export function readActionInputs(text: string): Record<string, InputDef> {
  return (parse(text) as { inputs: Record<string, InputDef> }).inputs
}

/** `--name value` or `--name=value` for every input; every problem is collected, not just the first. */
export function parseFlags(
  argv: string[],
  inputs: Record<string, InputDef>
): { values: Record<string, string>; problems: string[] } {
  const values: Record<string, string> = {}
  const problems: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(arg)
    if (!m) {
      problems.push(`unexpected argument '${arg}'`)
      continue
    }
    const [, name, inline] = m
    if (!(name in inputs) || NOT_FLAGS.has(name)) {
      problems.push(`--${name}: no such flag (and no input ${name} in action.yml); see --help`)
      if (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) i++
      continue
    }
    const value = inline ?? argv[i + 1]
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      problems.push(`--${name} (input ${name}): needs a value`)
      continue
    }
    if (inline === undefined) i++
    values[name] = value
  }
  return { values, problems }
}

/** Says each settings problem with the flag that sets the input it names. */
export function withFlags(problems: string[], inputs: Record<string, InputDef>): string[] {
  const names = Object.keys(inputs).sort((a, b) => b.length - a.length)
  return problems.map(problem => {
    const name = names.find(n => new RegExp(`(^|[\\s:])${n}\\b`).test(problem))
    return name ? `--${name} (input ${name}): ${problem}` : problem
  })
}

export function helpText(command: string | undefined, inputs: Record<string, InputDef>): string {
  if (command === 'plan') {
    const rows = Object.entries(inputs)
      .filter(([name]) => !NOT_FLAGS.has(name))
      .map(([name, def]) => {
        const dflt = def.required ? ' (required)' : def.default ? ` (default: ${def.default})` : ''
        const text = (def.description ?? '').replace(/\s+/g, ' ').trim()
        return `  --${name} <value>${dflt}\n      ${text}`
      })
    return [
      'Usage: ml2pr plan [--<input> <value>]…',
      '',
      'Shows what a scheduled run would do now, series by series, with reasons, and changes nothing',
      '(a dry run: reads Patchwork, lore and the repository only).',
      '',
      'The flags are the inputs of action.yml. The repository is --repository or GITHUB_REPOSITORY; the token',
      'is --github-token or GITHUB_TOKEN (read access is enough); GitHub Enterprise Server: set',
      'GITHUB_SERVER_URL and GITHUB_API_URL.',
      '',
      'Flags:',
      ...rows
    ].join('\n')
  }
  return [
    'Usage: ml2pr <command> [flags]',
    '',
    'Commands:',
    '  plan    what a run would do now, with the same inputs as the action (read-only)',
    '',
    'ml2pr <command> --help shows the flags of a command.'
  ].join('\n')
}

/** Runs the command line; returns the exit code (0 done, 1 the run failed, 2 bad usage or input). */
export async function cli(argv: string[], inputs: Record<string, InputDef>, io: CliIo): Promise<number> {
  const [command, ...rest] = argv
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    io.out(helpText(rest[0], inputs))
    return command ? 0 : 2
  }
  if (command !== 'plan') {
    io.err(`ml2pr: unknown command '${command}'\n\n${helpText(undefined, inputs)}`)
    return 2
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(helpText(command, inputs))
    return 0
  }
  const flags = parseFlags(rest, inputs)
  // The runner's way of passing inputs, so the action's own reading and validation apply unchanged.
  const env: NodeJS.ProcessEnv = { ...io.env }
  for (const key of Object.keys(env)) if (key.startsWith('INPUT_')) delete env[key]
  for (const [name, value] of Object.entries(flags.values)) env[`INPUT_${name.toUpperCase()}`] = value
  env['INPUT_DRY-RUN'] = 'true'
  let settings
  const problems = [...flags.problems]
  try {
    settings = readSettings(envInputReader(env), env)
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error
    problems.push(...withFlags(error.problems, inputs))
  }
  if (!settings || problems.length > 0) {
    io.err(`ml2pr plan: ${problems.length} problem(s) with the flags:\n- ${problems.join('\n- ')}`)
    return 2
  }
  const log = {
    info: (message: string) => io.out(inert(message)),
    warning: (message: string) => io.err(`warning: ${inert(message)}`),
    group: async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      io.out(`▸ ${inert(name)}`)
      return fn()
    }
  }
  try {
    const report = await runOnce(settings, { log, debug: () => undefined })
    io.out(`\n${renderSummary(report)}`)
    return 0
  } catch (error) {
    io.err(`ml2pr plan: ${(error as Error).message}`)
    return 1
  }
}

/**
 * action.yml beside the bundle (dist/cli/ → the package root) or beside the sources (src/ → root).
 * `moduleUrl` is the entry's `import.meta.url`, passed as a string so the bundler copies no asset for it.
 */
export function loadActionInputs(moduleUrl: string): Record<string, InputDef> {
  const from = new URL('./', moduleUrl)
  for (const rel of ['../action.yml', '../../action.yml']) {
    try {
      return readActionInputs(readFileSync(new URL(rel, from), 'utf8'))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
  throw new Error('action.yml not found beside ml2pr')
}
