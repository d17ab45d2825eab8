import { describe, expect, it } from '@jest/globals'
import { splitMbox } from '../../src/assemble/mbox.js'
import { assembleSeries } from '../../src/assemble/series.js'
import { appendTrailers, checkTrailerSenders, findFollowupTrailers } from '../../src/assemble/trailers.js'
import type { Mail, Series } from '../../src/model.js'
import { fixture, loadMails, mailinfo } from './helpers.js'

/**
 * b4's expected outputs were made by the b4 test suite with `addmysob` (its user "Test Override" adds, or
 * moves to the very end, their own Signed-off-by) and, for `custody-ref-unordered`, with `copyccs` (To/Cc
 * become `Cc:` trailers). ml2pr does neither, so exactly those lines are taken out of b4's output before
 * comparing; nothing else is adjusted.
 */
const B4_USER_SOB = 'Signed-off-by: Test Override <test-override@example.com>'

function withoutLines(message: string, drop: (line: string) => boolean): string {
  return message
    .split('\n')
    .filter(line => !drop(line))
    .join('\n')
}

async function assembled(path: string): Promise<Series> {
  const result = assembleSeries(await loadMails(path))
  if (!result.ok) throw new Error(result.reason)
  return result.series
}

/** The commit message ml2pr writes for a patch: git am's message plus the follow-up trailers. */
function ourMessage(patch: Series['patches'][number]): string {
  return appendTrailers(mailinfo(patch.mail.raw).message, patch.followupTrailers)
}

/** The commit messages in a b4 `-ref-*.txt` git-am mbox, as git am would write them. */
function b4Messages(path: string): string[] {
  return splitMbox(fixture(path), 'mbox').map(raw => mailinfo(raw).message)
}

describe('follow-up trailers compared with b4', () => {
  it.each([
    ['trailers-followup-single', 'trailers-followup-single-ref-defaults.txt'],
    ['trailers-followup-with-cover', 'trailers-followup-with-cover-ref-defaults.txt'],
    ['trailers-followup-partial-reroll', 'trailers-followup-partial-reroll-ref-defaults.txt']
  ])('%s gives the commit messages of b4 am', async (name, expectedFile) => {
    const series = await assembled(`b4/${name}.mbox`)
    const expected = b4Messages(`b4/expected/${expectedFile}`).map(m =>
      withoutLines(m, l => l === B4_USER_SOB)
    )
    expect(series.patches.map(ourMessage)).toEqual(expected)
  })

  it('trailers-followup-custody keeps the chain of custody and adds review trailers after it', async () => {
    const series = await assembled('b4/trailers-followup-custody.mbox')
    const [ours] = series.patches.map(ourMessage)
    const [b4] = b4Messages('b4/expected/trailers-followup-custody-ref-unordered.txt')
    // b4 moved its user's own Signed-off-by to the end and added Cc trailers; ml2pr keeps the author's order.
    const drop = (line: string): boolean => line === B4_USER_SOB || line.startsWith('Cc: ')
    expect(withoutLines(ours, drop)).toBe(withoutLines(b4, drop))
    expect(ours).toContain(
      `Link: https://lore.kernel.org/other@msgid.here  # bug discussion\n${B4_USER_SOB}\n` +
        'Reviewed-by: Followup Reviewer1 <followup-reviewer1@example.com>\n' +
        'Tested-by: Followup Reviewer2 <followup-reviewer2@example.com>\n'
    )
  })

  it.each([
    ['trailers-thread-with-followups', 'trailers-thread-with-followups.verify', false],
    ['shazam-git1-just-series', 'shazam-git1-just-series-defaults.verify', true]
  ])('%s gives the commits of b4 shazam', async (name, verify, withCommitter) => {
    const series = await assembled(`b4/${name}.mbox`)
    // The .verify files are `git log` output, newest first: author email, [committer email,] subject, body, `---`.
    const ours = [...series.patches].reverse().map(patch => {
      const info = mailinfo(patch.mail.raw)
      const message = appendTrailers(info.message, patch.followupTrailers)
      const [subject, ...rest] = message.split('\n')
      const body = rest.join('\n').replace(/^\n/, '')
      // The b4 test suite committed as its user test-override@example.com.
      return `${info.email}\n${withCommitter ? 'test-override@example.com\n' : ''}${subject}\n${body}---`
    })
    const expected = withoutLines(fixture(`b4/expected/${verify}`).toString('utf8'), l => l === B4_USER_SOB)
    expect(ours.join('\n')).toBe(expected.replace(/\n$/, ''))
  })
})

describe('findFollowupTrailers', () => {
  async function replies(path: string): Promise<Mail[]> {
    return (await loadMails(path)).filter(m => /^Re:/i.test(m.subject))
  }

  it('finds trailers above the signature and ignores quoted ones', async () => {
    const [first, second] = await replies('b4/trailers-followup-single.mbox')
    expect(findFollowupTrailers(first)).toEqual([
      { name: 'Reviewed-by', value: 'Followup Reviewer1 <followup-reviewer1@example.com>' }
    ])
    // `> Reviewed-by: Followup Reviewer1 <reviewer1@example.com>` is quoted text.
    expect(findFollowupTrailers(second)).toEqual([
      { name: 'Tested-by', value: 'Followup Reviewer2 <followup-reviewer2@example.com>' }
    ])
  })

  it('quotes display names with special characters the way b4 prints them', async () => {
    const [parens] = await replies('b4/trailers-followup-name-parens.mbox')
    expect(findFollowupTrailers(parens)).toEqual([
      { name: 'Reviewed-by', value: '"Followup Reviewer1 (corporate)" <followup-reviewer1@example.com>' }
    ])
  })

  it('applies b4 rules to names, values, wrapped lines and signatures', () => {
    const mail = {
      body: [
        '> Acked-by: Quoted Person <quoted@example.org>',
        'Looks fine.',
        '',
        'Reviewed-by: Wrapped Name',
        '<wrapped@example.org>',
        'Fixes: 1234567890ab ("x: y")',
        'Fixes: the thing we discussed',
        'Link: https://lore.kernel.org/r/abc@def  # the discussion',
        'Tested-by: https://ci.example.org/run/1',
        'Phone: +1 555 0100 joe@example.org',
        'Cc: Someone <someone@example.org>',
        'Acked-by: no address here',
        'From: Late Header <late@example.org>',
        '-- ',
        'Signed-off-by: In Signature <sig@example.org>'
      ].join('\n')
    } as Mail
    expect(findFollowupTrailers(mail)).toEqual([
      { name: 'Reviewed-by', value: 'Wrapped Name <wrapped@example.org>' },
      { name: 'Fixes', value: '1234567890ab ("x: y")' },
      { name: 'Link', value: 'https://lore.kernel.org/r/abc@def  # the discussion' }
    ])
  })
})

describe('checkTrailerSenders', () => {
  it('accepts trailers about the sender and reports the others', async () => {
    const mails = await loadMails('b4/trailers-followup-single.mbox')
    const mismatched = mails.find(m => m.from.name === 'Mismatched Reviewer')
    if (!mismatched) throw new Error('fixture changed')
    const check = checkTrailerSenders(mismatched, findFollowupTrailers(mismatched))
    expect(check.trailers).toEqual([])
    expect(check.mismatches).toEqual([
      { name: 'Reviewed-by', value: 'Mismatched Reviewer1 <mismatched-reviewer1@example.net>' }
    ])
  })

  it('accepts by exact name and says so; non-person trailers need no check', () => {
    const mail = { from: { name: 'Jane Doe', email: 'jane@work.example' } } as Mail
    const check = checkTrailerSenders(mail, [
      { name: 'Acked-by', value: 'Jane Doe <jane@home.example>' },
      { name: 'Acked-by', value: 'JANE <jane@work.example>' },
      { name: 'Link', value: 'https://example.org/x' },
      { name: 'Reviewed-by', value: 'Mallory <mallory@example.org>' }
    ])
    expect(check.trailers.map(t => t.value)).toEqual([
      'Jane Doe <jane@home.example>',
      'JANE <jane@work.example>',
      'https://example.org/x'
    ])
    expect(check.nameOnly.map(t => t.value)).toEqual(['Jane Doe <jane@home.example>'])
    expect(check.mismatches.map(t => t.value)).toEqual(['Mallory <mallory@example.org>'])
  })
})

describe('appendTrailers', () => {
  const rb = { name: 'Reviewed-by', value: 'R <r@example.org>' }

  it('adds after an existing trailer block and keeps the trailing newline', () => {
    expect(appendTrailers('x: fix\n\nBody.\n\nSigned-off-by: A <a@example.org>\n', [rb])).toBe(
      'x: fix\n\nBody.\n\nSigned-off-by: A <a@example.org>\nReviewed-by: R <r@example.org>\n'
    )
  })

  it('starts a new paragraph when there is no trailer block, and never treats the title as one', () => {
    expect(appendTrailers('net: fix x\n\nJust text.\n', [rb])).toBe(
      'net: fix x\n\nJust text.\n\nReviewed-by: R <r@example.org>\n'
    )
    expect(appendTrailers('net: fix x\n', [rb])).toBe('net: fix x\n\nReviewed-by: R <r@example.org>\n')
    expect(appendTrailers('net: fix x', [rb])).toBe('net: fix x\n\nReviewed-by: R <r@example.org>')
  })

  it('skips trailers already present (case and comments aside) and duplicates among the new ones', () => {
    const message = 'a: b\n\nText.\n\nReviewed-by: r <R@example.org>\nLink: https://x.example/1 # why\n'
    expect(appendTrailers(message, [rb, { name: 'link', value: 'https://x.example/1' }])).toBe(message)
    expect(appendTrailers('a: b\n\nT\n', [rb, rb])).toBe('a: b\n\nT\n\nReviewed-by: R <r@example.org>\n')
  })

  it("follows git's trailer-block rule for a Signed-off-by paragraph with some prose", () => {
    const message =
      'a: b\n\nText.\n\nCo-developed-by: C <c@example.org>\nSigned-off-by: C <c@example.org>\n[ fixed typo ]\n'
    expect(appendTrailers(message, [rb])).toBe(`${message}Reviewed-by: R <r@example.org>\n`)
  })

  it('returns the message unchanged when there is nothing to add', () => {
    expect(appendTrailers('a: b\n', [])).toBe('a: b\n')
  })
})
