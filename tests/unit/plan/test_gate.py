"""The release gate in a plan: which tests are compared, with which revision, at which stage,
and the worst case it may cost; shown by every plan renderer, dropped by ``--no-smoke``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from operator_iac.plan.model import Plan
from operator_iac.render.plan_markdown import render_plan_markdown
from operator_iac.render.plan_text import render_plan_text
from operator_iac.services.plan import without_smoke
from operator_iac.smoke.gate import gate_target
from operator_iac.spec.gate import GateSettings
from operator_iac.spec.models import SmokeTest

Factory = Any
ORDERS = SmokeTest.model_validate({"name": "looks up orders",
                                   "turns": [{"user": "Where is AC-1?"}, {"user": "Thanks"}]})
GREETS = SmokeTest(name="greets")
GATE = GateSettings(max_conversations=100, inconclusive="warn")


def updated(make_desired: Factory, managed: Factory, plan_for: Factory,
            **fields: Any) -> tuple[Plan, str]:
    agent = make_desired(smoke=(ORDERS, GREETS))
    remote = managed(agent, "ca_1")
    changed = replace(agent, description="Books and moves appointments.", **fields)
    return plan_for([changed], [remote]), remote.released.version_id


def test_a_declared_gate_compares_every_test_on_the_draft(
        make_desired: Factory, managed: Factory, plan_for: Factory) -> None:
    plan, released = updated(make_desired, managed, plan_for, smoke_gate=GATE)
    gate = plan.resources[0].gate
    assert gate is not None
    assert (gate.stage, gate.baseline_version_id, gate.tests) == (
        "draft", released, ("looks up orders", "greets"))
    # 100 conversations per test; 2 user turns take 4 + 2 * 3 s, none 4 s; 8 at once.
    assert gate.worst_case_conversations == 200
    assert gate.estimated_seconds == (100 * 10.0 + 100 * 4.0) / 8
    expected = (f"release gate: 2 test(s) compared with {released} on the draft, blocking a "
                "drop of 0.1 at 95% confidence (inconclusive: warn); at worst 200 "
                "conversations, about 3 min at 8 at once")
    assert expected in render_plan_text(plan)
    assert expected in render_plan_markdown(plan)
    assert without_smoke(plan).resources[0].gate is None


def test_tests_that_say_compare_are_gated_alone_and_after_release_if_only_then(
        make_desired: Factory, managed: Factory, plan_for: Factory) -> None:
    compared = ORDERS.model_copy(update={"compare": "released"})
    plan, _ = updated(make_desired, managed, plan_for, smoke=(compared, GREETS),
                      smoke_on=("released",), smoke_concurrency=2)
    gate = plan.resources[0].gate
    assert gate is not None and gate.tests == ("looks up orders",)
    assert (gate.stage, gate.concurrency, gate.max_conversations) == ("released", 2, 600)
    assert "after release (rolled back on a regression)" in render_plan_text(plan)


def test_nothing_released_or_nothing_compared_means_no_gate(
        make_desired: Factory, managed: Factory, plan_for: Factory) -> None:
    created = plan_for([replace(make_desired(smoke=(ORDERS,)), smoke_gate=GATE)])
    assert created.resources[0].action == "create" and created.resources[0].gate is None
    plan, _ = updated(make_desired, managed, plan_for)
    assert plan.resources[0].gate is None


def test_apply_compares_at_the_gates_stage_and_skips_those_tests_at_the_other(
        make_desired: Factory, managed: Factory, plan_for: Factory) -> None:
    plan, released = updated(make_desired, managed, plan_for, smoke_gate=GATE)
    resource = plan.resources[0]
    agent = replace(make_desired(smoke=(ORDERS, GREETS)), smoke_gate=GATE)
    on_draft = gate_target(resource.gate, agent, "ca_1@v9", "draft")
    assert on_draft.baseline is not None and on_draft.baseline.version_id == released
    assert on_draft.baseline.gate == GATE.model_copy(update={"compare": "released"})
    after = gate_target(resource.gate, agent, "ca_1@v9", "released")
    assert after.baseline is None and after.tests == ()
    unchanged = gate_target(None, agent, "ca_1@v9", "draft")
    assert unchanged.baseline is None and unchanged.tests == (ORDERS, GREETS)
