"""Merging the JSON reports of a sharded smoke run (``smoke --shard K/N`` in N jobs) into
the one report, and the one verdict, a single job would have made.

Each shard's report carries every run it made (with the events of those that did not pass)
and, for a compared test, the design it was judged with. The merge puts each test's runs
together by attempt number and judges it again: a plain test by its pass rule over every
attempt, a compared test by the sequential test reading the pairs in order from attempt 1,
stopping where a single job would have stopped. Every shard 1..N must be there exactly once,
and all of them must have tested the same revisions. Pure: reading the files is the
service's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from operator_iac.api.events import Event
from operator_iac.errors import InvalidInputError
from operator_iac.render.envelope import JsonObject
from operator_iac.smoke.comparison import Comparison
from operator_iac.smoke.results import (
    CLASS_OF,
    AssertionResult,
    Problem,
    RunResult,
    SmokeReport,
    TestResult,
)
from operator_iac.smoke.shard import Shard
from operator_iac.smoke.stats import Design
from operator_iac.spec.smoke_rules import PassRule


@dataclass(frozen=True)
class ShardReport:
    """One shard's report as read back: where it came from, its shard, and its content."""

    source: str
    shard: Shard
    data: JsonObject


class ReportError(InvalidInputError):
    """A report given to ``--merge`` cannot be read or does not fit with the others."""


def shard_report(data: Any, source: str) -> ShardReport:
    """The shard report in parsed JSON (the report itself, or an object holding it under
    ``report``)."""
    if isinstance(data, dict) and "tests" not in data and isinstance(data.get("report"), dict):
        data = data["report"]
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        raise ReportError(f"{source}: not a smoke report in JSON (smoke --format json)")
    shard = data.get("shard")
    if not isinstance(shard, str):
        raise ReportError(f"{source}: not the report of a shard (made without --shard K/N)")
    try:
        return ShardReport(source, Shard.parse(shard), data)
    except InvalidInputError as exc:
        raise ReportError(f"{source}: {exc}") from None


def merge_reports(reports: Sequence[ShardReport]) -> SmokeReport:
    """One report from every shard's: each test judged again over all its attempts."""
    _check_shards(reports)
    groups: dict[tuple[str, str], list[tuple[ShardReport, JsonObject]]] = {}
    for report in reports:
        for test in report.data["tests"]:
            groups.setdefault((str(test.get("agent")), str(test.get("test"))), []).append(
                (report, test))
    tests = tuple(_merge_test(parts) for parts in groups.values())
    problems = _unique(Problem(p["agent"], p["message"]) for r in reports
                       for p in r.data.get("problems", []))
    skipped = _unique(Problem(p["agent"], p["message"]) for r in reports
                      for p in r.data.get("skipped", []))
    duration = max(float(r.data.get("summary", {}).get("duration_ms", 0)) for r in reports)
    return SmokeReport(tests=tests, problems=problems, skipped=skipped, duration_ms=duration)


def _check_shards(reports: Sequence[ShardReport]) -> None:
    if not reports:
        raise ReportError("no reports to merge")
    counts = {r.shard.count for r in reports}
    if len(counts) > 1:
        raise ReportError("the reports come from runs split into different numbers of shards: "
                          + ", ".join(f"{r.source} ({r.shard})" for r in reports))
    count = counts.pop()
    seen: dict[int, str] = {}
    for report in reports:
        if report.shard.index in seen:
            raise ReportError(f"shard {report.shard} is given twice: "
                              f"{seen[report.shard.index]} and {report.source}")
        seen[report.shard.index] = report.source
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if missing:
        raise ReportError(f"the report of shard {', '.join(missing)} is missing: every "
                          "shard's report is needed for the verdict")


def _merge_test(parts: list[tuple[ShardReport, JsonObject]]) -> TestResult:
    first = parts[0][1]
    key, name = str(first["agent"]), str(first["test"])
    revisions = {(t.get("version_id"), (t.get("comparison") or {}).get("baseline_version_id"))
                 for _, t in parts}
    if len(revisions) > 1:
        where = ", ".join(f"{r.source}: {t.get('version_id')}" for r, t in parts)
        raise ReportError(f"{key}: {name!r} was tested on different revisions in different "
                          f"shards ({where}); run every shard against the same revisions")
    runs = _runs([run for _, t in parts for run in t.get("runs", [])], parts[0][0].source)
    comparison = None
    if first.get("comparison"):
        comparison = _comparison(runs, [t["comparison"] for _, t in parts], parts[0][0].source)
    return TestResult(key, name, str(first.get("version_id")), runs,
                      PassRule.parse(first.get("pass_rule") or "all"),
                      bool(first.get("quarantined")), comparison=comparison)


def _comparison(candidate: tuple[RunResult, ...], parts: list[JsonObject],
                source: str) -> Comparison:
    designs = {repr(part.get("design")) for part in parts}
    if len(designs) > 1:
        raise ReportError("the shards compared with different gate settings "
                          "(max_drop, confidence, max_conversations)")
    design = parts[0]["design"]
    baseline = _runs([run for part in parts for run in part.get("baseline_runs", [])], source)
    return Comparison.judge(
        candidate, baseline, baseline_version_id=str(parts[0]["baseline_version_id"]),
        design=Design(float(design["alpha"]), float(design["max_drop"]),
                      float(design["power"]), int(design["max_pairs"])),
        confidence=float(design["confidence"]), inconclusive=design["inconclusive"],
        complete=True)


def _runs(data: list[JsonObject], source: str) -> tuple[RunResult, ...]:
    try:
        runs = [_run(item) for item in data]
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise ReportError(f"{source}: a run cannot be read back ({exc})") from None
    attempts = [run.attempt for run in runs]
    if len(set(attempts)) != len(attempts):
        raise ReportError(f"{source}: one attempt appears in two shards' reports")
    return tuple(sorted(runs, key=lambda r: r.attempt))


def _run(data: Mapping[str, Any]) -> RunResult:
    outcome = data["outcome"]
    if outcome not in CLASS_OF:
        raise ValueError(f"unknown outcome {outcome!r}")
    assertions = tuple(AssertionResult(
        str(a["kind"]), str(a["description"]), bool(a["passed"]), a.get("turn"),
        a.get("expected") or "", a.get("seen") or "", bool(a.get("evaluable", True)))
        for a in data.get("assertions", []))
    events = tuple(Event.model_validate(e) for e in data.get("events", []))
    return RunResult(int(data["attempt"]), outcome, data.get("conversation_id"), assertions,
                     events, data.get("error") or "", float(data.get("duration_ms", 0)),
                     tuple(data.get("notes", [])), data.get("refused_status"))


def _unique(problems: Any) -> tuple[Problem, ...]:
    return tuple(dict.fromkeys(problems))
