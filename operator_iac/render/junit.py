"""A smoke report as JUnit XML, the format CI systems show as test results.

One ``<testsuite>`` per agent, one ``<testcase>`` per smoke test. A failed assertion or a
timeout is a ``<failure>``, a platform error an ``<error>``; both carry the reason as their
message, the details as text, and the failing run's transcript in ``<system-out>``. Agents
whose tests could not run appear as a test case with an ``<error>``; agents without tests
as ``<skipped>``. Built with ``xml.etree``, so escaping is never hand-made.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from operator_iac.render.transcript import render_transcript
from operator_iac.smoke.matchers import clip
from operator_iac.smoke.results import Problem, SmokeReport, TestResult

SUITES_NAME = "operator-iac smoke"
MAX_MESSAGE_CHARS = 500


def _seconds(ms: float) -> str:
    return f"{ms / 1000:.3f}"


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters, even escaped."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def _short(text: str) -> str:
    return clip(" ".join(_clean(text).split()), MAX_MESSAGE_CHARS)


def render_junit(report: SmokeReport) -> str:
    """The report as a JUnit XML document (with an XML declaration)."""
    root = ET.Element("testsuites", name=SUITES_NAME)
    keys = list(dict.fromkeys([t.agent_key for t in report.tests]
                              + [p.agent_key for p in (*report.problems, *report.skipped)]))
    for key in keys:
        root.append(_suite(key, [t for t in report.tests if t.agent_key == key],
                           [p for p in report.problems if p.agent_key == key],
                           [p for p in report.skipped if p.agent_key == key]))
    _count(root, root.findall("testsuite"))
    root.set("time", _seconds(report.duration_ms))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _count(element: ET.Element, suites: Iterable[ET.Element]) -> None:
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for name in totals:
            totals[name] += int(suite.get(name, "0"))
    for name, value in totals.items():
        element.set(name, str(value))


def _suite(key: str, tests: list[TestResult], problems: list[Problem],
           skipped: list[Problem]) -> ET.Element:
    suite = ET.Element("testsuite", name=key)
    for test in tests:
        suite.append(_case(test))
    for problem in problems:
        case = ET.SubElement(suite, "testcase", classname=key, name="(not run)", time="0")
        ET.SubElement(case, "error", message=_short(problem.message), type="not_run")
    for item in skipped:
        case = ET.SubElement(suite, "testcase", classname=key, name="(no smoke tests)",
                             time="0")
        ET.SubElement(case, "skipped", message=_short(item.message))
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("time", _seconds(sum(t.duration_ms for t in tests)))
    return suite


def _case(test: TestResult) -> ET.Element:
    case = ET.Element("testcase", classname=test.agent_key, name=_clean(test.test_name),
                      time=_seconds(test.duration_ms))
    ET.SubElement(case, "properties").extend([
        ET.Element("property", name="version_id", value=test.version_id),
        ET.Element("property", name="pass_rate", value=f"{test.pass_rate:g}"),
    ])
    run = test.failing_run()
    if run is None:
        return case
    tag = "error" if test.outcome == "error" else "failure"
    problem = ET.SubElement(case, tag, message=_short(test.reason()), type=test.outcome)
    details = [run.error] if run.error else []
    details += [a.message() for a in run.failures]
    details += [f"note: {note}" for note in run.notes]
    problem.text = _clean("\n".join(details))
    out = ET.SubElement(case, "system-out")
    out.text = _clean(render_transcript(run.events, conversation_id=run.conversation_id))
    return case
