/**
 * Patchwork checks: what ml2pr made of a series, on every patch of it, under the context `ml2pr` — `success`
 * with the PR's URL, or `fail` with the reason. Checks cannot be edited, so the newest check of the context is
 * read first and a new one is posted only when the state (or the PR it points to) changed; re-runs post nothing.
 * Without a Patchwork token nothing is posted at all.
 */
import type { Log, SeriesResult } from '../ports.js'
import type { CheckInput, Patchwork } from '../services/patchwork.js'
import type { Writes } from '../writes.js'

export const CHECK_CONTEXT = 'ml2pr'

export interface CheckDeps {
  patchwork?: Patchwork
  /** The `patchwork-token` input; empty means no checks. */
  token: string
  writes: Writes
  log: Log
}

export interface CheckVerdict {
  state: 'success' | 'fail'
  targetUrl?: string
  description: string
  /**
   * Post only where no `ml2pr` check exists yet. An adopted PR is one ml2pr opened before: its check was
   * posted then, and since then the lifecycle's refresh is the authority on whether it still applies.
   */
  onlyIfMissing?: boolean
}

const DESCRIPTION_MAX = 1000

function describe(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim()
  return flat.length > DESCRIPTION_MAX ? `${flat.slice(0, DESCRIPTION_MAX - 1)}…` : flat
}

/**
 * The check a series' result deserves, or undefined when this run reached no verdict on the series (skipped,
 * a transient failure to be retried, a dry run, a PR closed earlier).
 */
export function checkVerdict(result: SeriesResult): CheckVerdict | undefined {
  const o = result.outcome
  switch (o.kind) {
    case 'opened':
      if (o.pr === 0) return undefined
      return { state: 'success', targetUrl: o.url, description: describe(`Applied cleanly; PR #${o.pr}`) }
    case 'adopted':
      if (o.state !== 'open') return undefined
      return {
        state: 'success',
        targetUrl: o.url,
        description: describe(`Applied cleanly; PR #${o.pr}`),
        onlyIfMissing: true
      }
    case 'refused':
      return { state: 'fail', description: describe(`${o.reason}: ${o.files.join(', ')}`) }
    case 'failed':
      return result.retry ? undefined : { state: 'fail', description: describe(o.reason) }
    default:
      return undefined
  }
}

/** Posts `verdict` on each patch whose newest `ml2pr` check differs; returns how many were posted. */
export async function postSeriesChecks(
  deps: CheckDeps,
  patchIds: number[],
  verdict: CheckVerdict
): Promise<number> {
  const { patchwork } = deps
  if (!patchwork || !deps.token) return 0
  const check: CheckInput = {
    state: verdict.state,
    context: CHECK_CONTEXT,
    description: verdict.description,
    ...(verdict.targetUrl === undefined ? {} : { targetUrl: verdict.targetUrl })
  }
  let posted = 0
  for (const id of patchIds) {
    const latest = await patchwork.latestCheck(id, CHECK_CONTEXT)
    if (
      latest &&
      (verdict.onlyIfMissing ||
        (latest.state === check.state && (latest.targetUrl ?? undefined) === check.targetUrl))
    ) {
      continue
    }
    await deps.writes.perform(`Patchwork check ${check.state} on patch ${id}`, () =>
      patchwork.postCheck(id, check)
    )
    posted++
  }
  return posted
}

/** After a series was processed: its verdict as a check on each of its patches. Never fails the series. */
export async function reportChecks(deps: CheckDeps, result: SeriesResult): Promise<void> {
  const verdict = checkVerdict(result)
  const patchIds = result.ref?.patchIds ?? []
  if (!verdict || patchIds.length === 0) return
  try {
    const posted = await postSeriesChecks(deps, patchIds, verdict)
    if (posted > 0)
      deps.log.info(`series ${result.outcome.key}: Patchwork check ${verdict.state} on ${posted} patch(es)`)
  } catch (error) {
    deps.log.warning(`series ${result.outcome.key}: Patchwork checks: ${(error as Error).message}`)
  }
}
