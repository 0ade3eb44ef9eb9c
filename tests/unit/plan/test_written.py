"""Drift judged on what operator-iac wrote (the marker's ``written`` record), not on what is
declared today."""

from __future__ import annotations

from typing import Any

import pytest

from operator_iac.plan.compare import HASH_MISMATCH
from operator_iac.plan.marker import Marker, parse_marker
from operator_iac.plan.model import ResourcePlan
from operator_iac.plan.status import build_status
from operator_iac.plan.written import KNOWN_PATHS, WrittenRecord, declared_paths, written_record
from operator_iac.state.snapshot import Snapshot

Factory = Any


def only(plan: Any) -> ResourcePlan:
    assert len(plan.resources) == 1
    return plan.resources[0]


def setting(section: str, field: str, value: Any) -> Any:
    def change(config: dict[str, Any]) -> None:
        config.setdefault(section, {})[field] = value
    return change


def dropping(section: str) -> Any:
    def change(config: dict[str, Any]) -> None:
        del config[section]
    return change


# ---- declaring more or fewer fields is not drift ------------------------------------------


@pytest.mark.parametrize("record", [True, False])
def test_starting_to_declare_a_field_the_platform_holds_otherwise(
        plan_for: Factory, make_desired: Factory, managed: Factory, with_config: Factory,
        record: bool) -> None:
    agent = make_desired()
    # The platform holds a busy sound nobody declared (set in the dashboard before, or a
    # default of the platform).
    remote = managed(agent, "ca_1", server_fields={"voice": {"busy_sound": "typing"}},
                     record=record)
    declared = with_config(agent, setting("voice", "busy_sound", "chime"))

    resource = only(plan_for([declared], [remote]))

    assert resource.action == "update"
    assert [(c.path, c.before, c.after) for c in resource.changes] == [
        ("config.voice.busy_sound", "typing", "chime")]
    # Judged on the fields declared now (a marker without the record), this looked like an
    # edit outside operator-iac; judged on what was written, it is not.
    assert resource.drift is (not record)


def test_stopping_to_declare_a_field_beside_another_change_is_not_drift(
        plan_for: Factory, make_desired: Factory, managed: Factory, with_config: Factory) -> None:
    agent = make_desired()
    declared = with_config(with_config(agent, dropping("language")),
                           setting("runtime", "model", "openai/gpt-4.1"))

    resource = only(plan_for([declared], [managed(agent, "ca_1")]))

    assert resource.action == "update"
    assert [c.path for c in resource.changes] == ["config.runtime.model"]
    assert resource.drift is False


def test_an_edit_of_a_written_field_is_drift_whatever_is_declared_now(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    agent = make_desired()
    edited = written(with_config(agent, setting("language", "default_language", "Spanish")))
    edited.description = written(agent).description  # the dashboard kept the marker
    # Today the language is no longer declared and a channel is: a new shape.
    declared = with_config(with_config(agent, dropping("language")),
                           setting("channel", "is_sms_enabled", True))

    resource = only(plan_for([declared], [make_remote("ca_1", agent.kind, edited)]))

    assert (resource.drift, resource.drift_reason) == (True, HASH_MISMATCH)


def test_an_edit_of_a_field_operator_iac_never_wrote_is_not_drift(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory) -> None:
    agent = make_desired()
    revision = written(agent)
    revision.config = {**revision.config, "channel": {"is_voicemail_enabled": True}}

    resource = only(plan_for([agent], [make_remote("ca_1", agent.kind, revision)]))

    assert (resource.action, resource.drift) == ("no-op", False)


def test_a_draft_operator_iac_wrote_stays_its_own_after_the_shape_changed(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        with_config: Factory) -> None:
    agent = make_desired()
    earlier = with_config(agent, setting("runtime", "model", "earlier/plan"))
    draft = written(earlier, status="draft", server_fields={"voice": {"busy_sound": "typing"}})
    declared = with_config(agent, setting("voice", "busy_sound", "chime"))

    resource = only(plan_for([declared], [make_remote("ca_1", agent.kind, written(agent),
                                                      draft)]))

    assert (resource.foreign_draft, resource.blocked) == (False, None)


# ---- secrets --------------------------------------------------------------------------------


def with_transfer(make_desired: Factory, with_config: Factory, value: str, *,
                  secret: bool) -> Any:
    def change(config: dict[str, Any]) -> None:
        config["tool"]["transfers"] = [{"entity_id": value}]
    sensitive = frozenset({"tool.transfers.0.entity_id"}) if secret else frozenset()
    return with_config(make_desired(sensitive=sensitive), change)


@pytest.mark.parametrize(("before", "after"), [
    ((False, "+15550111"), (True, "+15550111")),    # the value moves into ${env:...}
    ((True, "+15550111"), (True, "+15550222")),     # the secret is rotated
    ((True, "+15550111"), (False, "+15550111")),    # ${env:...} is replaced by the value
])
def test_introducing_rotating_or_removing_a_secret_is_never_drift(
        plan_for: Factory, make_desired: Factory, managed: Factory, with_config: Factory,
        before: tuple[bool, str], after: tuple[bool, str]) -> None:
    applied = with_transfer(make_desired, with_config, before[1], secret=before[0])
    declared = with_transfer(make_desired, with_config, after[1], secret=after[0])

    resource = only(plan_for([declared], [managed(applied, "ca_1")]))

    assert (resource.action, resource.drift) == ("update", False)
    if after[0]:  # declared as a secret now: neither value is shown
        dump = resource.model_dump_json()
        assert before[1] not in dump and after[1] not in dump


def test_the_record_holds_no_secret_value(make_desired: Factory, with_config: Factory) -> None:
    agent = with_transfer(make_desired, with_config, "+15550123", secret=True)

    record = written_record(agent.kind, agent.name, agent.description, agent.config,
                            agent.postprocess_agents)

    assert "15550123" not in (record.encode("0" * 16) or "")


# ---- the record itself ----------------------------------------------------------------------


def test_the_record_round_trips_through_the_marker(make_desired: Factory) -> None:
    agent = make_desired()
    record = written_record(agent.kind, agent.name, agent.description,
                            {**agent.config, "brand_new": {"deep": 1}}, ())

    text = record.encode("f" * 16)
    marker = Marker("p", "k", "f" * 16, None, written=text)

    assert text is not None and text.endswith("/config.brand_new")
    assert parse_marker(str(marker)) == marker
    assert WrittenRecord.decode(text, "f" * 16) == record
    assert "config.runtime.prompt.text" in record.paths
    assert "config.brand_new.deep" not in record.paths  # unknown fields are compared whole


def test_the_hash_is_left_out_when_it_is_the_markers_own(make_desired: Factory) -> None:
    agent = make_desired()
    record = written_record(agent.kind, agent.name, agent.description, agent.config, ())

    assert ":" not in (record.encode(record.content_hash) or ":")
    assert f":{record.content_hash}" in (record.encode("0" * 16) or "")
    assert WrittenRecord.decode(record.encode(record.content_hash), record.content_hash) == \
        record


def test_a_path_that_cannot_be_named_in_the_marker_leaves_the_record_out() -> None:
    record = written_record("conversational_agent", "n", "d",
                            {"runtime": {"model": "m"}, "odd key": 1}, ())

    assert record.encode(record.content_hash) is None


def test_owned_fields_are_not_part_of_the_record(make_desired: Factory) -> None:
    agent = make_desired()
    record = written_record(agent.kind, agent.name, agent.description, agent.config,
                            agent.postprocess_agents,
                            owned=("config.runtime.prompt.text", "config.tool.tools[name=book]"))

    assert "config.runtime.prompt.text" not in record.paths
    assert not any(p.startswith("config.tool.tools") for p in record.paths)
    assert "config.runtime.model" in record.paths


def test_list_items_share_their_lists_paths() -> None:
    paths = declared_paths({"runtime": {"variables": [{"name": "a"},
                                                      {"name": "b", "default_value": "x"}]}},
                           ("config",))

    assert paths == {"config.runtime", "config.runtime.variables",
                     "config.runtime.variables.name", "config.runtime.variables.default_value"}


def test_known_paths_only_grow_at_the_end() -> None:
    # A path's position is its bit in markers already on platforms: never reorder or remove.
    assert KNOWN_PATHS[:6] == ("name", "description", "postprocess_agents", "config",
                               "config.personas", "config.personas.name")
    assert KNOWN_PATHS.index("config.runtime.prompt.text") == 17
    assert KNOWN_PATHS.index("config.output.post_url") == 40
    assert len(set(KNOWN_PATHS)) == len(KNOWN_PATHS)


# ---- agents no longer declared ------------------------------------------------------------


def test_an_edited_agent_no_longer_declared_is_drift_in_status(
        plan_for: Factory, make_desired: Factory, make_remote: Factory, written: Factory,
        managed: Factory, with_config: Factory) -> None:
    gone, kept = make_desired("gone"), make_desired("kept")
    edited = written(with_config(gone, setting("runtime", "model", "dashboard/model")))
    edited.description = written(gone).description
    remotes = [make_remote("ca_1", gone.kind, edited), managed(gone, "ca_2"),
               managed(kept, "ca_3")]
    remotes[1] = managed(make_desired("also-gone"), "ca_2")

    plan = plan_for([kept], remotes)
    report = build_status(plan, Snapshot(api_url=plan.api_url, agents=tuple(remotes)))

    states = {a.key: (a.action, a.drift) for a in report.agents}
    assert states == {"gone": ("orphan", True), "also-gone": ("orphan", False),
                      "kept": ("no-op", False)}
