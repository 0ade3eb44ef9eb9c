"""A platform that keeps descriptions short: the ownership marker never pushes a user's
description over the limit, and is never lost to it.

Both platforms cut every description at 255 characters (``short_descriptions``), or refuse
a longer one (``long_descriptions_refused``), and store values in forms of their own,
descriptions escaped as Markdown among them (so that what is kept and what was sent differ
in length). Nothing here depends on the limit the emulator picks: it is learnt from the
read-back of a write that kept only the beginning, or from the refusals.
"""

from __future__ import annotations

from typing import Any

import pytest

from operator_iac import defaults
from operator_iac.apply import steps
from operator_iac.emulator.compat import DESCRIPTION_LIMIT
from operator_iac.plan.marker import strip_marker, unescaped

from .two_platforms import Environments, environments

__all__ = ["environments"]

FORMS = ("dated_models", "escaped_markdown")
KEYS = ("appointment-booking", "call-summary", "lead-qualification", "support-triage")


@pytest.fixture(params=["short_descriptions", "long_descriptions_refused"])
def limited(environments: Environments, request: pytest.FixtureRequest) -> Environments:
    """A platform that cuts descriptions at its limit, or one that refuses them (422)."""
    for name in ("staging", "production"):
        environments.platform(name).emulator.set_compat(request.param, *FORMS)
    return environments


def test_markers_fit_beside_the_descriptions_and_every_promise_holds(
        limited: Environments) -> None:
    applied = limited.ok("apply", "--env", "staging", "--yes")
    assert "the platform keeps" in applied or "the platform refused a description" in applied
    staging = limited.platform("staging")
    for key in KEYS:
        held = staging.released(staging.id_of(key, "staging")).description
        assert len(unescaped(held)) <= DESCRIPTION_LIMIT  # as sent: before its escapes
        declared = (limited.root / "agents" / f"{key}.yaml").read_text().splitlines()[2]
        assert unescaped(strip_marker(held)) == declared.removeprefix("description: ")
        marker = staging.marker(staging.id_of(key, "staging"))
        assert marker is not None and marker.environment == "staging"

    assert "No changes" in limited.ok("plan", "--env", "staging", "--detailed-exitcode")
    assert "in sync" in limited.ok("status", "--env", "staging")
    limited.ok("promote", "--from", "staging", "--to", "production", "--yes")
    assert "No changes" in limited.ok("plan", "--env", "production", "--detailed-exitcode")

    limited.change_prompt()  # an update is fitted as well, and the plan after it is empty
    limited.ok("apply", "--env", "staging", "--yes")
    assert "No changes" in limited.ok("plan", "--env", "staging", "--detailed-exitcode")


def test_a_description_with_no_room_for_any_marker_says_by_how_much_and_leaves_nothing(
        limited: Environments) -> None:
    limited.replace_in("agents/support-triage.yaml", "routes the rest.",
                       "routes the rest." + " It is friendly and brief." * 6)
    result = limited.run("apply", "--env", "staging", "--yes")
    assert result.exit_code == 1, result.stdout + result.stderr
    said = result.stdout + result.stderr
    assert "characters of a description, and this one takes" in said
    assert "shorten the description by" in said
    staging = limited.platform("staging")
    names = [a.name for a in staging.client.conversational_agents.list()]
    assert "Support triage" not in names and len(names) == 1  # deleted; the other applied
    plan = limited.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 2 and "support-triage" in plan.stdout  # a create, again


def test_a_platform_with_many_forms_keeps_them_sealed_beside_a_short_limit(
        limited: Environments) -> None:
    """A platform that also sorts lists stores a procedural agent's output schema in a dozen
    forms of its own: more pairs than the room its limit leaves beside the description. The
    marker keeps their seal instead (``plan.stored``), whose size does not grow with them, so
    the apply succeeds and the plans after it stay quiet; once the declaration changes, the
    plan shows the change, and the apply of it is quiet again."""
    for name in ("staging", "production"):
        emulator = limited.platform(name).emulator
        emulator.set_compat(*emulator.state.faults.modes(), "sorted_lists")
    limited.replace_in("agents/call-summary.yaml", "need a follow-up.",
                       "need a follow-up, for the team at the desk.")
    limited.ok("apply", "--env", "staging", "--yes")
    staging = limited.platform("staging")
    marker = staging.marker(staging.id_of("call-summary", "staging"))
    assert marker is not None and marker.stored is not None
    assert marker.stored.startswith("all."), marker.stored  # the seal alone
    assert "No changes" in limited.ok("plan", "--env", "staging", "--detailed-exitcode")

    limited.replace_in("agents/prompts/call-summary.md", "\n", "\nMention the caller's name.\n")
    plan = limited.run("plan", "--env", "staging", "--detailed-exitcode")
    assert plan.exit_code == 2 and "call-summary" in plan.stdout, plan.stdout
    assert "Mention the caller's name." in plan.stdout
    limited.ok("apply", "--env", "staging", "--yes")
    assert "No changes" in limited.ok("plan", "--env", "staging", "--detailed-exitcode")
    limited.ok("promote", "--from", "staging", "--to", "production", "--yes")
    assert "No changes" in limited.ok("plan", "--env", "production", "--detailed-exitcode")


def test_a_cut_is_told_through_the_normal_form_the_platform_stores_text_in(
        environments: Environments) -> None:
    """A platform that cuts descriptions and also stores text in Unicode's composed form
    changes the very beginning of a description written decomposed: the cut is still told
    from another writer's text (the two compared as the platform may store them), the marker
    fitted, and the plans after the apply stay quiet."""
    for name in ("staging", "production"):
        environments.platform(name).emulator.set_compat("short_descriptions", "nfc_text")
    environments.replace_in("agents/call-summary.yaml", "description: Summarises",
                            "description: Re\u0301sume\u0301 writer, summarises")
    environments.ok("apply", "--env", "staging", "--yes")
    staging = environments.platform("staging")
    marker = staging.marker(staging.id_of("call-summary", "staging"))
    assert marker is not None and marker.key == "call-summary"
    assert "No changes" in environments.ok("plan", "--env", "staging", "--detailed-exitcode")


@pytest.mark.parametrize("lands", ["before the read-back", "before the release"])
def test_another_apply_s_write_of_this_content_cut_at_the_limit_is_no_other_writer(
        environments: Environments, monkeypatch: pytest.MonkeyPatch, lands: str) -> None:
    """Two applies of one commit write one draft on a platform that cuts descriptions: the
    other one's first write, made before it fitted its marker to the limit, lands after this
    run's fitted write. It holds this very content under this project's marker cut short:
    not another writer's content (a conflict, exit 5). Met by the read-back, it is the same
    write cut at the same limit, and this run writes its own again and goes on; met by the
    check right before the release, it is that apply's write of this content, which this
    run waits for that apply to release, as where its marker is whole; that apply stops
    there, so the run finishes the draft itself, and the plan after it is empty (the run took
    the cut marker for another writer's content while it waited, and exited 0 with the
    change unreleased)."""
    monkeypatch.setattr(defaults, "OTHER_APPLY_WAIT_S", 0.5)  # shortened for the test
    staging = environments.platform("staging")
    staging.emulator.set_compat("short_descriptions")
    # Long enough that a marker as declared is cut, short enough that a fitted one is not.
    environments.replace_in("agents/appointment-booking.yaml", "dental appointments.",
                            "dental appointments, and answers questions about prices.")
    environments.ok("apply", "--env", "staging", "--yes", "--no-smoke")  # the limit learnt
    environments.change_prompt()
    step = "_read_back" if lands == "before the read-back" else "_check_draft_unchanged"
    original = getattr(steps.Steps, step)
    landed: list[str] = []

    def the_other_apply_writes_first(self: steps.Steps) -> Any:
        if not landed and self.resource.key == "appointment-booking":
            assert self.body is not None and self.resource.desired is not None
            # Its first write: the marker as declared, before any fitting (the platform cuts).
            other = {**self.body, "description": self.resource.desired.description}
            staging.client.conversational_agents.update(self._agent_id(), **other)
            landed.append(self._agent_id())
        return original(self)

    monkeypatch.setattr(steps.Steps, step, the_other_apply_writes_first)
    applied = environments.run("apply", "--env", "staging", "--yes", "--no-smoke")

    assert applied.exit_code == 0, applied.stdout + applied.stderr
    assert landed
    if lands == "before the read-back":
        assert "held another apply's write of this content" in applied.stdout
        assert "No changes" in environments.ok("plan", "--env", "staging",
                                               "--detailed-exitcode")
    else:
        said = applied.stdout + applied.stderr
        assert "another apply holds this change in a draft" in said, said
        assert "this run finishes it" in said and "released" in said, said
        assert "No changes" in environments.ok("plan", "--env", "staging",
                                               "--detailed-exitcode")
