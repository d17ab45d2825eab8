#!/bin/sh
# The bare-git floor: blobless depth-1 fetch, the touched blobs in one more round, index-only apply,
# commit-tree, push, open the PR. No worktree, no checkout.
. "$(dirname "$0")/common.sh"
g clone -q --bare --depth=1 --filter=blob:none --branch vfs.base "$REMOTE" "$WORK/floor.git"
export GIT_DIR="$WORK/floor.git" GIT_INDEX_FILE="$WORK/index"
# Lazy fetches of the promisor remote authenticate too (as actions/checkout keeps the header in config).
git config http.extraheader "$auth"
base=$(git rev-parse HEAD)
paths=$(sed -n 's#^diff --git a/\([^ ]*\) b/.*#\1#p' "$MAILS"/*.eml | sort -u)
blobs=$(git ls-tree "$base" -- $paths | awk '{print $3}')
[ -z "$blobs" ] || g -c fetch.negotiationAlgorithm=noop fetch -q --no-tags --no-write-fetch-head \
  --recurse-submodules=no --filter=blob:none origin $blobs
git read-tree "$base"
head=$base
for mail in "$MAILS"/*.eml; do
  git mailinfo -k "$WORK/msg" "$WORK/patch" < "$mail" > "$WORK/info"
  git apply --cached "$WORK/patch"
  # Shell builtins only: the floor is git's work, not helper processes.
  while IFS= read -r line; do
    case $line in
    "Author: "*) GIT_AUTHOR_NAME=${line#Author: } ;;
    "Email: "*) GIT_AUTHOR_EMAIL=${line#Email: } ;;
    "Date: "*) GIT_AUTHOR_DATE=${line#Date: } ;;
    "Subject: "*) subject=${line#Subject: } ;;
    esac
  done < "$WORK/info"
  export GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_AUTHOR_DATE
  head=$(printf '%s\n\n' "$subject" | cat - "$WORK/msg" | git commit-tree "$(git write-tree)" -p "$head")
done
g push -q origin "$head:refs/heads/$BRANCH"
open_pr
