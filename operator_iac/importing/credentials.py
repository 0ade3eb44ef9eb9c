"""Values in an imported agent file that look like credentials: pure, no I/O.

The platform holds whatever someone typed into the dashboard, and ``import`` writes it as it
is; a webhook URL with ``?token=...`` would then go into git. Import keeps the value (the next
plan must show no change) but names every such place, so that it can be moved into the
environment as ``${env:NAME}``. The hints name the path and the reason, never the value.

A value counts when it is a URL with credentials in it (a user and password, or a query
parameter named like a token or key), a string under a key named like a secret, or a string
in the shape of a well-known key format (bearer tokens, JWTs, ``sk-...``, ``ghp_...``, ``AKIA...``).
A value that already reads ``${env:...}`` does not.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Words that name a secret, matched against the words of a key or query parameter name
# (``apiKey``, ``X-Api-Key`` and ``api_key`` all read as api, key).
_SECRET_WORDS = frozenset({"token", "secret", "password", "passwd", "pwd", "apikey",
                           "signature", "sig", "auth", "authorization", "credential",
                           "credentials", "bearer", "jwt"})
# "key" alone names many things in a config (a sort key, a voice key); beside these words, or
# as a URL's query parameter (?key=...), it names a secret.
_KEY_PAIRS = frozenset({"api", "access", "private", "secret", "signing", "license"})
_WORD_BREAK = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_URL_USERINFO = re.compile(r"^[a-z][a-z0-9+.-]*://[^/?#@\s:]+:[^/?#@\s]+@", re.IGNORECASE)
_URL_PARAMETER = re.compile(r"[?&;]([^=&#\s]+)=([^&#\s]+)")
_KEY_SHAPES = re.compile(
    r"\bBearer\s+[A-Za-z0-9._~+/=-]{12,}"
    r"|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\."  # a JWT
    r"|\b(?:sk|rk)-[A-Za-z0-9_-]{16,}"
    r"|\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{12,}"
    r"|\bop_(?:live|test)_[A-Za-z0-9_]{8,}"
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}"
    r"|\bxox[abprs]-[A-Za-z0-9-]{10,}"
    r"|\bAKIA[0-9A-Z]{16}\b")
_ENV_SUBSTITUTION = "${env:"


@dataclass(frozen=True)
class CredentialHint:
    """A place in an agent file whose value looks like a credential, and why."""

    path: str  # e.g. config.output.post_url
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


def find_credentials(data: Any) -> tuple[CredentialHint, ...]:
    """Every value of ``data`` (an agent file's content) that looks like a credential."""
    return tuple(_walk(data, ""))


def why_credential(key: str, value: str) -> str | None:
    """Why ``value`` (found under ``key``) looks like a credential, or None."""
    if not value.strip() or _ENV_SUBSTITUTION in value:
        return None
    if _URL_USERINFO.search(value):
        return "a password in the URL"
    if any(names_secret(name, url=True) for name, _ in _URL_PARAMETER.findall(value)):
        return "a token in the URL"
    if _KEY_SHAPES.search(value):
        return "shaped like an API key or token"
    if names_secret(key) and " " not in value.strip():
        return f"a value under {key!r}"
    return None


def names_secret(name: str, *, url: bool = False) -> bool:
    """Whether a key (or, with ``url``, a query parameter) is named like a secret: ``token``,
    ``api_key``, ``clientSecret``, ``X-Auth-Token``; a URL's ``?key=`` too, but no mapping
    key called just ``key``."""
    words = [w.lower() for w in _WORD_BREAK.split(name) if w]
    if _SECRET_WORDS.intersection(words):
        return True
    if url and "key" in words:
        return True
    return any(first in _KEY_PAIRS and second == "key"
               for first, second in itertools.pairwise(words))


def _walk(value: Any, path: str, key: str = "") -> Iterator[CredentialHint]:
    if isinstance(value, dict):
        for name, item in value.items():
            yield from _walk(item, f"{path}.{name}" if path else str(name), str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, f"{path}[{index}]", key)
    elif isinstance(value, str):
        reason = why_credential(key, value)
        if reason is not None:
            yield CredentialHint(path, reason)
