"""Benchmark: diffing a 50 KB prompt (target: under 50 ms).

Run with ``python tests/bench/bench_diff.py``. It prints the median time of the field diff,
the prompt line diff, and a whole one-agent plan, each against the 50 ms target, measured in
this run on this machine (a ratio, not a pass/fail threshold).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path

from operator_iac.plan.builder import build_plan
from operator_iac.plan.diff import diff_content, prompt_diff
from operator_iac.plan.marker import Marker, with_marker
from operator_iac.plan.model import PlanOptions
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision, RemoteVersion, Snapshot

TARGET_MS = 50.0
RUNS = 21


def make_prompts(size: int = 50_000) -> tuple[str, str]:
    """A prompt of ``size`` characters and an edit of it touching every 40th line."""
    lines, total, i = [], 0, 0
    while total < size:
        line = f"Rule {i}: greet the caller, confirm the {i % 13} details, and stay polite."
        lines.append(line)
        total += len(line) + 1
        i += 1
    edited = [line.replace("polite", "warm") if n % 40 == 0 else line
              for n, line in enumerate(lines)]
    edited.insert(len(edited) // 2, "A new rule in the middle.")
    return "\n".join(lines), "\n".join(edited)


def content(prompt: str) -> dict[str, object]:
    return {"name": "Booking", "description": "Books.",
            "config": {"runtime": {"model": "openai/gpt-4o",
                                   "prompt": {"type": "fixed", "text": prompt}}},
            "postprocess_agents": []}


def one_agent_plan(before: str, after: str) -> Callable[[], object]:
    config = {"runtime": {"model": "openai/gpt-4o", "prompt": {"type": "fixed", "text": after}}}
    agent = DesiredAgent(key="booking", kind="conversational_agent", source=Path("b.yaml"),
                         name="Booking", description="Books.", config=config)
    old = {"runtime": {"model": "openai/gpt-4o", "prompt": {"type": "fixed", "text": before}}}
    description = with_marker("Books.", Marker("bench", "booking", "0" * 16))
    revision = RemoteRevision("ca_1@v0", "released", "Booking", description, old)
    remote = RemoteAgent("conversational_agent", "ca_1",
                         (RemoteVersion("ca_1@v0", 0, "released", "Booking", description),),
                         released=revision)
    snapshot = Snapshot("http://127.0.0.1:9", (remote,))
    return lambda: build_plan({"booking": agent}, snapshot, project="bench",
                              options=PlanOptions(), created_at="2025-01-01T00:00:00Z")


def median_ms(function: Callable[[], object]) -> float:
    function()  # warm up (imports, caches)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    before, after = make_prompts()
    cases = {
        "field diff (diff_content)": lambda: diff_content(content(before), content(after)),
        "prompt line diff (difflib)": lambda: prompt_diff(before, after),
        "one-agent plan (build_plan)": one_agent_plan(before, after),
    }
    print(f"prompt: {len(before)} characters, {before.count(chr(10)) + 1} lines; "
          f"median of {RUNS} runs; target {TARGET_MS:.0f} ms")
    for name, function in cases.items():
        ms = median_ms(function)
        print(f"  {name:30} {ms:8.2f} ms   ratio to target {ms / TARGET_MS:.2f}")


if __name__ == "__main__":
    main()
