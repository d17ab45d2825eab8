/**
 * An emulation of the GitHub Actions runner's workflow-command parser (actions/runner
 * `src/Runner.Worker/ActionCommandManager.cs` `TryProcessCommand`, `src/Runner.Common/ActionCommand.cs`
 * `TryParseV2` and `TryParse`), to run over everything ml2pr prints:
 * - V2: the line, start-trimmed, begins with `::`; the command is up to the next `::` (its name, then
 *   `key=value,…` properties after a space); the rest is data. Only registered commands count.
 * - legacy: `##[` anywhere in the line; the command runs to `]` (name, then `key=value;…` after a space).
 * - `stop-commands` with a token registers that token as a command and ignores every other command until
 *   the token's command (in either form) arrives.
 */

export interface RunnerCommand {
  line: number
  form: 'v2' | 'legacy'
  command: string
  properties: Record<string, string>
  data: string
}

const COMMANDS = [
  'add-mask',
  'add-matcher',
  'add-path',
  'debug',
  'echo',
  'endgroup',
  'error',
  'group',
  'internal-set-repo-path',
  'notice',
  'remove-matcher',
  'save-state',
  'set-env',
  'set-output',
  'stop-commands',
  'warning'
]

function unescapeData(s: string): string {
  return s.replace(/%0D/gi, '\r').replace(/%0A/gi, '\n').replace(/%25/gi, '%')
}

function unescapeProperty(s: string): string {
  return unescapeData(s).replace(/%3A/gi, ':').replace(/%2C/gi, ',')
}

/** `name prop=value<sep>prop=value`: the command and its properties, if the runner knows the command. */
function commandInfo(
  info: string,
  separator: string,
  registered: Set<string>
): { command: string; properties: Record<string, string> } | undefined {
  const space = info.indexOf(' ')
  const command = (space < 0 ? info : info.slice(0, space)).trim()
  if (!registered.has(command.toLowerCase())) return undefined
  const properties: Record<string, string> = {}
  if (space >= 0) {
    for (const pair of info
      .slice(space + 1)
      .trim()
      .split(separator)) {
      const eq = pair.indexOf('=')
      if (eq > 0) properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1))
    }
  }
  return { command, properties }
}

function parseV2(input: string, registered: Set<string>): Omit<RunnerCommand, 'line'> | undefined {
  const line = input.trimStart()
  if (!line.startsWith('::')) return undefined
  const end = line.indexOf('::', 2)
  if (end < 0) return undefined
  const parsed = commandInfo(line.slice(2, end), ',', registered)
  return parsed && { form: 'v2', ...parsed, data: unescapeData(line.slice(end + 2)) }
}

function parseLegacy(input: string, registered: Set<string>): Omit<RunnerCommand, 'line'> | undefined {
  const start = input.indexOf('##[')
  if (start < 0) return undefined
  const message = input.slice(start)
  const end = message.indexOf(']')
  if (end < 0) return undefined
  const parsed = commandInfo(message.slice(3, end), ';', registered)
  return parsed && { form: 'legacy', ...parsed, data: unescapeData(message.slice(end + 1)) }
}

/** Every command the runner would execute for this output, in order (stop-commands and resume included). */
export function runnerCommands(output: string): RunnerCommand[] {
  const registered = new Set(COMMANDS)
  let stopToken: string | undefined
  const executed: RunnerCommand[] = []
  // .NET's ReadLine, which the runner reads stdout with, ends a line at CR, LF or CRLF.
  output.split(/\r\n|\r|\n/).forEach((text, index) => {
    const parsed = parseV2(text, registered) ?? parseLegacy(text, registered)
    if (!parsed) return
    const command = { ...parsed, line: index + 1 }
    if (stopToken !== undefined) {
      if (command.command.toLowerCase() === stopToken.toLowerCase()) {
        registered.delete(stopToken.toLowerCase())
        stopToken = undefined
        executed.push(command)
      }
      return
    }
    if (command.command.toLowerCase() === 'stop-commands' && command.data) {
      stopToken = command.data
      registered.add(stopToken.toLowerCase())
    }
    executed.push(command)
  })
  return executed
}

/** What ml2pr itself may ask of the runner: masks for its own secrets, groups, annotations, debug lines. */
const OWN = new Set(['group', 'endgroup', 'warning', 'error', 'notice', 'debug'])

/**
 * The commands in `output` that ml2pr did not mean to issue (empty when the output is safe): any mask but
 * the known secrets, any stop-commands block left open or resumed by something else, any other command.
 */
export function foreignCommands(output: string, secrets: string[]): RunnerCommand[] {
  const masks = new Set(secrets.flatMap(s => [s, Buffer.from(`x-access-token:${s}`).toString('base64')]))
  const executed = runnerCommands(output)
  const foreign: RunnerCommand[] = []
  for (let i = 0; i < executed.length; i++) {
    const c = executed[i]
    const name = c.command.toLowerCase()
    if (OWN.has(name) && c.form === 'v2') continue
    if (name === 'add-mask' && c.form === 'v2' && masks.has(c.data)) continue
    if (name === 'stop-commands' && c.form === 'v2' && /^[0-9a-f]{32}$/.test(c.data)) {
      const resume = executed[i + 1]
      if (resume && resume.form === 'v2' && resume.command === c.data) {
        i++
        continue
      }
    }
    foreign.push(c)
  }
  return foreign
}
