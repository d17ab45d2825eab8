/**
 * The kinds of failure a run tells apart, as classes rather than message text:
 * - OwnFailure: ml2pr itself cannot work (bad credentials, missing permission, a base branch that does not
 *   exist). It fails the run: nothing the next run does will be different.
 * - TransientError: a service was down or busy. The series (or PR) is tried again next run.
 * - BudgetExceeded: this run's write budget (`max-writes`) is spent; what is left waits for the next run.
 * - SeriesFailure: trouble with one series' mails or patches; reported on that series, never stops the others.
 */
export class OwnFailure extends Error {
  override name = 'OwnFailure'
}

export class TransientError extends Error {
  override name = 'TransientError'
}

export class BudgetExceeded extends Error {
  override name = 'BudgetExceeded'
}

export class SeriesFailure extends Error {
  override name = 'SeriesFailure'
  constructor(
    message: string,
    /** A later run may succeed. */
    readonly retry = false
  ) {
    super(message)
  }
}

export type FailureKind = 'own' | 'transient' | 'budget' | 'series'

/**
 * The kind of an error thrown while carrying out one action. HTTP errors are classified by status (401 and a
 * 403 that is not a rate limit mean the token or the permissions are wrong); git's errors carry their kind
 * from the git wrapper (see GitError.own).
 */
export function failureKind(error: unknown): FailureKind {
  if (error instanceof OwnFailure) return 'own'
  if (error instanceof BudgetExceeded) return 'budget'
  if (error instanceof TransientError) return 'transient'
  if (error instanceof SeriesFailure) return 'series'
  const e = error as {
    status?: number
    own?: boolean
    cause?: unknown
    response?: { headers?: Record<string, string> }
  }
  if (e.own === true) return 'own'
  if (e.cause !== undefined && e.cause !== error) {
    const inner = failureKind(e.cause)
    if (inner !== 'series') return inner
  }
  if (e.status === 401) return 'own'
  if (e.status === 403)
    return e.response?.headers?.['x-ratelimit-remaining'] === '0' || isSecondaryLimit(error)
      ? 'transient'
      : 'own'
  if (e.status !== undefined && (e.status >= 500 || e.status === 429)) return 'transient'
  return 'series'
}

function isSecondaryLimit(error: unknown): boolean {
  const data = (error as { response?: { data?: { message?: string } } }).response?.data
  return /rate limit/i.test(data?.message ?? (error as Error).message ?? '')
}
