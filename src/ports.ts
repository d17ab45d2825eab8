/**
 * The small interfaces and shared types the run's stages depend on, so that no stage imports another stage
 * (or an orchestrator) for a type. Concrete classes (the Octokit-backed pulls, the Patchwork and lore
 * clients, the private git repository) implement them. This module imports types only.
 */
import type { BaseChoice } from './discover/base.js'
import type { PullSummary } from './github/pulls.js'
import type { ApplyResult, Outcome, Series, SeriesRef, Trailer } from './model.js'
import type { PrMarker } from './publish/render.js'

export interface Log {
  info(message: string): void
  /** `title` becomes the annotation's title on the runner. */
  warning(message: string, annotation?: { title?: string }): void
}

/** A Log that can also fold a stage's lines into a group (the runner's `::group::`). */
export interface RunLog extends Log {
  group<T>(name: string, fn: () => Promise<T>): Promise<T>
}

/** What the apply step needs of each patch: the raw mail and the review trailers to add. */
export interface PatchInput {
  counter: number
  total: number
  raw: Buffer
  trailers: Trailer[]
}

export type ApplyFn = (baseSha: string, patches: PatchInput[]) => Promise<ApplyResult>

/** An open PR ml2pr made: same repository, the branch prefix, and ml2pr's marker on the body's first line. */
export interface BotPull {
  pull: PullSummary
  marker: PrMarker
}

/** The git remote as the pipeline needs it (implemented over the private blobless repository). */
export interface RemoteRepo {
  /** Fetches a branch tip (blobless, depth 1) and returns its sha. */
  fetchBranch(branch: string): Promise<string>
  /** Makes a commit available locally if the server has it; false when it does not. */
  fetchCommit(sha: string): Promise<boolean>
  remoteBranchSha(branch: string): Promise<string | undefined>
  /** Pushes `sha` to `branch` only if the remote still has `expectedOld` (null: must not exist), through the write gate. */
  push(
    branch: string,
    sha: string,
    expectedOld: string | null
  ): Promise<{ ok: true } | { ok: false; reason: string }>
}

/** What processing a series yields besides the outcome: facts later stages (lifecycle, state) use. */
export interface SeriesResult {
  outcome: Outcome
  series?: Series
  base?: BaseChoice
  /** Set when the series failed to apply on this tip (so it is retried only when the base moves). */
  failedOn?: string
  /** A transient problem: try again next run. */
  retry?: boolean
  /** The series' identity, for relating it to older versions. */
  newer?: VersionFacts
  ref?: SeriesRef
  /** The run's write budget ran out while handling this series: nothing more is written this run. */
  budgetSpent?: boolean
}

/** What ml2pr wrote about a series in its PR's hidden marker. */
export interface SeriesIdentity {
  key: string
  version: number
  messageId: string
  submitterEmail?: string
  /** Series name normalised by normalizeSeriesName. */
  name?: string
  changeId?: string
}

export interface VersionFacts extends SeriesIdentity {
  /** Message-IDs this series' cover (or patch 1) replies to: a v2 sent In-Reply-To v1's cover. */
  repliesTo: string[]
}
