/**
 * Which branch a series goes onto, and why (pure): a `base-map` rule matching one of the subject's tags
 * (`[PATCH bpf-next v2 1/3]` → `bpf-next`), else the configured base.
 */
import type { BaseReason } from '../publish/render.js'
import type { BaseRule } from '../settings.js'

export interface BaseChoice {
  /** The PR's base branch. */
  base: string
  /** The branch the series is applied onto. */
  applyOnto: string
  /** Why, shown in the PR body. */
  reason: BaseReason
}

export function chooseBase(
  subjectTags: string[],
  settings: { baseBranch: string; applyBranch: string; baseMap: BaseRule[] }
): BaseChoice {
  const tags = new Set(subjectTags.map(t => t.toLowerCase()))
  for (const rule of settings.baseMap) {
    if (tags.has(rule.tag)) {
      return {
        base: rule.branch,
        applyOnto: rule.branch,
        reason: { kind: 'base-map', prefix: rule.tag, branch: rule.branch }
      }
    }
  }
  return { base: settings.baseBranch, applyOnto: settings.applyBranch, reason: { kind: 'default' } }
}
