"""Network mistakes end with a message naming the fix, and what the client decides is on stderr:
a retry the moment it is decided, every request with ``--verbose`` (never a key)."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest

from operator_iac.settings import LOG_VARIABLE

from .conftest import ProjectCopy
from .json_contract import check_report


def test_a_wrong_key_names_its_variable_and_environment(
        project: Callable[..., ProjectCopy], monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    monkeypatch.setenv("OPERATOR_API_KEY_STAGING", "op_test_not_the_key")
    result = copy.plan()
    assert result.exit_code == 3
    assert "HTTP 401" in result.stderr
    assert ("the platform refused the API key from OPERATOR_API_KEY_STAGING (environment "
            "staging)") in result.stderr
    report = json.loads(copy.plan("--format", "json").stdout)
    assert [e["code"] for e in report["errors"]] == ["authentication_failed"]


def test_a_wrong_api_path_shows_the_full_url(project: Callable[..., ProjectCopy]) -> None:
    copy = project()
    result = copy.cli("--project-file", str(copy.project_file), "--api-url",
                      f"{copy.emulator.url}/v9", "--env", "staging", "plan")
    assert result.exit_code == 3
    assert f"{copy.emulator.url}/v9/" in result.stderr
    assert "is api_url right?" in result.stderr and "retrying" not in result.stderr


def test_a_host_that_does_not_resolve_is_named_and_not_retried(
        project: Callable[..., ProjectCopy], monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolver's answer reaches the client through the real HTTP stack: exit 3 at the
    first attempt, naming the host."""
    copy = project()
    real = socket.getaddrinfo
    asked: list[str] = []

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "nowhere.example":
            asked.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    result = copy.cli("--project-file", str(copy.project_file), "--api-url",
                      "https://nowhere.example", "--env", "staging", "plan", "--format", "json")
    report = check_report("plan", result.stdout, 3)
    assert [e["code"] for e in report["errors"]] == ["unknown_host"]
    assert "the host name nowhere.example does not resolve" in report["errors"][0]["message"]
    assert asked and "retrying" not in result.stderr


def test_a_retry_is_announced_and_verbose_logs_every_request(
        project: Callable[..., ProjectCopy], monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    copy.emulator.fail_next(1, 503, "GET", r"^/procedural_agents$")
    result = copy.plan("--quiet")
    assert result.exit_code == 0, result.stderr
    [retry] = [line for line in result.stderr.splitlines() if "retrying" in line]
    assert retry.startswith("warning: retrying GET /procedural_agents in ")
    assert retry.endswith(" s: HTTP 503")
    assert "debug:" not in result.stderr

    verbose = copy.plan("--verbose")
    requests = [line for line in verbose.stderr.splitlines() if " debug: GET " in line]
    assert any("GET /procedural_agents: HTTP 200" in line for line in requests)
    assert len(requests) >= 2  # every request, each on its own line
    for shown in (copy.emulator.api_key, "(sensitive)", "Bearer"):
        assert shown not in verbose.stderr

    monkeypatch.setenv(LOG_VARIABLE, "info")
    assert " debug: " not in copy.plan().stderr
    monkeypatch.setenv(LOG_VARIABLE, "debug")
    assert " debug: GET " in copy.plan().stderr
