/**
 * Runs the real public-inbox (Debian package `public-inbox`, 1.9) on loopback: v2 inboxes with a
 * Xapian index, served by public-inbox-httpd, in a private temp directory and config.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const BIN = '/usr/bin'

export interface PublicInboxOptions {
  inboxes: Record<string, { address: string }>
}

export interface PublicInbox {
  /** `http://127.0.0.1:<port>`; inboxes are at `${url}/<name>/`. */
  url: string
  /** Imports and indexes raw mails; each gets a `Received:` header so `rt:` searches see the import time. */
  addMails(inbox: string, raws: Buffer[], opts?: { receivedAt?: Date }): Promise<void>
  close(): Promise<void>
}

// One Perl process imports a whole batch: public-inbox-mda costs ~0.5 s per message.
const IMPORT_SCRIPT = `
use strict; use warnings;
use PublicInbox::Config; use PublicInbox::InboxWritable; use PublicInbox::Eml;
my ($name, @files) = @ARGV;
my $ibx = PublicInbox::Config->new->lookup_name($name) or die "no inbox $name\\n";
my $im = PublicInbox::InboxWritable->new($ibx)->importer(0);
for my $f (@files) {
  open(my $fh, '<', $f) or die "$f: $!\\n";
  my $raw = do { local $/; <$fh> };
  $im->add(PublicInbox::Eml->new(\\$raw)) or print STDERR "duplicate: $f\\n";
}
$im->done;
`

/**
 * Runs httpd under a small shell that forwards SIGHUP/SIGTERM and stops httpd when its stdin closes, so a
 * test process that dies without close() leaves no server behind.
 */
const SUPERVISOR = `exec 3<&0
"$0" "$@" </dev/null 3<&- & pid=$!
trap 'kill -HUP $pid' HUP
trap 'kill -TERM $pid' TERM
( read _ <&3; kill -TERM $pid 2>/dev/null ) &
while kill -0 $pid 2>/dev/null; do wait $pid; done`

function stop(child: ChildProcess): void {
  child.stdin?.destroy()
  child.kill('SIGTERM')
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo
      s.close(() => resolve(port))
    })
  })
}

function rfc2822(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000')
}

async function waitUntilServing(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`public-inbox-httpd exited: ${stderr()}`)
    try {
      const res = await fetch(`${url}/`)
      await res.arrayBuffer()
      return
    } catch {
      await new Promise(r => setTimeout(r, 50))
    }
  }
  throw new Error(`public-inbox-httpd did not answer at ${url}: ${stderr()}`)
}

/**
 * Waits until a message is found by search. httpd keeps a search handle opened on an empty index, so
 * it is told to reload its inboxes (SIGHUP) when the message does not show up.
 */
async function waitSearchable(url: string, inbox: string, msgid: string, httpd: ChildProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const res = await fetch(`${url}/${inbox}/?q=${encodeURIComponent(`m:${msgid}`)}&x=m`, {
      method: 'POST',
      body: ''
    })
    await res.arrayBuffer()
    if (res.status === 200) return
    if (i % 10 === 0) httpd.kill('SIGHUP')
    await new Promise(r => setTimeout(r, 50))
  }
  throw new Error(`${msgid} did not become searchable in ${inbox}`)
}

export async function startPublicInbox(opts: PublicInboxOptions): Promise<PublicInbox> {
  try {
    await access(path.join(BIN, 'public-inbox-httpd'))
  } catch {
    throw new Error(
      'public-inbox is not installed: install the Debian package "public-inbox" (apt-get install public-inbox)'
    )
  }
  const home = await mkdtemp(path.join(os.tmpdir(), 'public-inbox-'))
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    PI_CONFIG: path.join(home, 'config'),
    LANG: 'C.UTF-8'
  }
  let httpd: ChildProcess | undefined
  try {
    for (const [name, { address }] of Object.entries(opts.inboxes)) {
      await run(
        path.join(BIN, 'public-inbox-init'),
        ['-V2', '-L', 'full', name, path.join(home, name), `http://127.0.0.1/${name}`, address],
        { env }
      )
    }
    let url = ''
    for (let attempt = 0; ; attempt++) {
      const port = await freePort()
      url = `http://127.0.0.1:${port}`
      let stderr = ''
      const child = spawn(
        'sh',
        ['-c', SUPERVISOR, path.join(BIN, 'public-inbox-httpd'), '-W0', '-l', `127.0.0.1:${port}`],
        {
          env,
          stdio: ['pipe', 'ignore', 'pipe']
        }
      )
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
      try {
        await waitUntilServing(url, child, () => stderr)
        httpd = child
        break
      } catch (err) {
        stop(child)
        // Another process may have taken the port between probing and binding.
        if (attempt >= 3) throw err
      }
    }
    const server = httpd
    return {
      url,
      async addMails(inbox, raws, o = {}) {
        if (!opts.inboxes[inbox]) throw new Error(`unknown inbox ${inbox}`)
        const received = `Received: from stand-in by 127.0.0.1 with LMTP; ${rfc2822(o.receivedAt ?? new Date())}\n`
        const files: string[] = []
        for (const [i, raw] of raws.entries()) {
          const file = path.join(home, `incoming-${Date.now()}-${i}.eml`)
          await writeFile(
            file,
            Buffer.concat([
              Buffer.from(received),
              raw.subarray(raw.toString('latin1', 0, 5) === 'From ' ? raw.indexOf(10) + 1 : 0)
            ])
          )
          files.push(file)
        }
        try {
          await run('perl', ['-e', IMPORT_SCRIPT, inbox, ...files], { env })
        } finally {
          await Promise.all(files.map(f => rm(f, { force: true })))
        }
        const last = raws.length
          ? /^Message-ID:\s*<([^>]+)>/im.exec(raws[raws.length - 1].toString('latin1'))
          : null
        if (last) await waitSearchable(url, inbox, last[1], server)
      },
      async close() {
        if (server.exitCode === null) {
          const exited = new Promise(resolve => server.once('exit', resolve))
          stop(server)
          await exited
        }
        await rm(home, { recursive: true, force: true })
      }
    }
  } catch (err) {
    if (httpd) stop(httpd)
    await rm(home, { recursive: true, force: true })
    throw err
  }
}
