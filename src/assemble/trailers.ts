import type { Trailer } from '../model.js'

/**
 * Adds follow-up trailers to a commit message the way b4 does: after the existing trailer block,
 * skipping any already present. (First version; refined with b4's full rules.)
 */
export function appendTrailers(message: string, trailers: Trailer[]): string {
  if (trailers.length === 0) return message
  const lines = message.replace(/\n+$/, '').split('\n')
  const present = new Set(lines.map(l => l.trim().toLowerCase()))
  const add = trailers.map(t => `${t.name}: ${t.value}`).filter(l => !present.has(l.toLowerCase()))
  if (add.length === 0) return message
  return `${lines.join('\n')}\n${add.join('\n')}\n`
}
