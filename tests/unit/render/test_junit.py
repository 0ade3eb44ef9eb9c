"""JUnit XML from a smoke report: valid against junit-10.xsd, one case per test, failures
with transcripts, flaky and quarantined tests marked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from operator_iac.render.junit import render_junit
from operator_iac.smoke.results import AssertionResult, Problem, RunResult, SmokeReport, TestResult
from operator_iac.spec.smoke_rules import PassRule

from ..smoke.conftest import ConversationScript

# The Jenkins xUnit plugin's schema, unchanged (MIT license, header kept):
# https://github.com/jenkinsci/xunit-plugin, file
# src/main/resources/org/jenkinsci/plugins/xunit/types/model/xsd/junit-10.xsd
XSD = Path(__file__).with_name("junit-10.xsd")

EVENTS = tuple(ConversationScript().started().agent("Hi <there> & \x07welcome").user("x").events)
FAILURE = AssertionResult("agent_says", 'agent_says contains "Amanda"', False, 0,
                          'an agent message that contains "Amanda"', 'agent said "Hi"')


def run(outcome: str, attempt: int = 1, error: str = "", failed: bool = False) -> RunResult:
    return RunResult(attempt, outcome, f"conv_{attempt}",  # type: ignore[arg-type]
                     (FAILURE,) if failed else (), EVENTS, error, 2500.0)


def report() -> SmokeReport:
    return SmokeReport(
        (TestResult("booking", "greets", "ca_b@v2", (run("passed"),)),
         TestResult("booking", "books", "ca_b@v2", (run("passed"), run("failed", 2, failed=True))),
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
        "tests": "5", "failures": "1", "errors": "2", "skipped": None, "time": "9.000"}
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
    assert failure.get("message", "").startswith("1/2 attempts passed (50%, 95% interval "
                                                 "9%-91%, pass^2 0%; rule all)"
                                                 '; attempt 2: turn 0: agent_says contains '
                                                 '"Amanda"')
    assert failure.text == ('turn 0: agent_says contains "Amanda": expected an agent message '
                            'that contains "Amanda"; saw agent said "Hi"')
    out = case.findtext("system-out") or ""
    assert "Agent: Hi <there> & welcome" in out  # escaped by the writer; control chars dropped
    assert out.startswith("failed: 1/2 attempts passed")
    assert case.get("status") is None and case.find("properties") is None
    suite = parse().find("testsuite[@name='booking']")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {"version_id": "ca_b@v2"}


def test_platform_errors_problems_and_skips() -> None:
    root = parse()
    error = root.find("testsuite[@name='triage']/testcase/error")
    assert error is not None and error.get("type") == "error"
    assert error.get("message") == "POST /conversations failed with HTTP 409"
    not_run = root.find("testsuite[@name='summary']/testcase/error")
    assert not_run is not None and not_run.get("message") == "summary is not deployed"
    assert root.find("testsuite[@name='quiet']/testcase/skipped") is not None
    assert root.find("testsuite/testcase[@name='greets']/failure") is None


def flaky_report() -> SmokeReport:
    attempts = (run("passed"), run("failed", 2, failed=True), run("passed", 3))
    return SmokeReport((
        TestResult("booking", "books", "ca_b@v2", attempts, PassRule("majority")),
        TestResult("booking", "refunds", "ca_b@v2", (run("failed", failed=True),),
                   quarantined=True),
        TestResult("booking", "hangs", "ca_b@v2", (run("timeout", error="turn 1: no reply"),)),
    ))


def test_flaky_quarantined_and_incomplete_tests_are_marked() -> None:
    root = ET.fromstring(render_junit(flaky_report()))
    flaky = root.find("testsuite/testcase[@name='books [flaky]']")
    assert flaky is not None and flaky.get("status") is None
    assert flaky.find("failure") is None and flaky.find("error") is None  # it passed the gate
    out = flaky.findtext("system-out") or ""
    assert out.startswith("flaky: 2/3 attempts passed") and "attempt 2: turn 0" in out
    quarantined = root.find("testsuite/testcase[@name='refunds']")
    assert quarantined is not None and quarantined.get("status") is None
    skipped = quarantined.find("skipped")
    assert skipped is not None and skipped.get("type") == "quarantined"
    assert skipped.get("message", "").startswith("quarantined, failed: ")
    incomplete = root.find("testsuite/testcase[@name='hangs']/error")
    assert incomplete is not None and incomplete.get("type") == "incomplete"
    assert incomplete.get("message") == "turn 1: no reply"


@pytest.mark.parametrize("make", [report, flaky_report, SmokeReport])
def test_the_xml_validates_against_junit_10_xsd(make: object) -> None:
    import xmlschema

    schema = xmlschema.XMLSchema(XSD)
    text = render_junit(make())  # type: ignore[operator]
    errors = [str(e.reason) for e in schema.iter_errors(text)]
    assert errors == []


def test_the_schema_refuses_what_used_to_be_written() -> None:
    """The XSD is a real check: the mistakes JUnit files commonly make (and a status attribute
    on a test case, which this renderer used to write) are refused, while the same document
    without them is accepted."""
    import xmlschema

    schema = xmlschema.XMLSchema(XSD)
    suite = '<testsuites><testsuite name="a" tests="1" failures="0" errors="0">{}</testsuite>' \
            '</testsuites>'
    assert schema.is_valid(suite.format('<testcase name="t"/>'))
    assert not schema.is_valid('<testsuites tests="0" skipped="0"/>')
    assert not schema.is_valid(suite.format('<testcase name="t"><properties><property '
                                            'name="p" value="v"/></properties></testcase>'))
    assert not schema.is_valid(suite.format('<testcase name="t" status="flaky"/>'))
