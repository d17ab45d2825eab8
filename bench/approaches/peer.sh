#!/bin/sh
# The peer approach: clone with checkout, git am, push, open the PR.
. "$(dirname "$0")/common.sh"
g clone -q --branch vfs.base "$REMOTE" "$WORK/linux"
cd "$WORK/linux"
git am -q --3way "$MAILS"/*.eml
g push -q origin "HEAD:refs/heads/$BRANCH"
open_pr
