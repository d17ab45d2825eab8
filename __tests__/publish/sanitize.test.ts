import { describe, expect, it } from '@jest/globals'
import {
  ZWSP,
  codeBlock,
  codeSpan,
  encodeMessageId,
  safeUrl,
  sanitizeInline,
  sanitizeTitle,
  truncate,
  wellFormed
} from '../../src/publish/sanitize.js'

/** A mention GitHub would link: `@` + letter/digit, not glued to a preceding letter or digit. */
const LIVE_MENTION = /(^|[^A-Za-z0-9])@[A-Za-z0-9]/
/** An issue reference GitHub would link. */
const LIVE_REFERENCE = /#\d|\bGH-\d/i
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Hostile subjects, cover-letter lines and names from the threat list (items 12-20). */
const HOSTILE = [
  '@torvalds @linux/maintainers please look',
  'cc:@torvalds,(@gregkh) [@akpm] "@davem" <@kuba> _@corbet_',
  'Fixes #1, closes o/r#2, resolves https://github.com/o/r/issues/3 and GH-4',
  '<!-- ml2pr:v1 {"key":"1"} --> hidden',
  '<img src=//attacker/pixel> ![x](https://evil.example/p.png) [click](javascript:alert(1))',
  '# heading | table | *bold* _em_ ~~strike~~ `code` $x$ \\ back',
  'line1\r\nline2\rline3\nline4\u0000nul\u001b[31mred\u202Eevil\u0085nel\u009bcsi\uD800lone',
  '\u2066isolate\u2069 \u200Fmark\uFEFFbom \u00ADsoft @\u200Btorvalds'
]

describe('sanitizeInline', () => {
  it.each(HOSTILE)('leaves no live mention, reference, HTML or link in %j', input => {
    const out = sanitizeInline(input)
    expect(out).not.toMatch(LIVE_MENTION)
    expect(out).not.toMatch(LIVE_REFERENCE)
    expect(out).not.toContain('<')
    expect(out).not.toContain('\n')
    expect(out).not.toMatch(/(?<!\\)[[\]`*_|~$]/) // every Markdown-active character is escaped
    expect(out).not.toMatch(/(?<!redirect\.)github\.com\//i)
    expect(out).not.toMatch(LONE_SURROGATE)
  })

  it('neutralises user and team mentions with a zero-width space (threat 12)', () => {
    expect(sanitizeInline('@torvalds @linux/maintainers')).toBe(`@${ZWSP}torvalds @${ZWSP}linux/maintainers`)
    // An e-mail address is not a mention and stays as typed.
    expect(sanitizeInline('john@groves.net')).toBe('john@groves.net')
  })

  it('breaks references, closing keywords and issue links (threat 13)', () => {
    const out = sanitizeInline('Fixes #1, closes o/r#2, see https://github.com/o/r/issues/3 GH-4')
    expect(out).toBe(
      `Fixes #${ZWSP}1, closes o/r#${ZWSP}2, see https://redirect.github.com/o/r/issues/3 GH-${ZWSP}4`
    )
    expect(sanitizeInline('www.github.com/o/r/pull/5')).toBe('redirect.github.com/o/r/pull/5')
    // Other hosts that merely contain the name are left alone.
    expect(sanitizeInline('https://api.github.com/x')).toBe('https://api.github.com/x')
  })

  it('escapes HTML so no comment, tag or image survives (threats 14, 16)', () => {
    expect(sanitizeInline('<!-- x --> <img src=//attacker/pixel>')).toBe(
      '&lt;!-- x --&gt; &lt;img src=//attacker/pixel&gt;'
    )
    expect(sanitizeInline('AT&T')).toBe('AT&amp;T')
  })

  it('makes link and image syntax inert (threat 16)', () => {
    expect(sanitizeInline('![x](https://evil.example/p.png)')).toBe('!\\[x\\](https://evil.example/p.png)')
    expect(sanitizeInline('[x](javascript:alert(1))')).toBe('\\[x\\](javascript:alert(1))')
  })

  it('escapes layout characters and line-start block syntax', () => {
    expect(sanitizeInline('a | b')).toBe('a \\| b')
    expect(sanitizeInline('# title')).toBe('\\# title')
    expect(sanitizeInline('- item')).toBe('\\- item')
    expect(sanitizeInline('1. first')).toBe('1\\. first')
    expect(sanitizeInline('dax_folio_put()')).toBe('dax\\_folio\\_put()')
  })

  it('strips controls, bidi and invisible characters, collapses line breaks, repairs surrogates (threat 18)', () => {
    const out = sanitizeInline('a\r\nb\rc\nd\u0000e\u001bf\u202Eg\u0085h\u009bi\u2066j\uFEFFk\uD800l')
    expect(out).toBe('a b c defg hijk\uFFFDl')
  })

  it('keeps ordinary Unicode, emoji and combined emoji intact', () => {
    expect(sanitizeInline('Łukasz Stelmach 👨‍👩‍👧 Жуков')).toBe('Łukasz Stelmach 👨‍👩‍👧 Жуков')
  })

  it('copes with text decoded from invalid UTF-8 and encoded-word HTML (threat 19)', () => {
    const decoded = Buffer.from([0x41, 0xff, 0xfe, 0x42, 0xc3]).toString('utf8')
    expect(sanitizeInline(decoded)).toBe('A\uFFFD\uFFFDB\uFFFD')
    expect(sanitizeInline('<script>alert(1)</script>\r\nBcc: x@example.org')).toBe(
      '&lt;script&gt;alert(1)&lt;/script&gt; Bcc: x@example.org'
    )
  })

  it('gives the same text when applied to its own ZWSP-bearing output twice (idempotent mentions)', () => {
    const once = sanitizeInline('@torvalds')
    expect(sanitizeInline(once)).toBe(once)
  })
})

describe('sanitizeTitle', () => {
  it('is one plain-text line without mentions or references (threats 12, 13, 18)', () => {
    const title = sanitizeTitle('[PATCH] x\r\n@torvalds fixes #12 <!-- y --> \u202Eevil\u0000 dax_folio_put')
    expect(title).toBe(`[PATCH] x @${ZWSP}torvalds fixes #${ZWSP}12 <${ZWSP}!-- y --> evil dax_folio_put`)
    expect(title).not.toContain('<!--')
  })

  it('is at most 256 characters and never splits an emoji at the cut (threat 17)', () => {
    expect(sanitizeTitle('x'.repeat(10_000))).toHaveLength(256)
    const title = sanitizeTitle(`${'a'.repeat(254)}😀😀😀`)
    expect(title.length).toBeLessThanOrEqual(256)
    expect(title).not.toMatch(LONE_SURROGATE)
    expect(title).toBe(`${'a'.repeat(254)}…`)
    expect(JSON.parse(JSON.stringify(title))).toBe(title)
  })
})

describe('truncate', () => {
  it('returns short text unchanged and cuts long text to max including the note', () => {
    expect(truncate('hello', 5, '…')).toBe('hello')
    expect(truncate('hello world', 8, '…')).toBe('hello w…')
  })

  it('cuts on a code-point boundary', () => {
    const cut = truncate('ab😀cd', 3)
    expect(cut).toBe('ab')
    expect(wellFormed(cut)).toBe(cut)
  })
})

describe('codeSpan', () => {
  it('uses a fence longer than any backtick run inside', () => {
    expect(codeSpan('a``b')).toBe('```a``b```')
    expect(codeSpan('`x`')).toBe('`` `x` ``')
    expect(codeSpan('plain')).toBe('`plain`')
  })

  it('stays on one line, breaks comment openers and mentions', () => {
    expect(codeSpan('<!--x\n@torvalds-->')).toBe(`\`<${ZWSP}!--x @${ZWSP}torvalds-->\``)
  })
})

describe('codeBlock', () => {
  it('cannot be closed by a 12-backtick line, `</details>` or `---` in the content (threat 15)', () => {
    const content = ['before', '`'.repeat(12), '</details>', '---', '```', 'after'].join('\n')
    const block = codeBlock(content)
    const lines = block.split('\n')
    const fence = lines[0]
    expect(fence).toBe('`'.repeat(13))
    expect(lines[lines.length - 1]).toBe(fence)
    // No content line could close the block: only the last line is a run of at least the fence's length.
    const closers = lines.slice(1).filter(l => /^\s*`+\s*$/.test(l) && l.trim().length >= fence.length)
    expect(closers).toHaveLength(1)
    expect(lines.slice(1, -1).join('\n')).toBe(content)
  })

  it('keeps newlines and tabs, normalises CRLF, drops NUL/ESC and bidi controls, breaks `<!--`', () => {
    expect(codeBlock('a\r\n\tb\u0000\u001b[1m\u202Ec\n<!-- m -->', 'sh')).toBe(
      `\`\`\`sh\na\n\tb[1mc\n<${ZWSP}!-- m -->\n\`\`\``
    )
  })
})

describe('safeUrl', () => {
  it('accepts http(s) and drops fragments', () => {
    expect(safeUrl('https://patchwork.kernel.org/project/linux-fsdevel/list/?series=1073807#12')).toBe(
      'https://patchwork.kernel.org/project/linux-fsdevel/list/?series=1073807'
    )
  })

  it('refuses other schemes and garbage', () => {
    expect(safeUrl('javascript:alert(1)')).toBeUndefined()
    expect(safeUrl('not a url')).toBeUndefined()
    expect(safeUrl(undefined)).toBeUndefined()
  })

  it('encodes characters that would act in Markdown or start a mention', () => {
    expect(safeUrl('https://x.example/a/@torvalds/`b`|c*')).toBe(
      'https://x.example/a/%40torvalds/%60b%60%7Cc%2A'
    )
  })
})

describe('encodeMessageId', () => {
  it('keeps an ordinary Message-ID readable', () => {
    expect(encodeMessageId('20250722205357.3347626-5-samitolvanen@google.com')).toBe(
      '20250722205357.3347626-5-samitolvanen@google.com'
    )
  })

  it('percent-encodes `/`, `?`, `#` and dot-only segments (threat 26)', () => {
    expect(encodeMessageId('a/b?c#d@x')).toBe('a%2Fb%3Fc%23d@x')
    expect(encodeMessageId('..')).toBe('%2E%2E')
    expect(encodeMessageId("it's(me)@x")).toBe('it%27s%28me%29@x')
  })

  it('encodes an `@` that could start a mention', () => {
    expect(encodeMessageId('@torvalds')).toBe('%40torvalds')
  })
})
