/**
 * JSON shapes of GitHub's REST resources (repository, user, pull request, issue, comment, label, ref,
 * branch), with every field GitHub's OpenAPI description marks as required.
 */

export interface RepoContext {
  serverUrl: string
  apiUrl: string
  owner: string
  repo: string
  defaultBranch: string
  createdAt: string
}

export interface StoredComment {
  id: number
  body: string
  createdAt: string
  updatedAt: string
}

export interface StoredPull {
  number: number
  title: string
  body: string | null
  state: 'open' | 'closed'
  headRef: string
  baseRef: string
  /** Last known head commit: kept when the branch is deleted. */
  headSha: string
  draft: boolean
  maintainerCanModify: boolean
  createdAt: string
  updatedAt: string
  closedAt: string | null
  mergedAt: string | null
  mergeCommitSha: string | null
  labels: string[]
  comments: StoredComment[]
}

/** What the REST side read from git for one pull request at request time. */
export interface PullGitState {
  baseSha: string
  commits: number
  additions: number
  deletions: number
  changedFiles: number
}

export const REPO_ID = 1296269
const OWNER_ID = 583231

/** GitHub's timestamps: UTC, seconds, `Z`. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function nodeId(kind: string, id: number): string {
  return Buffer.from(`0${kind.length}:${kind}${id}`).toString('base64')
}

export function userObject(
  ctx: RepoContext,
  login: string,
  id: number,
  type: 'User' | 'Bot' | 'Organization'
): Record<string, unknown> {
  const url = `${ctx.apiUrl}/users/${encodeURIComponent(login)}`
  return {
    login,
    id,
    node_id: nodeId(type, id),
    avatar_url: `${ctx.serverUrl}/avatars/u/${id}?v=4`,
    gravatar_id: '',
    url,
    html_url: `${ctx.serverUrl}/${encodeURIComponent(login)}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type,
    user_view_type: 'public',
    site_admin: false
  }
}

export function ownerObject(ctx: RepoContext): Record<string, unknown> {
  return userObject(ctx, ctx.owner, OWNER_ID, 'Organization')
}

/** The identity behind the workflow token. */
export function actorObject(ctx: RepoContext): Record<string, unknown> {
  return userObject(ctx, 'github-actions[bot]', 41898282, 'Bot')
}

export function repoObject(ctx: RepoContext, openIssues: number, pushedAt: string): Record<string, unknown> {
  const full = `${ctx.owner}/${ctx.repo}`
  const url = `${ctx.apiUrl}/repos/${full}`
  const host = new URL(ctx.serverUrl).host
  return {
    id: REPO_ID,
    node_id: nodeId('Repository', REPO_ID),
    name: ctx.repo,
    full_name: full,
    private: false,
    owner: ownerObject(ctx),
    html_url: `${ctx.serverUrl}/${full}`,
    description: null,
    fork: false,
    url,
    forks_url: `${url}/forks`,
    keys_url: `${url}/keys{/key_id}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    teams_url: `${url}/teams`,
    hooks_url: `${url}/hooks`,
    issue_events_url: `${url}/issues/events{/number}`,
    events_url: `${url}/events`,
    assignees_url: `${url}/assignees{/user}`,
    branches_url: `${url}/branches{/branch}`,
    tags_url: `${url}/tags`,
    blobs_url: `${url}/git/blobs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    trees_url: `${url}/git/trees{/sha}`,
    statuses_url: `${url}/statuses/{sha}`,
    languages_url: `${url}/languages`,
    stargazers_url: `${url}/stargazers`,
    contributors_url: `${url}/contributors`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    commits_url: `${url}/commits{/sha}`,
    git_commits_url: `${url}/git/commits{/sha}`,
    comments_url: `${url}/comments{/number}`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    contents_url: `${url}/contents/{+path}`,
    compare_url: `${url}/compare/{base}...{head}`,
    merges_url: `${url}/merges`,
    archive_url: `${url}/{archive_format}{/ref}`,
    downloads_url: `${url}/downloads`,
    issues_url: `${url}/issues{/number}`,
    pulls_url: `${url}/pulls{/number}`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    labels_url: `${url}/labels{/name}`,
    releases_url: `${url}/releases{/id}`,
    deployments_url: `${url}/deployments`,
    created_at: ctx.createdAt,
    updated_at: pushedAt,
    pushed_at: pushedAt,
    git_url: `git://${host}/${full}.git`,
    ssh_url: `git@${host}:${full}.git`,
    clone_url: `${ctx.serverUrl}/${full}.git`,
    svn_url: `${ctx.serverUrl}/${full}`,
    homepage: null,
    size: 0,
    stargazers_count: 0,
    watchers_count: 0,
    language: 'C',
    has_issues: true,
    has_projects: true,
    has_downloads: true,
    has_wiki: true,
    has_pages: false,
    has_discussions: false,
    forks_count: 0,
    mirror_url: null,
    archived: false,
    disabled: false,
    open_issues_count: openIssues,
    license: null,
    allow_forking: true,
    is_template: false,
    web_commit_signoff_required: false,
    topics: [],
    visibility: 'public',
    forks: 0,
    open_issues: openIssues,
    watchers: 0,
    default_branch: ctx.defaultBranch
  }
}

/** The extra fields of `GET /repos/{owner}/{repo}` (full-repository). */
export function fullRepoObject(
  ctx: RepoContext,
  openIssues: number,
  pushedAt: string
): Record<string, unknown> {
  return {
    ...repoObject(ctx, openIssues, pushedAt),
    permissions: { admin: false, maintain: false, push: true, triage: false, pull: true },
    network_count: 0,
    subscribers_count: 0,
    allow_squash_merge: true,
    allow_merge_commit: true,
    allow_rebase_merge: true,
    allow_auto_merge: false,
    delete_branch_on_merge: false,
    allow_update_branch: false
  }
}

export function labelObject(ctx: RepoContext, name: string, id: number): Record<string, unknown> {
  return {
    id,
    node_id: nodeId('Label', id),
    url: `${ctx.apiUrl}/repos/${ctx.owner}/${ctx.repo}/labels/${encodeURIComponent(name)}`,
    name,
    color: 'ededed',
    default: false,
    description: null
  }
}

function issueUrls(ctx: RepoContext, n: number): Record<string, string> {
  const repoUrl = `${ctx.apiUrl}/repos/${ctx.owner}/${ctx.repo}`
  return {
    repoUrl,
    issue: `${repoUrl}/issues/${n}`,
    pull: `${repoUrl}/pulls/${n}`,
    html: `${ctx.serverUrl}/${ctx.owner}/${ctx.repo}/pull/${n}`
  }
}

export function pullObject(
  ctx: RepoContext,
  pr: StoredPull,
  git: PullGitState,
  labelIds: (name: string) => number,
  openIssues: number,
  pushedAt: string
): Record<string, unknown> {
  const u = issueUrls(ctx, pr.number)
  const repo = repoObject(ctx, openIssues, pushedAt)
  const owner = ownerObject(ctx)
  const statuses = `${u.repoUrl}/statuses/${pr.headSha}`
  const merged = pr.mergedAt !== null
  return {
    url: u.pull,
    id: 1000000 + pr.number,
    node_id: nodeId('PullRequest', 1000000 + pr.number),
    html_url: u.html,
    diff_url: `${u.html}.diff`,
    patch_url: `${u.html}.patch`,
    issue_url: u.issue,
    number: pr.number,
    state: pr.state,
    locked: false,
    title: pr.title,
    user: actorObject(ctx),
    body: pr.body,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    closed_at: pr.closedAt,
    merged_at: pr.mergedAt,
    merge_commit_sha: pr.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    labels: pr.labels.map(name => labelObject(ctx, name, labelIds(name))),
    milestone: null,
    draft: pr.draft,
    commits_url: `${u.pull}/commits`,
    review_comments_url: `${u.pull}/comments`,
    review_comment_url: `${u.repoUrl}/pulls/comments{/number}`,
    comments_url: `${u.issue}/comments`,
    statuses_url: statuses,
    head: {
      label: `${ctx.owner}:${pr.headRef}`,
      ref: pr.headRef,
      sha: pr.headSha,
      user: owner,
      repo
    },
    base: {
      label: `${ctx.owner}:${pr.baseRef}`,
      ref: pr.baseRef,
      sha: git.baseSha,
      user: owner,
      repo
    },
    _links: {
      self: { href: u.pull },
      html: { href: u.html },
      issue: { href: u.issue },
      comments: { href: `${u.issue}/comments` },
      review_comments: { href: `${u.pull}/comments` },
      review_comment: { href: `${u.repoUrl}/pulls/comments{/number}` },
      commits: { href: `${u.pull}/commits` },
      statuses: { href: statuses }
    },
    author_association: 'CONTRIBUTOR',
    auto_merge: null,
    active_lock_reason: null,
    merged,
    mergeable: null,
    rebaseable: null,
    mergeable_state: 'unknown',
    merged_by: null,
    comments: pr.comments.length,
    review_comments: 0,
    maintainer_can_modify: pr.maintainerCanModify,
    commits: git.commits,
    additions: git.additions,
    deletions: git.deletions,
    changed_files: git.changedFiles
  }
}

/** The list form (pull-request-simple) drops the counters of the detail form. */
export function simplePullObject(full: Record<string, unknown>): Record<string, unknown> {
  const out = { ...full }
  for (const key of [
    'merged',
    'mergeable',
    'rebaseable',
    'mergeable_state',
    'merged_by',
    'comments',
    'review_comments',
    'maintainer_can_modify',
    'commits',
    'additions',
    'deletions',
    'changed_files'
  ])
    delete out[key]
  return out
}

export function issueObject(
  ctx: RepoContext,
  pr: StoredPull,
  labelIds: (name: string) => number
): Record<string, unknown> {
  const u = issueUrls(ctx, pr.number)
  return {
    id: 2000000 + pr.number,
    node_id: nodeId('Issue', 2000000 + pr.number),
    url: u.issue,
    repository_url: u.repoUrl,
    labels_url: `${u.issue}/labels{/name}`,
    comments_url: `${u.issue}/comments`,
    events_url: `${u.issue}/events`,
    html_url: u.html,
    number: pr.number,
    state: pr.state,
    state_reason: pr.state === 'closed' ? 'completed' : null,
    title: pr.title,
    body: pr.body,
    user: actorObject(ctx),
    labels: pr.labels.map(name => labelObject(ctx, name, labelIds(name))),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: pr.comments.length,
    pull_request: {
      url: u.pull,
      html_url: u.html,
      diff_url: `${u.html}.diff`,
      patch_url: `${u.html}.patch`,
      merged_at: pr.mergedAt
    },
    closed_at: pr.closedAt,
    created_at: pr.createdAt,
    updated_at: pr.updatedAt,
    draft: pr.draft,
    closed_by: null,
    author_association: 'CONTRIBUTOR'
  }
}

export function commentObject(ctx: RepoContext, n: number, c: StoredComment): Record<string, unknown> {
  const u = issueUrls(ctx, n)
  return {
    id: c.id,
    node_id: nodeId('IssueComment', c.id),
    url: `${u.repoUrl}/issues/comments/${c.id}`,
    html_url: `${u.html}#issuecomment-${c.id}`,
    body: c.body,
    user: actorObject(ctx),
    created_at: c.createdAt,
    updated_at: c.updatedAt,
    issue_url: u.issue,
    author_association: 'CONTRIBUTOR'
  }
}

export function refObject(ctx: RepoContext, branch: string, sha: string): Record<string, unknown> {
  const repoUrl = `${ctx.apiUrl}/repos/${ctx.owner}/${ctx.repo}`
  return {
    ref: `refs/heads/${branch}`,
    node_id: nodeId('Ref', REPO_ID),
    url: `${repoUrl}/git/refs/heads/${branch}`,
    object: { sha, type: 'commit', url: `${repoUrl}/git/commits/${sha}` }
  }
}

/** A ref of any kind (`refs/heads/x`, `refs/ml2pr/state`), as the git refs API shows it. */
export function gitRefObject(ctx: RepoContext, name: string, sha: string): Record<string, unknown> {
  const repoUrl = `${ctx.apiUrl}/repos/${ctx.owner}/${ctx.repo}`
  return {
    ref: name,
    node_id: nodeId('Ref', REPO_ID),
    url: `${repoUrl}/git/${name}`,
    object: { sha, type: 'commit', url: `${repoUrl}/git/commits/${sha}` }
  }
}

/** `GET /repos/{owner}/{repo}/git/commits/{sha}`. */
export function gitCommitObject(ctx: RepoContext, c: CommitInfo): Record<string, unknown> {
  const repoUrl = `${ctx.apiUrl}/repos/${ctx.owner}/${ctx.repo}`
  const html = `${ctx.serverUrl}/${ctx.owner}/${ctx.repo}`
  return {
    sha: c.sha,
    node_id: nodeId('Commit', REPO_ID),
    url: `${repoUrl}/git/commits/${c.sha}`,
    html_url: `${html}/commit/${c.sha}`,
    author: { name: c.authorName, email: c.authorEmail, date: c.authorDate },
    committer: { name: c.committerName, email: c.committerEmail, date: c.committerDate },
    tree: { sha: c.tree, url: `${repoUrl}/git/trees/${c.tree}` },
    message: c.message,
    parents: c.parents.map(p => ({
      sha: p,
      url: `${repoUrl}/git/commits/${p}`,
      html_url: `${html}/commit/${p}`
    })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null }
  }
}

export interface CommitInfo {
  sha: string
  tree: string
  parents: string[]
  authorName: string
  authorEmail: string
  authorDate: string
  committerName: string
  committerEmail: string
  committerDate: string
  message: string
}

export function branchObject(ctx: RepoContext, branch: string, c: CommitInfo): Record<string, unknown> {
  const repoUrl = `${ctx.apiUrl}/repos/${ctx.owner}/${ctx.repo}`
  const html = `${ctx.serverUrl}/${ctx.owner}/${ctx.repo}`
  return {
    name: branch,
    commit: {
      sha: c.sha,
      node_id: nodeId('Commit', REPO_ID),
      url: `${repoUrl}/commits/${c.sha}`,
      html_url: `${html}/commit/${c.sha}`,
      comments_url: `${repoUrl}/commits/${c.sha}/comments`,
      commit: {
        author: { name: c.authorName, email: c.authorEmail, date: c.authorDate },
        committer: { name: c.committerName, email: c.committerEmail, date: c.committerDate },
        message: c.message,
        tree: { sha: c.tree, url: `${repoUrl}/git/trees/${c.tree}` },
        url: `${repoUrl}/git/commits/${c.sha}`,
        comment_count: 0,
        verification: {
          verified: false,
          reason: 'unsigned',
          signature: null,
          payload: null,
          verified_at: null
        }
      },
      author: null,
      committer: null,
      parents: c.parents.map(p => ({
        sha: p,
        url: `${repoUrl}/commits/${p}`,
        html_url: `${html}/commit/${p}`
      }))
    },
    _links: { self: `${repoUrl}/branches/${branch}`, html: `${html}/tree/${branch}` },
    protected: false,
    protection: {
      enabled: false,
      required_status_checks: { enforcement_level: 'off', contexts: [], checks: [] }
    },
    protection_url: `${repoUrl}/branches/${branch}/protection`
  }
}
