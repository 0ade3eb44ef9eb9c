"""JUnit XML from a smoke report: valid XML, one case per test, failures with transcripts."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from operator_iac.render.junit import render_junit
from operator_iac.smoke.results import AssertionResult, Problem, RunResult, SmokeReport, TestResult

from ..smoke.conftest import ConversationScript

EVENTS = tuple(ConversationScript().started().agent("Hi <there> & \x07welcome").user("x").events)
FAILURE = AssertionResult("agent_says", 'agent_says contains "Amanda"', False, 0,
                          'an agent message that contains "Amanda"', 'agent said "Hi"')


def run(outcome: str, attempt: int = 1, error: str = "", failed: bool = False) -> RunResult:
    return RunResult(attempt, outcome, f"conv_{attempt}",  # type: ignore[arg-type]
                     (FAILURE,) if failed else (), EVENTS, error, 2500.0)


def report() -> SmokeReport:
    return SmokeReport(
        (TestResult("booking", "greets", "ca_b@v2", (run("passed"),)),
         TestResult("booking", "books", "ca_b@v2", (run("passed"), run("failed", 2, failed=True)),
                    1.0),
         TestResult("triage", "opens a ticket", "ca_t@v1",
                    (run("error", error="POST /conversations failed with HTTP 409"),))),
        (Problem("summary", "summary is not deployed"),),
        (Problem("quiet", "quiet has no smoke tests"),), 9000)


def parse() -> ET.Element:
    text = render_junit(report())
    assert text.startswith("<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(text)


def test_totals_and_suites() -> None:
    root = parse()
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("tests", "failures", "errors", "skipped", "time")} == {
        "tests": "5", "failures": "1", "errors": "2", "skipped": "1", "time": "9.000"}
    assert [s.get("name") for s in root.findall("testsuite")] == [
        "booking", "triage", "summary", "quiet"]
    booking = root.find("testsuite[@name='booking']")
    assert booking is not None
    assert (booking.get("tests"), booking.get("failures"), booking.get("time")) == (
        "2", "1", "7.500")


def test_a_failure_carries_the_reason_and_the_transcript() -> None:
    case = parse().find("testsuite/testcase[@name='books']")
    assert case is not None and case.get("classname") == "booking"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "failed"
    assert failure.get("message", "").startswith("1/2 runs passed, 100% required; attempt 2: "
                                                 'turn 0: agent_says contains "Amanda"')
    assert failure.text == ('turn 0: agent_says contains "Amanda": expected an agent message '
                            'that contains "Amanda"; saw agent said "Hi"')
    out = case.findtext("system-out") or ""
    assert "Agent: Hi <there> & welcome" in out  # escaped by the writer; control chars dropped
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties == {"version_id": "ca_b@v2", "pass_rate": "0.5"}


def test_platform_errors_problems_and_skips() -> None:
    root = parse()
    error = root.find("testsuite[@name='triage']/testcase/error")
    assert error is not None and error.get("type") == "error"
    assert error.get("message") == "POST /conversations failed with HTTP 409"
    not_run = root.find("testsuite[@name='summary']/testcase/error")
    assert not_run is not None and not_run.get("message") == "summary is not deployed"
    assert root.find("testsuite[@name='quiet']/testcase/skipped") is not None
    assert root.find("testsuite/testcase[@name='greets']/failure") is None
