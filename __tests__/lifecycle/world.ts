/**
 * One repository's world for lifecycle scenarios: the GitHub stand-in (REST + git over HTTP with a token),
 * the Patchwork stand-in holding b4's test series, and whole bridge runs against them, each from a fresh
 * work dir as on a fresh runner. The base branch starts at the tip of b4's test repository.
 */
import { buildDeps } from '../../src/main.js'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runBridge, type BridgeReport } from '../../src/bridge.js'
import { readSettings } from '../../src/settings.js'
import { git } from '../apply/helpers.js'
import { startGitHubStandIn, type GitHubStandIn } from '../support/github-standin.js'
import { splitMbox } from '../support/patchwork-mail.js'
import { startPatchworkStandIn, type PatchworkStandIn } from '../support/patchwork-standin.js'
import { commitFiles, seedFromBundle } from '../support/repos.js'
import { MemoryState } from '../support/memory-state.js'

export const OWNER = 'acme'
export const REPO = 'linux'
const TOKEN = 'gh-token-for-tests'

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url))
/** b4's test series: a cover letter and 4 patches against the bundle's tip. */
export const SERIES_MAILS = splitMbox(
  readFileSync(path.join(FIXTURES, 'mail/b4/shazam-git1-just-series.mbox'))
)
export const PATCH_MSGIDS = [1, 2, 3, 4].map(n => `20221025-test1-v1-${n}-e4f28f57990c@linuxfoundation.org`)

export interface RunOptions {
  /** The series to process (default: the first one). */
  seriesId?: number
  dryRun?: boolean
  checks?: boolean
  now?: Date
}

export interface World {
  gh: GitHubStandIn
  pw: PatchworkStandIn
  seriesId: number
  patchIds: number[]
  branch: string
  lines: string[]
  run(options?: RunOptions): Promise<BridgeReport>
  /** Commits on the base branch as a maintainer would push them. */
  commitOnBase(files: Record<string, string | null>, message: string): Promise<string>
  /** `git am` of the series' patches onto the base, each message rewritten by `edit`, then pushed. */
  landSeries(edit: (message: string, counter: number) => string): string[]
  baseTip(): string
  /** Posts v2 of the series (new Message-IDs, patch 2's message reworded); returns its series id. */
  addVersion2(): Promise<number>
  close(): Promise<void>
}

export async function makeWorld(): Promise<World> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'ml2pr-lifecycle-'))
  const gh = await startGitHubStandIn({ owner: OWNER, repo: REPO, token: TOKEN })
  await seedFromBundle(gh.repoDir, ['main'])
  const pw = await startPatchworkStandIn()
  pw.addProject({
    linkName: 'linux-fsdevel',
    listId: 'linux-fsdevel.vger.kernel.org',
    listArchiveUrl: 'https://lore.kernel.org/linux-fsdevel/'
  })
  // The patches without their cover letter: Patchwork then names the series after patch 1.
  const patches = SERIES_MAILS.slice(1)
  const added = await pw.addSeries({ project: 'linux-fsdevel', patches })
  const state = new MemoryState()
  const lines: string[] = []
  let runs = 0

  const log = {
    info: (m: string) => void lines.push(m),
    warning: (m: string) => void lines.push(`warning: ${m}`),
    group: <T>(_name: string, fn: () => Promise<T>) => fn()
  }

  async function run(options: RunOptions = {}): Promise<BridgeReport> {
    const inputs: Record<string, string> = {
      repository: `${OWNER}/${REPO}`,
      'github-token': TOKEN,
      'patchwork-url': pw.url,
      'patchwork-project': 'linux-fsdevel',
      'base-branch': 'main',
      'series-id': String(options.seriesId ?? added.seriesId),
      'grace-minutes': '0',
      'patchwork-token': options.checks === false ? '' : pw.token,
      'dry-run': options.dryRun ? 'true' : 'false'
    }
    const settings = readSettings(name => inputs[name] ?? '', {
      GITHUB_SERVER_URL: gh.serverUrl,
      GITHUB_API_URL: gh.apiUrl,
      RUNNER_TEMP: path.join(root, `run-${++runs}`)
    })
    const deps = await buildDeps(settings, {
      log,
      now: () => options.now ?? new Date(),
      debug: () => undefined
    })
    // No lore here: the series' mails come from Patchwork's mbox.
    return runBridge({ ...deps, lore: undefined, state })
  }

  function landSeries(edit: (message: string, counter: number) => string): string[] {
    const work = mkdtempSync(path.join(root, 'maintainer-'))
    git(work, ['clone', '-q', gh.repoDir, 'tree'])
    const tree = path.join(work, 'tree')
    const shas: string[] = []
    patches.forEach((mail, i) => {
      const file = path.join(work, `${i + 1}.eml`)
      writeFileSync(file, mail)
      git(tree, ['am', '-q', file], {
        env: { GIT_COMMITTER_NAME: 'Maintainer', GIT_COMMITTER_EMAIL: 'm@kernel.org' }
      })
      const message = git(tree, ['log', '-1', '--format=%B'])
      git(tree, ['commit', '-q', '--amend', '-m', edit(message, i + 1)], {
        env: { GIT_COMMITTER_NAME: 'Maintainer', GIT_COMMITTER_EMAIL: 'm@kernel.org' }
      })
      shas.push(git(tree, ['rev-parse', 'HEAD']))
    })
    git(tree, ['push', '-q', 'origin', 'HEAD:main'])
    return shas
  }

  return {
    gh,
    pw,
    seriesId: added.seriesId,
    patchIds: added.patchIds,
    branch: `pw/${added.seriesId}/main`,
    lines,
    run,
    commitOnBase: (files, message) =>
      commitFiles(gh.repoDir, { branch: 'main', files, message, date: new Date().toISOString() }),
    landSeries,
    baseTip: () => git(gh.repoDir, ['rev-parse', 'main']),
    async addVersion2() {
      const v2 = patches.map(mail =>
        Buffer.from(
          mail
            .toString('latin1')
            .replace(/-test1-v1-/g, '-test1-v2-')
            .replace(/^Subject: \[PATCH /m, 'Subject: [PATCH v2 ')
            .replace('words of wisdom.', 'words of wisdom, as reviewers asked.'),
          'latin1'
        )
      )
      return (await pw.addSeries({ project: 'linux-fsdevel', patches: v2 })).seriesId
    },
    async close() {
      await gh.close()
      await pw.close()
      rmSync(root, { recursive: true, force: true })
    }
  }
}

/** Requests that change something: REST writes and git pushes. */
export function writeRequests(requests: { method: string; path: string }[]): string[] {
  return requests
    .filter(r => r.method !== 'GET' && r.method !== 'HEAD')
    .filter(r => !/git-upload-pack$/.test(r.path.split('?')[0] ?? ''))
    .map(r => `${r.method} ${r.path}`)
}
