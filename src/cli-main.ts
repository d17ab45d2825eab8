#!/usr/bin/env node
/** `npx ml2pr`: see cli.ts. */
import { cli, loadActionInputs } from './cli.js'

process.exitCode = await cli(process.argv.slice(2), loadActionInputs(import.meta.url), {
  out: text => process.stdout.write(`${text}\n`),
  err: text => process.stderr.write(`${text}\n`),
  env: process.env
})
