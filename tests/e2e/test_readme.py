"""The README's and the documentation's examples stay true: the Python API page's snippet runs
as written against the emulator, and every ``operator-iac`` command line they show parses
against the real CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .cli_lines import invocations, parse_invocation

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PYTHON_API = (REPO / "docs" / "python-api.md").read_text(encoding="utf-8")


def _python_snippet() -> str:
    match = re.search(r"```python\n(.*?)```", PYTHON_API, re.S)
    assert match is not None, "the Python API page has no python block"
    return match.group(1)


def test_the_python_api_snippet_runs(emulator, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "agents").mkdir()
    for path in (REPO / "agents").rglob("*"):
        if path.is_file():
            target = tmp_path / "agents" / path.relative_to(REPO / "agents")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (tmp_path / "operator-iac.yaml").write_bytes((REPO / "operator-iac.yaml").read_bytes())
    env = {"PATH": "", "OPERATOR_IAC_API_URL": emulator.url,
           "OPERATOR_API_KEY_STAGING": emulator.api_key, "GIT_COMMIT": "0123456789ab"}
    done = subprocess.run([sys.executable, "-c", _python_snippet()], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Plan: 4 to create" in done.stdout
    assert "Apply complete: 4 applied" in done.stdout


def _command_lines() -> list[list[str]]:
    """Every operator-iac invocation in the shell blocks of the README and the documentation;
    usage lines show optional parts in brackets, so a line is cut at its first bracket."""
    found = []
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for args in invocations(block):
            cut = next((i for i, a in enumerate(args) if a.startswith("[")), len(args))
            found.append(args[:cut])
    return found


def test_the_documentation_shows_commands() -> None:
    assert len(_command_lines()) > 60


@pytest.mark.parametrize("args", _command_lines(), ids=lambda a: " ".join(a)[:60])
def test_every_command_line_in_the_readme_parses(args: list[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # paths in the README are relative to the repository
    parse_invocation(args)
