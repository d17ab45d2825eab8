/**
 * The PR body after a refresh: the marker's `applyBase` and the "Applied onto" line name the new base commit.
 * Everything else (cover letter, range-diff, supersedes) stays as it was, so the body is edited, not re-rendered.
 */
import { parseMarker, renderMarker } from '../publish/render.js'

/** The body with `applyBase` replaced; undefined when the body has no marker of ml2pr's (never edit that). */
export function withApplyBase(body: string, applyBase: string): string | undefined {
  if (!/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(applyBase)) throw new Error(`not a commit id: ${applyBase}`)
  const marker = parseMarker(body)
  if (!marker) return undefined
  const newline = body.indexOf('\n')
  const rest = newline < 0 ? '' : body.slice(newline)
  const updated = rest.replace(
    /^(\*\*Applied onto:\*\* `)([0-9a-f]{7,64})(`)/m,
    (_, before: string, _old: string, after: string) => `${before}${applyBase}${after}`
  )
  return renderMarker({ ...marker, applyBase }) + updated
}
