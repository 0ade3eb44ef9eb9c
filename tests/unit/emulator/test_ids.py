"""Ids and version ids of the emulator."""

from __future__ import annotations

import pytest

from operator_iac.emulator import ids


@pytest.mark.parametrize("prefix", ["ca", "pa", "conv", "ev", "cus", "trun"])
def test_new_ids_carry_their_prefix_and_are_unique(prefix: str) -> None:
    made = {ids.new_id(prefix) for _ in range(200)}
    assert len(made) == 200
    assert all(i.startswith(prefix + "_") and len(i) == len(prefix) + 1 + ids.ID_LENGTH
               for i in made)


def test_version_id_round_trips() -> None:
    assert ids.version_id("ca_abc", 2) == "ca_abc@v2"
    assert ids.parse_ref("ca_abc@v2") == ids.VersionRef("ca_abc", 2)


def test_bare_id_has_no_number() -> None:
    ref = ids.parse_ref("pa_abc")
    assert ref.is_bare and ref.agent_id == "pa_abc" and ref.prefix == "pa"


@pytest.mark.parametrize("bad", ["ca_x@vfoo", "ca_x@v", "ca_x@99", "ca_x@v-1", "ca_x@v01",
                                 "@v1", "ca_x@v1@v2"])
def test_malformed_version_ids_are_rejected(bad: str) -> None:
    with pytest.raises(ids.InvalidVersionIdError, match="not a valid version id"):
        ids.parse_ref(bad)


def test_well_formed_but_unknown_revision_parses() -> None:
    # Whether v99 exists is for the store to say (404), not the parser (400).
    assert ids.parse_ref("ca_x@v99").number == 99


def test_prefix_of_text_without_underscore_is_empty() -> None:
    assert ids.prefix_of("garbage") == ""
    assert ids.prefix_of("conv_1") == "conv"


def test_tokens_are_unguessable_and_distinct() -> None:
    tokens = {ids.new_token() for _ in range(50)}
    assert len(tokens) == 50 and all(len(t) > 30 for t in tokens)
