"""Apply with smoke tests against a platform that fails 15% of all requests (500 and 503,
seeded): retries ride most of it out, a create whose answer is lost is found by its marker,
and a second run finishes whatever the first could not, with no duplicate agent and no test
conversation left behind but the smoke record.

The project is small (one procedural agent, one chat agent with one smoke test) and the
backoff waits are skipped (``no_backoff``), so five seeds stay fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.emulator.server import EmulatorServer
from operator_iac.plan.marker import parse_marker

from .conftest import Cli, Result

pytestmark = pytest.mark.usefixtures("no_backoff")

PROJECT_FILE = """project: storm
environments:
  staging:
    api_url: {url}
    api_key_env: OPERATOR_API_KEY_STORM
"""
SUMMARY = """kind: procedural_agent
name: Chat summary
description: Summarises each chat.
config:
  filter_statuses: [completed]
  runtime:
    model: openai/gpt-4o-mini
    reasoning_effort: low
    prompt: {type: fixed, text: Summarise the chat in two sentences.}
  output:
    output_schema:
      type: object
      properties: {summary: {type: string}}
"""
DESK = """kind: conversational_agent
name: Front desk
description: Answers order questions.
config:
  personas: [{name: Sam}]
  runtime:
    model: openai/gpt-4o
    prompt: {type: fixed, text: You are Sam. Use @lookup_order for order questions.}
  tool:
    tools: [{ns: acme, name: lookup_order}]
postprocess_agents: [chat-summary]
smoke:
  - name: looks up an order
    turns:
      - expect: [{agent_says: {contains: Sam}}]
      - user: Please lookup_order AC-104233.
        expect: [{tool_called: {name: lookup_order}}]
    expect: [no_server_errors, {ended_with_status: completed}]
"""


def write_project(root: Path, url: str) -> Path:
    (root / "agents").mkdir(parents=True)
    (root / "agents" / "chat-summary.yaml").write_text(SUMMARY, encoding="utf-8")
    (root / "agents" / "front-desk.yaml").write_text(DESK, encoding="utf-8")
    project_file = root / "operator-iac.yaml"
    project_file.write_text(PROJECT_FILE.format(url=url), encoding="utf-8")
    return project_file


# Seeds, and a platform whose conversations lists give summaries (the records in the
# minutes after a release are then read by id).
@pytest.mark.parametrize("seed, compat", [*((seed, ()) for seed in range(1, 6)),
                                          *((seed, ("summary_lists",)) for seed in (6, 7, 8))])
def test_apply_with_smoke_converges_within_two_runs_at_a_15_percent_error_rate(
        emulator_factory: Callable[..., EmulatorServer], cli: Cli, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, seed: int, compat: tuple[str, ...]) -> None:
    emulator = emulator_factory()
    emulator.set_compat(*compat)
    project_file = write_project(tmp_path, emulator.url)
    monkeypatch.setenv("OPERATOR_API_KEY_STORM", emulator.api_key)
    monkeypatch.setenv("GIT_COMMIT", "0123456789abcdef")
    emulator.set_faults(error_rate=0.15, seed=seed, error_statuses=[500, 503])

    def apply() -> Result:
        result = cli("--project-file", str(project_file), "--no-color", "apply", "--yes")
        assert "Traceback" not in result.stderr
        return result

    runs = [apply()]
    if runs[0].exit_code != 0:
        runs.append(apply())
    assert runs[-1].exit_code == 0, runs[-1].stderr
    assert "front-desk: smoke tests passed on released" in "".join(r.stderr for r in runs)
    assert any(r.status >= 500 for r in emulator.requests)  # the storm did blow
    emulator.set_faults(error_rate=0.0)
    plan = cli("--project-file", str(project_file), "plan", "--detailed-exitcode")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    with OperatorClient(emulator.url, emulator.api_key) as client:
        agents = [*client.procedural_agents.list(), *client.conversational_agents.list()]
        keys = sorted(parse_marker(a.description).key for a in agents)  # type: ignore[union-attr]
        assert keys == ["chat-summary", "front-desk"]
        left = [c for c in client.conversations.list() if c.livemode is False]
        assert len(left) == 1 and not left[0].is_started  # the smoke record
