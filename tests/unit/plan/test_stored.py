"""Stored forms: what a platform did to written values is learnt once and compared through."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from operator_iac.plan.marker import parse_marker, with_marker
from operator_iac.plan.stored import StoredForms, differences, equate, excerpts, value_digest
from operator_iac.state.snapshot import RemoteAgent

Factory = Any
DATED = "openai/gpt-4o-2024-08-06"


def test_differences_are_found_at_leaves_lists_of_scalars_whole_and_items_by_position(
        ) -> None:
    sent = {"a": "x", "langs": ["English", "French"], "tools": [{"n": "b"}, {"n": "c"}]}
    stored = {"a": "x", "langs": ["French", "English"], "tools": [{"n": "b"}, {"n": "C"}]}

    found = differences(sent, stored)

    assert [(d.dotted, d.sent, d.stored) for d in found] == [
        ("langs", ["English", "French"], ["French", "English"]), ("tools.1.n", "c", "C")]
    assert differences(sent, copy.deepcopy(sent)) == []


def test_a_value_not_kept_is_lost_while_an_empty_one_dropped_is_a_form() -> None:
    found = {d.dotted: d for d in differences({"a": ["x"], "b": [], "c": "y", "d": ["z"]},
                                              {"c": "Y", "d": []})}

    assert found["a"].lost and found["d"].lost
    assert not found["b"].lost and not found["c"].lost
    learnt = StoredForms.learnt(found.values())
    assert len(learnt.pairs) == 2  # b and c, never a value that was lost


def test_zero_values_left_out_are_a_form_while_anything_else_left_out_is_lost() -> None:
    sent = {"channel": {"sms": False, "voicemail": False}, "n": 0, "flag": False,
            "note": {"text": ""}, "on": True, "count": 3, "nested": {"a": False, "b": True},
            "items": [False]}
    found = {d.dotted: d for d in differences(sent, {})}

    assert {path for path, d in found.items() if d.lost} == {"on", "count", "nested",
                                                             "items"}
    learnt = StoredForms.learnt(found.values())
    assert len(learnt.pairs) == 4  # channel, n, flag and note: each a form of absence
    declared = {"channel": sent["channel"], "n": 0, "flag": False, "note": sent["note"]}
    assert equate(declared, {}, learnt)[0] == declared


def test_forms_round_trip_through_the_marker_text_and_ignore_what_they_cannot_read() -> None:
    forms = StoredForms.learnt(differences({"m": "a", "t": "é"}, {"m": "b", "t": "é"}))

    text = forms.encode()

    assert text is not None and StoredForms.decode(text) == forms
    assert StoredForms.decode(f"{text},zz.yy,12345678") == forms
    assert StoredForms.decode(None) == StoredForms() and StoredForms().encode() is None


def test_equate_takes_a_recorded_stored_form_as_the_declared_value_and_nothing_else() -> None:
    forms = StoredForms(frozenset({(value_digest("openai/gpt-4o"), value_digest(DATED))}))
    desired = {"runtime": {"model": "openai/gpt-4o", "prompt": "new"}}
    remote = {"runtime": {"model": DATED, "prompt": "old"}}

    equal, replaced = equate(desired, remote, forms)

    assert equal == {"runtime": {"model": "openai/gpt-4o", "prompt": "old"}}
    assert [(d.dotted, d.sent, d.stored) for d in replaced] == [
        ("runtime.model", "openai/gpt-4o", DATED)]
    # Another declared value is not equal to the stored form of the first.
    other, none = equate({"runtime": {"model": "openai/gpt-4.1"}}, remote, forms)
    assert other == remote and none == []


def stored_as_dated(agent: RemoteAgent, forms: StoredForms | None) -> RemoteAgent:
    """``agent`` as a platform that stores model aliases dated holds it, its marker
    recording the form (or not, ``forms`` None)."""
    released = agent.released
    assert released is not None
    config = copy.deepcopy(released.config)
    config["runtime"]["model"] = DATED
    marker = parse_marker(released.description)
    assert marker is not None
    if forms is not None:
        marker = replace(marker, stored=forms.encode())
    stored = replace(released, config=config,
                     description=with_marker(released.description, marker))
    versions = tuple(replace(v, description=stored.description) for v in agent.versions)
    return replace(agent, released=stored, versions=versions)


MODEL_FORM = StoredForms(frozenset({(value_digest("openai/gpt-4o"), value_digest(DATED))}))


def test_a_platform_form_recorded_in_the_marker_is_no_change_and_is_stated_once(
        plan_for: Factory, make_desired: Factory, managed: Factory) -> None:
    agent = make_desired()
    remote = stored_as_dated(managed(agent, "ca_1"), MODEL_FORM)

    plan = plan_for([agent], [remote])

    resource = plan.resources[0]
    assert (resource.action, resource.changes, resource.drift) == ("no-op", (), False)
    assert [(f.path, f.declared, f.stored) for f in plan.stored_forms] == [
        ("config.runtime.model", "openai/gpt-4o", DATED)]


def test_without_the_record_the_same_form_is_a_change_the_plan_shows(
        plan_for: Factory, make_desired: Factory, managed: Factory) -> None:
    agent = make_desired()

    resource = plan_for([agent], [stored_as_dated(managed(agent, "ca_1"), None)]).resources[0]

    assert resource.action == "update"
    assert [c.path for c in resource.changes] == ["config.runtime.model"]


def test_a_real_change_beside_a_recorded_form_shows_only_the_change(
        plan_for: Factory, make_desired: Factory, managed: Factory,
        with_config: Factory) -> None:
    agent = make_desired()
    remote = stored_as_dated(managed(agent, "ca_1"), MODEL_FORM)

    def reword(config: dict[str, Any]) -> None:
        config["runtime"]["prompt"]["text"] = "You book cleanings kindly.\n"

    resource = plan_for([with_config(agent, reword)], [remote]).resources[0]

    assert resource.action == "update"
    assert [c.path for c in resource.changes] == ["config.runtime.prompt.text"]


def test_a_note_shows_where_a_long_value_and_its_stored_form_differ() -> None:
    """A long prompt stored with one character encoded: both sides are cut to the same
    stretch around the difference, not shown as two equal beginnings; short values whole."""
    prompt = "You are Sam. " * 20 + "Be friendly & brief." + " Thanks." * 10
    sent, stored = excerpts(prompt, prompt.replace("&", "&amp;"), 80)

    assert "friendly & brief" in sent and "friendly &amp; brief" in stored
    assert sent.startswith("...") and sent.endswith("...") and stored.endswith("...")
    assert len(sent) <= 80 + 6 and len(stored) <= 80 + 6
    assert excerpts("openai/gpt-4o", "openai/gpt-4o-2024-08-06", 60) == (
        '"openai/gpt-4o"', '"openai/gpt-4o-2024-08-06"')
    assert excerpts(["b", "a"], ["a", "b"], 60) == ('["b", "a"]', '["a", "b"]')


def _forms_of(declared: dict[str, Any], held: dict[str, Any]) -> StoredForms:
    """The record a write of ``declared`` read back as ``held`` leaves: pairs and seal."""
    return StoredForms.sealing(differences(declared, held))


SORTED = {"required": ["a", "b", "c"], "type": ["null", "string"], "model": DATED}
DECLARED = {"required": ["c", "a", "b"], "type": ["string", "null"], "model": "openai/gpt-4o"}


def test_a_seal_alone_equates_the_revision_it_was_made_for_whole() -> None:
    sealed = StoredForms.decode(_forms_of(DECLARED, SORTED).sealed_only().encode())

    assert sealed.seal is not None and not sealed.pairs
    equal, replaced = equate(DECLARED, SORTED, sealed)

    assert equal == DECLARED
    assert sorted(d.dotted for d in replaced) == ["model", "required", "type"]


def test_a_seal_never_makes_a_change_read_as_equal() -> None:
    sealed = _forms_of(DECLARED, SORTED).sealed_only()
    # The declaration changed: its differences are no longer the sealed set, so none is
    # taken as a form (they show, the change among them, until the next write).
    changed = {**DECLARED, "prompt": "new"}
    equal, replaced = equate(changed, {**SORTED, "prompt": "old"}, sealed)
    assert replaced == [] and equal == {**SORTED, "prompt": "old"}
    # The revision was edited where a form was: the same.
    edited = {**SORTED, "model": "openai/gpt-4o-mini"}
    assert equate(DECLARED, edited, sealed) == (edited, [])
    # A value the platform did not keep is never sealed.
    assert StoredForms.sealing(differences({"x": "kept?"}, {})).seal is None


def test_the_seal_travels_with_the_pairs_and_stays_with_its_revision() -> None:
    forms = _forms_of(DECLARED, SORTED)
    text = forms.encode()

    assert text is not None and text.endswith(f",all.{forms.seal}")
    assert StoredForms.decode(text) == forms
    assert StoredForms.decode(forms.shortened().encode()).seal == forms.seal
    # Pairs learnt elsewhere add to a revision's record; its own seal is the one that counts.
    pooled = StoredForms.learnt(differences({"m": "a"}, {"m": "b"}))
    assert (pooled | forms).seal == forms.seal and not forms.without_seal().seal
