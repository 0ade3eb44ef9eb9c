"""Actions, drift, foreign drafts, risk flags and smoke stages of a built plan."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from operator_iac.api.models import Agent
from operator_iac.plan.compare import HASH_MISMATCH, NO_MARKER
from operator_iac.plan.marker import parse_marker, with_marker
from operator_iac.plan.model import ResourcePlan
from operator_iac.render.plan_json import render_plan_json
from operator_iac.render.plan_markdown import render_plan_markdown
from operator_iac.render.plan_text import render_plan_text

Factory = Any


def only(plan: Any) -> ResourcePlan:
    assert len(plan.resources) == 1
    return plan.resources[0]


def set_model(model: str) -> Any:
    def change(config: dict[str, Any]) -> None:
        config["runtime"]["model"] = model
    return change


def test_an_agent_missing_remotely_is_created(plan_for: Factory, make_desired: Factory) -> None:
    resource = only(plan_for([make_desired()]))

    assert resource.action == "create"
    assert resource.remote is None
    assert {c.path for c in resource.changes} >= {"name", "config.runtime.model"}
    assert resource.prompt_diff is not None and "+You book cleanings." in resource.prompt_diff
    assert resource.risks == ()
    assert resource.desired is not None
    # The environment comes first (a marker cut short still names it), then the record of
    # what is written: the mask of the written paths and, when it is not the content hash,
    # the hash of the written values.
    assert re.search(rf"key=booking hash={resource.desired_hash} commit=abc1234 env=staging "
                     r"written=[0-9a-f]+(:[0-9a-f]{16})?\]$",
                     resource.desired.description)


def test_a_converged_agent_is_a_no_op(plan_for: Factory, make_desired: Factory,
                                      managed: Factory) -> None:
    agent = make_desired()
    plan = plan_for([agent], [managed(agent, "ca_1")])

    resource = only(plan)
    assert resource.action == "no-op"
    assert (resource.changes, resource.drift, resource.foreign_draft) == ((), False, False)
    assert not plan.has_changes


def test_a_changed_declaration_is_an_update_with_field_changes(
        plan_for: Factory, make_desired: Factory, managed: Factory,
        with_config: Factory) -> None:
    agent = make_desired()
    changed = with_config(agent, set_model("openai/gpt-4.1"))

    resource = only(plan_for([changed], [managed(agent, "ca_1")]))

    assert resource.action == "update"
    assert [(c.path, c.before, c.after) for c in resource.changes] == [
        ("config.runtime.model", "openai/gpt-4o", "openai/gpt-4.1")]
    assert resource.risks == ("model_change",)
    assert resource.drift is False
    assert resource.remote is not None and resource.remote.released_version_id == "ca_1@v0"


def test_a_matching_draft_written_by_the_tool_is_released(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    old = make_desired()
    new = with_config(old, set_model("openai/gpt-4.1"))
    remote = make_remote("ca_1", old.kind, written(old), written(new, status="draft"))

    resource = only(plan_for([new], [remote]))

    assert resource.action == "release"
    assert [c.path for c in resource.changes] == ["config.runtime.model"]
    assert resource.foreign_draft is False


def test_an_agent_killed_between_create_and_release_is_released(
        plan_for: Factory, make_desired: Factory, make_remote: Factory,
        written: Factory) -> None:
    agent = make_desired()
    remote = make_remote("ca_1", agent.kind, written(agent, status="draft"))

    resource = only(plan_for([agent], [remote]))

    assert resource.action == "release"
    assert resource.drift is False


def test_equal_content_without_the_marker_is_rewritten(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        rev: Factory) -> None:
    agent = make_desired()
    good = written(agent)
    dropped = rev("released", good.name, agent.description, good.config, good.postprocess)
    remote = make_remote("ca_1", agent.kind, replace(good, status="archived"), dropped)

    resource = only(plan_for([agent], [remote]))

    assert resource.action == "update"
    assert resource.changes == ()
    assert (resource.drift, resource.drift_reason) == (True, NO_MARKER)


def test_a_dashboard_edit_that_keeps_the_marker_is_drift(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    agent = make_desired()
    tampered = written(with_config(agent, set_model("dashboard/model")))
    tampered.description = written(agent).description  # the marker of the declared content

    resource = only(plan_for([agent], [make_remote("ca_1", agent.kind, tampered)]))

    assert resource.action == "update"
    assert (resource.drift, resource.drift_reason) == (True, HASH_MISMATCH)
    assert [(c.before, c.after) for c in resource.changes] == [
        ("dashboard/model", "openai/gpt-4o")]


def test_a_released_revision_without_any_marker_is_drift(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        rev: Factory, with_config: Factory) -> None:
    agent = make_desired()
    edit = with_config(agent, set_model("dashboard/model"))
    remote = make_remote("ca_1", agent.kind, replace(written(agent), status="archived"),
                         rev("released", agent.name, "Edited.", edit.config))

    resource = only(plan_for([agent], [remote]))

    assert resource.drift is True
    assert resource.drift_reason == NO_MARKER


def test_a_foreign_draft_blocks_an_update_unless_overwrite_is_allowed(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        rev: Factory, with_config: Factory) -> None:
    agent = make_desired()
    declared = with_config(agent, set_model("openai/gpt-4.1"))
    colleague = with_config(agent, set_model("colleague/model"))
    remote = make_remote("ca_1", agent.kind, written(agent),
                         rev("draft", agent.name, "WIP", colleague.config))

    blocked = only(plan_for([declared], [remote]))
    allowed = only(plan_for([declared], [remote], overwrite_draft=True))

    assert (blocked.action, blocked.foreign_draft, blocked.blocked) == (
        "update", True, "foreign_draft")
    assert (allowed.foreign_draft, allowed.blocked) == (True, None)
    assert blocked.remote is not None and blocked.remote.draft_version_id == "ca_1@v1"


def test_a_draft_holding_just_the_released_revision_blocks_nothing(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    """A platform that opens a draft beside every release: after an edit released in the
    dashboard, the draft copies it exactly. It holds nobody's work: the update goes through
    without --overwrite-draft; a copy that differs by one word is someone's draft again."""
    agent = make_desired()
    dashboard = with_config(agent, set_model("colleague/model"))
    released, copy, edited_copy = (written(dashboard, status=status)
                                   for status in ("released", "draft", "draft"))
    for revision in (released, copy, edited_copy):
        revision.description = written(agent).description  # the marker stays, the model not
    edited_copy.name = "Booking!"
    declared = with_config(agent, set_model("openai/gpt-4.1"))

    resource = only(plan_for([declared], [make_remote("ca_1", agent.kind, released, copy)]))
    edited = only(plan_for([declared], [make_remote("ca_1", agent.kind, released,
                                                    edited_copy)]))

    assert (resource.action, resource.drift) == ("update", True)
    assert (resource.foreign_draft, resource.blocked) == (False, None)
    assert resource.remote is not None and resource.remote.draft_version_id == "ca_1@v1"
    assert (edited.foreign_draft, edited.blocked) == (True, "foreign_draft")


def test_an_edited_draft_of_the_tool_is_foreign(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    agent = make_desired()
    draft = written(with_config(agent, set_model("someone/else")), status="draft")
    draft.description = written(agent).description

    resource = only(plan_for([with_config(agent, set_model("x/y"))],
                             [make_remote("ca_1", agent.kind, written(agent), draft)]))

    assert resource.foreign_draft is True


def test_a_stale_draft_the_tool_wrote_is_not_foreign(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    agent = make_desired()
    stale = with_config(agent, set_model("earlier/plan"))
    remote = make_remote("ca_1", agent.kind, written(agent), written(stale, status="draft"))

    resource = only(plan_for([with_config(agent, set_model("x/y"))], [remote]))

    assert (resource.action, resource.foreign_draft, resource.blocked) == ("update", False, None)


def test_a_foreign_draft_on_an_unchanged_agent_is_left_alone(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        rev: Factory) -> None:
    agent = make_desired()
    remote = make_remote("ca_1", agent.kind, written(agent),
                         rev("draft", agent.name, "WIP", {"runtime": {"model": "wip"}}))

    resource = only(plan_for([agent], [remote]))

    assert (resource.action, resource.foreign_draft, resource.blocked) == ("no-op", True, None)


def test_unknown_server_fields_are_not_reported(
        plan_for: Factory, make_desired: Factory, managed: Factory) -> None:
    agent = make_desired()
    server = {"runtime": {"temperature": 0.2}, "analytics": {"enabled": True},
              "tool": {"tools": [{"ns": "syscall", "name": "book", "server_id": "t_1"}]}}

    resource = only(plan_for([agent], [managed(agent, "ca_1", server_fields=server)]))

    assert resource.action == "no-op"
    assert resource.drift is False


def test_older_transfer_spelling_is_tolerated(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory) -> None:
    agent = make_desired()
    revision = written(agent)
    revision.config["tool"]["transfers"] = [{"id": "+15550100"}]
    # Read as the platform's answer: the reading boundary reads the older spelling.
    revision.config = Agent.model_validate({"version_id": "ca_1@v0",
                                            "config": revision.config}).config

    resource = only(plan_for([agent], [make_remote("ca_1", agent.kind, revision)]))

    assert resource.action == "no-op"


def test_risk_flags(plan_for: Factory, make_desired: Factory, managed: Factory,
                   with_config: Factory) -> None:
    agent = make_desired()

    def risky(config: dict[str, Any]) -> None:
        config["tool"]["tools"] = [{"ns": "syscall", "name": "book"}]
        config["tool"]["transfers"] = [{"entity_id": "+15550199"}]
        config["runtime"]["prompt"]["text"] *= 3

    resource = only(plan_for([with_config(agent, risky)], [managed(agent, "ca_1")]))

    assert resource.risks == ("tool_removed", "transfer_target_changed", "prompt_size_change")
    paths = {c.path for c in resource.changes}
    assert "config.tool.tools[name=check_availability]" in paths
    assert "config.tool.transfers[entity_id=+15550199]" in paths


def test_a_prompt_shrinking_by_less_than_half_is_not_flagged(
        plan_for: Factory, make_desired: Factory, managed: Factory, with_config: Factory) -> None:
    agent = make_desired()

    def trim(config: dict[str, Any]) -> None:
        config["runtime"]["prompt"]["text"] = "You book cleanings.\nBe kind.\n"

    resource = only(plan_for([with_config(agent, trim)], [managed(agent, "ca_1")]))

    assert resource.risks == ()
    assert resource.prompt_diff is not None and "-Use @book." in resource.prompt_diff


def test_smoke_stages_follow_each_agents_policy_for_agents_with_tests(
        plan_for: Factory, make_desired: Factory, managed: Factory) -> None:
    with_tests = make_desired("a", smoke=("a test",))
    without = make_desired("b")
    unchanged = make_desired("c", smoke=("a test",))
    released_only = make_desired("d", smoke=("a test",), smoke_on=("released",))

    plan = plan_for([with_tests, without, unchanged, released_only],
                    [managed(unchanged, "ca_3")])

    assert {r.key: r.smoke for r in plan.resources} == {
        "a": ("draft", "released"), "b": (), "c": (), "d": ("released",)}


def test_secrets_are_redacted_and_still_compared(
        plan_for: Factory, make_desired: Factory, managed: Factory, with_config: Factory) -> None:
    def secret(value: str) -> Any:
        def change(config: dict[str, Any]) -> None:
            config["tool"]["transfers"] = [{"entity_id": value}]
        return with_config(make_desired(sensitive=frozenset({"tool.transfers.0.entity_id"})),
                           change)

    same = only(plan_for([secret("+1555000111")], [managed(secret("+1555000111"), "ca_1")]))
    rotated = only(plan_for([secret("+1555000222")], [managed(secret("+1555000111"), "ca_1")]))

    assert same.action == "no-op" and same.drift is False
    assert (rotated.action, rotated.drift) == ("update", False)
    assert rotated.desired is not None
    assert rotated.desired.config["tool"]["transfers"] == [{"entity_id": "(sensitive)"}]
    text = rotated.model_dump_json()
    assert "1555000" not in text
    assert "(sensitive)" in text


def test_secrets_appear_in_no_rendering(plan_for: Factory, make_desired: Factory,
                                        managed: Factory, with_config: Factory) -> None:
    def secret(value: str) -> Any:
        def change(config: dict[str, Any]) -> None:
            config["runtime"]["prompt"]["text"] = value
        return with_config(make_desired(sensitive=frozenset({"runtime.prompt.text"})), change)

    created = plan_for([secret("TOPSECRET-A")])
    rotated = plan_for([secret("TOPSECRET-B")], [managed(secret("TOPSECRET-A"), "ca_1")])

    for plan in (created, rotated):
        outputs = [render_plan_text(plan, color=True), render_plan_markdown(plan),
                   render_plan_json(plan), repr(plan)]
        assert not any("TOPSECRET" in output for output in outputs)
        assert "(sensitive)" in outputs[0] and "(sensitive)" in outputs[1]
    assert rotated.resources[0].action == "update"


def test_no_longer_declaring_a_field_refreshes_the_marker_without_drift(
        plan_for: Factory, make_desired: Factory, managed: Factory, with_config: Factory) -> None:
    agent = make_desired()

    def forget_language(config: dict[str, Any]) -> None:
        del config["language"]

    resource = only(plan_for([with_config(agent, forget_language)], [managed(agent, "ca_1")]))

    # The revision is still what operator-iac wrote: its marker is refreshed, so that drift
    # is judged on the fields declared now.
    assert (resource.action, resource.changes, resource.drift) == ("update", (), False)


def test_newly_declared_fields_the_server_does_not_hold_are_plain_changes(
        plan_for: Factory, make_desired: Factory, managed: Factory, with_config: Factory) -> None:
    agent = make_desired()

    def add_channel(config: dict[str, Any]) -> None:
        config["channel"] = {"is_sms_enabled": True}

    resource = only(plan_for([with_config(agent, add_channel)], [managed(agent, "ca_1")]))

    assert [(c.path, c.kind) for c in resource.changes] == [
        ("config.channel.is_sms_enabled", "added")]
    assert resource.drift is False


def test_a_dashboard_edit_taken_into_the_files_writes_nothing(
        plan_for: Factory, make_desired: Factory, managed: Factory, with_config: Factory) -> None:
    """After ``pull``: the released revision was edited outside operator-iac and the files
    now hold that content; the plan is empty (a release would only re-mark it)."""
    agent = make_desired()

    def upgrade(config: dict[str, Any]) -> None:
        config["runtime"]["model"] = "openai/gpt-4.1"

    remote = managed(agent, "ca_1")
    assert remote.released is not None
    edited = replace(remote, released=replace(remote.released, config={
        **remote.released.config,
        "runtime": {**remote.released.config["runtime"], "model": "openai/gpt-4.1"}}))

    resource = only(plan_for([with_config(agent, upgrade)], [edited]))

    assert (resource.action, resource.changes, resource.drift) == ("no-op", (), False)


def test_a_create_cut_short_before_it_wrote_the_fields_the_platform_dropped_is_finished(
        plan_for: Factory, make_desired: Factory, make_remote: Factory,
        written: Factory) -> None:
    """A platform that drops ``postprocess_agents`` on create gets them in the run's next
    write; an apply killed in between leaves a never-released draft with this key's marker
    for the declared content and nothing but those values missing. Not someone else's."""
    summary = make_desired("summary", "procedural_agent")
    agent = make_desired(postprocess=("summary",))
    cut_short = written(agent, ids={"summary": "pa_1"}, status="draft")
    cut_short.postprocess = ()
    remote = [make_remote("pa_1", summary.kind, written(summary)),
              make_remote("ca_1", agent.kind, cut_short)]

    resource = next(r for r in plan_for([summary, agent], remote).resources
                    if r.key == "booking")

    assert (resource.action, resource.foreign_draft, resource.blocked) == ("update", False, None)


def test_a_draft_with_the_declared_hash_but_another_value_stays_foreign(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    """Only values the platform did not keep at all make a cut-short write: another value
    (a dashboard edit keeps the marker) is someone else's draft."""
    agent = make_desired()
    edited = written(agent, status="draft")
    edited.config = with_config(agent, set_model("someone/else")).config
    remote = make_remote("ca_1", agent.kind, written(agent), edited)

    resource = only(plan_for([with_config(agent, set_model("x/y"))], [remote]))
    same = only(plan_for([agent], [make_remote("ca_1", agent.kind, edited)]))

    assert resource.foreign_draft is True
    assert (same.action, same.foreign_draft, same.blocked) == ("update", True, "foreign_draft")


def _stamped(remote: Any, created: str, updated: str) -> Any:
    """``remote`` with its draft's versions entry stamped."""
    versions = tuple(replace(v, created_at=created, updated_at=updated)
                     if v.status == "draft" else v for v in remote.versions)
    return replace(remote, versions=versions)


def test_a_draft_never_changed_since_the_create_that_made_it_is_that_create_cut_short(
        plan_for: Factory, make_desired: Factory, make_remote: Factory,
        written: Factory) -> None:
    """An apply killed before reading its create back: the draft of the never released
    agent holds the platform's forms of it (a list sorted, say), not recorded yet. Never
    changed since it was made, it is that create, finished by the next apply; changed
    later, it is someone's edit."""
    agent = make_desired()
    stored = written(agent, status="draft")
    stored.config["voice"]["boosted_keywords"] = ["Zeta", "alpha", "cleaning"]
    draft_only = make_remote("ca_1", agent.kind, stored)

    untouched = only(plan_for([agent], [_stamped(draft_only, "2026-01-02T03:04:05Z",
                                                 "2026-01-02T03:04:05Z")]))
    edited = only(plan_for([agent], [_stamped(draft_only, "2026-01-02T03:04:05Z",
                                              "2026-01-02T03:09:00Z")]))
    unstamped = only(plan_for([agent], [draft_only]))

    assert (untouched.action, untouched.foreign_draft, untouched.blocked) == (
        "update", False, None)
    assert (edited.foreign_draft, edited.blocked) == (True, "foreign_draft")
    assert unstamped.foreign_draft is True


def test_a_dashboard_draft_copying_the_released_marker_stays_foreign_though_untouched(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    """A draft made in the dashboard copies the released description, marker and all, and is
    never changed after it is made: with the released revision carrying the same content
    hash, nothing makes it this tool's write."""
    agent = make_desired()
    copy = written(agent, status="draft")
    copy.config = with_config(agent, set_model("someone/else")).config
    remote = _stamped(make_remote("ca_1", agent.kind, written(agent), copy),
                      "2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z")

    resource = only(plan_for([agent], [remote]))

    assert (resource.action, resource.foreign_draft) == ("no-op", True)


def test_an_untouched_draft_on_a_released_agent_is_that_write_cut_short_unless_copyable(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    """On a released agent, a draft marked for the declared content and never changed after
    it was made is this tool's write cut short (a run killed before it recorded the
    platform's forms; the next apply may run on another machine, with no journal). Where
    another revision carries that marker too, a person may have saved a copy of it with an
    edit as a new draft, in one go: it stays foreign."""
    agent = make_desired()
    earlier = with_config(agent, set_model("earlier/model"))
    stored = written(agent, status="draft")
    stored.config["voice"]["boosted_keywords"] = ["Zeta", "alpha", "cleaning"]
    stamp = ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z")
    own = _stamped(make_remote("ca_1", agent.kind, written(earlier), stored), *stamp)
    copyable = _stamped(make_remote("ca_1", agent.kind, written(agent, status="archived"),
                                    written(earlier), stored), *stamp)
    later = _stamped(make_remote("ca_1", agent.kind, written(earlier), stored),
                     "2026-01-02T03:04:05Z", "2026-01-02T03:09:00Z")

    finished = only(plan_for([agent], [own]))
    assert (finished.action, finished.foreign_draft, finished.blocked) == ("update", False, None)
    for remote in (copyable, later):
        resource = only(plan_for([agent], [remote]))
        assert (resource.foreign_draft, resource.blocked) == (True, "foreign_draft")


def _timed(revision: Any, when: str) -> Any:
    """``revision`` whose marker says its write was made at ``when`` (``at=``)."""
    marker = parse_marker(revision.description)
    assert marker is not None
    stamp = int(datetime.fromisoformat(when).timestamp())
    revision.description = with_marker(revision.description,
                                       replace(marker, written_at=stamp))
    return revision


def test_a_write_into_a_draft_that_was_there_is_finished_when_made_at_its_last_change(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    """A platform that opens a draft beside each release: the tool writes into a draft made
    long before, so the draft's times cannot say the write was its last change; its marker
    says when the write was made, by the platform's clock. Last changed then (within the
    seconds a Date header and a round trip blur), the draft is that write cut short; changed
    later, or where the marker says no time, or another revision carries the marker, it is
    someone's draft."""
    agent = make_desired()
    earlier = with_config(agent, set_model("earlier/model"))

    def remote(at: str | None, updated: str = "2026-01-02T03:09:00+00:00",
               copied: bool = False) -> Any:
        stored = written(agent, status="draft")
        stored.config["voice"]["boosted_keywords"] = ["Zeta", "alpha", "cleaning"]
        if at is not None:
            stored = _timed(stored, at)
        archived = (written(agent, status="archived"),) if copied else ()
        return _stamped(make_remote("ca_1", agent.kind, *archived, written(earlier), stored),
                        "2026-01-02T03:04:05Z", updated)

    for finished in (remote("2026-01-02T03:08:59+00:00"), remote("2026-01-02T03:09:01+00:00")):
        resource = only(plan_for([agent], [finished]))
        assert (resource.action, resource.foreign_draft, resource.blocked) == (
            "update", False, None)
    for foreign in (remote("2026-01-02T03:08:50+00:00"), remote("2026-01-02T03:09:04+00:00"),
                    remote(None), remote("2026-01-02T03:08:59+00:00", copied=True)):
        resource = only(plan_for([agent], [foreign]))
        assert (resource.foreign_draft, resource.blocked) == (True, "foreign_draft")


def test_a_stale_draft_of_ours_is_discarded_only_when_asked(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    """Released as declared, under a draft operator-iac wrote for another change that was
    never released: left alone by default (``promote`` refuses it), ``discard`` with
    ``--discard-drafts``, which changes nothing else: no field changes, no smoke, no
    rollback; every format says so."""
    agent = make_desired()
    newer = with_config(agent, set_model("openai/gpt-4.1"))
    remote = make_remote("ca_1", agent.kind, written(agent), written(newer, status="draft"))

    left = only(plan_for([agent], [remote]))
    plan = plan_for([agent], [remote], discard_drafts=True)

    assert (left.action, left.foreign_draft, left.stale_draft) == ("no-op", False, "ca_1@v1")
    shown = render_plan_text(plan_for([agent], [remote]))
    assert "Unreleased drafts operator-iac wrote for changes never released" in shown
    assert "booking ca_1@v1." in shown and "--discard-drafts discards them" in shown
    asked = only(plan)
    assert asked.stale_draft == "ca_1@v1" and "booking ca_1@v1 (discarded)" in \
        render_plan_markdown(plan)
    assert (asked.action, asked.changes, asked.smoke, asked.rollback_to, asked.blocked) == (
        "discard", (), (), None, None)
    assert plan.has_changes and plan.summary().discard == 1
    assert "1 draft(s) to discard" in render_plan_text(plan)
    assert "--discard-drafts" in render_plan_text(plan)
    assert "🧹" in render_plan_markdown(plan)
    assert '"action": "discard"' in render_plan_json(plan)


def test_only_drafts_operator_iac_wrote_as_they_are_are_discarded(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory, rev: Factory) -> None:
    """A draft made in the dashboard (it copies the released marker), a draft of ours edited
    in the dashboard since, and a draft when the declaration itself changed (an update
    writes over it anyway) are never discarded."""
    agent = make_desired()
    released = written(agent)
    newer = with_config(agent, set_model("openai/gpt-4.1"))
    dashboard_copy = rev("draft", released.name, released.description,
                         {**released.config, "runtime": {**released.config["runtime"],
                                                         "model": "openai/gpt-4.1"}})
    ours = written(newer, status="draft")
    edited = rev("draft", ours.name, ours.description,
                 {**ours.config, "runtime": {**ours.config["runtime"], "model": "x/edited"}})
    for draft in (dashboard_copy, edited):
        remote = make_remote("ca_1", agent.kind, released, draft)
        kept = only(plan_for([agent], [remote], discard_drafts=True))
        assert (kept.action, kept.stale_draft) == ("no-op", None)
    changed = with_config(agent, set_model("openai/gpt-4o-mini"))
    remote = make_remote("ca_1", agent.kind, released, ours)
    assert only(plan_for([changed], [remote], discard_drafts=True)).action == "update"


@pytest.mark.parametrize(("created", "updated", "untouched"), [
    ("2026-01-02T03:04:05Z", "2026-01-02T03:04:05Z", True),
    ("2026-01-02T03:04:05.120Z", "2026-01-02T03:04:05.120Z", True),
    ("2026-01-02T03:04:05.120Z", "2026-01-02T03:04:05.420Z", False),
    ("2026-01-02T03:04:05Z", "2026-01-02T03:04:07Z", False),
], ids=["whole-seconds-same", "milliseconds-same", "milliseconds-later", "seconds-later"])
def test_never_changed_since_made_is_judged_as_finely_as_the_platform_stamps(
        created: str, updated: str, untouched: bool) -> None:
    """Within the second where the platform stamps whole seconds; to the millisecond where
    it stamps those: an edit 300 ms after the write that made the draft is an edit."""
    from operator_iac.plan.compare import untouched_since_made
    from operator_iac.state.snapshot import RemoteVersion

    version = RemoteVersion("ca_1@v1", 1, "draft", "Booking", "", created_at=created,
                            updated_at=updated)
    assert untouched_since_made(version) is untouched


@pytest.mark.parametrize("journal_says_drafted_here", [True, False])
def test_a_draft_whose_marker_the_platform_cut_off_is_this_machine_s_own_write(
        make_desired: Factory, make_remote: Factory, written: Factory, with_config: Factory,
        journal_says_drafted_here: bool) -> None:
    """A run killed between a write a platform cut at its limit on descriptions and the
    refit that makes the marker fit: the draft holds the author's text and the beginning of
    the marker. The journal of the machine that wrote it makes it that run's, not foreign."""
    from operator_iac.plan.builder import build_plan
    from operator_iac.plan.model import PlanOptions
    from operator_iac.state.snapshot import Snapshot

    agent = make_desired()
    declared = with_config(agent, set_model("openai/gpt-4.1"))
    draft = written(declared, status="draft")
    draft.description = draft.description[:len(agent.description) + 20]  # cut in its marker
    remote = make_remote("ca_1", agent.kind, written(agent), draft)
    drafted = frozenset({"ca_1@v1"}) if journal_says_drafted_here else frozenset()
    plan = build_plan({declared.key: declared},
                      Snapshot(api_url="http://127.0.0.1:9", agents=(remote,),
                               drafted_here=drafted),
                      project="acme-support", environment="staging", options=PlanOptions(),
                      commit="abc1234", created_at="2025-06-19T00:00:00Z")

    resource = only(plan)
    assert resource.action == "update"
    assert resource.foreign_draft is not journal_says_drafted_here
