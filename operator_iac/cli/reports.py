"""What the writing commands (apply, promote, rollback) share: the plan shown before anything is
written, the apply report in the asked format, and the confirmation question."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from operator_iac.cli import output
from operator_iac.cli.json_report import report_json

if TYPE_CHECKING:
    from operator_iac.apply.report import ApplyReport
    from operator_iac.cli.app import App
    from operator_iac.plan.model import Plan
    from operator_iac.services.feedback import Confirm


def plan_shower(app: App, fmt: str) -> Callable[[Plan], None] | None:
    """Shows the plan as text before a text report; other formats print only the report."""
    if fmt != "text":
        return None
    from operator_iac.render.plan_text import render_plan_text

    color = output.colour_enabled(app.settings.no_color)
    return lambda plan: output.result(render_plan_text(plan, color=color).rstrip("\n"))


def confirmer(yes: bool, without_terminal: str) -> Confirm | None:
    """None when already confirmed (``--yes`` or a saved plan); otherwise a question asked on
    the terminal, and without one the ``without_terminal`` usage error."""
    if yes:
        return None
    return lambda question: output.confirm(question, without_terminal)


def show_no_changes(plan: Plan, fmt: str, message: str) -> int:
    """Nothing to apply: a message beside the text plan, an empty report in JSON or Markdown
    (a script reading stdout gets a report either way). Exit code 0."""
    from operator_iac.apply.report import ApplyReport

    if fmt == "text":
        output.info(message)
    else:
        show_apply(ApplyReport(plan=plan, results=()), fmt)
    return 0


def show_apply(report: ApplyReport, fmt: str) -> None:
    """The apply report in ``fmt``: printed, or in JSON handed to the run's envelope."""
    from operator_iac.render.apply_report import (
        apply_json,
        render_apply_markdown,
        render_apply_text,
    )

    if fmt == "json":
        report_json(apply_json(report))
        return
    render = render_apply_markdown if fmt == "markdown" else render_apply_text
    output.result(render(report).rstrip("\n"))
