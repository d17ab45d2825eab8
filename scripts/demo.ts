/**
 * `npm run demo`: ml2pr's main job on a built-in sample. A GitHub stand-in holds a small repository with
 * `vfs.base` and `vfs.base.ci`; a Patchwork stand-in and (when Debian's public-inbox is installed) a real
 * public-inbox carry a sample list with one 4-patch series and a review reply. The bundled action then runs
 * as a scheduled run would, and this prints the PR it opened.
 */
import { hasPublicInbox, mailsOf, startWorld } from '../__tests__/e2e/world.js'

const withLore = await hasPublicInbox()
if (!withLore) {
  console.log(
    'public-inbox is not installed (apt-get install public-inbox): lore is unreachable in this demo,'
  )
  console.log("so ml2pr falls back to Patchwork's series mbox, as it does when lore is down.\n")
}
const world = await startWorld({ lore: withLore })
try {
  const [cover, p1, p2, p3, p4, reply] = await mailsOf('mail/b4/trailers-thread-with-followups.mbox')
  const seriesId = await world.post({ cover, patches: [p1, p2, p3, p4], replies: [reply] })
  console.log(
    `Sample list: series ${seriesId} "${'This is a cover for test series 1'}" (cover + 4 patches + a review reply)`
  )
  console.log('Running dist/index.js as a scheduled run…\n')
  const result = await world.run()
  for (const line of renderLog(result.stdout)) console.log(`  | ${line}`)
  if (result.code !== 0) {
    console.error(`\nml2pr exited with ${result.code}\n${result.stderr}`)
    process.exitCode = 1
  }
  for (const pr of world.github.pulls()) {
    console.log(`\nOpened PR #${pr.number}: ${pr.title}`)
    console.log(`  ${world.github.serverUrl}/acme/linux/pull/${pr.number}   ${pr.headRef} → ${pr.baseRef}\n`)
    // The first line is ml2pr's hidden marker (an HTML comment GitHub does not show): show what GitHub shows.
    console.log(withoutMarker(pr.body ?? '').replace(/^/gm, '  '))
    console.log('\nCommits (full messages, with the trailers collected from the review replies):\n')
    const log = await world.git([
      'log',
      '--reverse',
      '--format=commit %H%nAuthor: %an <%ae>%n%n%B',
      `vfs.base..${pr.headSha}`
    ])
    console.log(log.trimEnd().replace(/^/gm, '  '))
  }
  console.log('\nJob summary (GITHUB_STEP_SUMMARY):\n')
  console.log(result.summary.replace(/^/gm, '  '))
} finally {
  await world.close()
}

/** The runner's log as a reader sees it: groups as indented sections, workflow commands as their text. */
function renderLog(stdout: string): string[] {
  const out: string[] = []
  let depth = 0
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue
    const group = /^::group::(.*)$/.exec(line)
    if (group) {
      out.push(`${'  '.repeat(depth)}▸ ${group[1]}`)
      depth++
      continue
    }
    if (line.startsWith('::endgroup::')) {
      depth = Math.max(0, depth - 1)
      continue
    }
    const command = /^::(warning|error|notice)[^:]*::(.*)$/.exec(line)
    if (command) out.push(`${'  '.repeat(depth)}${command[1]}: ${command[2]}`)
    else if (!line.startsWith('::')) out.push(`${'  '.repeat(depth)}${line}`)
  }
  return out
}

function withoutMarker(body: string): string {
  return body.replace(/^<!-- ml2pr:[^\n]*-->\n*/, '')
}
