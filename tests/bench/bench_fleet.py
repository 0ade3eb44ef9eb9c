"""Benchmark: a fleet on a busy account, every case of the "busy accounts" table as a ratio to
its bound, measured in one run.

Run with ``python tests/bench/bench_fleet.py [--agents 200] [--small 20] [--big 2000]
[--conversations 1000,5000,20000] [--latency-ms 50] [--parallelism 8]``; ``--agents 20
--small 10 --big 200 --conversations 100,500`` is a quick run. An in-process emulator serves
every request after a fixed latency; each command runs as its own process of the installed
entry point (the whole process: start-up included), cold (no revision cache: a fresh CI
machine), and the requests are counted by the emulator. Past conversations are other teams'
traffic: seeded in bulk after the release, over the day that follows it, with the emulator's
clock moved on by that day.

Projects: a fifth procedural agents, the rest conversational agents with one smoke test each
(a greeting and a tool call) and ``postprocess_agents`` naming a procedural agent.

The bound of each case is ``needed x latency / parallelism``, plus the time its conversations
take where it has any (the slowest smoke conversation run alone, times the waves of them).
``needed`` is the requests the API contract and this design need, by formula, a smoke
conversation's own three (create, event stream, delete) counted in its time rather than
here; the emulator's count is printed beside the formula's total, so waste shows too. With
``P`` list pages of the agents (per kind: ceil(agents / page size), at least one), ``C``
conversational agents with smoke tests, ``Q`` procedural agents, ``n`` agents in all:

- plan, status: ``P + 2n + C``: the list pages; each agent's versions list and its released
  revision; the proof record of each released revision with smoke tests (read by id).
- apply changing ``k`` conversational agents: the plan's reads, ``2k`` for apply's re-check
  before the first write, and per agent ``12``: re-read (versions, released revision), the two
  smoke records, the draft's write and read-back, the two checks before the release (the
  released revision the plan saw, read by id: still released, and the draft), the release,
  the read-back after it, proving the release (reading the release record the marker names,
  to be sure the records speak of this revision, and deleting the proof record); plus
  2 stages x ceil(k / parallelism) conversations.
- apply of ``n`` new agents: ``2 + P`` (the lists, once per kind for the plan and once for the
  concurrent-create rule), per procedural agent ``5`` (create, read-back, check, release,
  read-back), per conversational agent ``12`` (create, read-back, the two records, the write
  naming them with its check and read-back, check, release, read-back, proving: 2); plus
  2 stages x ceil(C / parallelism) conversations.
- smoke of the released revisions: ``P + 2n`` reads and ``2C`` to prove the releases, plus
  ceil(C / parallelism) conversations.
- plan of ``n`` creates on an empty account: ``validate``'s time (the same declarations
  loaded and checked) plus two round trips (the two empty lists).
- ``--help``: ``--version``'s time.
- the plain sequential script (create, converse with the draft, release, converse again, one
  request after another) has no bound: the fleet apply is compared with it (aim: 6 times),
  and so is the fleet apply's bound, the most any run of these requests could gain at this
  parallelism (the script sends about half as many: none of the reads that check each write).

Plan and status, which take well under a second, are run five times at each count of past
conversations and reported by their median, with the fastest and slowest beside it; every
other case runs once. A process's own start-up and the loading of the declarations are no
request's: each row also
shows its ratio with ``validate``'s time of the same project (that local work) taken off.

Targets: plan and status 2 (and within 10 % of each other from 0 to the most past
conversations), apply of one change 3, apply of new agents 1.5, apply of ten changes 2, smoke
1.5, plan of creates 2, ``--help`` 2. These are measurements on this machine, not thresholds;
the emulator shares the machine with the client.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from operator_iac.api.client import OperatorClient
from operator_iac.emulator.server import EmulatorServer
from operator_iac.smoke.runner import run_once
from operator_iac.spec.models import SmokeTest

KEY_VARIABLE = "BENCH_OPERATOR_API_KEY"
DAY_S = 24 * 3600.0
PROJECT_FILE = f"""\
project: fleet
defaults:
  smoke: {{on: [draft, released], rollback: true}}
environments:
  bench:
    api_key_env: {KEY_VARIABLE}
"""
PROCEDURAL = """\
kind: procedural_agent
name: Summary {n}
description: Summarises calls of team {n}.
config:
  filter_statuses: [completed]
  runtime: {{model: openai/gpt-4o-mini, reasoning_effort: medium,
            prompt: {{type: fixed, text: "Summarise the call of team {n}."}}}}
"""
CONVERSATIONAL = """\
kind: conversational_agent
name: Front desk {n}
description: Answers the phone line of team {n}.
config:
  personas: [{{name: Amanda}}]
  runtime:
    model: openai/gpt-4o-mini
    prompt: {{type: fixed, text: "{prompt}"}}
  tool:
    tools: [{{ns: acme, name: check_availability}}]
postprocess_agents: [summary-{summary}]
smoke:
  - name: greets and checks availability
    turns:
      - expect: [{{agent_says: {{contains: Amanda}}}}]
      - user: Please check_availability for Tuesday
        expect: [{{tool_called: {{name: check_availability}}}}]
    expect: [no_server_errors]
"""
TEST = SmokeTest.model_validate({
    "name": "greets and checks availability",
    "turns": [{"expect": [{"agent_says": {"contains": "Amanda"}}]},
              {"user": "Please check_availability for Tuesday",
               "expect": [{"tool_called": {"name": "check_availability"}}]}],
    "expect": ["no_server_errors"]})


@dataclass(frozen=True)
class Row:
    """One case: what it took, what it needed, its bound and the aim for the ratio, and the
    time of the local work (start-up, loading the declarations) included in ``seconds``."""

    case: str
    seconds: float
    requests: int
    needed: int
    bound_s: float
    aim: float | None
    local_s: float = 0.0
    spread: tuple[float, float] | None = None  # the fastest and slowest of repeated runs

    @property
    def ratio(self) -> float:
        return self.seconds / self.bound_s if self.bound_s else float("inf")

    def line(self) -> str:
        aim = f"aim <= {self.aim:g}" if self.aim is not None else ""
        mark = "" if self.aim is None else ("ok" if self.ratio <= self.aim else "ABOVE")
        beyond = (f" ({max(self.seconds - self.local_s, 0) / self.bound_s:5.2f} beyond "
                  "local work)" if self.local_s and self.bound_s else "")
        if self.spread is not None and self.bound_s:
            beyond += (f" [median of {REPEATS}: {self.spread[0] / self.bound_s:.2f}-"
                       f"{self.spread[1] / self.bound_s:.2f}]")
        return (f"{self.case:<60} {self.seconds:7.2f} s {self.requests:6d} req "
                f"({self.needed:6d} by formula)  bound {self.bound_s:6.2f} s  ratio "
                f"{self.ratio:6.2f}{beyond}  {aim} {mark}")


@dataclass
class Bench:
    """The emulator, the latency and parallelism, and how to run the CLI on a project."""

    server: EmulatorServer
    latency_s: float
    parallelism: int
    page_size: int
    cli: list[str]

    def run(self, root: Path, *args: str) -> tuple[float, int, str]:
        """Seconds, requests counted by the emulator, and stdout of one CLI process."""
        environ = {**os.environ, KEY_VARIABLE: self.server.api_key, "GIT_COMMIT": "0" * 12,
                   "OPERATOR_IAC_NO_CACHE": "1", "NO_COLOR": "1"}
        environ.pop("GITHUB_STEP_SUMMARY", None)
        command = [*self.cli, "--project-file", str(root / "operator-iac.yaml"), "--api-url",
                   self.server.url, "--env", "bench", *args]
        self.server.clear_requests()
        started = time.perf_counter()
        done = subprocess.run(command, cwd=root, env=environ, capture_output=True, text=True,
                              check=False)
        seconds = time.perf_counter() - started
        if done.returncode not in (0, 2):
            raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
        return seconds, len(self.server.requests), done.stdout

    def bound(self, needed: int, extra_s: float = 0.0) -> float:
        return needed * self.latency_s / self.parallelism + extra_s

    def pages(self, procedural: int, conversational: int) -> int:
        return sum(max(1, math.ceil(n / self.page_size)) for n in (procedural, conversational))


# ---- projects ------------------------------------------------------------------------------


def write_project(root: Path, agents: int, version: int = 0,
                  changed: Callable[[int], bool] = lambda _n: True) -> tuple[int, int]:
    """A project of ``agents`` agents; conversational agent n's prompt carries ``version``
    when ``changed(n)``. Returns (procedural, conversational)."""
    procedural = max(1, agents // 5)
    (root / "agents").mkdir(parents=True, exist_ok=True)
    (root / "operator-iac.yaml").write_text(PROJECT_FILE, encoding="utf-8")
    for n in range(procedural):
        (root / "agents" / f"summary-{n}.yaml").write_text(PROCEDURAL.format(n=n),
                                                           encoding="utf-8")
    for n in range(agents - procedural):
        prompt = f"You are the front desk of team {n} (v{version if changed(n) else 0})."
        (root / "agents" / f"desk-{n}.yaml").write_text(
            CONVERSATIONAL.format(n=n, prompt=prompt, summary=n % procedural), encoding="utf-8")
    return procedural, agents - procedural


def slowest_conversation(server: EmulatorServer, samples: int = 5) -> float:
    """The slowest of a few smoke conversations run alone, at the current latency."""
    with OperatorClient(server.url, server.api_key) as client:
        released = [s.id for s in client.conversational_agents.list()][:samples]
        durations = []
        for agent_id in released:
            started = time.perf_counter()
            result = run_once(client, TEST, agent_id)
            durations.append(time.perf_counter() - started)
            assert result.outcome == "passed", result.reason()
    return max(durations)


# ---- the cases -------------------------------------------------------------------------------


CONVERSATION_REQUESTS = 3  # create, event stream, delete
# Runs of each sub-second case (plan, status), reported by their median: one run of well
# under a second moves by a tenth either way on a shared machine.
REPEATS = 5


def busy_account(bench: Bench, root: Path, agents: int, counts: list[int]) -> list[Row]:
    """Plan and status of a project applied with smoke, as past conversations pile up; then
    an apply changing one agent."""
    procedural, chat = write_project(root, agents)
    bench.run(root, "apply", "--yes")
    local, _, _ = bench.run(root, "validate")
    reads = bench.pages(procedural, chat) + 2 * agents + chat
    rows, seeded = [], 0
    for count in [0, *counts]:
        bench.server.advance_clock(DAY_S)
        bench.server.seed_conversations(count - seeded, span_s=DAY_S)
        seeded = count
        for command in ("plan", "status"):
            runs = [bench.run(root, command) for _ in range(REPEATS)]
            times = [seconds for seconds, _, _ in runs]
            rows.append(Row(f"{command} of {agents} agents, {count:,} past conversations",
                            statistics.median(times), max(r for _, r, _ in runs), reads,
                            bench.bound(reads), 2.0, local, (min(times), max(times))))
    slowest = slowest_conversation(bench.server)
    write_project(root, agents, version=1, changed=lambda n: n == 0)
    needed = reads + 2 + 12
    seconds, requests, _ = bench.run(root, "apply", "--yes")
    rows.append(Row(f"apply changing 1 of {agents}, {seeded:,} past conversations", seconds,
                    requests, needed + 2 * CONVERSATION_REQUESTS,
                    bench.bound(needed, 2 * slowest), 3.0, local))
    return rows


def fleet(bench: Bench, root: Path, agents: int) -> tuple[list[Row], float]:
    """Apply of a new fleet with smoke, apply changing ten of it, smoke of all of it."""
    procedural, chat = write_project(root, agents)
    local, _, _ = bench.run(root, "validate")
    pages = bench.pages(procedural, chat)
    sample = EmulatorServer()  # the slowest conversation, measured apart at the same latency
    with sample:
        write_project(root / "sample", 10)
        sample.set_faults(latency_ms=round(bench.latency_s * 1000))
        Bench(sample, bench.latency_s, 1, bench.page_size, bench.cli).run(
            root / "sample", "apply", "--yes", "--no-smoke")
        slowest = slowest_conversation(sample)
    waves, talks = math.ceil(chat / bench.parallelism), CONVERSATION_REQUESTS * chat
    needed = 2 + pages + 5 * procedural + 12 * chat
    seconds, requests, _ = bench.run(root, "apply", "--yes")
    rows = [Row(f"apply of {agents} new agents with smoke on draft and released", seconds,
                requests, needed + 2 * talks, bench.bound(needed, 2 * waves * slowest), 1.5,
                local)]
    created = seconds
    write_project(root, agents, version=1, changed=lambda n: n < 10)
    needed = pages + 2 * agents + chat + 2 * 10 + 12 * 10
    seconds, requests, _ = bench.run(root, "apply", "--yes")
    rows.append(Row(f"apply changing 10 of {agents}", seconds, requests,
                    needed + 2 * 10 * CONVERSATION_REQUESTS,
                    bench.bound(needed, 2 * math.ceil(10 / bench.parallelism) * slowest),
                    2.0, local))
    needed = pages + 2 * agents + 2 * chat
    seconds, requests, _ = bench.run(root, "smoke")
    rows.append(Row(f"smoke of {agents} agents", seconds, requests, needed + talks,
                    bench.bound(needed, waves * slowest), 1.5, local))
    return rows, created


def sequential_script(server: EmulatorServer, agents: int) -> float:
    """The same fleet by a plain script, one request after another: create, converse with
    the draft, release, converse with the released revision."""
    procedural = max(1, agents // 5)
    config = {"personas": [{"name": "Amanda"}],
              "runtime": {"model": "openai/gpt-4o-mini",
                          "prompt": {"type": "fixed", "text": "You are the front desk."}},
              "tool": {"tools": [{"ns": "acme", "name": "check_availability"}]}}
    started = time.perf_counter()
    with OperatorClient(server.url, server.api_key) as client:
        for n in range(procedural):
            made = client.procedural_agents.create(f"Summary {n}", "", {
                "filter_statuses": ["completed"]})
            client.procedural_agents.release(made.version_id or f"{made.id}@v0")
        for n in range(agents - procedural):
            made = client.conversational_agents.create(f"Front desk {n}", "", config)
            version_id = made.version_id or f"{made.id}@v0"
            assert run_once(client, TEST, version_id).outcome == "passed"
            client.conversational_agents.release(version_id)
            assert run_once(client, TEST, made.id).outcome == "passed"
    return time.perf_counter() - started


def plan_of_creates(bench: Bench, root: Path, agents: int) -> Row:
    write_project(root, agents)
    validated, _, _ = bench.run(root, "validate")
    seconds, requests, _ = bench.run(root, "plan")
    return Row(f"plan of {agents} creates, empty account (bound: validate + 2 trips)",
               seconds, requests, 2, validated + 2 * bench.latency_s, 2.0)


def start_up(cli: list[str], runs: int = 5) -> Row:
    def median(*args: str) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([*cli, *args], check=True, capture_output=True)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    version = median("--version")
    return Row("--help start-up (bound: --version)", median("--help"), 0, 0, version, 2.0)


def entry_point() -> list[str]:
    installed = Path(sys.executable).with_name("operator-iac")
    return [str(installed)] if installed.exists() else [sys.executable, "-m", "operator_iac"]


@contextlib.contextmanager
def fresh_account(latency_ms: int, parallelism: int, cli: list[str]) -> Iterator[Bench]:
    """An emulator of its own (an empty account), answering after ``latency_ms``."""
    with EmulatorServer() as server:
        server.set_faults(latency_ms=latency_ms)
        yield Bench(server, latency_ms / 1000, parallelism, server.state.options.page_size, cli)


def shown(rows: list[Row]) -> list[Row]:
    for row in rows:
        print(row.line(), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--big", type=int, default=2000)
    parser.add_argument("--conversations", default="1000,5000,20000")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()
    counts = [int(c) for c in args.conversations.split(",") if c]
    cli = entry_point()
    print(f"latency {args.latency_ms} ms, parallelism {args.parallelism}, whole process, "
          "requests counted by the emulator, cold (no revision cache)")
    account = lambda: fresh_account(args.latency_ms, args.parallelism, cli)  # noqa: E731
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        with account() as bench:
            busy = shown(busy_account(bench, base / "busy", args.small, counts))
        with account() as bench:
            fleet_rows, created = fleet(bench, base / "fleet", args.agents)
            rows += shown(fleet_rows)
        with account() as bench:
            script = sequential_script(bench.server, args.agents)
        with account() as bench:
            rows += shown([plan_of_creates(bench, base / "big", args.big)])
    rows += shown([start_up(cli)])
    plans = [r.seconds for r in busy if r.case.startswith("plan")]
    print(f"plan at {counts[-1] if counts else 0:,} past conversations / at none: "
          f"{plans[-1] / plans[0]:.2f} (aim: within 10 %)")
    applied = fleet_rows[0]
    print(f"the plain sequential script: {script:.2f} s; the fleet apply is "
          f"{script / created:.1f} times faster (aim: at least 6); at its bound (its "
          f"{applied.needed:,} requests at parallelism {args.parallelism}, its conversations "
          f"in waves) it would be {script / applied.bound_s:.1f} times faster")
    print(json.dumps({r.case: round(r.ratio, 2) for r in [*busy, *rows]}, indent=1))


if __name__ == "__main__":
    main()
