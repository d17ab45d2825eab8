/**
 * The domain model that flows through the pipeline:
 *
 *   settings ─► discover ─► fetch ─► assemble ─► apply ─► publish ─► lifecycle ─► report
 *               SeriesRef    Mail[]    Series      Applied   Outcome
 *
 * Everything here is plain data: no I/O, no classes, so each stage can be tested with fixtures.
 */

export interface Person {
  name: string
  email: string
}

/** What discovery knows about one series version before any mail is fetched. */
export interface SeriesRef {
  /**
   * The series' identity in branch names and state: the Patchwork series id, or in lore-only mode a short
   * stable hash of the cover letter's (else patch 1's) Message-ID.
   */
  key: string
  /** Patchwork's numeric id, when the series came from Patchwork. */
  patchworkId?: number
  /** Series name as Patchwork (or the cover subject) gives it; untrusted text. */
  name: string
  version: number
  total: number
  receivedTotal: number
  receivedAll: boolean
  submitter: Person
  /** Patchwork's web page for the series (`/project/<p>/list/?series=<id>`). */
  webUrl?: string
  /**
   * Cover letter Message-ID without angle brackets. For a lore-only partial reroll without a cover of its
   * own, the Message-ID that identifies the series (so assembly picks the same revision again).
   */
  coverMsgid?: string
  /** Patch Message-IDs without angle brackets, in counter order when known. */
  patchMsgids: string[]
  /** Patchwork patch ids in the same order as patchMsgids (for states and checks). */
  patchIds: number[]
  /** Patchwork's series mbox URL (fallback source of the mails). */
  mboxUrl?: string
  /** The date of the first mail of the series (sender's clock), ISO 8601 UTC. */
  date: string
}

/** One parsed mail message. All text fields are decoded and untrusted. */
export interface Mail {
  /** Message-ID without angle brackets. */
  messageId: string
  inReplyTo?: string
  /** References, oldest first, without angle brackets. */
  references: string[]
  from: Person
  date?: Date
  /** Decoded Subject, whitespace collapsed. */
  subject: string
  /** Decoded text of the part that carries the patch (else the first text/plain part). */
  body: string
  /** The message exactly as received (mbox escaping undone), for git mailinfo. */
  raw: Buffer
  hasDiff: boolean
  hasDiffstat: boolean
  listId?: string
}

/** A subject line parsed the way b4 parses it. */
export interface ParsedSubject {
  /** The subject as given (whitespace collapsed). */
  full: string
  /** The title: the subject without `Re:` and leading `[...]` groups. */
  title: string
  isReply: boolean
  revision: number
  revisionInferred: boolean
  counter: number
  expected: number
  countersInferred: boolean
  isRfc: boolean
  isResend: boolean
  isPatch: boolean
  /** The other bracket tokens, e.g. `bpf-next`, `net`. */
  prefixes: string[]
}

export interface Trailer {
  name: string
  value: string
}

export interface Patch {
  /** 1-based position in the series. */
  counter: number
  mail: Mail
  /** Trailers given in review replies (b4's rules), to add to the commit message. */
  followupTrailers: Trailer[]
}

/** One version of a patch series, assembled from mails. */
export interface Series {
  revision: number
  /** N of `n/N`. */
  expected: number
  /** Title of the cover letter, else of patch 1. Untrusted. */
  title: string
  subject: ParsedSubject
  author: Person
  cover?: Mail
  /** Patches 1..N in counter order (only present ones when incomplete). */
  patches: Patch[]
  complete: boolean
  /** Counters of missing patches. */
  missing: number[]
  partialReroll: boolean
  /** From `base-commit:` in the cover letter or patch 1. */
  baseCommit?: string
  /** From `change-id:` in the cover letter or patch 1. */
  changeId?: string
  /** Message-ID identifying the series: the cover letter's, else patch 1's. */
  messageId: string
}

/** A commit ml2pr made for one patch. */
export interface AppliedPatch {
  counter: number
  sha: string
  subject: string
}

/** Why a series did not apply, with enough detail to reproduce it. */
export interface ApplyFailure {
  kind: 'conflict' | 'protected-path' | 'policy' | 'malformed' | 'empty'
  /** 1-based counter of the failing patch (0 for a whole-series check). */
  counter: number
  total: number
  subject: string
  /** git's own message, trimmed. */
  message: string
  /** Files involved (conflicting, protected, or offending). */
  files: string[]
  /** The commit the series was applied onto. */
  baseSha: string
}

export type ApplyResult =
  | { ok: true; baseSha: string; head: string; commits: AppliedPatch[] }
  | { ok: false; baseSha: string; failure: ApplyFailure }

/** What happened to one series in a run. */
export type Outcome =
  | { kind: 'opened'; key: string; title: string; pr: number; url: string; branch: string }
  | { kind: 'adopted'; key: string; title: string; pr: number; url: string; branch: string; state: string }
  | { kind: 'skipped'; key: string; title: string; reason: string }
  | { kind: 'failed'; key: string; title: string; reason: string; failure?: ApplyFailure; reproduce?: string }
  | { kind: 'refused'; key: string; title: string; reason: string; files: string[] }
  | { kind: 'closed'; key: string; title: string; pr: number; url: string; reason: string }
  /** An open PR moved onto the new base, or found not to apply to it any more (labelled needs-rebase). */
  | { kind: 'updated'; key: string; title: string; pr: number; url: string; reason: string }
