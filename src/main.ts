/**
 * The action's entry: read the settings, build the real dependencies, run the bridge, report.
 * A series that fails is the series' problem (reported, run stays green); a failure of ml2pr itself
 * (bad input, no access, an unknown project) fails the run.
 */
import * as core from '@actions/core'
import { applySeries } from './apply/apply.js'
import { Repo } from './apply/repo.js'
import { runBridge, type BridgeDeps } from './bridge.js'
import { GitStateStore } from './discover/state-store.js'
import { createOctokit } from './github/client.js'
import { GitHubPulls } from './github/pulls.js'
import { HttpClient } from './http.js'
import { createLifecycleRepo } from './lifecycle/history.js'
import { remoteRepo } from './process.js'
import { inert, runnerLog } from './log.js'
import { sanitizeInline } from './publish/sanitize.js'
import { renderOutputs, renderSummary, type RunReport } from './report/summary.js'
import { Lore } from './services/lore.js'
import { Patchwork } from './services/patchwork.js'
import { envInputReader, readSettings, type Settings } from './settings.js'
import { Writes } from './writes.js'

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    const settings = readSettings(envInputReader(env), env)
    core.setSecret(settings.token)
    // The derived basic credential git sends is masked too (actions/checkout does the same).
    core.setSecret(Buffer.from(`x-access-token:${settings.token}`, 'utf8').toString('base64'))
    if (settings.patchworkToken) core.setSecret(settings.patchworkToken)
    await publishReport(await runOnce(settings))
  } catch (error) {
    const message = describeFailure(error)
    core.setFailed(inert(message))
    // The job summary says it too, so a red run is explained where its results would have been.
    await core.summary
      .addRaw(`## ml2pr\n\n**The run failed:** ${sanitizeInline(message)}\n`, true)
      .write()
      .catch(() => undefined)
  }
}

/** ml2pr's own failures, said so that the person reading the log knows what to fix. */
export function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  if (/could not read Username|Authentication failed|returned error: 401|Bad credentials/i.test(message)) {
    return `GitHub refused the token (check github-token; the job needs contents: write and pull-requests: write): ${message}`
  }
  if (/returned error: 403|Resource not accessible by integration|not permitted to create/i.test(message)) {
    return `GitHub denied access (check the job's permissions and the repository's Actions settings): ${message}`
  }
  return message
}

// Mail text reaches these messages: every line goes through the runner-safe logger.
const log = runnerLog()

/** What a caller (the tests, the demo) may supply instead of the runner's defaults. */
export interface DepsOptions {
  log?: BridgeDeps['log']
  now?: () => Date
  /** Receives git's command lines and apply details (the runner's debug log by default). */
  debug?: (line: string) => void
}

/** One run with the real dependencies: what the action and the command line (`ml2pr plan`) both do. */
export async function runOnce(settings: Readonly<Settings>, options: DepsOptions = {}): Promise<RunReport> {
  return runBridge(await buildDeps(settings, options))
}

/** The real dependencies of a run, built from the settings alone. */
export async function buildDeps(
  settings: Readonly<Settings>,
  options: DepsOptions = {}
): Promise<BridgeDeps> {
  const runLog = options.log ?? log
  const debug = options.debug ?? ((line: string) => core.debug(line))
  const now = options.now ?? (() => new Date())
  const writes = new Writes(settings.dryRun, settings.maxWrites)
  const octokit = createOctokit(settings.token, settings.apiUrl, runLog)
  const pulls = new GitHubPulls(octokit, settings.owner, settings.repo, writes)
  const repo = await Repo.open({
    workDir: settings.workDir,
    remoteUrl: `${settings.serverUrl}/${settings.owner}/${settings.repo}.git`,
    serverUrl: settings.serverUrl,
    token: settings.token,
    log: debug
  })
  const committer = { name: settings.committerName, email: settings.committerEmail }
  // Each service gets its own client, pinned to its origin: a redirect or a `next` link elsewhere is refused.
  const patchwork = settings.patchworkUrl
    ? new Patchwork(new HttpClient([settings.patchworkUrl]), settings.patchworkUrl, settings.patchworkToken)
    : undefined
  return {
    settings,
    pulls,
    remote: remoteRepo(repo, writes),
    apply: (baseSha, patches) =>
      applySeries(repo, baseSha, patches, { committer, protectedPaths: settings.protectedPaths, log: debug }),
    lore: new Lore(new HttpClient([settings.loreUrl]), settings.loreUrl),
    patchwork,
    state: new GitStateStore(repo, now, committer, settings.stateRef),
    lifecycleRepo: createLifecycleRepo(repo, writes),
    writes,
    log: runLog,
    now
  }
}

async function publishReport(report: RunReport): Promise<void> {
  const outputs = renderOutputs(report)
  core.setOutput('opened', outputs.opened)
  core.setOutput('failed', outputs.failed)
  core.setOutput('skipped', outputs.skipped)
  await core.summary.addRaw(renderSummary(report), true).write()
  // GitHub shows at most 10 warnings per step: annotate the first few, the summary has them all.
  const problems = report.outcomes.filter(o => o.kind === 'failed' || o.kind === 'refused')
  for (const outcome of problems.slice(0, MAX_ANNOTATIONS)) {
    log.warning(`${outcome.title}: ${'reason' in outcome ? outcome.reason : ''}`, {
      title: `ml2pr: series ${outcome.key} ${outcome.kind}`
    })
  }
  if (problems.length > MAX_ANNOTATIONS) {
    log.warning(
      `${problems.length - MAX_ANNOTATIONS} more series failed or were refused; see the job summary`
    )
  }
}

const MAX_ANNOTATIONS = 8
