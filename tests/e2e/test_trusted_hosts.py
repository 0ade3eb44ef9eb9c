"""The API key goes only to Operator, loopback, or a host allowed from outside the repository.

A pull request can edit ``operator-iac.yaml``; the job that plans it holds the staging key.
Every name lookup of the process is watched (``socket.getaddrinfo``): a lookup of another
host fails loudly and is recorded, so "no connection was attempted" is an observation, and the
same watch sees the attempt as soon as the host is allowed from outside (the control).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import Cli, ProjectCopy

Project = Callable[..., ProjectCopy]
EVIL = "evil.example"


class Dialled(RuntimeError):
    """Raised instead of resolving a host that is not loopback: the test's tripwire."""


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Hosts the process tried to resolve, other than loopback (each attempt fails)."""
    seen: list[str] = []
    real = socket.getaddrinfo

    def watched(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("127.0.0.1", "::1", "localhost"):
            seen.append(name)
            raise Dialled(f"tried to resolve {name}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", watched)
    yield seen


def pointed_at(copy: ProjectCopy, url: str, was: str = "https://api.operator.xyz",
               ) -> ProjectCopy:
    """The project file's staging ``api_url`` changed from ``was`` to ``url``."""
    copy.edit_project_file(f"api_url: {was}\n", f"api_url: {url}\n")
    return copy


def plan(copy: ProjectCopy, *extra: str) -> Any:
    """``plan --env staging`` on the project as it is, with no --api-url."""
    return copy.cli("--project-file", str(copy.project_file), "--env", "staging",
                    "--no-color", *extra, "plan")


def test_a_project_file_naming_another_host_fails_before_any_connection(
        project: Project, lookups: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    copy = pointed_at(project(), f"https://{EVIL}/v1")

    refused = plan(copy)

    assert refused.exit_code == 3, refused.stdout + refused.stderr
    assert lookups == []
    assert f"operator-iac.yaml:10: api_url https://{EVIL}/v1 names {EVIL}" in refused.stderr
    assert f"add {EVIL} to OPERATOR_IAC_ALLOWED_HOSTS" in refused.stderr
    assert "--api-url" in refused.stderr
    assert copy.emulator.api_key not in refused.stdout + refused.stderr

    # The control: allowed from outside the repository, the same file reaches for the host.
    monkeypatch.setenv("OPERATOR_IAC_ALLOWED_HOSTS", f"hooks.example,{EVIL}")
    allowed = plan(copy)
    # Both agent lists are sent at once: each may look the host up.
    assert allowed.exit_code == 1 and set(lookups) == {EVIL}, allowed.stderr


def test_the_command_line_chooses_any_https_host_and_never_plain_http(
        project: Project, lookups: list[str]) -> None:
    copy = project()
    chosen = plan(copy, "--api-url", f"https://{EVIL}")
    assert chosen.exit_code == 1 and set(lookups) == {EVIL}, chosen.stderr
    reached = len(lookups)

    for url in (f"http://{EVIL}", f"https://api.operator.xyz@{EVIL}"):
        refused = plan(copy, "--api-url", url)
        assert refused.exit_code == 3, refused.stderr
        assert len(lookups) == reached  # nothing more
    assert "sent over https only" in plan(copy, "--api-url", f"http://{EVIL}").stderr


def test_plain_http_in_the_project_file_is_refused_even_for_an_allowed_host(
        project: Project, lookups: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPERATOR_IAC_ALLOWED_HOSTS", EVIL)
    refused = plan(pointed_at(project(), f"http://{EVIL}"))
    assert refused.exit_code == 3
    assert "the API key is sent over https only" in refused.stderr
    assert lookups == []


def test_loopback_and_the_emulator_keep_working(project: Project, lookups: list[str]) -> None:
    copy = project()
    port = copy.emulator.url.rsplit(":", 1)[1]
    was = "https://api.operator.xyz"
    for url in (f"http://localhost:{port}", copy.emulator.url):
        result = plan(pointed_at(copy, url, was))
        assert result.exit_code == 0, result.stderr
        assert f", {url}" in result.stdout
        was = url
    pointed_at(copy, "https://api.operator.xyz", was)
    emulated = copy.cli("--project-file", str(copy.project_file), "--emulator", "--env",
                        "staging", "plan")
    assert emulated.exit_code == 0, emulated.stderr
    assert lookups == []


def test_the_installed_command_refuses_the_host_too(project: Project, tmp_path: Path) -> None:
    copy = pointed_at(project(), f"https://{EVIL}")
    installed = Path(sys.executable).with_name("operator-iac")
    command = [str(installed)] if installed.exists() else [sys.executable, "-m", "operator_iac"]
    result = subprocess.run([*command, "--env", "staging", "plan"], cwd=copy.root,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 3, result.stderr
    assert f"names {EVIL}" in result.stderr


def test_a_command_without_a_project_file_is_held_to_https_too(
        cli: Cli, lookups: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no operator-iac.yaml here: the key is OPERATOR_API_KEY
    monkeypatch.setenv("OPERATOR_API_KEY", "op_test_never_sent")
    refused = cli("--api-url", f"http://{EVIL}", "transcript", "conv_x")
    assert refused.exit_code == 3 and "sent over https only" in refused.stderr
    assert lookups == []
    chosen = cli("--api-url", f"https://{EVIL}", "transcript", "conv_x")
    assert chosen.exit_code == 1 and lookups == [EVIL], chosen.stderr
