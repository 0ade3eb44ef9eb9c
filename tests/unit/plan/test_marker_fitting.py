"""A marker fitted beside a user's description on a platform that keeps descriptions short
(``plan.marker.fitted``): the user's text stays whole, the marker gives up what it can."""

from __future__ import annotations

from dataclasses import replace

import pytest

from operator_iac.plan.marker import (
    GIVEN_UP_IN_ORDER,
    Marker,
    cut_from,
    cut_short_own,
    fitted,
    parse_cut_marker,
    parse_marker,
    room_needed,
    smaller_markers,
    strip_marker,
    unescaped,
    with_marker,
)
from operator_iac.plan.stored import Difference, StoredForms

FULL = Marker("acme-support", "appointment-booking", "82e0fb180471c6f4", "cb69c7703ea4",
              written="7ffbff7ff:5551494323a3cc3e", secrets=("runtime.prompt.text",),
              environment="staging", stored="b3742950.7674365f",
              secret_names=(("runtime.prompt.text", "BOOKING_TOKEN"),),
              smoke=("conv_afzFBU2uVJt", "conv_ovD9FzmoBWc"), written_at=1796636400)
TEXT = "Books, moves and cancels dental appointments."
DESCRIBED = with_marker(TEXT, FULL)


def test_a_description_within_the_limit_is_left_as_it_is() -> None:
    assert fitted(DESCRIBED, len(DESCRIBED)) == DESCRIBED


@pytest.mark.parametrize("limit", range(100, 420, 20))
def test_the_richest_marker_that_fits_is_kept_and_the_user_s_text_is_whole(limit: int) -> None:
    fit = fitted(DESCRIBED, limit)
    if fit is None:
        assert room_needed(DESCRIBED) > limit
        return
    assert len(fit) <= limit
    assert strip_marker(fit) == TEXT
    marker = parse_marker(fit)
    assert marker is not None
    assert (marker.project, marker.key, marker.environment) == (
        FULL.project, FULL.key, FULL.environment)
    assert FULL.content_hash.startswith(marker.content_hash)
    # Nothing richer would have fitted: the next larger candidate is over the limit.
    richer = [DESCRIBED, *(with_marker(TEXT, m) for m in smaller_markers(FULL))]
    assert all(len(c) > limit for c in richer[:richer.index(fit)])


def test_fields_are_given_up_in_the_stated_order_and_identity_never() -> None:
    steps = list(smaller_markers(FULL))
    gone_at = [next(i for i, m in enumerate(steps) if getattr(m, name) is None)
               for name in GIVEN_UP_IN_ORDER]
    assert gone_at == sorted(gone_at)  # each given up only after those before it
    halved = [m.stored for m in steps[:gone_at[GIVEN_UP_IN_ORDER.index("stored")]]]
    assert halved[-1] is not None and len(halved[-1]) < len(FULL.stored or "")  # halved first
    assert all(len(a) <= len(b) for a, b in zip(
        [str(m) for m in steps[1:]], [str(m) for m in steps], strict=False))
    smallest = steps[-1]
    assert (smallest.project, smallest.key, smallest.environment) == (
        FULL.project, FULL.key, FULL.environment)
    assert len(smallest.content_hash) == 12
    assert room_needed(DESCRIBED) == len(with_marker(TEXT, smallest))


def test_the_time_of_a_write_is_kept_over_what_only_sharpens_a_report() -> None:
    """Without ``at=``, a run killed before its read-back leaves a draft the next apply
    refuses: the record of what was written, the commit and the secrets' names go first."""
    reports = ("written", "commit", "secret_names")
    without_them = with_marker(TEXT, replace(FULL, **dict.fromkeys(reports)))
    marker = parse_marker(fitted(DESCRIBED, len(without_them)) or "")
    assert marker is not None and marker.written_at == FULL.written_at
    assert all(getattr(marker, name) is None for name in reports)
    assert marker.smoke == FULL.smoke


def test_halved_stored_forms_still_equate_the_values_they_record() -> None:
    forms = StoredForms.learnt([Difference(("config", "runtime", "model"), "openai/gpt-4o",
                                           "openai/gpt-4o-2024-08-06")])
    halved = StoredForms.decode(forms.shortened().encode())
    assert halved.matches("openai/gpt-4o", "openai/gpt-4o-2024-08-06")
    assert not halved.matches("openai/gpt-4o", "openai/gpt-4o-mini")


def test_no_room_even_for_identity_is_none_and_a_description_without_marker_is_none() -> None:
    assert fitted(DESCRIBED, len(TEXT) + 10) is None
    assert fitted(TEXT + " more", 10) is None


def test_stored_escapes_are_undone_to_compare_with_what_was_sent() -> None:
    assert unescaped("\\[operator-iac project=a\\_b\\] &amp; <p>x</p>") == \
        "[operator-iac project=a_b] & x"


@pytest.mark.parametrize("at", [len(TEXT) + 3, len(TEXT) + 12, len(TEXT) + 40, 150])
def test_a_description_cut_inside_its_marker_is_told_from_one_without(at: int) -> None:
    stored = DESCRIBED[:at]
    assert cut_short_own(stored, TEXT)
    assert cut_short_own(stored.replace("[", "\\[").replace("_", "\\_"), TEXT)  # escaped
    assert not cut_short_own(TEXT, TEXT)  # no marker at all: someone took it out
    assert not cut_short_own(TEXT + " An edit.", TEXT)
    assert not cut_short_own(DESCRIBED, TEXT)  # whole: not cut


def test_the_record_of_forms_gives_way_to_its_seal_before_the_smoke_records() -> None:
    """Where even halved pairs do not fit, the seal does (its size does not grow with the
    platform's forms), and the smoke records' ids are kept a step longer."""
    many = StoredForms(frozenset((f"{n:08x}", f"{n + 1:08x}") for n in range(8)),
                       seal="0123456789ab")
    marker = replace(FULL, stored=many.encode())
    steps = list(smaller_markers(marker))
    sealed = next(i for i, m in enumerate(steps) if m.stored == "all.0123456789ab")
    smoke_gone = next(i for i, m in enumerate(steps) if m.smoke is None)
    assert sealed < smoke_gone
    following = steps[smoke_gone]  # the ids give way to saying that the records follow
    assert following.records_follow and "smoke=after" in str(following)
    assert parse_marker(with_marker(TEXT, following)) == following
    assert many.shortened().encode() in [m.stored for m in steps[:sealed]]  # halved before
    described = with_marker(TEXT, marker)
    fit = fitted(described, len(with_marker(TEXT, steps[sealed])))
    kept = parse_marker(fit)
    assert kept is not None and kept.stored == "all.0123456789ab" and kept.smoke == FULL.smoke


DECOMPOSED = "Re\u0301sume\u0301s each call,  for the desk."


@pytest.mark.parametrize("at", [len(DECOMPOSED) + 3, len(DECOMPOSED) + 30, 120])
def test_a_cut_is_told_through_the_forms_a_platform_stores_text_in(at: int) -> None:
    """Composed Unicode and collapsed whitespace change a description from its first
    characters on: the cut is still told, by the writer and by the next plan."""
    import unicodedata

    sent = with_marker(DECOMPOSED, FULL)
    stored = " ".join(unicodedata.normalize("NFC", sent[:at]).split(" "))
    stored = stored.replace("  ", " ")
    assert cut_from(sent, stored) == len(stored)
    assert cut_short_own(stored, DECOMPOSED)
    assert cut_from(sent, sent) is None  # whole, the marker kept: no cut
    assert cut_from(sent, "Someone else's text entirely, and longer than forty.") is None
    assert not cut_short_own("Re\u0301sume\u0301s each call, for the desk. An edit.",
                             DECOMPOSED)


def test_a_marker_cut_short_names_its_identity_once_its_environment_is_whole() -> None:
    """A marker cut off at a platform's limit (a write killed before it was fitted) still
    names project, key, content hash, commit and environment once the cut falls after the
    environment and its space; before that (or inside the environment's name, which could
    be the beginning of another's) it names nothing. A whole marker is not a cut one."""
    marker = str(FULL)
    whole = marker.index(" env=staging ") + len(" env=staging ")
    for end in range(len(marker)):
        cut = parse_cut_marker(f"{TEXT}\n\n{marker[:end]}")
        if end < whole:
            assert cut is None, marker[:end]
        else:
            assert cut is not None, marker[:end]
            assert (cut.project, cut.key, cut.content_hash, cut.commit, cut.environment) == (
                FULL.project, FULL.key, FULL.content_hash, FULL.commit, FULL.environment)
    assert parse_cut_marker(DESCRIBED) is None
    escaped = f"{TEXT}\n\n{marker[:whole + 3]}".replace("[", "&#91;")
    assert parse_cut_marker(escaped) is not None  # read through a platform's escapes
