"""Release gates end to end: a smoke test compared with the released revision, through the
real CLI against the emulator, whose rules make a tool call fail more or less often
depending on the revision's prompt (``prompt:`` in a rule) and whose ``--seed`` makes the
draws repeat.

A run at ``--parallelism 1`` starts the conversations in one order (pair by pair, the
candidate first), so each conversation meets the same draw of the seed every time: each
scenario is deterministic. The seeds are not chosen: the gate's verdict on the regression is
asserted over several consecutive seeds, and a verdict that held for only a lucky one would
fail.
"""

from __future__ import annotations

import json
import logging
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from operator_iac.emulator.rules import parse_rules
from operator_iac.emulator.server import EmulatorServer
from operator_iac.smoke.evidence import last_smoke_result
from operator_iac.smoke.record import SmokeRecord

from .conftest import Cli, ProjectCopy

XSD = Path(__file__).resolve().parents[1] / "unit" / "render" / "junit-10.xsd"
SEEDS = (1, 2, 3)
CAREFUL, HASTY, BROKEN = "Look orders up carefully.", "Look orders up hastily.", "Broken."
ORDER_TEST: dict[str, Any] = {
    "name": "looks up an order",
    "turns": [{"user": "Where is my order AC-104233?",
               "expect": [{"tool_called": {"name": "lookup_order"}}]}],
    "expect": ["no_tool_errors"],
}


def failing_lookups(emulator: EmulatorServer, seed: int, **chances: float) -> None:
    """``lookup_order`` fails for revisions whose prompt has a word of ``chances`` that
    often (never for others); the draws come from ``seed``."""
    rules = [{"match": "(?i)order", "prompt": f"(?i){word}", "chance": chance,
              "reply": "Sorry, I cannot see it.",
              "tool": {"name": "lookup_order", "error": "order service timed out"}}
             for word, chance in chances.items()]
    rules.append({"match": "(?i)order", "reply": "It ships Friday.",
                  "tool": {"name": "lookup_order", "result": {"status": "in_transit"}}})
    emulator.set_brain(rules=parse_rules({"greeting": "Hi.", "rules": rules}))
    emulator.set_faults(seed=seed)


def agent_file(prompt: str, test: dict[str, Any], settings: dict[str, Any] | None) -> str:
    agent: dict[str, Any] = {
        "kind": "conversational_agent", "name": "Order desk", "description": "Orders.",
        "config": {"runtime": {"model": "openai/gpt-4o-mini",
                               "prompt": {"type": "fixed", "text": prompt}},
                   "tool": {"tools": [{"ns": "acme", "name": "lookup_order"}]}},
        "smoke": [test]}
    if settings is not None:
        agent["smoke_settings"] = settings
    return yaml.safe_dump(agent, sort_keys=False)


@pytest.fixture
def order_desk(tmp_path: Path, emulator: EmulatorServer, cli: Cli,
               monkeypatch: pytest.MonkeyPatch) -> Callable[..., ProjectCopy]:
    """A one-agent project (``desk``) released with the careful prompt (no smoke tests
    run for it), its smoke test compared by a gate (``settings``) or by ``compare``."""

    def make(settings: dict[str, Any] | None = None, test: dict[str, Any] | None = None,
             environment: str = "{api_key_env: OPERATOR_API_KEY}") -> ProjectCopy:
        root = tmp_path / "desk-project"
        (root / "agents").mkdir(parents=True, exist_ok=True)
        (root / "operator-iac.yaml").write_text(textwrap.dedent(f"""\
            project: desk
            environments:
              staging: {environment}
            """), encoding="utf-8")
        (root / "agents" / "desk.yaml").write_text(
            agent_file(CAREFUL, test or ORDER_TEST, settings), encoding="utf-8")
        monkeypatch.setenv("OPERATOR_API_KEY", emulator.api_key)
        monkeypatch.chdir(root)
        copy = ProjectCopy(root, emulator, cli)
        applied = copy.apply()
        assert applied.exit_code == 0, applied.stdout + applied.stderr
        return copy

    return make


def released_and_draft(copy: ProjectCopy) -> tuple[str | None, str | None]:
    status = json.loads(copy.run("status", "--format", "json").stdout)["agents"][0]
    return status["released"], status["draft"]


def test_a_tool_failing_four_times_as_often_is_blocked_with_the_draft_kept(
        order_desk: Callable[..., ProjectCopy], emulator: EmulatorServer) -> None:
    copy = order_desk({"gate": {"compare": "released"}})
    released, _ = released_and_draft(copy)
    copy.replace_in("desk.yaml", CAREFUL, HASTY)
    plan = copy.run("plan")
    assert (f"release gate: 1 test(s) compared with {released} on the draft, blocking a drop "
            "of 0.1 at 95% confidence (inconclusive: block); at worst 600 conversations, "
            "about 9 min at 8 at once") in plan.stdout
    for seed in SEEDS:
        failing_lookups(emulator, seed, hastily=0.4, carefully=0.1)
        result = copy.run("apply", "--yes", "--parallelism", "1")
        assert result.exit_code == 4, result.stdout + result.stderr
        assert "desk: SMOKE TEST FAILED (" in result.stdout
        assert "1 regressed" in result.stdout and "REGRESSED" in result.stdout
        assert "desk: looks up an order: regressed after" in result.stderr
        assert "comparing 1 smoke test(s) with the released revision: at most 600 " \
            "conversations" in result.stderr
        # The draft was kept, unreleased; the careful revision is still the released one.
        assert released_and_draft(copy)[0] == released
        assert released_and_draft(copy)[1] is not None


def test_a_candidate_as_good_as_the_release_is_released(
        order_desk: Callable[..., ProjectCopy], emulator: EmulatorServer) -> None:
    copy = order_desk(test={**ORDER_TEST, "compare": "released"})
    released, _ = released_and_draft(copy)
    copy.replace_in("desk.yaml", CAREFUL, f"{CAREFUL} Be brief.")
    failing_lookups(emulator, 1)  # neither revision ever fails: no pair can disagree
    result = copy.run("apply", "--yes", "--parallelism", "1")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "smoke tests passed on draft (1 no regression)" in result.stdout
    assert "compared on the draft" in result.stdout  # not run again after the release
    now, draft = released_and_draft(copy)
    assert now != released and draft is None


def run_compare(copy: ProjectCopy, *args: str) -> dict[str, Any]:
    """``smoke`` comparing the newest revision (v1) with the first (v0), as JSON."""
    result = copy.run("smoke", "--version", "v1", "--compare", "v0", "--format", "json",
                      "--parallelism", "1", *args)
    assert result.exit_code in (0, 4, 6), result.stdout + result.stderr
    return json.loads(result.stdout)


def shard_and_merge(copy: ProjectCopy, tmp_path: Path, *args: str) -> tuple[dict[str, Any],
                                                                           Path, str]:
    paths = []
    for index in range(1, 5):
        data = run_compare(copy, "--shard", f"{index}/4", *args)
        assert data["shard"] == f"{index}/4" and data["exit_code"] == 0
        path = tmp_path / f"shard-{index}.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        paths.append(path)
    junit = tmp_path / "merged.xml"
    merged = copy.run("smoke", "--format", "json", "--junit", str(junit),
                      *[arg for path in paths for arg in ("--merge", str(path))])
    markdown = copy.run("smoke", "--format", "markdown",
                        *[arg for path in paths for arg in ("--merge", str(path))])
    data = json.loads(merged.stdout)
    assert merged.exit_code == data["exit_code"]
    return data, junit, markdown.stdout


# One seed each: the merge reading the pairs exactly as one job does is checked over several
# seeds without a platform (tests/unit/smoke/test_comparison.py); here the real jobs agree.
@pytest.mark.parametrize(("chances", "seeds", "budget", "verdict"), [
    ({"broken": 0.8}, SEEDS[:1], "40", "regressed"),
    ({}, SEEDS[:1], "60", "no regression"),
])
def test_four_shards_merged_reach_the_verdict_of_one_job(
        order_desk: Callable[..., ProjectCopy], emulator: EmulatorServer, tmp_path: Path,
        chances: dict[str, float], seeds: tuple[int, ...], budget: str, verdict: str) -> None:
    import xmlschema

    copy = order_desk(test={**ORDER_TEST, "compare": "released"})
    copy.replace_in("desk.yaml", CAREFUL, BROKEN)
    assert copy.apply().exit_code == 0  # v1, released without its smoke tests
    for seed in seeds:
        failing_lookups(emulator, seed, **chances)
        one = run_compare(copy, "--max-conversations", budget)["tests"][0]["comparison"]
        merged, junit, markdown = shard_and_merge(copy, tmp_path, "--max-conversations",
                                                  budget)
        comparison = merged["tests"][0]["comparison"]
        assert one["verdict"] == comparison["verdict"] == verdict
        assert comparison["conversations"] == int(budget) and not comparison["partial"]
        assert xmlschema.XMLSchema(XSD).is_valid(str(junit))
        case = ET.parse(junit).getroot().find("testsuite/testcase")
        assert case is not None and (case.findtext("system-out") or "").startswith(
            f"{verdict}: {verdict} after ")
        failure = case.find("failure")
        assert (failure.get("type") if failure is not None else None) == (
            "regressed" if verdict == "regressed" else None)
        assert f"| {verdict.upper()} | `desk` | looks up an order |" in markdown


def test_conversations_stay_within_the_environment_limit_and_halve_on_429(
        order_desk: Callable[..., ProjectCopy], emulator: EmulatorServer,
        caplog: pytest.LogCaptureFixture, no_backoff: None) -> None:
    copy = order_desk(test={**ORDER_TEST, "compare": "released"},
                      environment="{api_key_env: OPERATOR_API_KEY, "
                                  "max_concurrent_conversations: 2}")
    copy.replace_in("desk.yaml", CAREFUL, f"{CAREFUL} Be brief.")
    assert copy.apply().exit_code == 0
    failing_lookups(emulator, 1)
    emulator.fail_next(3, 429, method="POST", path="^/conversations$", retry_after=0)
    with caplog.at_level(logging.INFO, logger="operator_iac.api.pool"):
        result = copy.run("smoke", "--version", "v1", "--compare", "v0",
                          "--parallelism", "8")
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "at most 56 conversations" not in result.stderr  # the budget, not the verdict
    assert "at most 600 conversations, about 35 min at 2 at once" in result.stderr
    assert "1 no regression" in result.stdout
    assert "429 (rate limited): at most 1 request(s) at once" in caplog.text
    creates = [r for r in emulator.requests if (r.method, r.path) == ("POST", "/conversations")]
    assert [r.status for r in creates].count(429) == 3


RELEASE_GATE_WORKFLOW = Path(__file__).resolve().parents[2] / "examples" / "github-actions" / \
    "release-gate.yml"


def test_the_example_workflow_feeds_a_matrix_of_shards_into_one_gate_job() -> None:
    from .cli_lines import parse_invocation
    from .test_ci import github_runs, project_environments

    text = RELEASE_GATE_WORKFLOW.read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    jobs = workflow["jobs"]
    assert list(jobs) == ["drafts", "smoke", "gate", "release"]
    assert [jobs[name].get("needs") for name in jobs] == [None, "drafts", "smoke", "gate"]
    shards = jobs["smoke"]["strategy"]["matrix"]["shard"]
    assert shards == [1, 2, 3, 4]
    # Each matrix job as GitHub runs it: the expression replaced by its shard.
    calls = {job: [parse_invocation(call) for call in found] for job, found in github_runs(
        yaml.safe_load(text.replace("${{ matrix.shard }}", "2"))).items()}
    assert [c.info_name for job in calls.values() for c in job] == [
        "apply", "smoke", "smoke", "apply", "smoke"]
    assert calls["drafts"][0].params["no_release"] and calls["release"][0].params["no_smoke"]
    proof = calls["release"][1].params  # the released revisions, each test once, recorded
    assert (proof["version"], proof["compare"], proof["shard"]) == ("released", None, None)
    smoke = calls["smoke"][0].params
    assert (smoke["version"], smoke["compare"], smoke["shard"]) == ("draft", "released", "2/4")
    assert str(smoke["json_file"]) == "smoke-2.json"
    merged = calls["gate"][0].params
    assert [str(p) for p in merged["merge"]] == [f"shards/smoke-{n}.json" for n in shards]
    upload = next(s for s in jobs["smoke"]["steps"] if "upload-artifact" in s.get("uses", ""))
    download = next(s for s in jobs["gate"]["steps"] if "download-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "smoke-${{ matrix.shard }}.json"
    assert (download["with"]["pattern"], download["with"]["path"]) == ("smoke-*", "shards")
    variable = project_environments()["staging"]["api_key_env"]
    for job in ("drafts", "smoke", "release"):
        assert jobs[job]["env"][variable] == f"${{{{ secrets.{variable} }}}}"


def test_drafts_left_unreleased_are_gated_in_shards_and_released_after(
        order_desk: Callable[..., ProjectCopy], emulator: EmulatorServer,
        tmp_path: Path) -> None:
    copy = order_desk({"gate": {"compare": "released", "max_conversations": 60}})
    released, _ = released_and_draft(copy)
    copy.replace_in("desk.yaml", CAREFUL, f"{CAREFUL} Be brief.")
    drafted = copy.run("apply", "--yes", "--no-release")
    assert drafted.exit_code == 0, drafted.stdout + drafted.stderr
    assert "(--no-release)" in drafted.stdout
    now, draft = released_and_draft(copy)
    assert now == released and draft is not None
    failing_lookups(emulator, 1)
    paths = []
    for index in (1, 2):
        path = tmp_path / f"smoke-{index}.json"
        shard = copy.run("smoke", "--version", "draft", "--compare", "released", "--shard",
                         f"{index}/2", "--json", str(path))
        assert shard.exit_code == 0, shard.stdout + shard.stderr
        assert f"shard {index}/2" in shard.stdout
        paths += ["--merge", str(path)]
    gate = copy.run("smoke", *paths)
    assert gate.exit_code == 0 and "1 no regression" in gate.stdout, gate.stdout + gate.stderr
    release = copy.run("apply", "--yes", "--no-smoke")
    assert release.exit_code == 0 and f"released {draft}" in release.stdout
    # Released without its smoke tests, the revision is not yet evidence promote accepts;
    # the release job's smoke run of the released revision (each test once) makes it so.
    assert not smoke_evidence(copy, draft).passed
    proven = copy.run("smoke")
    assert proven.exit_code == 0 and "1 passed" in proven.stdout, proven.stdout + proven.stderr
    assert smoke_evidence(copy, draft).passed


def smoke_evidence(copy: ProjectCopy, version_id: str | None) -> SmokeRecord:
    """What promote reads about the smoke tests of ``version_id`` (of the agent ``desk``)."""
    assert version_id is not None
    with copy.target().client() as client:
        found = last_smoke_result(client, project="desk", key="desk", agent_id=version_id)
    assert found is not None
    return found


def test_a_platform_refusing_drafts_stops_the_comparison_within_a_few_pairs(
        order_desk: Callable[..., ProjectCopy], emulator: EmulatorServer) -> None:
    copy = order_desk({"gate": {"compare": "released"}})
    copy.replace_in("desk.yaml", CAREFUL, HASTY)
    failing_lookups(emulator, 1)
    emulator.set_compat("released_only_conversations")
    emulator.clear_requests()
    result = copy.run("apply", "--yes", "--parallelism", "1")
    assert result.exit_code == 1, result.stdout + result.stderr
    assert "the platform does not converse with unreleased drafts" in result.stdout
    assert "none of the first 5 pair(s) could be judged; stopping" in result.stderr
    creates = [r for r in emulator.requests if (r.method, r.path) == ("POST", "/conversations")]
    assert len(creates) <= 12  # five pairs (and a record), not the 600 of the budget


def test_the_gate_slows_down_on_429_while_it_runs_and_lets_go_of_the_client_after(
        order_desk: Callable[..., ProjectCopy], emulator: EmulatorServer,
        caplog: pytest.LogCaptureFixture, no_backoff: None) -> None:
    from operator_iac.services.apply import apply
    from operator_iac.services.plan import make_plan
    from operator_iac.smoke.gate import smoke_gate

    copy = order_desk(test={**ORDER_TEST, "compare": "released"})
    copy.replace_in("desk.yaml", CAREFUL, f"{CAREFUL} Be brief.")
    failing_lookups(emulator, 1)
    # Test conversations are deleted as they end (the smoke records of the release are not).
    emulator.fail_next(3, 429, method="DELETE", path="^/conversations/", retry_after=0)
    with copy.target().client() as client:
        listening = list(client._listeners)
        planned = make_plan(copy.target(), client)
        gate = smoke_gate("desk", client, planned.desired, parallelism=2)
        with caplog.at_level(logging.INFO, logger="operator_iac.api.pool"):
            report = apply(planned, client, smoke_gate=gate)
        assert report.exit_code() == 0, report.results
        # The gate's limit of 2 heard the 429s (apply's own pool of 8 halves to 4 only),
        # and nothing of the gate listens to the client once its conversations ended.
        assert "429 (rate limited): at most 1 request(s) at once" in caplog.text
        assert client._listeners == listening


def test_a_draft_edited_after_the_gate_is_not_released(
        order_desk: Callable[..., ProjectCopy], emulator: EmulatorServer) -> None:
    from .dashboard import Dashboard

    copy = order_desk({"gate": {"compare": "released", "max_conversations": 40}})
    released, _ = released_and_draft(copy)
    copy.replace_in("desk.yaml", CAREFUL, f"{CAREFUL} Be brief.")
    assert copy.run("apply", "--yes", "--no-release").exit_code == 0
    failing_lookups(emulator, 1)
    gated = copy.run("smoke", "--version", "draft")
    assert "compared with" in gated.stdout, gated.stdout + gated.stderr
    # Someone edits the draft the gate judged, in the dashboard, before the release job.
    assert released is not None
    Dashboard(emulator).edit(released.split("@")[0], lambda body: body["config"]["runtime"][
        "prompt"].update(text=HASTY), start_from="draft")
    release = copy.run("apply", "--yes", "--no-smoke")
    assert release.exit_code == 5, release.stdout + release.stderr
    assert "has an unreleased draft that operator-iac did not write" in release.stderr
    assert released_and_draft(copy)[0] == released
