#!/usr/bin/env bash
# dist/ is what runners execute: it must match a fresh build of src/, and it must start.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build >/dev/null
if ! git diff --quiet --ignore-space-at-eol --text -- dist/; then
  echo "dist/ does not match a fresh build of src/. Run 'npm run build' and commit dist/." >&2
  git diff --stat -- dist/ >&2
  exit 1
fi
if [ -n "$(git status --porcelain -- dist/)" ]; then
  echo "dist/ has files not committed:" >&2
  git status --porcelain -- dist/ >&2
  exit 1
fi
# The bundle must load and reject bad input with a clear error (and change nothing).
out=$(env -i PATH="$PATH" HOME="$HOME" INPUT_BASE-BRANCH= GITHUB_REPOSITORY=o/r node dist/index.js 2>&1 || true)
if ! grep -q '::error::' <<<"$out"; then
  echo "dist/index.js did not run as expected:" >&2
  echo "$out" >&2
  exit 1
fi
echo "dist/ is up to date and runs."
