"""What is known of a platform's post-processing of test conversations (``Habits``)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from operator_iac.smoke.postprocessing import Habits
from operator_iac.spec.desired import DesiredAgent

AGENT = DesiredAgent("booking", "conversational_agent", Path("booking.yaml"), "Booking", "", {})


def test_the_environment_s_declaration_is_what_is_known_at_first() -> None:
    said = {"a": replace(AGENT, testmode_postprocessing=False), "b": AGENT}
    assert Habits.declared(said).testmode_postprocessing is False
    assert Habits.declared({"a": AGENT}).testmode_postprocessing is None
    assert Habits.declared({}).testmode_postprocessing is None


def test_a_run_the_platform_started_by_itself_overrules_the_declaration() -> None:
    habits = Habits(testmode_postprocessing=False)
    habits.learn_platform_runs("call-summary")
    assert habits.testmode_postprocessing is True
