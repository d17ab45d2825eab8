/**
 * The Octokit ml2pr uses: @actions/github's client (GHES-aware through GITHUB_API_URL) plus retry and
 * throttling. Rate limits are the throttling plugin's job, so 429 is kept out of plain retries; creating
 * requests opt out of retries altogether (a 5xx on POST may still have created the PR) and are instead
 * repaired by a lookup (see pulls.ts).
 */
import { getOctokit } from '@actions/github'
import { retry } from '@octokit/plugin-retry'
import { throttling } from '@octokit/plugin-throttling'

export type Octokit = ReturnType<typeof getOctokit>

export interface ClientLog {
  warning(message: string): void
  info(message: string): void
}

export function createOctokit(
  token: string,
  apiUrl: string,
  log: ClientLog,
  options: { maxRateLimitWaitSeconds?: number } = {}
): Octokit {
  const maxWait = options.maxRateLimitWaitSeconds ?? 120
  return getOctokit(
    token,
    {
      baseUrl: apiUrl,
      retry: { doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
      throttle: {
        onRateLimit: limitHandler('rate limit', log, maxWait),
        onSecondaryRateLimit: limitHandler('secondary rate limit', log, maxWait)
      }
    },
    retry,
    throttling
  )
}

/** Waits out a rate limit (twice at most) when GitHub asks for a wait we can afford; else gives up. */
function limitHandler(
  kind: string,
  log: ClientLog,
  maxWait: number
): (
  retryAfter: number,
  request: { method: string; url: string },
  octokit: unknown,
  retryCount: number
) => boolean {
  return (retryAfter, request, _octokit, retryCount) => {
    log.warning(`GitHub ${kind} for ${request.method} ${request.url}; retry after ${retryAfter}s`)
    return retryCount < 2 && retryAfter <= maxWait
  }
}
