"""Benchmark: smoke tests at scale, and the runner's memory over a very long conversation.

Run ``python tests/bench/bench_smoke.py [AGENTS] [PARALLELISM] [LATENCY_MS]`` (defaults 50,
8, 50). Both parts use an in-process emulator on a loopback port.

1. Concurrency: AGENTS agents with one smoke test each (greeting, one turn with a tool call,
   four assertions), every HTTP request delayed by LATENCY_MS. A sample of tests is first run
   one at a time to find the slowest single test; then all of them run at PARALLELISM. The
   ratio printed is wall time / (slowest single test x waves), waves = ceil(AGENTS /
   PARALLELISM): about 1 means the pool overlaps tests as well as it can.
2. Memory: one smoke run whose reply streams as 1,000 and then 10,000 events (one text delta
   per word), measured with tracemalloc. Flat memory means the peak grows far less than the
   event count (the runner keeps completed messages, not deltas).
"""

from __future__ import annotations

import math
import sys
import time
import tracemalloc
from typing import Any

from operator_iac.api.client import OperatorClient
from operator_iac.emulator.rules import parse_rules
from operator_iac.emulator.server import EmulatorServer
from operator_iac.smoke.runner import run_once
from operator_iac.smoke.suite import SmokeTarget, run_smoke_tests
from operator_iac.spec.models import SmokeTest

SAMPLE = 8
RUNTIME = {"model": "openai/gpt-4o-mini", "prompt": {"type": "fixed", "text": "Help."}}
TEST = SmokeTest.model_validate({
    "name": "checks availability",
    "turns": [{"expect": [{"agent_says": {"contains": "Amanda"}}]},
              {"user": "Please check_availability for Tuesday",
               "expect": [{"tool_called": {"name": "check_availability"}}]}],
    "expect": ["no_server_errors", {"ended_with_status": "completed"}],
})


def create_agents(client: OperatorClient, count: int) -> list[SmokeTarget]:
    targets = []
    for n in range(count):
        created = client.conversational_agents.create(f"Booking {n}", "", {
            "personas": [{"name": "Amanda"}], "runtime": RUNTIME,
            "tool": {"tools": [{"ns": "acme", "name": "check_availability"}]}})
        targets.append(SmokeTarget(f"booking-{n}", f"{created.id}@v0", (TEST,)))
    return targets


def slowest_single(client: OperatorClient, targets: list[SmokeTarget]) -> float:
    durations = []
    for target in targets[:SAMPLE]:
        started = time.perf_counter()
        result = run_once(client, TEST, target.version_id)
        durations.append(time.perf_counter() - started)
        assert result.outcome == "passed", result.reason()
    return max(durations)


def bench_concurrency(agents: int, parallelism: int, latency_ms: int) -> None:
    with EmulatorServer() as server, OperatorClient(server.url, server.api_key) as client:
        targets = create_agents(client, agents)
        server.set_faults(latency_ms=latency_ms)
        single = slowest_single(client, targets)
        started = time.perf_counter()
        report = run_smoke_tests(client, targets, parallelism=parallelism)
        wall = time.perf_counter() - started
    waves = math.ceil(agents / parallelism)
    print(f"concurrency: {agents} agents, parallelism {parallelism}, {latency_ms} ms latency")
    print(f"  result:              {report.summary()}")
    print(f"  slowest single test: {single:.3f}s (of {min(SAMPLE, agents)} run alone)")
    print(f"  wall time:           {wall:.3f}s for {waves} waves")
    print(f"  ratio:               {wall / (single * waves):.2f} "
          "(wall / (slowest single x waves); about 1 is ideal)")


def measure_long_run(server: EmulatorServer, client: OperatorClient, target: SmokeTarget,
                     words: int) -> tuple[int, int]:
    reply = " ".join(f"w{n}" for n in range(words))
    server.set_brain(rules=parse_rules([{"match": "(?i)tuesday", "reply": reply}]))
    test = TEST.model_copy(update={"turns": [TEST.turns[0], TEST.turns[1].model_copy(
        update={"expect": []})], "turn_timeout_s": 120.0, "timeout_s": 300.0})
    tracemalloc.start()
    result = run_once(client, test, target.version_id)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.outcome == "passed", result.reason()
    return peak, words


def bench_memory() -> None:
    with EmulatorServer() as server, OperatorClient(server.url, server.api_key) as client:
        [target] = create_agents(client, 1)
        results: list[tuple[int, Any]] = [measure_long_run(server, client, target, words)
                                          for words in (1_000, 10_000)]
    (small, small_n), (large, large_n) = results
    print("memory: one conversation, reply streamed as one delta event per word")
    print(f"  {small_n:>6} events: peak {small / 1024:8.0f} KiB")
    print(f"  {large_n:>6} events: peak {large / 1024:8.0f} KiB")
    print(f"  events x{large_n / small_n:.0f}, peak x{large / small:.2f} "
          "(flat: far below the event ratio)")


def main(argv: list[str]) -> None:
    agents = int(argv[0]) if argv else 50
    parallelism = int(argv[1]) if len(argv) > 1 else 8
    latency_ms = int(argv[2]) if len(argv) > 2 else 50
    bench_concurrency(agents, parallelism, latency_ms)
    bench_memory()


if __name__ == "__main__":
    main(sys.argv[1:])
