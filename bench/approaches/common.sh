# Shared by the comparison scripts. Environment: REMOTE (smart-HTTP URL), TOKEN, API, OWNER, REPO,
# MAILS (directory of *.eml, in order), WORK (empty scratch directory), BRANCH (to push), TITLE.
set -eu
auth="Authorization: basic $(printf 'x-access-token:%s' "$TOKEN" | base64 -w0)"
# Every git command that talks to GitHub carries the token as a header, as the seed deployment does.
g() { git -c http.extraheader="$auth" "$@"; }
open_pr() {
  curl -sf -o /dev/null -X POST -H "authorization: token $TOKEN" -H 'content-type: application/json' \
    "$API/repos/$OWNER/$REPO/pulls" \
    -d "{\"title\":\"$TITLE\",\"head\":\"$BRANCH\",\"base\":\"vfs.base.ci\",\"body\":\"benchmark\"}"
}
