"""Text a platform stores normalised counts as the declared text, and a real edit still shows."""

from __future__ import annotations

import pytest

from operator_iac.plan.normalise import project, stored_as


@pytest.mark.parametrize("stored", [
    "Line one.\nLine two.",          # the final newline trimmed
    "Line one.\nLine two.\n",        # byte-exact
    "Line one.\r\nLine two.\r\n".replace("\r\n", "\n"),
])
def test_normalised_forms_of_the_declared_text(stored: str) -> None:
    assert stored_as("Line one.\nLine two.\n", stored)


def test_trailing_spaces_per_line_and_crlf() -> None:
    assert stored_as("a  \r\nb \r\n", "a\nb")
    assert stored_as("  indented\n", "indented")


@pytest.mark.parametrize("stored", ["Line one.", "Line one.\nLine 2.", "line one.\nline two."])
def test_other_text_is_a_change(stored: str) -> None:
    assert not stored_as("Line one.\nLine two.\n", stored)


def test_the_added_whitespace_of_a_platform_is_not_hidden() -> None:
    assert not stored_as("Hello.", "Hello.\n")


def test_projection_shows_the_declared_text_where_the_platform_normalised_it() -> None:
    desired = {"runtime": {"prompt": {"text": "Be kind.\n"}}, "voice": {"keywords": ["a "]}}
    remote = {"runtime": {"prompt": {"text": "Be kind."}}, "voice": {"keywords": ["a"]}}
    assert project(remote, desired) == desired
    edited = {"runtime": {"prompt": {"text": "Be rude."}}, "voice": {"keywords": ["b"]}}
    assert project(edited, desired) == edited
