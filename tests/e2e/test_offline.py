"""docs/offline.md stays true: its session runs as written against a real ``operator-iac
emulator`` process started in a copy of the example project, with the export lines that
process prints, and staging and production end up on two accounts of it; ``--emulator
promote`` reads and writes two accounts of one in-process emulator."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from .cli_lines import invocations
from .conftest import Cli, ProjectCopy
from .emulator_process import headers, interrupt, launch

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "offline.md").read_text(encoding="utf-8")
DOCUMENTED_URL = "http://127.0.0.1:8765"


def session() -> tuple[list[str], list[str]]:
    """The export lines and the commands after them in the page's first shell block."""
    block = re.search(r"```sh\n(.*?)```", DOC, re.S)
    assert block is not None, "docs/offline.md has no sh block"
    lines = [line for line in block.group(1).splitlines() if line.strip()]
    assert invocations(lines[0]) == [["emulator"]]
    exports = [line for line in lines if line.startswith("export ")]
    return exports, [line for line in lines[1:] if not line.startswith("export ")]


def exported(lines: list[str]) -> dict[str, str]:
    """Variable -> value of ``export NAME=VALUE  # comment`` lines."""
    pairs = (line.split("#")[0].split(None, 1)[1].strip().split("=", 1) for line in lines)
    return {name: value for name, value in pairs}


def test_the_documented_offline_session_runs_as_written(
        project: Callable[..., ProjectCopy], cli: Cli,
        monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    exports, commands = session()
    process, url, banner = launch(cwd=copy.root)  # the installed entry point, in the project
    try:
        printed = [line.strip() for line in banner.splitlines() if "export " in line]
        assert [line.split() for line in printed] == \
            [line.replace(DOCUMENTED_URL, url).split() for line in exports]
        for name, value in exported(printed).items():
            monkeypatch.setenv(name, value)
        outputs = []
        for command in commands:
            result = cli(*invocations(command)[0])
            assert result.exit_code == 0, f"{command}\n{result.stdout}{result.stderr}"
            outputs.append(result.stdout + result.stderr)
        keys = exported(printed)
        with httpx.Client(base_url=url, timeout=5) as api:
            ids = {env: {a["id"] for a in api.get("/conversational_agents",
                                                 headers=headers(keys[variable])).json()["data"]}
                   for env, variable in (("staging", "OPERATOR_API_KEY_STAGING"),
                                         ("production", "OPERATOR_API_KEY"))}
    finally:
        interrupt(process)
    assert "Apply complete: 4 applied" in outputs[0]
    assert "Apply complete: 4 applied" in outputs[2]  # the saved promotion
    assert "Saved the plan (nothing to promote)" in outputs[4]
    assert json.loads((copy.root / "promotion.json").read_text())["summary"]["unchanged"] == 4
    assert "No changes: production already holds the declarations." in outputs[5]
    assert len(ids["staging"]) == len(ids["production"]) == 2
    assert not ids["staging"] & ids["production"]


def test_emulator_promote_reads_and_writes_two_accounts_of_one_emulator(
        project: Callable[..., ProjectCopy]) -> None:
    copy = project()
    result = copy.cli("--project-file", str(copy.project_file), "--emulator", "promote",
                      "--from", "staging", "--to", "production", "--yes")
    assert result.exit_code == 5, result.stdout + result.stderr
    assert result.stderr.count("Started an in-process Operator emulator") == 1
    assert "for environment production" in result.stderr
    assert "Environment staging is on the in-process emulator too, on an account of its " \
           "own" in result.stderr
    assert "call-summary: not on staging: apply it to staging first" in result.stderr
    assert not copy.emulator.requests  # the project's own platform was never asked
