"""Benchmark: ``operator-iac validate`` on many agent files; time per file beyond start-up.

Run ``python tests/bench/bench_validate.py [FILES]`` (default 500). It writes a project with
FILES generated agent files (conversational agents with personas, variables, tools, a
transfer, smoke tests and a post-processing agent; one procedural agent with an output
schema per ten) into a temporary directory, and a project of two such files into another, then
times ``operator-iac validate`` on each in fresh processes (median of five). The difference
divided by the extra files is the cost per file beyond start-up; the target is below 2 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MS_PER_FILE = 2.0
PROJECT = """\
project: bench
environments:
  staging: {vars: {queue: "+15550100"}}
  production: {vars: {queue: "+15550199"}, promote_from: staging}
"""
CONVERSATIONAL = """\
kind: conversational_agent
name: Agent {n}
description: Generated agent number {n}.
config:
  personas:
    - name: Amanda
      voice: {{provider: operator, id: Female 1}}
  runtime:
    model: openai/gpt-4o-mini
    prompt:
      type: fixed
      text: |
        You are Amanda for clinic $clinic. Greet $customer_name, then use @check_availability
        and @book_appointment to book a visit. Transfer to the desk when asked.
    variables:
      - {{name: clinic, default_value: Brightsmile}}
      - {{name: customer_name, description: Caller}}
  tool:
    tools:
      - {{ns: acme, name: check_availability}}
      - {{ns: acme, name: book_appointment}}
    transfers: [{{entity_id: "${{var:queue}}"}}]
  language: {{default_language: English, supported_languages: [English]}}
postprocess_agents: [summary-{group}]
smoke:
  - name: books
    context: {{$variables: {{customer_name: Dana}}}}
    turns:
      - expect: [{{agent_says: {{contains: Amanda}}}}]
      - user: please check_availability
        expect: [{{tool_called: {{name: check_availability, arguments: {{q: {{regex: "a"}}}}}}}}]
    expect: [no_server_errors, {{ended_with_status: completed}}]
"""
PROCEDURAL = """\
kind: procedural_agent
name: Summary {group}
config:
  filter_statuses: [completed]
  runtime: {{model: openai/gpt-4o-mini, reasoning_effort: medium, prompt: {{text: Summarise.}}}}
  output:
    output_schema:
      type: object
      required: [summary]
      properties: {{summary: {{type: string}}, booked: {{type: boolean}}}}
"""


def write_project(root: Path, files: int) -> None:
    (root / "operator-iac.yaml").write_text(PROJECT)
    agents = root / "agents"
    agents.mkdir()
    for n in range(files):
        group = n // 10
        if n % 10 == 0:
            (agents / f"summary-{group}.yaml").write_text(PROCEDURAL.format(group=group))
        else:
            (agents / f"agent-{n}.yaml").write_text(CONVERSATIONAL.format(n=n, group=group))


def run_ms(root: Path, args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "operator_iac", "validate", *args],
                              cwd=root, capture_output=True, text=True)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode != 0:
            raise SystemExit(f"validate failed:\n{done.stdout}{done.stderr}")
    return statistics.median(times)


def main() -> int:
    files = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    with tempfile.TemporaryDirectory() as small, tempfile.TemporaryDirectory() as large:
        write_project(Path(small), 2)  # one procedural and one conversational agent
        write_project(Path(large), files)
        one = run_ms(Path(small), [], 5)
        everything = run_ms(Path(large), [], 5)
    per_file = (everything - one) / max(files - 2, 1)
    print(f"validate, 2 files        {one:8.1f} ms (start-up and imports)")
    print(f"validate, {files} files     {everything:8.1f} ms")
    print(f"per file beyond start-up {per_file:8.2f} ms (target < {TARGET_MS_PER_FILE} ms); "
          f"{everything / one:.1f}x the two-file run")
    return 0 if per_file < TARGET_MS_PER_FILE else 1


if __name__ == "__main__":
    sys.exit(main())
