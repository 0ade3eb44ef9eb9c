"""Benchmark: ``plan`` and ``apply`` of 200 agents against the emulator with 50 ms latency.

Run with ``python tests/bench/bench_plan_apply.py [--agents N] [--latency-ms MS]
[--parallelism P]``. It generates a project (a fifth procedural agents, the rest
conversational agents that each name one of them in ``postprocess_agents``), creates it on an
in-process emulator without latency, then, with latency on:

- plans with no changes: loading the project, the reads (lists, versions, released
  revisions; also measured alone) and building the plan;
- reads the same state one request after another (parallelism 1), to report how much faster
  the concurrent reads are (aim: at least 6 times);
- changes every prompt, makes the plan, and measures its apply alone (per agent: re-check,
  PUT, read back, release; no smoke tests).

Each phase is printed as a ratio to its lower bound ``requests x latency / parallelism``,
with the request count taken from the emulator's request log. The aim is 1.3 or less; the
numbers are measured in this run on this machine, not thresholds. The emulator shares the
process (and its interpreter lock) with the client, so the ratios slightly overstate the
client's own overhead.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from operator_iac.api.client import OperatorClient
from operator_iac.apply.report import ApplyOptions
from operator_iac.emulator.server import EmulatorServer
from operator_iac.services.apply import apply
from operator_iac.services.plan import make_plan
from operator_iac.services.target import Target, build_target
from operator_iac.spec.project import load_project
from operator_iac.state.fetch import fetch_snapshot

AIM = 1.3
KEY_VARIABLE = "BENCH_OPERATOR_API_KEY"
PROJECT_FILE = f"""\
project: bench
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
  runtime:
    model: openai/gpt-4o-mini
    reasoning_effort: medium
    prompt: {{type: fixed, text: "{prompt}"}}
  output:
    output_schema: {{type: object, properties: {{summary: {{type: string}}}}}}
"""
CONVERSATIONAL = """\
kind: conversational_agent
name: Front desk {n}
description: Answers the phone line of team {n}.
config:
  personas: [{{name: Amanda, voice: {{provider: operator, id: Female 1}}}}]
  runtime:
    model: openai/gpt-4o-mini
    prompt: {{type: fixed, text: "{prompt}"}}
    variables: [{{name: customer_name, description: The caller's name.}}]
  tool:
    tools: [{{ns: acme, name: book}}, {{ns: syscall, name: end_call}}]
  language: {{default_language: English}}
postprocess_agents: [summary-{summary}]
"""

@dataclass(frozen=True)
class Measurement:
    name: str
    seconds: float
    requests: int
    latency_s: float
    parallelism: int

    @property
    def lower_bound(self) -> float:
        return self.requests * self.latency_s / self.parallelism

    @property
    def ratio(self) -> float:
        return self.seconds / self.lower_bound if self.lower_bound else float("inf")

    def line(self) -> str:
        verdict = "ok" if self.ratio <= AIM else "above the aim"
        return (f"{self.name:<24} {self.seconds:7.2f} s  {self.requests:5d} requests  "
                f"bound {self.lower_bound:6.2f} s  ratio {self.ratio:5.2f}  ({verdict})")


def prompt_text(n: int, version: int) -> str:
    """About 1.5 KB of prompt, different per agent and per version."""
    sentence = f"Rule {{i}} for team {n}, version {version}: greet, listen, help, confirm. "
    return "".join(sentence.format(i=i) for i in range(24))


def write_project(root: Path, agents: int, version: int = 0) -> None:
    summaries = max(1, agents // 5)
    (root / "agents").mkdir(parents=True, exist_ok=True)
    (root / "operator-iac.yaml").write_text(PROJECT_FILE, encoding="utf-8")
    for n in range(summaries):
        text = PROCEDURAL.format(n=n, prompt=prompt_text(n, version))
        (root / "agents" / f"summary-{n}.yaml").write_text(text, encoding="utf-8")
    for n in range(agents - summaries):
        text = CONVERSATIONAL.format(n=n, prompt=prompt_text(n, version),
                                     summary=n % summaries)
        (root / "agents" / f"desk-{n}.yaml").write_text(text, encoding="utf-8")


def measure(name: str, server: EmulatorServer, action: Callable[[], object], latency_s: float,
            parallelism: int) -> Measurement:
    server.clear_requests()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    return Measurement(name, seconds, len(server.requests), latency_s, parallelism)


def target_for(root: Path, server: EmulatorServer) -> Target:
    # No revision cache: every plan here measures the reads (bench_plan_cost.py measures it).
    return build_target(load_project(root / "operator-iac.yaml"), "bench", api_url=server.url,
                        api_key=server.api_key, cache=False)


def run(agents: int, latency_ms: int, parallelism: int) -> list[Measurement]:
    latency_s = latency_ms / 1000
    options = ApplyOptions(smoke=False, parallelism=parallelism)
    with tempfile.TemporaryDirectory() as folder, EmulatorServer() as server, \
            OperatorClient(server.url, server.api_key) as client:
        root = Path(folder)
        write_project(root, agents)
        created = apply(make_plan(target_for(root, server), client, smoke=False), client,
                        options=options)
        assert created.exit_code() == 0, "setting up the agents failed"
        server.set_faults(latency_ms=latency_ms)

        def plan_only() -> None:
            planned = make_plan(target_for(root, server), client, parallelism=parallelism,
                                smoke=False)
            assert not planned.plan.has_changes, "the plan after creating should be empty"

        results = [
            measure("plan, no changes", server, plan_only, latency_s, parallelism),
            measure("  of which the reads", server,
                    lambda: fetch_snapshot(client, parallelism=parallelism), latency_s,
                    parallelism),
        ]
        sequential = measure("  the reads, one by one", server,
                             lambda: fetch_snapshot(client, parallelism=1), latency_s, 1)
        results.append(sequential)
        speedup = sequential.seconds / results[1].seconds
        print(f"concurrent reads are {speedup:.1f} times faster than one by one (aim: >= 6)")
        write_project(root, agents, version=1)
        planned = make_plan(target_for(root, server), client, parallelism=parallelism,
                            smoke=False)
        assert planned.plan.summary().update == agents
        results.append(measure("apply of changed agents", server,
                               lambda: apply(planned, client, options=options), latency_s,
                               parallelism))
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.agents} agents, {args.latency_ms} ms latency per request, "
          f"parallelism {args.parallelism}; aim: ratio <= {AIM}")
    for measurement in run(args.agents, args.latency_ms, args.parallelism):
        print(measurement.line())


if __name__ == "__main__":
    main()
