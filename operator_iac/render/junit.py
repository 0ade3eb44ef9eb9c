"""A smoke report as JUnit XML, the format CI systems show as test results.

One ``<testsuite>`` per agent (its revision under test as a suite property), one
``<testcase>`` per smoke test, valid against the Jenkins xUnit plugin's ``junit-10.xsd``
(the schema GitHub and GitLab test-report readers follow). That schema gives a
``<testcase>`` no status attribute, so the verdict is carried by what it allows: a
``failed`` test is a ``<failure type="failed">``; an ``incomplete`` test (a timeout, an
assertion nothing could judge) and a platform ``error`` are an ``<error>`` whose ``type``
says which; a quarantined test that did not pass is ``<skipped type="quarantined">`` (it
ran, but gates nothing). A ``flaky`` test passes, with `` [flaky]`` after its name, so
test-report pages list it as such. Each test that did not pass cleanly carries its verdict,
attempts, the failing attempt's details and transcript in ``<system-out>``. Agents whose
tests could not run appear as a test case with an ``<error>``; agents without tests as
``<skipped>``. A test compared with the released revision says its comparison's verdict
and both pass rates, with their Wilson intervals, in ``<system-out>``; ``regressed`` is a
``<failure type="regressed">``. Built with ``xml.etree``, so escaping is never hand-made.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from operator_iac.render.transcript import render_transcript
from operator_iac.smoke.comparison import comparison_line
from operator_iac.smoke.matchers import clip
from operator_iac.smoke.results import Problem, RunResult, SmokeReport, TestResult

SUITES_NAME = "operator-iac smoke"
FLAKY_SUFFIX = " [flaky]"
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
    _count(root, root.findall("testsuite"), ("tests", "failures", "errors"))
    root.set("time", _seconds(report.duration_ms))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _count(element: ET.Element, suites: Iterable[ET.Element], names: Iterable[str]) -> None:
    # <testsuites> has no "skipped" attribute in junit-10.xsd; <testsuite> has.
    totals = dict.fromkeys(names, 0)
    for suite in suites:
        for name in totals:
            totals[name] += int(suite.get(name, "0"))
    for name, value in totals.items():
        element.set(name, str(value))


def _suite(key: str, tests: list[TestResult], problems: list[Problem],
           skipped: list[Problem]) -> ET.Element:
    suite = ET.Element("testsuite", name=key)
    revisions = list(dict.fromkeys(t.version_id for t in tests))
    if revisions:
        ET.SubElement(suite, "properties").extend(
            ET.Element("property", name="version_id", value=v) for v in revisions)
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
    verdict = test.verdict
    name = _clean(test.test_name) + (FLAKY_SUFFIX if verdict == "flaky" else "")
    case = ET.Element("testcase", classname=test.agent_key, name=name,
                      time=_seconds(test.duration_ms))
    run = test.failing_run()
    if test.comparison is not None:
        _compared(case, test, run)
        return case
    if run is None:
        return case
    if test.quarantined:
        ET.SubElement(case, "skipped", type="quarantined",
                      message=_short(f"quarantined, {verdict}: {test.reason()}"))
    elif verdict in ("error", "incomplete"):
        _problem(case, "error", test, run)
    elif verdict == "failed":
        _problem(case, "failure", test, run)
    out = ET.SubElement(case, "system-out")
    out.text = _clean("\n".join([f"{verdict}: {test.attempts_line()}",
                                  f"attempt {run.attempt}: {run.reason()}", *_details(run),
                                  "", render_transcript(run.events,
                                                        conversation_id=run.conversation_id)]))
    return case


def _compared(case: ET.Element, test: TestResult, run: RunResult | None) -> None:
    """A compared test: ``<failure>`` when it regressed, ``<error>`` when inconclusive under
    the block policy (or nothing could be judged), and always its comparison, with both pass
    rates and their intervals, in ``<system-out>``."""
    verdict = test.verdict
    if test.quarantined and verdict != "passed":
        ET.SubElement(case, "skipped", type="quarantined",
                      message=_short(f"quarantined: {test.reason()}"))
    elif verdict in ("failed", "error", "incomplete"):
        tag = "failure" if verdict == "failed" else "error"
        problem = ET.SubElement(case, tag, message=_short(test.reason()),
                                type=test.counted_as)
        problem.text = _clean("\n".join(_details(run))) if run is not None else None
    lines = [f"{test.counted_as}: {comparison_line(test)}"]
    if run is not None and verdict == "failed":
        lines += ["", f"a failed attempt on the candidate ({run.attempt}): {run.reason()}",
                  "", render_transcript(run.events, conversation_id=run.conversation_id)]
    ET.SubElement(case, "system-out").text = _clean("\n".join(lines))


def _problem(case: ET.Element, tag: str, test: TestResult, run: RunResult) -> None:
    problem = ET.SubElement(case, tag, message=_short(test.reason()), type=test.verdict)
    problem.text = _clean("\n".join(_details(run)))


def _details(run: RunResult) -> list[str]:
    details = [run.error] if run.error else []
    details += [a.message() for a in run.failures]
    return details + [f"note: {note}" for note in run.notes]
