"""Benchmark: the release gate's calibration, measured on the emulator.

Run ``python tests/bench/bench_gate.py [RUNS] [PARALLELISM]`` (defaults 40 and 8). The
emulator runs in a process of its own (the client and the server then use a core each), with
rules that make ``lookup_order`` fail depending on the revision's prompt: 10 % of the time
for the released revision, and for the candidates 10 % (as good), 20 % (worse by exactly the
gate's max_drop of 0.1) or 40 % (the regression the gate must block). Each scenario runs the
gate (one compared smoke test, the default settings: max_drop 0.1, confidence 0.95, 600
conversations at most) RUNS times, each run with its own emulator seed, and prints:

- how often each verdict came, and how often the gate blocked (with a 95 % Wilson interval);
- for the candidate as good as the release: the false-alarm rate (``regressed``; the target
  is at most 1 - confidence = 5 %) and how often it passed (the target is at least 95 %);
- for the worse candidates: the detection rate (``regressed``);
- the conversations used on average, against the conversations a fixed-size test (a sign
  test on pairs with the same false-alarm rate and 80 % power at the declared drop, at the
  released revision's 90 % pass rate) needs for every run: the ratio is the saving of
  stopping early.

Rates are measured in this one run (a few minutes at the defaults); more RUNS narrow them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from operator_iac.api.client import OperatorClient
from operator_iac.smoke.stats import pairs_needed, wilson_interval
from operator_iac.smoke.suite import Baseline, SmokeTarget, run_smoke_tests
from operator_iac.spec.gate import GateSettings
from operator_iac.spec.models import SmokeTest

API_KEY = "op_test_bench"
TEST = SmokeTest.model_validate({
    "name": "looks up an order", "compare": "released",
    "turns": [{"user": "Where is my order?"}], "expect": ["no_tool_errors"]})
# Failure rate of lookup_order per word of the revision's prompt.
FAILURES = {"steady": 0.1, "equal": 0.1, "sloppy": 0.2, "hasty": 0.4}
BASELINE_PASS_RATE = 0.9


@dataclass(frozen=True)
class Scenario:
    title: str
    prompt: str
    drop: float


SCENARIOS = (
    Scenario("as good as the release (10% vs 10% tool failures)", "equal", 0.0),
    Scenario("worse by the declared drop (20% vs 10%)", "sloppy", 0.1),
    Scenario("the regression to block (40% vs 10%)", "hasty", 0.3),
)


def rules() -> dict[str, object]:
    scripted: list[dict[str, object]] = [
        {"match": "(?i)order", "prompt": word, "chance": chance, "reply": "Sorry.",
         "tool": {"name": "lookup_order", "error": "order service timed out"}}
        for word, chance in FAILURES.items()]
    scripted.append({"match": "(?i)order", "reply": "Friday.",
                     "tool": {"name": "lookup_order", "result": {"eta": "Friday"}}})
    return {"greeting": "Hi.", "rules": scripted}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_emulator(rules_file: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "operator_iac", "emulator", "--port", str(port), "--api-key",
         API_KEY, "--rules", str(rules_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ})
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{url}/_emulator/faults", headers=_auth(), timeout=1.0)
            return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the emulator did not start")


def _auth() -> dict[str, str]:
    return {"Authorization": f"Bearer {API_KEY}"}


def create_revisions(client: OperatorClient) -> dict[str, str]:
    """The released revision (steady) and one revision per scenario: prompt -> version id."""
    def config(word: str) -> dict[str, object]:
        return {"runtime": {"model": "openai/gpt-4o-mini",
                            "prompt": {"type": "fixed", "text": f"Answer {word}ly."}},
                "tool": {"tools": [{"ns": "acme", "name": "lookup_order"}]}}

    agents = client.conversational_agents
    created = agents.create("Order desk", "Bench.", config("steady"))
    agents.release(f"{created.id}@v0")
    versions = {"steady": f"{created.id}@v0"}
    for scenario in SCENARIOS:
        written = agents.update(created.id, config=config(scenario.prompt))
        assert written.version_id is not None
        agents.release(written.version_id)  # archived by the next one: a fixed revision
        versions[scenario.prompt] = written.version_id
    agents.release(versions["steady"])
    return versions


def run_scenario(client: OperatorClient, url: str, scenario: Scenario,
                 versions: dict[str, str], runs: int, parallelism: int) -> None:
    gate = GateSettings()
    target = SmokeTarget("desk", versions[scenario.prompt], (TEST,),
                         Baseline(versions["steady"], gate, frozenset({TEST.name})))
    verdicts: Counter[str] = Counter()
    blocked = conversations = 0
    started = time.perf_counter()
    for run in range(runs):
        httpx.post(f"{url}/_emulator/faults", json={"seed": 1000 + run}, headers=_auth())
        [test] = run_smoke_tests(client, [target], parallelism=parallelism).tests
        assert test.comparison is not None
        verdicts[test.counted_as] += 1
        blocked += not test.passed
        conversations += test.comparison.conversations
    elapsed = time.perf_counter() - started
    report(scenario, gate, verdicts, blocked, conversations, runs, elapsed)


def report(scenario: Scenario, gate: GateSettings, verdicts: Counter[str], blocked: int,
           conversations: int, runs: int, elapsed: float) -> None:
    def rate(count: int) -> str:
        low, high = wilson_interval(count, runs, 0.95)
        return f"{count / runs:6.1%} (95% interval {low:.1%}-{high:.1%})"

    alpha = 1 - gate.confidence
    fixed = 2 * (pairs_needed(BASELINE_PASS_RATE, gate.max_drop, alpha, 0.8) or 0)
    average = conversations / runs
    print(f"{scenario.title}: {runs} runs in {elapsed:.0f}s")
    print(f"  verdicts:        {dict(verdicts)}")
    print(f"  blocked:         {rate(blocked)}")
    if scenario.drop == 0:
        print(f"  false alarms:    {rate(verdicts['regressed'])}  target <= {alpha:.0%}")
        print(f"  passed:          {rate(runs - blocked)}  target >= {gate.confidence:.0%}")
    else:
        print(f"  detection:       {rate(verdicts['regressed'])}  (a drop of "
              f"{scenario.drop:g})")
    print(f"  conversations:   {average:.0f} on average, against {fixed} for a fixed-size "
          f"test: ratio {average / fixed:.2f}")


def main(argv: list[str]) -> None:
    runs = int(argv[0]) if argv else 40
    parallelism = int(argv[1]) if len(argv) > 1 else 8
    with tempfile.TemporaryDirectory() as folder:
        rules_file = Path(folder) / "rules.yaml"
        rules_file.write_text(yaml.safe_dump(rules()), encoding="utf-8")
        process, url = start_emulator(rules_file)
        try:
            with OperatorClient(url, API_KEY) as client:
                versions = create_revisions(client)
                print(f"release gate calibration: {runs} runs per scenario, {parallelism} "
                      "conversations at once, default gate settings")
                for scenario in SCENARIOS:
                    run_scenario(client, url, scenario, versions, runs, parallelism)
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main(sys.argv[1:])
