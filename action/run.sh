#!/usr/bin/env bash
# The action's command: operator-iac --no-color COMMAND [--env ENVIRONMENT] [report options]
# ARGS. Report commands are asked for Markdown (plan also saves the plan and uses
# --detailed-exitcode); lint writes SARIF to a file for code scanning and its findings as text
# to the log. The step always succeeds and leaves the command's exit code, the plan file, the
# Markdown file and the SARIF file in its outputs; the action's last step decides whether the
# job fails, after the pull-request comment and the SARIF upload had their chance.
set -uo pipefail

fail() {
  echo "::error::$1"
  exit 1
}

out_dir="$(mktemp -d "${RUNNER_TEMP:-/tmp}/operator-iac.XXXXXX")" || fail "no temporary folder"

# Split an input as a shell would (quotes, no expansion), one NUL-terminated word each.
split_input() {
  python3 -c 'import os, shlex, sys
print("".join(w + "\0" for w in shlex.split(os.environ.get(sys.argv[1], ""))), end="")' "$1"
}
split_input OPERATOR_IAC_ACTION_COMMAND > "$out_dir/command" \
  || fail "the command input is not valid shell words: ${OPERATOR_IAC_ACTION_COMMAND:-}"
split_input OPERATOR_IAC_ACTION_ARGS > "$out_dir/args" \
  || fail "the args input is not valid shell words: ${OPERATOR_IAC_ACTION_ARGS:-}"
mapfile -d '' -t words < "$out_dir/command"
mapfile -d '' -t extra < "$out_dir/args"
[ "${#words[@]}" -gt 0 ] || fail "the command input is empty (for example: plan)"

# Where the API key may go is set by the workflow, never by a file the pull request edits:
# the api-url input wins over api_url in operator-iac.yaml, and allowed-hosts adds to the
# hosts operator-iac trusts there (beside api.operator.xyz and loopback). An empty input
# leaves whatever the job's own environment says.
if [ -n "${OPERATOR_IAC_ACTION_API_URL:-}" ]; then
  export OPERATOR_IAC_API_URL="$OPERATOR_IAC_ACTION_API_URL"
fi
if [ -n "${OPERATOR_IAC_ACTION_ALLOWED_HOSTS:-}" ]; then
  export OPERATOR_IAC_ALLOWED_HOSTS="${OPERATOR_IAC_ALLOWED_HOSTS:-} $OPERATOR_IAC_ACTION_ALLOWED_HOSTS"
fi

command="${words[0]}"
args=("${words[@]}")
if [ -n "${OPERATOR_IAC_ACTION_ENVIRONMENT:-}" ]; then
  args+=(--env "$OPERATOR_IAC_ACTION_ENVIRONMENT")
fi
plan_file=""
markdown_file=""
sarif_file=""
case "$command" in
  plan)
    plan_file="$out_dir/plan.json"
    markdown_file="$out_dir/report.md"
    args+=(--format markdown --out "$plan_file" --detailed-exitcode)
    ;;
  apply | promote | status)
    markdown_file="$out_dir/report.md"
    args+=(--format markdown)
    ;;
  lint)
    sarif_file="$out_dir/lint.sarif"
    ;;
esac
args+=("${extra[@]}")

ok_codes="${OPERATOR_IAC_ACTION_OK:-}"
if [ -z "$ok_codes" ]; then
  if [ "$command" = plan ]; then ok_codes="0 2"; else ok_codes="0"; fi
fi

echo "operator-iac --no-color ${args[*]}"
if [ -n "$sarif_file" ]; then
  operator-iac --no-color "${args[@]}" --format sarif > "$sarif_file"
  code=$?
  # Code scanning annotates the pull request from the uploaded SARIF; workflow annotations
  # from this text run would repeat every finding, so they are made only without the upload.
  annotate="${GITHUB_ACTIONS:-}"
  if [ "${OPERATOR_IAC_ACTION_UPLOAD:-false}" = true ]; then annotate=false; fi
  GITHUB_ACTIONS="$annotate" operator-iac --no-color "${args[@]}" | tee "$out_dir/stdout"
  [ -s "$sarif_file" ] || sarif_file=""
else
  operator-iac --no-color "${args[@]}" | tee "$out_dir/stdout"
  code="${PIPESTATUS[0]}"
fi

if [ -n "$markdown_file" ] && [ -s "$out_dir/stdout" ]; then
  cp "$out_dir/stdout" "$markdown_file"
else
  markdown_file=""
fi
if [ -n "$plan_file" ] && [ ! -s "$plan_file" ]; then
  plan_file=""
fi
{
  echo "exit-code=$code"
  echo "ok-exit-codes=$ok_codes"
  echo "plan-file=$plan_file"
  echo "markdown-file=$markdown_file"
  echo "sarif-file=$sarif_file"
} >> "${GITHUB_OUTPUT:?GITHUB_OUTPUT names the step outputs file}"
