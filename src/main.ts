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
import { sanitizeLogLine } from './publish/sanitize.js'
import { renderOutputs, renderSummary, type RunReport } from './report/summary.js'
import { Lore } from './services/lore.js'
import { Patchwork } from './services/patchwork.js'
import { envInputReader, readSettings, type Settings } from './settings.js'
import { Writes } from './writes.js'

export async function run(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    const settings = readSettings(envInputReader(env), env)
    core.setSecret(settings.token)
    if (settings.patchworkToken) core.setSecret(settings.patchworkToken)
    const report = await runBridge(await buildDeps(settings))
    await publishReport(report)
  } catch (error) {
    core.setFailed(error instanceof Error ? error.message : String(error))
  }
}

const log: BridgeDeps['log'] = {
  // Mail text reaches these messages: never let a line become a workflow command.
  info: message => core.info(sanitizeLogLine(message)),
  warning: message => core.warning(sanitizeLogLine(message)),
  group: (name, fn) => core.group(sanitizeLogLine(name), fn)
}

export async function buildDeps(settings: Readonly<Settings>): Promise<BridgeDeps> {
  const writes = new Writes(settings.dryRun)
  const octokit = createOctokit(settings.token, settings.apiUrl, log)
  const pulls = new GitHubPulls(octokit, settings.owner, settings.repo, writes)
  const repo = await Repo.open({
    workDir: settings.workDir,
    remoteUrl: `${settings.serverUrl}/${settings.owner}/${settings.repo}.git`,
    serverUrl: settings.serverUrl,
    token: settings.token,
    log: line => core.debug(line)
  })
  const remote = remoteRepo(repo, writes)
  const committer = { name: settings.committerName, email: settings.committerEmail }
  // Each service gets its own client, pinned to its origin: a redirect or a `next` link elsewhere is refused.
  const patchwork = settings.patchworkUrl
    ? new Patchwork(new HttpClient([settings.patchworkUrl]), settings.patchworkUrl, settings.patchworkToken)
    : undefined
  return {
    settings,
    pulls,
    remote,
    apply: (baseSha, patches) =>
      applySeries(repo, baseSha, patches, {
        committer,
        protectedPaths: settings.protectedPaths,
        log: line => core.debug(line)
      }),
    lore: new Lore(new HttpClient([settings.loreUrl]), settings.loreUrl),
    patchwork,
    state: new GitStateStore(repo, () => new Date(), committer),
    lifecycleRepo: createLifecycleRepo(repo, writes),
    writes,
    log,
    now: () => new Date()
  }
}

async function publishReport(report: RunReport): Promise<void> {
  const outputs = renderOutputs(report)
  core.setOutput('opened', outputs.opened)
  core.setOutput('failed', outputs.failed)
  core.setOutput('skipped', outputs.skipped)
  await core.summary.addRaw(renderSummary(report), true).write()
  for (const outcome of report.outcomes) {
    if (outcome.kind === 'failed' || outcome.kind === 'refused') {
      core.warning(sanitizeLogLine(`${outcome.title}: ${outcome.reason}`), {
        title: `ml2pr: series ${outcome.key} ${outcome.kind}`
      })
    }
  }
}
