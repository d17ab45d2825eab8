/**
 * Runs the bundled action (dist/index.js) exactly as the runner does — inputs as INPUT_* variables,
 * outputs and summary through the files named by GITHUB_OUTPUT and GITHUB_STEP_SUMMARY, a fresh
 * RUNNER_TEMP each run — against the GitHub and Patchwork stand-ins and a real public-inbox.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { foreignCommands } from '../support/runner-commands.js'

export const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url))

export interface ActionRun {
  code: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

/** Parses the `name<<DELIMITER … DELIMITER` blocks @actions/core writes to GITHUB_OUTPUT. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i])
    if (m) {
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i])
      outputs[m[1]] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      outputs[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return outputs
}

export interface RunOptions {
  /** Polled every few milliseconds; the run is killed (SIGKILL, as a cancelled runner would) once it is true. */
  killWhen?: () => boolean
}

export async function runAction(
  inputs: Record<string, string>,
  env: Record<string, string>,
  options: RunOptions = {}
): Promise<ActionRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ml2pr-runner-'))
  try {
    const outputFile = path.join(dir, 'output')
    const summaryFile = path.join(dir, 'summary')
    await writeFile(outputFile, '')
    await writeFile(summaryFile, '')
    const childEnv: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      RUNNER_TEMP: path.join(dir, 'tmp'),
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      GITHUB_ACTIONS: 'true',
      ...env
    }
    for (const [name, value] of Object.entries(inputs)) childEnv[`INPUT_${name.toUpperCase()}`] = value
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, [DIST], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
        const out: Buffer[] = []
        const err: Buffer[] = []
        child.stdout.on('data', (c: Buffer) => out.push(c))
        child.stderr.on('data', (c: Buffer) => err.push(c))
        const killer = options.killWhen
          ? setInterval(() => {
              if (options.killWhen?.()) child.kill('SIGKILL')
            }, 2)
          : undefined
        child.on('error', reject)
        child.on('close', c => {
          if (killer) clearInterval(killer)
          resolve({
            code: c ?? -1,
            stdout: Buffer.concat(out).toString(),
            stderr: Buffer.concat(err).toString()
          })
        })
      }
    )
    // Everything the action printed goes through the runner's command parser: mail text must never be a command.
    const secrets = [inputs['github-token'], inputs['patchwork-token'], env.GITHUB_TOKEN].filter(
      (s): s is string => Boolean(s)
    )
    const foreign = foreignCommands(stdout, secrets)
    if (foreign.length > 0) {
      throw new Error(
        `the runner would execute commands from the action's output: ${JSON.stringify(foreign)}`
      )
    }
    return {
      code,
      stdout,
      stderr,
      outputs: parseOutputFile(await readFile(outputFile, 'utf8')),
      summary: await readFile(summaryFile, 'utf8')
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
