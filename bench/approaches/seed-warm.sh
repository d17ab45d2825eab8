#!/bin/sh
# The seed deployment's warm path: its depth-500 clone restored from the cache (CACHE), fetch,
# reset --hard, clean -fdx, git am --3way, push, open the PR. (b4 fetching the mails is not counted.)
. "$(dirname "$0")/common.sh"
cp -a "$CACHE" "$WORK/linux"
cd "$WORK/linux"
g fetch -q "$REMOTE" vfs.base
git checkout -q -B vfs.base FETCH_HEAD
git reset -q --hard FETCH_HEAD
git clean -q -fdx
git am -q --3way "$MAILS"/*.eml
g push -q "$REMOTE" "HEAD:refs/heads/$BRANCH"
open_pr
