#!/usr/bin/env bash
# Keep one pull-request comment with the report: the comment that starts with this action's
# hidden marker (one per comment key) is updated, and posted only the first time. Uses the
# GitHub CLI, preinstalled on GitHub's runners, with GH_TOKEN.
set -euo pipefail

marker="<!-- operator-iac: ${COMMENT_KEY:?} -->"
repo="${GITHUB_REPOSITORY:?}"
pr="${PR_NUMBER:?}"
body_file="$(mktemp "${RUNNER_TEMP:-/tmp}/operator-iac-comment.XXXXXX")"

# A comment holds at most 65,536 characters; the plan stays under 60,000 by itself.
OPERATOR_IAC_MARKER="$marker" python3 - "${MARKDOWN_FILE:?}" > "$body_file" <<'PYTHON'
import os, sys
limit = 65_000
text = open(sys.argv[1], encoding="utf-8").read()
if len(text) > limit:
    text = text[:limit].rsplit("\n", 1)[0] + "\n\n> **Truncated**: see the job log for the rest.\n"
sys.stdout.write(os.environ["OPERATOR_IAC_MARKER"] + "\n" + text)
PYTHON

comment_id="$(gh api --paginate "repos/$repo/issues/$pr/comments?per_page=100" --jq '.[]' \
  | OPERATOR_IAC_MARKER="$marker" python3 -c '
import json, os, sys
marker = os.environ["OPERATOR_IAC_MARKER"]
for line in sys.stdin:
    comment = json.loads(line)
    if (comment.get("body") or "").startswith(marker):
        print(comment["id"])
        break
')"
if [ -n "$comment_id" ]; then
  gh api --method PATCH "repos/$repo/issues/comments/$comment_id" -F "body=@$body_file" \
    --jq .id > /dev/null
  echo "Updated the pull-request comment $comment_id"
else
  comment_id="$(gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body_file" \
    --jq .id)"
  echo "Posted the pull-request comment $comment_id"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "comment-id=$comment_id" >> "$GITHUB_OUTPUT"
fi
