"""Finding secrets and personal data in text: pure functions from a string to the matches in
it, each with its offset and what it looks like.

Hand-written rather than a secret-scanning library: the rules need offsets inside an
assembled prompt (to point into prompt files and fragments), a handful of well-known token
shapes, and phone, e-mail and card numbers; the scanners on PyPI either shell out, scan files
rather than strings, or bring large rule sets tuned for source code.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Match:
    """Something found in a text: its offset, the text matched, and what it looks like."""

    start: int
    text: str
    kind: str

    def shown(self) -> str:
        """The match as a message may quote it: a secret only by its first characters."""
        return self.text if len(self.text) <= 8 else f"{self.text[:6]}…"


# Well-known token shapes, by what they are. Each matches the token alone.
_SECRETS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern)) for kind, pattern in (
        ("a private key", r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),
        ("an AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        ("a Google API key", r"\bAIza[0-9A-Za-z_-]{35}(?![\w-])"),
        ("a GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})"),
        ("a Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
        ("a Slack webhook URL", r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{16,}"),
        ("a Stripe key", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}"),
        ("a secret API key", r"\bsk-(?:[a-z]+-)?[A-Za-z0-9_-]{20,}"),
        ("a JSON Web Token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
        ("a password in a URL", r"\b[a-z][a-z0-9+.-]*://[^/\s:@$]+:[^/\s@$]+@"),
    ))
# `api_key: abc...`, `password=...`, `token is ...`: a value of 12 or more characters that
# holds a digit (so that "the password is required" is not a password).
_ASSIGNED = re.compile(
    r"(?i)\b(?:api[_-]?key|secret|token|password|passwd|bearer)\b[\"']?\s*(?:[:=]|is)\s*"
    r"[\"']?(?P<value>(?=[A-Za-z0-9_\-./+=]*\d)[A-Za-z0-9_\-./+=]{12,})")
_QUERY_SECRET = re.compile(
    r"(?i)[?&](?:token|key|api_?key|secret|signature|sig|password|access_token)="
    r"(?P<value>[^&#\s$]{8,})")

_ALL_SECRETS: tuple[tuple[str, re.Pattern[str], int | str], ...] = (
    *((kind, pattern, 0) for kind, pattern in _SECRETS),
    ("a secret in a URL", _QUERY_SECRET, "value"),
    ("a secret value", _ASSIGNED, "value"),
)

_PHONE = re.compile(
    r"(?<!\d[\s.-])(?<![\w+])(?:"
    r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,4}\)[\s.-]?|\d{2,4}[\s.-])\d{3,4}[\s.-]?\d{3,4}"
    r"|\+\d{8,15})(?![\s.-]?\d)(?!\w)")
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}\b")
# Domains reserved for documentation and tests (RFC 2606, RFC 6761): never anyone's address.
_RESERVED_DOMAINS = re.compile(r"(?i)(?:^|\.)(?:example\.(?:com|net|org)|example|test|invalid"
                               r"|localhost)$")
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")


def secrets(text: str) -> Iterator[Match]:
    """Tokens, keys and passwords written into ``text``; where two shapes match the same
    characters, the more specific one (listed first) is reported."""
    taken: list[range] = []
    for kind, pattern, group in _ALL_SECRETS:
        for found in pattern.finditer(text):
            span = range(found.start(group), found.end(group))
            if any(span.start < other.stop and other.start < span.stop for other in taken):
                continue
            taken.append(span)
            yield Match(found.start(group), found.group(group), kind)


def phone_numbers(text: str) -> Iterator[Match]:
    """Phone numbers: international (``+1 415 555 0100``, ``+15550100``) or written with
    separators (``(415) 555-0100``), 8 to 15 digits."""
    for found in _PHONE.finditer(text):
        digits = sum(c.isdigit() for c in found.group(0))
        if 8 <= digits <= 15:
            yield Match(found.start(), found.group(0), "a phone number")


def email_addresses(text: str) -> Iterator[Match]:
    """E-mail addresses, except those of reserved example and test domains."""
    for found in _EMAIL.finditer(text):
        domain = found.group(0).rpartition("@")[2]
        if not _RESERVED_DOMAINS.search(domain):
            yield Match(found.start(), found.group(0), "an e-mail address")


def card_numbers(text: str) -> Iterator[Match]:
    """Payment card numbers: 13 to 19 digits (spaces or dashes allowed) passing the Luhn
    check, which ordinary long numbers fail nine times in ten."""
    for found in _CARD.finditer(text):
        digits = [int(c) for c in found.group(0) if c.isdigit()]
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            yield Match(found.start(), found.group(0), "a payment card number")


def luhn_valid(digits: list[int]) -> bool:
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def is_phone_number(value: str) -> bool:
    """Whether a whole value (a transfer target) is a phone number."""
    stripped = value.strip()
    return bool(re.fullmatch(r"\+?[\d\s().-]{7,}", stripped)) and \
        sum(c.isdigit() for c in stripped) >= 7


def normalised_number(value: str) -> str:
    """A phone number as digits with its leading ``+`` (``+1 (555) 010-0`` -> ``+15550100``)."""
    stripped = value.strip()
    return ("+" if stripped.startswith("+") else "") + "".join(c for c in stripped
                                                             if c.isdigit())
