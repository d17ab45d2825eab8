/** The reusable workflow's `entries` step: INPUT_COMMON (toJSON(inputs)) + INPUT_LISTS → the matrix. */
import * as core from '@actions/core'
import { expandEntries } from './entries.js'

try {
  const common = JSON.parse(process.env['INPUT_COMMON'] || '{}') as Record<string, unknown>
  const entries = expandEntries(common, process.env['INPUT_LISTS'] ?? '', process.env['INPUT_ONLY'] ?? '')
  core.setOutput('entries', JSON.stringify(entries))
  core.info(`${entries.length} list(s): ${entries.map(e => e.name || '(unnamed)').join(', ')}`)
} catch (error) {
  core.setFailed((error as Error).message)
}
