"""The text detectors on literal strings: what they find, and what they must leave alone."""

from __future__ import annotations

import pytest

from operator_iac.lint import detect


@pytest.mark.parametrize("text", ["+1 415 555 0100", "(415) 555-0100", "415-555-0100",
                                  "+15550100", "+44 20 7946 0958", "call 030 1234 5678 now"])
def test_phone_numbers_are_found(text: str) -> None:
    found = list(detect.phone_numbers(text))
    assert len(found) == 1 and found[0].text in text and text.index(found[0].text) == \
        found[0].start


@pytest.mark.parametrize("text", ["on 2024-01-15", "order AC-104233", "IP 192.168.100.1",
                                  "version 1.2.3", "at 10:30", "4111 1111 1111 1111",
                                  "returns within 30 days", "order 1234567890"])
def test_dates_ids_and_card_numbers_are_not_phone_numbers(text: str) -> None:
    assert list(detect.phone_numbers(text)) == []


def test_email_addresses_except_reserved_domains_and_tool_references() -> None:
    text = ("write to dana@acme-support.com, not a@example.com, b@mail.example.org, "
            "c@host.test or @lookup_order")
    assert [m.text for m in detect.email_addresses(text)] == ["dana@acme-support.com"]


def test_card_numbers_must_pass_the_luhn_check() -> None:
    assert [m.text for m in detect.card_numbers("pay with 4111-1111-1111-1111")] == \
        ["4111-1111-1111-1111"]
    assert list(detect.card_numbers("ticket 4111 1111 1111 1112")) == []
    assert list(detect.card_numbers("tracking 1234567890123")) == []


@pytest.mark.parametrize(("text", "kind"), [
    ("key AKIAIOSFODNN7EXAMPLE here", "an AWS access key id"),
    ("xoxb-" + "1234567890-abcdef", "a Slack token"),
    ("-----BEGIN RSA PRIVATE KEY-----", "a private key"),
    ("https://hooks.acme-support.com/c?token=f4c3b00c5e1a", "a secret in a URL"),
    ("https://bot:hunter2@api.acme-support.com/x", "a password in a URL"),
    ("api_key: abcdef1234567890", "a secret value"),
    ("sk-proj-" + "abcdefghijklmnopqrstu12", "a secret API key"),
])
def test_secrets_are_found_once_by_their_most_specific_kind(text: str, kind: str) -> None:
    found = list(detect.secrets(text))
    assert [m.kind for m in found] == [kind]
    assert "…" in found[0].shown() and found[0].text not in found[0].shown()


@pytest.mark.parametrize("text", ["token: ${env:HOOK_TOKEN}", "the password is required",
                                  "https://hooks.acme-support.com/c?token=${env:T}",
                                  "ask for the order number"])
def test_references_and_words_are_not_secrets(text: str) -> None:
    assert list(detect.secrets(text)) == []


def test_phone_numbers_as_whole_values() -> None:
    assert detect.is_phone_number("+1 (415) 555-0100")
    assert not detect.is_phone_number("agent:billing-desk")
    assert not detect.is_phone_number("ca_123")
    assert detect.normalised_number("+1 (415) 555-0100") == "+14155550100"
