import { spawn } from 'node:child_process'

/**
 * The one place ml2pr runs git. Every call gets a hardened environment and hardening `-c` options, takes
 * its arguments as an array (never a shell string) and prints nothing: callers log through `log`.
 *
 * Mail data never reaches argv: patches, messages and path lists go through files or stdin.
 */

/** `GIT_CONFIG_GLOBAL` (2.32) isolates user config; `apply --3way --cached` needs 2.32 too. */
export const MINIMUM_GIT_VERSION: GitVersion = { major: 2, minor: 34, patch: 0 }

const DEFAULT_TIMEOUT_MS = 10 * 60 * 1000

/** Inherited variables git may need (proxies, CA bundles); everything else, notably any GIT_*, is dropped. */
const INHERITED_ENV = [
  'PATH',
  'HOME',
  'TMPDIR',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'all_proxy',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'CURL_CA_BUNDLE'
]

/** Config that keeps code from the repository, the mail or the machine from running. */
const HARDENING_CONFIG = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.quotePath=false',
  'core.protectNTFS=true',
  'core.protectHFS=true',
  'filter.lfs.smudge=',
  'filter.lfs.clean=',
  'filter.lfs.process=',
  'filter.lfs.required=false',
  'credential.helper=',
  'gc.auto=0',
  'maintenance.auto=false',
  'commit.gpgSign=false',
  'protocol.allow=never'
]

export interface GitVersion {
  major: number
  minor: number
  patch: number
}

export interface GitOptions {
  /** The git dir every command runs against (GIT_DIR); omitted for commands that need no repository. */
  gitDir?: string
  /** Working directory of the git process (defaults to gitDir, else the process cwd). */
  cwd?: string
  /** GIT_CONFIG_GLOBAL: a config file ml2pr wrote (auth), else /dev/null. */
  globalConfig?: string
  /** Allow the `file` transport for network commands (tests and the benchmark only). */
  allowFileProtocol?: boolean
  /** Default timeout per command. */
  timeoutMs?: number
  /** Receives one line per command run; nothing is printed otherwise. */
  log?: (line: string) => void
  /** Strings scrubbed from every error message (tokens, derived credentials). */
  secrets?: string[]
  /** The git executable (a wrapper in the benchmark). */
  gitPath?: string
}

export interface ExecOptions {
  input?: Buffer | string
  /** Extra environment for this command only (GIT_INDEX_FILE, GIT_AUTHOR_*, ...). */
  env?: Record<string, string>
  /**
   * Network commands may use http/https (and file when allowed). Local commands run with every transport
   * forbidden, so a lazy fetch from the blobless clone fails fast instead of pulling history unnoticed.
   */
  network?: boolean
  /** Extra `-c name=value` settings for this command. */
  config?: string[]
  /** Resolve with the exit code instead of throwing on non-zero exit. */
  allowFailure?: boolean
  timeoutMs?: number
}

export interface GitOutput {
  exitCode: number
  stdout: Buffer
  /** git's stderr, trimmed, secrets scrubbed. */
  stderr: string
}

export class GitError extends Error {
  constructor(
    /** The git subcommand, e.g. `fetch` (never the full argv, which may name private refs). */
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string
  ) {
    super(`git ${command} failed${exitCode === null ? '' : ` (exit ${exitCode})`}: ${stderr || 'no message'}`)
    this.name = 'GitError'
  }

  /**
   * The run's own failure rather than one series': the server refused the token or the permission, or a
   * branch ml2pr was told to use does not exist. git says so only in its message, so this is read here, once.
   */
  get own(): boolean {
    return /couldn't find remote ref|Authentication failed|could not read Username|The requested URL returned error: (401|403)/i.test(
      this.stderr
    )
  }
}

export class Git {
  private constructor(
    private readonly options: GitOptions,
    readonly version: GitVersion
  ) {}

  /** Checks that git exists and is recent enough for the hardening ml2pr relies on. */
  static async create(options: GitOptions = {}): Promise<Git> {
    const probe = new Git(options, { major: 0, minor: 0, patch: 0 })
    const out = await probe.exec(['version'])
    const version = parseGitVersion(out.stdout.toString('utf8'))
    if (!version) throw new Error(`Cannot parse git version: ${out.stdout.toString('utf8').trim()}`)
    if (compareVersions(version, MINIMUM_GIT_VERSION) < 0) {
      throw new Error(
        `git ${formatVersion(version)} is too old; ml2pr needs git ${formatVersion(MINIMUM_GIT_VERSION)} or newer`
      )
    }
    return new Git(options, version)
  }

  /** A Git for the same settings with another git dir. */
  withGitDir(gitDir: string): Git {
    return new Git({ ...this.options, gitDir, cwd: gitDir }, this.version)
  }

  get gitDir(): string | undefined {
    return this.options.gitDir
  }

  async exec(args: string[], opts: ExecOptions = {}): Promise<GitOutput> {
    const command = args.find(a => !a.startsWith('-')) ?? args[0] ?? ''
    // argv holds refs, shas and file names chosen by ml2pr, never mail text or secrets.
    this.options.log?.(`git ${args.join(' ')}`)
    const result = await this.spawnGit(args, opts)
    if (result.exitCode !== 0 && !opts.allowFailure) {
      throw new GitError(command, result.exitCode === -1 ? null : result.exitCode, result.stderr)
    }
    return result
  }

  /** stdout as UTF-8 without the trailing newline. */
  async text(args: string[], opts: ExecOptions = {}): Promise<string> {
    const out = await this.exec(args, opts)
    return out.stdout.toString('utf8').replace(/\n$/, '')
  }

  private environment(opts: ExecOptions): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {}
    for (const name of INHERITED_ENV) {
      const value = process.env[name]
      if (value !== undefined) env[name] = value
    }
    Object.assign(env, {
      LC_ALL: 'C',
      LANGUAGE: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: this.options.globalConfig ?? '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GCM_INTERACTIVE: 'Never',
      GIT_LFS_SKIP_SMUDGE: '1',
      GIT_ASKPASS: '',
      SSH_ASKPASS: '',
      GIT_PROTOCOL_FROM_USER: '0'
    })
    if (this.options.gitDir) env.GIT_DIR = this.options.gitDir
    Object.assign(env, opts.env)
    return env
  }

  private configArgs(opts: ExecOptions): string[] {
    const config = [...HARDENING_CONFIG]
    if (opts.network) {
      config.push('protocol.https.allow=always', 'protocol.http.allow=always')
      if (this.options.allowFileProtocol) config.push('protocol.file.allow=always')
    }
    config.push(...(opts.config ?? []))
    return config.flatMap(c => ['-c', c])
  }

  private spawnGit(args: string[], opts: ExecOptions): Promise<GitOutput> {
    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    return new Promise((resolve, reject) => {
      const child = spawn(this.options.gitPath ?? 'git', [...this.configArgs(opts), ...args], {
        cwd: this.options.cwd ?? this.options.gitDir,
        env: this.environment(opts),
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group, so a timeout also ends git's helpers (remote-https, index-pack, filters).
        detached: true
      })
      const stdout: Buffer[] = []
      const stderr: Buffer[] = []
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
        } catch {
          child.kill('SIGKILL')
        }
      }, timeoutMs)
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
      // git may exit before reading all of stdin (e.g. on an early error): that is not our failure.
      child.stdin.on('error', () => undefined)
      child.on('error', err => {
        clearTimeout(timer)
        reject(err)
      })
      child.on('close', code => {
        clearTimeout(timer)
        let message = this.scrub(Buffer.concat(stderr).toString('utf8').trim())
        if (timedOut) message = `timed out after ${timeoutMs} ms${message ? `: ${message}` : ''}`
        resolve({ exitCode: timedOut ? -1 : (code ?? -1), stdout: Buffer.concat(stdout), stderr: message })
      })
      child.stdin.end(opts.input ?? '')
    })
  }

  private scrub(text: string): string {
    let out = text
    for (const secret of this.options.secrets ?? []) {
      if (secret) out = out.split(secret).join('***')
    }
    return out
  }
}

export function parseGitVersion(text: string): GitVersion | undefined {
  const m = /git version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text)
  if (!m) return undefined
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) }
}

export function compareVersions(a: GitVersion, b: GitVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch
}

export function formatVersion(v: GitVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`
}
