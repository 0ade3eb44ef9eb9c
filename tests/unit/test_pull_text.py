"""Text taken from the platform into a declaration: references kept where their value still
matches, secrets never written."""

from __future__ import annotations

from operator_iac.importing.pull_text import Refused, escape_text, retemplate

TEMPLATE = "Hello.\nSee ${var:help} for more.\nCall ${env:LINE} now.\nBye.\n"
RESOLVED = "Hello.\nSee https://help for more.\nCall +1555 now.\nBye.\n"


def test_unchanged_lines_keep_their_references() -> None:
    platform = RESOLVED.replace("Bye.", "Goodbye, and thanks.")

    written = retemplate(TEMPLATE, RESOLVED, platform)

    assert written == TEMPLATE.replace("Bye.", "Goodbye, and thanks.")


def test_a_changed_line_with_a_variable_takes_the_platforms_text_escaped() -> None:
    platform = RESOLVED.replace("https://help", "https://docs ${x}")

    assert retemplate(TEMPLATE, RESOLVED, platform) == \
        TEMPLATE.replace("${var:help}", "https://docs $${x}")


def test_a_changed_line_with_a_secret_is_refused_naming_it() -> None:
    refused = retemplate(TEMPLATE, RESOLVED, RESOLVED.replace("+1555", "+1666"))

    assert isinstance(refused, Refused)
    assert "${env:LINE}" in refused.reason and "+1666" not in refused.reason


def test_text_without_references_is_the_platforms_text() -> None:
    assert retemplate("a ${x", "a ${x", "b ${y") == "b $${y"
    assert retemplate("same", "same", "same") == "same"
    assert escape_text("${var:x}") == "$${var:x}"


def test_a_value_spanning_lines_is_replaced_whole_unless_it_holds_a_secret() -> None:
    assert retemplate("${var:block}", "one\ntwo\n", "one\nthree\n") == "one\nthree\n"
    assert isinstance(retemplate("x ${env:S}", "x a\nb", "x c"), Refused)
