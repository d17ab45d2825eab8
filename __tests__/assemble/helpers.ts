import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseMails } from '../../src/assemble/mail.js'
import { splitMbox, type MboxFormat } from '../../src/assemble/mbox.js'
import type { Mail } from '../../src/model.js'

/** A fixture file from the project's own copy (`__tests__/fixtures/mail/`). */
export function fixture(path: string): Buffer {
  return readFileSync(new URL(`../fixtures/mail/${path}`, import.meta.url))
}

/** public-inbox output is mboxrd; everything else here is plain mbox or a single message. */
export function formatOf(path: string): MboxFormat {
  return path.startsWith('generated-public-inbox-1.9/') ? 'mboxrd' : 'mbox'
}

export async function loadMails(path: string): Promise<Mail[]> {
  const { mails, errors } = await parseMails(splitMbox(fixture(path), formatOf(path)))
  if (errors.length > 0) throw new Error(`${path}: ${errors.join('; ')}`)
  return mails
}

export interface MailInfo {
  author: string
  email: string
  subject: string
  /** The commit message git am writes: subject, blank line, message, cleaned by git's stripspace. */
  message: string
}

/** Runs real `git mailinfo` (what git am uses) on a raw message. */
export function mailinfo(raw: Buffer): MailInfo {
  const dir = mkdtempSync(join(tmpdir(), 'ml2pr-mailinfo-'))
  try {
    const out = execFileSync('git', ['mailinfo', join(dir, 'msg'), join(dir, 'patch')], {
      input: raw,
      cwd: dir,
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: join(dir, 'none'), HOME: dir }
    }).toString('utf8')
    const field = (name: string): string => new RegExp(`^${name}: (.*)$`, 'm').exec(out)?.[1] ?? ''
    const subject = field('Subject')
    const body = readFileSync(join(dir, 'msg'), 'utf8')
    return {
      author: field('Author'),
      email: field('Email'),
      subject,
      message: stripspace(`${subject}\n\n${body}`)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** git's `strbuf_stripspace` (as git am applies it): trailing spaces, repeated and outer blank lines go. */
function stripspace(text: string): string {
  const lines = text.split('\n').map(line => line.replace(/\s+$/, ''))
  const out: string[] = []
  for (const line of lines) {
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue
    out.push(line)
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop()
  return out.length > 0 ? `${out.join('\n')}\n` : ''
}
