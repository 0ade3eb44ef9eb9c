"""A smoke report as the JSON envelope's part (``docs/json-output.md``): the report's data,
its counts as the summary, and an error per gating test that did not pass, per agent that could
not be tested and per verdict that could not be recorded. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence

from operator_iac.errors import (
    OperationError,
    SmokeIncompleteError,
    SmokeRecordError,
    SmokeTestFailedError,
)
from operator_iac.render.envelope import NOT_RUN_CODE, JsonObject, JsonReport, error_entry
from operator_iac.render.smoke_report import smoke_report_data
from operator_iac.smoke.results import SmokeReport

# The code of each verdict that fails a run; passed and flaky tests are no error.
VERDICT_CODES = {"failed": SmokeTestFailedError.code,
                 "incomplete": SmokeIncompleteError.code,
                 "error": OperationError.code}


def smoke_json(report: SmokeReport,
               replay: tuple[str, Sequence[str]] | None = None) -> JsonReport:
    """The report; a replay adds ``replay: {conversation_id, differences}``."""
    data = smoke_report_data(report, replay)
    summary = data.pop("summary")
    return JsonReport(data, summary, tuple(smoke_errors(report)))


def smoke_errors(report: SmokeReport) -> list[JsonObject]:
    errors = [error_entry(VERDICT_CODES[t.verdict], f"{t.agent_key}: {t.test_name}: "
                          f"{t.verdict}: {t.reason()}")
              for t in report.gating_tests if t.verdict in VERDICT_CODES]
    errors += [error_entry(NOT_RUN_CODE, f"{p.agent_key}: {p.message}")
               for p in report.problems]
    errors += [error_entry(SmokeRecordError.code, line) for line in report.unrecorded]
    return errors
