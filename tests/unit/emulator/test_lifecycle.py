"""The revision lifecycle rules (drafts, releases, rollbacks) as pure functions."""

from __future__ import annotations

import pytest

from operator_iac.emulator.lifecycle import (
    ARCHIVED,
    DRAFT,
    RELEASED,
    PutTarget,
    RevisionImmutableError,
    after_release,
    put_target,
)


def test_bare_put_writes_the_existing_draft() -> None:
    assert put_target({0: RELEASED, 1: DRAFT}, None) == PutTarget("update", 1)


def test_bare_put_without_draft_starts_one_from_the_newest() -> None:
    assert put_target({0: ARCHIVED, 1: RELEASED}, None) == PutTarget("new", 1)


def test_explicit_put_to_the_draft_is_allowed() -> None:
    assert put_target({0: DRAFT}, 0) == PutTarget("update", 0)


@pytest.mark.parametrize("number", [0, 1])
def test_explicit_put_to_a_non_draft_is_refused(number: int) -> None:
    with pytest.raises(RevisionImmutableError):
        put_target({0: ARCHIVED, 1: RELEASED, 2: DRAFT}, number)


def test_releasing_the_draft_archives_the_previous_release() -> None:
    assert after_release({0: RELEASED, 1: DRAFT}, 1) == {0: ARCHIVED, 1: RELEASED}


def test_releasing_the_released_revision_changes_nothing() -> None:
    statuses = {0: ARCHIVED, 1: RELEASED, 2: DRAFT}
    assert after_release(statuses, 1) == statuses


def test_releasing_an_archived_revision_is_a_rollback_that_keeps_the_draft() -> None:
    assert after_release({0: ARCHIVED, 1: RELEASED, 2: DRAFT}, 0) == {
        0: RELEASED, 1: ARCHIVED, 2: DRAFT}


def test_first_release_of_v0() -> None:
    assert after_release({0: DRAFT}, 0) == {0: RELEASED}


def test_event_timestamps_have_milliseconds() -> None:
    from operator_iac.emulator.clock import iso, iso_ms, parse_iso

    assert iso_ms(1_700_000_000.1234) == "2023-11-14T22:13:20.123Z"
    assert iso(1_700_000_000.9) == "2023-11-14T22:13:20Z"
    assert abs(parse_iso(iso_ms(1_700_000_000.5)) - 1_700_000_000.5) < 1e-6
