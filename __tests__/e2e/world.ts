/**
 * A whole world for end-to-end runs: a GitHub stand-in holding a small kernel-like repository, a Patchwork
 * stand-in, and a real public-inbox serving the list. Series are posted to both, as on kernel.org.
 */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { splitMbox } from '../../src/assemble/mbox.js'
import { startGitHubStandIn, type GitHubStandIn } from '../support/github-standin.js'
import { startPatchworkStandIn, type PatchworkStandIn } from '../support/patchwork-standin.js'
import { startPublicInbox, type PublicInbox } from '../support/public-inbox.js'
import { commitFiles, seedFromBundle } from '../support/repos.js'
import { runAction, type ActionRun, type RunOptions } from './harness.js'

const run = promisify(execFile)

export const OWNER = 'acme'
export const REPO = 'linux'
export const TOKEN = 'ghs_e2eTokenThatMustNeverLeak0123456789'
export const PROJECT = 'linux-fsdevel'

export function fixture(rel: string): URL {
  return new URL(`../fixtures/${rel}`, import.meta.url)
}

export async function mailsOf(rel: string): Promise<Buffer[]> {
  return splitMbox(await readFile(fixture(rel)), 'mbox')
}

export interface World {
  github: GitHubStandIn
  patchwork: PatchworkStandIn
  /** Undefined when public-inbox is not installed (the demo then shows the Patchwork mbox fallback). */
  lore?: PublicInbox
  loreUrl: string
  /** The tip of `vfs.base` (what series are applied onto). */
  baseSha: string
  /** Posts a series: to public-inbox (all mails, replies included) and to Patchwork (cover + patches). */
  post(opts: { cover?: Buffer; patches: Buffer[]; replies?: Buffer[]; delegate?: string }): Promise<number>
  run(inputs?: Record<string, string>, options?: RunOptions): Promise<ActionRun>
  git(args: string[]): Promise<string>
  close(): Promise<void>
}

export async function hasPublicInbox(): Promise<boolean> {
  try {
    await run('public-inbox-httpd', ['--help'])
    return true
  } catch (error) {
    return (error as { code?: unknown }).code !== 'ENOENT'
  }
}

export async function startWorld(opts: { lore?: boolean } = {}): Promise<World> {
  const github = await startGitHubStandIn({
    owner: OWNER,
    repo: REPO,
    token: TOKEN,
    defaultBranch: 'vfs.base.ci'
  })
  const patchwork = await startPatchworkStandIn()
  const lore =
    opts.lore === false
      ? undefined
      : await startPublicInbox({ inboxes: { [PROJECT]: { address: `${PROJECT}@vger.kernel.org` } } })
  // Without public-inbox, lore points at a port nobody listens on: ml2pr falls back to Patchwork's mbox.
  const loreUrl = lore?.url ?? 'http://127.0.0.1:9'
  patchwork.addProject({
    linkName: PROJECT,
    listId: `${PROJECT}.vger.kernel.org`,
    listEmail: `${PROJECT}@vger.kernel.org`,
    listArchiveUrl: `${loreUrl}/${PROJECT}/`
  })
  // vfs.base: b4's test repository; vfs.base.ci: the same plus the CI workflow, as in the seed deployment.
  const baseSha = await seedFromBundle(github.repoDir, ['vfs.base'])
  await commitFiles(github.repoDir, {
    branch: 'vfs.base.ci',
    parent: 'vfs.base',
    files: { '.github/workflows/ci.yml': 'name: ci\non: pull_request\njobs: {}\n' },
    message: 'ci: add workflow'
  })
  const git = async (args: string[]): Promise<string> =>
    (
      await run('git', ['--git-dir', github.repoDir, ...args], {
        env: { PATH: process.env.PATH ?? '', GIT_CONFIG_NOSYSTEM: '1', HOME: '/nonexistent' },
        maxBuffer: 1 << 26
      })
    ).stdout
  return {
    github,
    patchwork,
    lore,
    loreUrl,
    baseSha,
    async post({ cover, patches, replies = [], delegate }) {
      await lore?.addMails(PROJECT, [...(cover ? [cover] : []), ...patches, ...replies])
      const added = await patchwork.addSeries({ project: PROJECT, cover, patches, delegate })
      return added.seriesId
    },
    run(inputs = {}, options = {}) {
      return runAction(
        {
          'github-token': TOKEN,
          'patchwork-url': patchwork.url,
          'patchwork-project': PROJECT,
          'lore-url': loreUrl,
          'base-branch': 'vfs.base.ci',
          'apply-branch': 'vfs.base',
          'grace-minutes': '0',
          ...inputs
        },
        {
          GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
          GITHUB_SERVER_URL: github.serverUrl,
          GITHUB_API_URL: github.apiUrl
        },
        options
      )
    },
    git,
    async close() {
      await Promise.allSettled([github.close(), patchwork.close(), lore?.close()])
    }
  }
}
