"""``operator-iac status`` against the emulator: clean after apply (exit 0), exit 2 on a
dashboard edit or on declarations that were not applied, the three formats, the GitHub step
summary, and a platform answering with 429s and 503s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .two_platforms import COMMIT, Environments, Result, environments

__all__ = ["environments"]

KEY = "appointment-booking"


def status(environments: Environments, *args: str) -> Result:
    return environments.run("status", "--env", "staging", *args)


@pytest.fixture
def applied(environments: Environments) -> Environments:
    result = environments.apply_staging("--no-smoke")
    assert result.exit_code == 0, result.stderr
    return environments


def test_status_is_clean_after_apply(applied: Environments) -> None:
    result = status(applied)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Status: 4 agents, all in sync with the declarations.")
    staging = applied.platform("staging")
    agent_id = staging.id_of(KEY)
    row = next(line for line in result.stdout.splitlines() if line.startswith(KEY))
    assert row.split() == [KEY, f"{agent_id}@v0", "-", COMMIT[:12], "in", "sync"]


def test_dashboard_edit_makes_status_exit_2(applied: Environments) -> None:
    staging = applied.platform("staging")
    agent_id = staging.id_of(KEY)
    released = staging.released(agent_id)
    config = dict(released.config)
    config["runtime"] = {**config["runtime"], "model": "openai/gpt-4.1"}
    staging.emulator.edit_revision(released.version_id, config=config)
    result = status(applied)
    assert result.exit_code == 2
    row = next(line for line in result.stdout.splitlines() if line.startswith(KEY))
    assert "CHANGED OUTSIDE OPERATOR-IAC" in row
    assert "no longer matches the content hash in its marker" in result.stdout
    data = json.loads(status(applied, "--format", "json").stdout)
    agent = next(a for a in data["agents"] if a["key"] == KEY)
    assert agent["drift"] is True and data["exit_code"] == 2


def test_unapplied_declarations_make_status_exit_2(applied: Environments) -> None:
    applied.change_prompt()
    result = status(applied)
    assert result.exit_code == 2
    assert "0 changed outside operator-iac, 1 not matching the declarations" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith(KEY))
    assert row.endswith("differs from the declarations")


def test_status_lists_owned_agents_no_longer_declared(applied: Environments) -> None:
    (applied.root / "agents" / "support-triage.yaml").unlink()
    result = status(applied, "--format", "json")
    assert result.exit_code == 2
    agent = next(a for a in json.loads(result.stdout)["agents"] if a["key"] == "support-triage")
    assert agent["declared"] is False and agent["state"] == "owned, but no longer declared"


def test_status_markdown_goes_to_the_step_summary(applied: Environments, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = status(applied, "--format", "markdown")
    assert result.exit_code == 0
    assert "| Agent | Released | Draft | Commit | State |" in result.stdout
    assert f"| `{KEY}` |" in summary.read_text()


@pytest.mark.usefixtures("no_backoff")
def test_status_rides_out_429s_and_503s(applied: Environments) -> None:
    emulator = applied.platform("staging").emulator
    # Four failures in all: even if one request meets all of them, its retries suffice.
    emulator.fail_next(2, 429, method="GET", retry_after=0)
    emulator.fail_next(2, 503, method="GET", retry_after=0)
    result = status(applied)
    assert result.exit_code == 0, result.stderr
    assert "all in sync" in result.stdout
    statuses = [r.status for r in emulator.requests]
    assert statuses.count(429) == 2 and statuses.count(503) == 2


@pytest.mark.usefixtures("no_backoff")
def test_status_fails_clearly_when_retries_run_out(applied: Environments) -> None:
    applied.platform("staging").emulator.fail_next(100, 503, method="GET", retry_after=0)
    result = status(applied)
    assert result.exit_code == 1
    assert "failed with HTTP 503" in result.stderr
    assert "Traceback" not in result.stderr
