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
  const octokit = getOctokit(
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
  pinToOrigin(octokit, apiUrl)
  return octokit
}

export class ForeignOriginError extends Error {
  override name = 'ForeignOriginError'
}

/**
 * Every request this client makes carries the token, so every request must go to the configured API: a
 * `Link: rel="next"` that paginate would follow, or any absolute URL, naming another host (or another path
 * than the API's, on a GHES host that serves more) is refused before anything is sent.
 */
export function pinToOrigin(octokit: Octokit, apiUrl: string): void {
  const api = new URL(apiUrl.replace(/\/+$/, '') + '/')
  octokit.hook.before('request', options => {
    const base = typeof options.baseUrl === 'string' && options.baseUrl ? options.baseUrl : apiUrl
    const raw = String(options.url ?? '')
    const absolute = /^[a-z][a-z0-9+.-]*:/i.test(raw)
    const target = new URL(absolute ? raw : base.replace(/\/+$/, '') + '/' + raw.replace(/^\/+/, ''))
    const withinApi = target.origin === api.origin && (target.pathname + '/').startsWith(api.pathname)
    if (!withinApi) {
      throw new ForeignOriginError(
        `Refusing to send the GitHub token to ${target.origin}${target.pathname}: only ${api.origin}${api.pathname} is trusted`
      )
    }
  })
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
