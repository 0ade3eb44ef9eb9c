"""The whole life of the example project on a randomised platform (the registry of variations
drawn for one seed, staging and production alike), through the real CLI.

validate, plan, apply with smoke tests, a second apply at once, a dashboard edit seen by
status and undone by rollback, an agent built in the dashboard with an empty description
imported and adopted, promote, a transcript; then one agent per key on both platforms, both
converged, and no command reporting a conflict nobody caused.

Self-contained (operator-iac and the standard library only), so that the suite runs it for
a few seeds and ``tests/bench/bench_random_platforms.py`` for twenty. ``live`` returns the
first step that went wrong, with what the command said, rather than raising: a seed's report
names its platform, its step and its message.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from operator_iac.api.client import OperatorClient
from operator_iac.api.event_stream import ended
from operator_iac.emulator.server import EmulatorServer
from operator_iac.emulator.variations import Drawn, draw

KEYS = ("appointment-booking", "call-summary", "lead-qualification", "support-triage")
GREETINGS = {"appointment-booking": "Amanda", "support-triage": "Sam"}
PROJECT = "acme-support"
# The bound of the drawn delays: small, so a seed's whole life stays short; the suite's own
# lives and walks draw within ``SUITE_LAG_S`` (the same platforms, with shorter delays).
MAX_LAG_S = 1.0
SUITE_LAG_S = 0.5
# Decomposed Unicode in a prompt, for platforms that store text NFC-normalised.
DECOMPOSED = unicodedata.normalize("NFD", "Ask whether the customer wants a crème brûlée.")
# Words no command may print unless someone else really wrote at the same time.
FALSE_CONFLICTS = re.compile(r"CONFLICT|someone else|foreign draft|the platform did not keep",
                             re.IGNORECASE)


class Result(Protocol):
    exit_code: int
    stdout: str
    stderr: str


class StepFailed(Exception):
    """A step of the life did not go as it should."""


@dataclass
class Life:
    """One seed's platforms, the project on them, and how to run the CLI on it."""

    seed: int
    root: Path
    cli: Callable[..., Result]  # operator-iac with global options first
    staging: EmulatorServer
    production: EmulatorServer
    max_lag_s: float = MAX_LAG_S  # the bound of the delays drawn (the suite's are shorter)
    skew_s: float = 0.0
    """How far the platforms' clocks are from this machine's, in seconds (ahead: positive):
    nothing keeps a platform's clock and a CI runner's together."""
    latency_ms: int = 0
    """How long each request to the platforms takes: a far platform widens every window
    between a read and a write."""
    drawn: Drawn = field(init=False)
    steps: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.drawn = draw(self.seed, self.max_lag_s)

    @property
    def platform(self) -> str:
        lags = ", ".join(f"{k} {v:g}s" for k, v in self.drawn.delays.items())
        apart = ", ".join(part for part in (
            f"clock {self.skew_s:+g}s" if self.skew_s else "",
            f"latency {self.latency_ms} ms" if self.latency_ms else "") if part)
        return f"seed {self.seed}: {', '.join(self.drawn.modes) or 'usual'}" + \
            (f"; {lags}" if lags else "") + (f"; {apart}" if apart else "")

    def play(self) -> None:
        """Both platforms as drawn, with the clock and latency set for this life."""
        for server in (self.staging, self.production):
            server.set_faults(compat=list(self.drawn.modes), latency_ms=self.latency_ms,
                              **self.drawn.delays)
            server.advance_clock(self.skew_s)

    def run(self, step: str, *args: str, expect: int = 0) -> Result:
        """Run a command as a step; StepFailed on another exit code or a false conflict."""
        self.steps.append(step)
        result = self.cli("--project-file", str(self.root / "operator-iac.yaml"),
                          "--no-color", *args)
        said = result.stdout + result.stderr
        if result.exit_code != expect:
            raise StepFailed(f"{step}: `{' '.join(args)}` exited {result.exit_code}, not "
                             f"{expect}:\n{_tail(said)}")
        found = FALSE_CONFLICTS.search(said)
        if found:
            raise StepFailed(f"{step}: `{' '.join(args)}` said {found.group(0)!r}:\n"
                             f"{_tail(said)}")
        return result


def settle(*servers: EmulatorServer) -> None:
    """Let every lagging list catch up (as time would), for the checks of the test itself:
    a list whose delays vary (``uneven_list_lag``, ``replica_lists``) trails by up to twice
    the delay drawn."""
    for server in servers:
        server.advance_clock(2 * MAX_LAG_S + 0.5)


def adapt_project(root: Path, modes: tuple[str, ...]) -> None:
    """What a user does for the variations that are theirs to decide, and a ``procedure``
    assertion whose output is checked against an OpenAPI 3 schema, whatever was drawn."""
    if "no_greeting" in modes:
        for key, persona in GREETINGS.items():
            _replace(root / "agents" / f"{key}.yaml",
                     f"      - expect:\n          - agent_says: {{contains: {persona}}}\n", "",
                     count=-1)
    if "no_testmode_postprocessing" in modes:
        for key_variable in ("OPERATOR_API_KEY_STAGING", "OPERATOR_API_KEY"):
            _replace(root / "operator-iac.yaml", f"    api_key_env: {key_variable}\n",
                     f"    api_key_env: {key_variable}\n    testmode_postprocessing: false\n")
    if "released_only_conversations" in modes:
        _replace(root / "operator-iac.yaml", "smoke: {on: [draft, released]",
                 "smoke: {on: [released]")
    _replace(root / "agents" / "appointment-booking.yaml",
             "      - ended_with_status: completed\n",
             "      - ended_with_status: completed\n"
             "      - procedure: {agent: call-summary, status: success}\n")
    _replace(root / "agents" / "call-summary.yaml", '          type: [string, "null"]\n',
             "          type: string\n          nullable: true\n")
    prompt = root / "agents" / "prompts" / "appointment-booking.md"
    prompt.write_text(prompt.read_text(encoding="utf-8") + DECOMPOSED + "\n", encoding="utf-8")


def live(life: Life) -> str | None:
    """The whole life on ``life``'s platforms; None, or what went wrong first."""
    life.play()
    adapt_project(life.root, life.drawn.modes)
    try:
        with OperatorClient(life.staging.url, life.staging.api_key) as staging, \
                OperatorClient(life.production.url, life.production.api_key) as production:
            _life(life, staging, production)
    except StepFailed as exc:
        return str(exc)
    return None


def _life(life: Life, staging: OperatorClient, production: OperatorClient) -> None:
    life.run("validate", "validate")
    life.run("plan", "plan", "--env", "staging")
    applied = life.run("apply", "apply", "--env", "staging", "--yes")
    _expect("apply", "smoke tests passed on released" in applied.stderr, applied.stderr)
    life.run("second apply", "apply", "--env", "staging", "--yes")
    settle(life.staging)
    _one_agent_per_key("second apply", staging, KEYS)
    life.run("plan after apply", "plan", "--env", "staging", "--detailed-exitcode")

    booking = _owned(staging)["appointment-booking"]
    _edit_in_dashboard(staging, booking)
    settle(life.staging)  # a person's edit is not followed by a command within the lag
    drift = life.run("status after a dashboard edit", "status", "--env", "staging", expect=2)
    _expect("status after a dashboard edit", "CHANGED OUTSIDE" in drift.stdout, drift.stdout)
    life.run("rollback", "rollback", "appointment-booking", "--env", "staging", "--yes")
    life.run("status after rollback", "status", "--env", "staging")

    desk = _build_in_dashboard(staging)
    settle(life.staging)
    life.run("import", "import", "--env", "staging", desk)
    life.run("adopt", "apply", "--env", "staging", "--yes", "--adopt")
    settle(life.staging)
    _one_agent_per_key("adopt", staging, (*KEYS, "front-desk"))
    _expect("adopt", _owned(staging)["front-desk"] == desk, "front-desk is another agent")

    life.run("promote", "promote", "--from", "staging", "--to", "production", "--yes")
    settle(life.staging, life.production)
    _one_agent_per_key("promote", production, (*KEYS, "front-desk"))
    for env in ("staging", "production"):
        life.run(f"plan {env} at the end", "plan", "--env", env, "--detailed-exitcode")
    _transcript(life, production)


def _transcript(life: Life, client: OperatorClient) -> None:
    triage = _owned(client)["support-triage"]
    created = client.conversations.create(triage, livemode=False)
    with client.open_session(created) as session:
        session.start()
        session.send_message("Hello there")
        session.end()
        for _ in client.events(created.id, stop=ended, deadline=10):
            pass  # the end is followed on the stream: the session may carry none of it
    shown = life.run("transcript", "transcript", created.id, "--env", "production",
                     "--format", "json")
    entries = json.loads(shown.stdout)["entries"]
    _expect("transcript", "Hello there" in json.dumps(entries)
            and "completed" in json.dumps(entries[-1]), shown.stdout)


# ---- the platform as a third party sees it ---------------------------------------------------


def _owners(client: OperatorClient) -> dict[str, list[str]]:
    """key -> ids of the agents whose versions carry this project's marker for it."""
    from operator_iac.plan.marker import parse_marker

    found: dict[str, list[str]] = {}
    for resource in (client.conversational_agents, client.procedural_agents):
        for summary in resource.list():
            keys = {m.key for v in resource.list_versions(summary.id)
                    if (m := parse_marker(v.description)) is not None and m.project == PROJECT}
            for key in keys:
                found.setdefault(key, []).append(summary.id)
    return found


def _owned(client: OperatorClient) -> dict[str, str]:
    return {key: ids[0] for key, ids in _owners(client).items()}


def _one_agent_per_key(step: str, client: OperatorClient, keys: tuple[str, ...]) -> None:
    owners = _owners(client)
    _expect(step, sorted(owners) == sorted(keys) and all(len(i) == 1 for i in owners.values()),
            f"agents per key: {owners}")
    listed = [s.id for r in (client.conversational_agents, client.procedural_agents)
              for s in r.list()]
    _expect(step, len(listed) == len(keys), f"{len(listed)} agents for {len(keys)} keys")


def _edit_in_dashboard(client: OperatorClient, agent_id: str,
                       model: str = "openai/gpt-4.1") -> None:
    """Someone changes the model in the dashboard and releases it."""
    agents = client.conversational_agents
    current = agents.get(agent_id)
    runtime = {**current.config.get("runtime", {}), "model": model}
    draft = agents.update(agent_id, config={**current.config, "runtime": runtime})
    agents.release(draft.version_id or agent_id)


def _build_in_dashboard(client: OperatorClient) -> str:
    """A chat agent made by hand, with an empty description, released."""
    agents = client.conversational_agents
    desk = agents.create(name="Front desk", description="", config={
        "personas": [{"name": "Sam"}],
        "runtime": {"model": "openai/gpt-4o",
                    "prompt": {"type": "fixed", "text": "You are the front desk.\n"}}})
    agents.release(desk.version_id or f"{desk.id}@v0")
    return desk.id


def _expect(step: str, holds: bool, said: Any, lines: int = 12) -> None:
    if not holds:
        raise StepFailed(f"{step}: {_tail(str(said), lines)}")


def _replace(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise AssertionError(f"{old!r} is not in {path.name}")
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _tail(text: str, lines: int = 12) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
