/**
 * The runner-safe logger: every line that can carry mail text goes out through here.
 *
 * The Actions runner reads workflow commands from a step's stdout in two forms (actions/runner
 * `ActionCommand.TryParseV2` and `TryParse`): `::name props::data` at the start of a line (after
 * whitespace), and the legacy `##[name props]data` anywhere in a line. A subject, trailer or git message
 * that reached the log unchanged could mask text, stop command processing, forge annotations or set
 * outputs. Two constructions make that impossible:
 * - a line (`info`, annotation texts, group names) is made inert: no line starts with `::` and no `##[`
 *   occurs anywhere, so neither parser can match it;
 * - a multi-line dump (`block`) is written inside `::stop-commands::<random token>` … `::<token>::`; the
 *   token is drawn per block, so text fetched before it was drawn cannot end the block early.
 */
import { randomBytes } from 'node:crypto'
import * as core from '@actions/core'
import type { RunLog } from './ports.js'
import { cleanText } from './publish/sanitize.js'

export interface RunnerLog extends RunLog {
  /** Multi-line untrusted text, verbatim, with command processing stopped around it. */
  block(text: string): void
}

/** Untrusted text as log lines no runner parser can take for a command; mentions of the forms stay readable. */
export function inert(text: string): string {
  return cleanText(text, true)
    .split('\n')
    .map(line => line.replace(/##\[/g, '## [').replace(/^(\s*)::/, '$1· ::'))
    .join('\n')
}

/** `text` between `::stop-commands::<token>` and `::<token>::`, the runner's documented way to print untrusted text. */
export function stopCommandsBlock(text: string, token = randomBytes(16).toString('hex')): string {
  // The body cannot contain the resume command: it would need the token, which did not exist when the mail did.
  const body = cleanText(text, true).replace(/\n+$/, '')
  return `::stop-commands::${token}\n${body}\n::${token}::`
}

/** The runner's log, through @actions/core, for a run whose messages may carry mail text. */
export function runnerLog(
  write: (line: string) => void = line => process.stdout.write(`${line}\n`)
): RunnerLog {
  return {
    info: message => write(inert(message)),
    warning: (message, annotation) =>
      core.warning(inert(message), annotation?.title ? { title: inert(annotation.title) } : {}),
    group: (name, fn) => core.group(inert(name), fn),
    block: text => write(stopCommandsBlock(text))
  }
}
