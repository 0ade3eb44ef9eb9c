"""The ownership marker: format, parse, strip."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest

from operator_iac.errors import InvalidInputError
from operator_iac.plan.marker import Marker, format_marker, parse_marker, strip_marker, with_marker

HASH = "0123456789abcdef"


def test_marker_round_trips_through_a_description() -> None:
    marker = Marker("acme-support", "booking", HASH, "9a1b2c3d")
    description = with_marker("Books appointments.", marker)

    assert description.endswith(f"\n\n[operator-iac project=acme-support key=booking "
                                f"hash={HASH} commit=9a1b2c3d]")
    assert parse_marker(description) == marker
    assert strip_marker(description) == "Books appointments."


def test_missing_commit_is_written_as_dash_and_read_as_none() -> None:
    line = format_marker("p", "k", HASH, None)

    assert line.endswith("commit=-]")
    assert parse_marker(line) == Marker("p", "k", HASH, None)


def test_empty_description_becomes_the_marker_alone() -> None:
    marker = Marker("p", "k", HASH)

    assert with_marker("", marker) == str(marker)
    assert strip_marker(str(marker)) == ""


def test_text_appended_after_the_marker_keeps_it_readable() -> None:
    description = with_marker("Intro.", Marker("p", "k", HASH)) + "\nEdited in the dashboard."

    assert parse_marker(description) == Marker("p", "k", HASH)
    assert strip_marker(description) == "Intro.\n\nEdited in the dashboard."


def test_the_last_of_several_markers_wins_and_only_it_is_stripped() -> None:
    old, new = Marker("p", "old-key", HASH), Marker("p", "new-key", HASH)
    description = f"Intro.\n{old}\n\n{new}"

    assert parse_marker(description) == new
    assert strip_marker(description) == f"Intro.\n{old}"


@pytest.mark.parametrize("text", [
    "",
    None,
    "mentions [operator-iac project=p key=k hash=0123456789abcdef commit=-] inline",
    "[operator-iac project=p key=k hash=short commit=-]",
    "[operator-iac project=p key=k hash=0123456789abcdef]",
])
def test_text_without_a_whole_marker_line_has_no_marker(text: str | None) -> None:
    assert parse_marker(text) is None


def test_rewriting_replaces_the_previous_marker() -> None:
    first = with_marker("Intro.", Marker("p", "k", HASH))
    second = with_marker(first, Marker("p", "k", "f" * 16))

    assert second.count("[operator-iac") == 1
    assert parse_marker(second) == Marker("p", "k", "f" * 16)


@pytest.mark.parametrize(("project", "key", "commit"), [
    ("acme support", "booking", None),
    ("acme", "book]ing", None),
    ("acme", "a=b", None),
    ("acme", "booking", "not a sha"),
])
def test_values_that_would_break_the_line_are_refused(project: str, key: str,
                                                      commit: str | None) -> None:
    with pytest.raises(InvalidInputError, match="ownership marker"):
        format_marker(project, key, HASH, commit)


def test_trailing_whitespace_of_the_author_text_carries_no_meaning() -> None:
    assert strip_marker("Intro.  \n\n") == "Intro."


def test_environment_stored_forms_and_secret_names_round_trip_and_older_parsers_ignore_them(
        ) -> None:
    from operator_iac.plan.marker import Marker, Owner, parse_marker

    marker = Owner("acme", "staging").marker(
        "booking", "0123456789abcdef", "abc1234", stored="0a1b2c3d.4e5f6a7b",
        secrets=("runtime.prompt.text",),
        secret_names=(("runtime.prompt.text", "BOOKING_TOKEN"), ("bad path:x", "9bad")))
    text = f"Books.\n\n{marker}"

    parsed = parse_marker(text)

    assert parsed is not None and parsed.environment == "staging"
    assert parsed.stored == "0a1b2c3d.4e5f6a7b"
    assert parsed.secret_names == (("runtime.prompt.text", "BOOKING_TOKEN"),)
    assert Owner("acme", "staging").claims(parsed)
    assert not Owner("acme", "production").claims(parsed)
    assert Owner("acme").claims(parsed)  # no environment asked: the project's in any
    legacy = Marker("acme", "booking", "0123456789abcdef", "abc1234")
    assert Owner("acme", "production").claims(parse_marker(f"x\n{legacy}"))
    # A platform that joins lines leaves the marker readable at the end of a line.
    assert parse_marker(f"Books. {marker}") == parsed


def test_the_time_of_a_write_round_trips_and_a_time_that_is_none_reads_as_none() -> None:
    from operator_iac.plan.marker import Owner, parse_marker

    marker = Owner("acme", "staging").marker("booking", "0123456789abcdef", "abc1234",
                                             written_at=1796636400)
    assert str(marker).endswith(" at=1796636400]")
    assert parse_marker(f"Books.\n\n{marker}") == marker
    assert parse_marker(f"Books.\n\n{str(marker).replace('1796636400', 'soon')}") \
        .written_at is None  # type: ignore[union-attr]


def test_a_commit_that_cannot_be_one_says_what_a_commit_is() -> None:
    # ``GIT_COMMIT=abc``: letters of a commit, but too few of them.
    with pytest.raises(InvalidInputError, match=r"git commit 'abc' .* 4 to 64 hexadecimal"):
        format_marker("acme", "booking", "a" * 12, "abc")
    with pytest.raises(InvalidInputError, match="letters, digits"):
        format_marker("acme support", "booking", "a" * 12, None)


FULL = Marker("acme-support", "call_summary", HASH, "9a1b2c3d", environment="staging",
              written="1ffe7f", stored="6aa61431.89aae2ce", smoke=("conv_a1", "conv_b2"),
              secret_names=(("runtime.prompt.text", "TRIAGE_LINE"),))


def _markdown(text: str) -> str:
    return re.sub(r"([\\`*_\[\]])", r"\\\1", text)


@pytest.mark.parametrize("stored", [
    _markdown,
    html.escape,
    lambda text: text.replace("[", "&#91;").replace("]", "&#93;"),
    lambda text: "".join(f"<p>{line}</p>\n" for line in text.split("\n")),
    lambda text: _markdown(text).replace("\\", "&#92;"),
], ids=["markdown-escapes", "html-escapes", "numeric-entities", "tags", "escapes-as-entities"])
def test_a_marker_stored_in_an_escaped_form_reads_as_itself(
        stored: Callable[[str], str]) -> None:
    """A platform that escapes stored text (as Markdown or HTML) keeps the marker readable:
    the same marker, and the same author text around it, with no escape in any value."""
    description = stored(with_marker("Books *calls* [fast].", FULL))

    assert parse_marker(description) == FULL
    assert "operator-iac" not in strip_marker(description)


def test_an_escape_inside_a_value_is_never_read_as_part_of_it() -> None:
    """Read as it is, an escaped line would end with a marker whose last value holds the
    escapes: such a value is not one operator-iac writes, so the line is read unescaped."""
    escaped = _markdown(str(FULL))

    assert parse_marker(escaped) == FULL
    assert parse_marker(escaped.replace("\\_", "_")) == FULL
