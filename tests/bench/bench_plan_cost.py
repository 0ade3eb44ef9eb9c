"""Benchmark: what ``plan`` costs against the size of the account and the size of the project,
cold (empty revision cache) and warm (the cache of the run before).

Run with ``python tests/bench/bench_plan_cost.py [--latency-ms MS] [--page-size N]
[--accounts 200,500,1020] [--projects 5,20,100]``. One in-process emulator holds three
projects (5, 20 and 100 agents by default, each applied once) and grows with other teams'
agents to each account size in turn. At each size every project is planned with no changes:
cold, then warm, and once the way it was read before this change (every agent in depth),
all with the same latency per request.

Printed per plan: requests (and of those the list pages, which grow with the account at the
platform's page size, and the reads beyond them), requests per project agent, and seconds.
Then the ratios that matter, measured in this run: how much a plan's cost grows when the
account grows (aim: only by its list pages), and how warm compares with cold (aim: about one
request per unchanged agent beyond the pages, against two). These are measurements on this
machine, not thresholds.
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

KEY_VARIABLE = "BENCH_OPERATOR_API_KEY"
PROJECT_FILE = """\
project: {project}
environments:
  bench:
    api_key_env: BENCH_OPERATOR_API_KEY
"""
AGENT = """\
kind: conversational_agent
name: {project} desk {n}
description: Answers the phone line {n} of {project}.
config:
  personas: [{{name: Amanda}}]
  runtime:
    model: openai/gpt-4o-mini
    prompt: {{type: fixed, text: "You are the front desk {n} of {project}. Be brief."}}
  tool:
    tools: [{{ns: acme, name: book}}]
"""
OTHER_CONFIG = {"runtime": {"model": "openai/gpt-4o-mini",
                            "prompt": {"type": "fixed", "text": "Someone else's agent."}}}


@dataclass(frozen=True)
class Cost:
    """One plan: how many requests of which kind, and how long it took."""

    label: str
    account: int
    project: int
    requests: int
    pages: int
    seconds: float

    @property
    def beyond_pages(self) -> int:
        return self.requests - self.pages

    def line(self) -> str:
        return (f"{self.label:<13} account {self.account:5d}  project {self.project:4d}  "
                f"{self.requests:6d} requests ({self.pages:3d} list pages, "
                f"{self.beyond_pages:5d} beyond)  {self.requests / self.project:6.2f} per "
                f"project agent ({self.beyond_pages / self.project:5.2f} beyond the pages)  "
                f"{self.seconds:6.2f} s")


def write_project(root: Path, project: str, agents: int) -> Path:
    (root / "agents").mkdir(parents=True)
    (root / "operator-iac.yaml").write_text(PROJECT_FILE.format(project=project))
    for n in range(agents):
        (root / "agents" / f"desk-{n}.yaml").write_text(AGENT.format(project=project, n=n))
    return root / "operator-iac.yaml"


def target(project_file: Path, server: EmulatorServer, cache: Path | bool) -> Target:
    return build_target(load_project(project_file), "bench", api_url=server.url,
                        api_key=server.api_key, cache=cache)


def counted(server: EmulatorServer, action: Callable[[], object]) -> tuple[int, int, float]:
    """Requests, list pages among them, and seconds of ``action``."""
    server.clear_requests()
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    paths = [r.path for r in server.requests if r.method == "GET"]
    pages = sum(1 for p in paths if p in ("/conversational_agents", "/procedural_agents"))
    return len(server.requests), pages, seconds


def grow(client: OperatorClient, count: int) -> None:
    for n in range(count):
        client.conversational_agents.create(name=f"Other team agent {n}-{time.monotonic_ns()}",
                                            description="Not ours.", config=OTHER_CONFIG)


def plan_costs(server: EmulatorServer, client: OperatorClient, project_file: Path, size: int,
               account: int, folder: Path) -> list[Cost]:
    cache = folder / f"cache-{size}-{account}"

    def plan(cached: Path | bool) -> None:
        planned = make_plan(target(project_file, server, cached), client, smoke=False)
        assert not planned.plan.has_changes, "the plan after applying should be empty"

    costs = [Cost(label, account, size, *counted(server, lambda c=cached: plan(c)))
             for label, cached in (("cold", cache), ("warm", cache), ("no cache", False))]
    costs.append(Cost("read all", account, size,
                      *counted(server, lambda: fetch_snapshot(client))))
    return costs


def run(latency_ms: int, page_size: int, accounts: list[int], projects: list[int]) -> None:
    options = ApplyOptions(smoke=False)
    with tempfile.TemporaryDirectory() as tmp, EmulatorServer(page_size=page_size) as server, \
            OperatorClient(server.url, server.api_key) as client:
        folder = Path(tmp)
        import os

        os.environ[KEY_VARIABLE] = server.api_key
        files = {size: write_project(folder / f"p{size}", f"team-{size}", size)
                 for size in projects}
        for project_file in files.values():
            made = apply(make_plan(target(project_file, server, False), client, smoke=False),
                         client, options=options)
            assert made.exit_code() == 0, "setting up a project failed"
        present = sum(projects)
        costs: list[Cost] = []
        for account in sorted(accounts):
            grow(client, max(0, account - present))
            present = max(present, account)
            server.set_faults(latency_ms=latency_ms)
            for size, project_file in files.items():
                costs += plan_costs(server, client, project_file, size, present, folder)
            server.set_faults(latency_ms=0)
        report(costs, page_size, latency_ms)


def report(costs: list[Cost], page_size: int, latency_ms: int) -> None:
    print(f"{latency_ms} ms per request, {page_size} agents per list page")
    for cost in costs:
        print(cost.line())
    print()
    pick = {(c.label, c.account, c.project): c for c in costs}
    smallest, largest = min(c.account for c in costs), max(c.account for c in costs)
    for size in sorted({c.project for c in costs}):
        cold_s, cold_l = pick[("cold", smallest, size)], pick[("cold", largest, size)]
        warm_l, all_l = pick[("warm", largest, size)], pick[("read all", largest, size)]
        print(f"project of {size}: account {smallest} -> {largest} multiplies cold requests by "
              f"{cold_l.requests / cold_s.requests:.2f} (beyond the list pages by "
              f"{cold_l.beyond_pages / cold_s.beyond_pages:.2f}); in the largest account warm "
              f"costs {warm_l.requests / cold_l.requests:.2f} of cold (beyond the pages "
              f"{warm_l.beyond_pages / cold_l.beyond_pages:.2f}) and cold "
              f"{cold_l.requests / all_l.requests:.3f} of reading every agent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=20)
    parser.add_argument("--accounts", default="200,500,1020")
    parser.add_argument("--projects", default="5,20,100")
    args = parser.parse_args()
    run(args.latency_ms, args.page_size, [int(a) for a in args.accounts.split(",")],
        [int(p) for p in args.projects.split(",")])


if __name__ == "__main__":
    main()
