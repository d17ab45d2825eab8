import { describe, expect, it, jest } from '@jest/globals'
import { inert, runnerLog, stopCommandsBlock } from '../src/log.js'
import { foreignCommands, runnerCommands } from './support/runner-commands.js'

/** Text a stranger can put in a subject, a trailer or a patch that ml2pr logs (threat 20, issue item 1). */
const HOSTILE = [
  'Reviewed-by: Mallory ##[add-mask]linux <mallory@example.org>',
  'subject\n::error::pwned',
  '::add-mask::x',
  '   ::set-output name=a::b',
  'ok\r::stop-commands::abc',
  'x ##[stop-commands]abc',
  '##[set-output name=x;]y',
  '\u0000::warning title=t::forged',
  'ignored trailer ##[warning file=a.c,line=1]fake annotation'
]

describe('the runner command parser emulation', () => {
  it('finds both forms, legacy anywhere in a line, and honours stop-commands and resume', () => {
    expect(runnerCommands(HOSTILE.join('\n')).map(c => `${c.form}:${c.command}`)).toEqual([
      'legacy:add-mask',
      'v2:error',
      'v2:add-mask',
      'v2:set-output',
      // A lone CR ends a line for the runner; from here on commands are stopped until `abc` comes back.
      'v2:stop-commands'
    ])
    const stopped = runnerCommands('::stop-commands::t1\n::add-mask::a\n##[t1]\n::add-mask::b')
    expect(stopped.map(c => `${c.command}:${c.data}`)).toEqual(['stop-commands:t1', 't1:', 'add-mask:b'])
    expect(runnerCommands('::unknown::x\n##[nope]y\n::add-mask x\nplain :: text')).toEqual([])
  })
})

describe('runner-safe logging', () => {
  it('inert lines are never commands, in either form', () => {
    for (const text of HOSTILE) {
      expect(runnerCommands(inert(text))).toEqual([])
      expect(foreignCommands(inert(text), [])).toEqual([])
    }
    expect(inert('[PATCH v2 1/3] dax: fix a::b scope ## heading')).toBe(
      '[PATCH v2 1/3] dax: fix a::b scope ## heading'
    )
    expect(inert('Reviewed-by: Mallory ##[add-mask]linux <m@x>')).toBe(
      'Reviewed-by: Mallory ## [add-mask]linux <m@x>'
    )
  })

  it('a stop-commands block prints untrusted text verbatim and only the block itself is executed', () => {
    const block = stopCommandsBlock(HOSTILE.join('\n'))
    const executed = runnerCommands(block)
    expect(executed.map(c => c.command)).toEqual(['stop-commands', executed[0]?.data])
    expect(executed[0]?.data).toMatch(/^[0-9a-f]{32}$/)
    expect(block).toContain('##[add-mask]linux')
    expect(foreignCommands(block, [])).toEqual([])
    expect(stopCommandsBlock('a')).not.toBe(stopCommandsBlock('a'))
  })

  it('info, warnings, annotation titles and groups from the logger carry no command', async () => {
    const lines: string[] = []
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(chunk.toString())
      return true
    })
    try {
      const log = runnerLog(line => lines.push(`${line}\n`))
      for (const text of HOSTILE) {
        log.info(text)
        log.warning(text, { title: text })
        await log.group(text, () => Promise.resolve(undefined))
        log.block(text)
      }
    } finally {
      stdout.mockRestore()
    }
    const output = lines.join('')
    expect(output).toContain('::warning title=')
    expect(foreignCommands(output, [])).toEqual([])
  })
})
