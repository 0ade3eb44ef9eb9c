#!/usr/bin/env bash
# Install operator-iac from the action's own checkout (ACTION_PATH), so the version is exactly
# the ref pinned in `uses:`, into a virtual environment of its own: once per job and ref, then
# on PATH for the steps that follow.
set -euo pipefail

source_dir="${ACTION_PATH:?ACTION_PATH names the action checkout}"
key="$(printf '%s' "$source_dir" | cksum | cut -d ' ' -f 1)"
venv="${RUNNER_TEMP:-/tmp}/operator-iac-$key"
if [ ! -x "$venv/bin/operator-iac" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$source_dir"
fi
if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$venv/bin" >> "$GITHUB_PATH"
fi
"$venv/bin/operator-iac" --version
