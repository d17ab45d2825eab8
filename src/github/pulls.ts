/**
 * Pull requests and branches on GitHub, with the idempotence rules ml2pr depends on:
 * a PR is looked up (any state) before it is created; "A pull request already exists" is adoption, not
 * failure; a branch that is already gone counts as deleted; close first, then delete the branch (deleting
 * the head of an open PR closes it in a way that can no longer be changed).
 */
import type { Octokit } from './client.js'
import { WriteBudgetExceeded, type Writes } from '../writes.js'

export interface PullSummary {
  number: number
  state: 'open' | 'closed'
  title: string
  body: string
  headRef: string
  headSha: string
  baseRef: string
  createdAt: string
  closedAt: string | null
  mergedAt: string | null
  url: string
  labels: string[]
  /** The head lives in this repository (never touch a fork's branch). */
  sameRepo: boolean
}

interface RawPull {
  number: number
  state: string
  title: string
  body?: string | null
  head: { ref: string; sha: string; repo?: { full_name: string } | null }
  base: { ref: string }
  created_at: string
  closed_at: string | null
  merged_at: string | null
  html_url: string
  labels?: ({ name?: string } | string)[]
}

export class GitHubPulls {
  constructor(
    private readonly octokit: Octokit,
    private readonly owner: string,
    private readonly repo: string,
    private readonly writes: Writes
  ) {}

  private toSummary(p: RawPull): PullSummary {
    return {
      number: p.number,
      state: p.state === 'open' ? 'open' : 'closed',
      title: p.title,
      body: p.body ?? '',
      headRef: p.head.ref,
      headSha: p.head.sha,
      baseRef: p.base.ref,
      createdAt: p.created_at,
      closedAt: p.closed_at,
      mergedAt: p.merged_at,
      url: p.html_url,
      labels: (p.labels ?? []).map(l => (typeof l === 'string' ? l : (l.name ?? ''))),
      sameRepo: p.head.repo?.full_name?.toLowerCase() === `${this.owner}/${this.repo}`.toLowerCase()
    }
  }

  /** Every PR (open or closed) whose head is `branch` in this repository, newest first. */
  async findByHead(branch: string): Promise<PullSummary[]> {
    const pulls = await this.octokit.paginate(this.octokit.rest.pulls.list, {
      owner: this.owner,
      repo: this.repo,
      state: 'all',
      head: `${this.owner}:${branch}`,
      per_page: 100
    })
    return (pulls as RawPull[])
      .map(p => this.toSummary(p))
      .filter(p => p.headRef === branch && p.sameRepo)
      .sort((a, b) => b.number - a.number)
  }

  /** Open PRs whose head branch starts with `prefix` in this repository. */
  async listOpen(prefix: string): Promise<PullSummary[]> {
    const pulls = await this.octokit.paginate(this.octokit.rest.pulls.list, {
      owner: this.owner,
      repo: this.repo,
      state: 'open',
      per_page: 100
    })
    return (pulls as RawPull[])
      .map(p => this.toSummary(p))
      .filter(p => p.sameRepo && p.headRef.startsWith(prefix))
  }

  async get(number: number): Promise<PullSummary> {
    const { data } = await this.octokit.rest.pulls.get({
      owner: this.owner,
      repo: this.repo,
      pull_number: number
    })
    return this.toSummary(data)
  }

  /**
   * Opens a PR, or adopts the one that already exists for `head` (a retried or racing run created it).
   * Returns undefined in dry-run mode.
   */
  async create(pr: {
    head: string
    base: string
    title: string
    body: string
  }): Promise<{ pull: PullSummary; created: boolean } | undefined> {
    return this.writes.perform(`open PR ${pr.head} → ${pr.base}: ${pr.title}`, async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          const { data } = await this.octokit.rest.pulls.create({
            owner: this.owner,
            repo: this.repo,
            ...pr,
            maintainer_can_modify: false,
            request: { retries: 0 }
          })
          return { pull: this.toSummary(data), created: true }
        } catch (error) {
          const status = (error as { status?: number }).status ?? 0
          if (status === 422 && /submitted too quickly/i.test(errorText(error))) {
            // GitHub's content-creation limit answered with a 422 the throttling plugin does not know: nothing was
            // created, and more writes now would only prolong the block. Defer this one and the rest of the run's.
            this.writes.exhaust()
            throw new WriteBudgetExceeded(
              `GitHub refused the PR for ${pr.head} as submitted too quickly; it and the run's remaining writes wait for the next run`
            )
          }
          const already = status === 422 && /A pull request already exists/i.test(errorText(error))
          if (already || status >= 500 || status === 0) {
            // The create may have happened even though we did not hear back: look before trying again.
            const existing = (await this.findByHead(pr.head)).find(p => p.state === 'open')
            if (existing) return { pull: existing, created: false }
            if (!already && attempt < 2) {
              await new Promise(r => setTimeout(r, 1000 * (attempt + 1)))
              continue
            }
          }
          throw new Error(`Creating the PR for ${pr.head} failed: ${errorText(error)}`, { cause: error })
        }
      }
    })
  }

  async update(
    number: number,
    fields: { title?: string; body?: string; state?: 'open' | 'closed' }
  ): Promise<void> {
    await this.writes.perform(`update PR #${number} (${Object.keys(fields).join(', ')})`, async () => {
      await this.octokit.rest.pulls.update({
        owner: this.owner,
        repo: this.repo,
        pull_number: number,
        ...fields
      })
    })
  }

  async comments(number: number): Promise<{ id: number; body: string; author: string }[]> {
    const comments = await this.octokit.paginate(this.octokit.rest.issues.listComments, {
      owner: this.owner,
      repo: this.repo,
      issue_number: number,
      per_page: 100
    })
    return comments.map(c => ({ id: c.id, body: c.body ?? '', author: c.user?.login ?? '' }))
  }

  /**
   * Posts a comment unless one carrying the same hidden key is already there, so a re-run after a crash
   * never comments twice.
   */
  async commentOnce(number: number, key: string, body: string): Promise<void> {
    const marker = `<!-- ml2pr-comment:${key} -->`
    const existing = await this.comments(number)
    if (existing.some(c => c.body.startsWith(marker))) return
    await this.writes.perform(`comment on PR #${number} (${key})`, async () => {
      await this.octokit.rest.issues.createComment({
        owner: this.owner,
        repo: this.repo,
        issue_number: number,
        body: `${marker}\n${body}`,
        request: { retries: 0 }
      })
    })
  }

  async addLabel(number: number, label: string): Promise<void> {
    await this.writes.perform(`label PR #${number} ${label}`, async () => {
      await this.octokit.rest.issues.addLabels({
        owner: this.owner,
        repo: this.repo,
        issue_number: number,
        labels: [label]
      })
    })
  }

  async removeLabel(number: number, label: string): Promise<void> {
    await this.writes.perform(`unlabel PR #${number} ${label}`, async () => {
      try {
        await this.octokit.rest.issues.removeLabel({
          owner: this.owner,
          repo: this.repo,
          issue_number: number,
          name: label
        })
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw error
      }
    })
  }

  /** Deletes a branch; one that is already gone counts as deleted. */
  async deleteBranch(branch: string): Promise<void> {
    await this.writes.perform(`delete branch ${branch}`, async () => {
      try {
        await this.octokit.rest.git.deleteRef({ owner: this.owner, repo: this.repo, ref: `heads/${branch}` })
      } catch (error) {
        const status = (error as { status?: number }).status
        if (status === 422 || status === 404) return
        throw error
      }
    })
  }

  /** Comment (once), close, then delete the branch: the order that leaves nothing half-done on a re-run. */
  async closeWithComment(pull: PullSummary, key: string, comment: string): Promise<void> {
    await this.commentOnce(pull.number, key, comment)
    if (pull.state === 'open') await this.update(pull.number, { state: 'closed' })
    if (pull.sameRepo) await this.deleteBranch(pull.headRef)
  }
}

export function errorText(error: unknown): string {
  const e = error as {
    message?: string
    response?: { data?: { message?: string; errors?: { message?: string }[] } }
  }
  const data = e.response?.data
  const details = (data?.errors ?? []).map(x => x.message).filter(Boolean)
  return [data?.message ?? e.message ?? String(error), ...details].join(': ')
}
