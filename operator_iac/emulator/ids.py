"""Identifiers of the emulated platform: prefixed random ids, ephemeral tokens, and version
ids of the form ``<agent id>@v<N>`` (N counting from 0).

Parsing is strict on purpose: ``ca_x@vfoo`` is malformed (the caller answers 400), while
``ca_x@v99`` is well formed and merely names a revision that may not exist (404).
"""

from __future__ import annotations

import random
import re
import secrets
import string
from dataclasses import dataclass

ALPHABET = string.ascii_letters + string.digits
ID_LENGTH = 11
_IDS = random.Random(secrets.randbits(128))

CONVERSATIONAL_AGENT = "ca"
PROCEDURAL_AGENT = "pa"
CONVERSATION = "conv"
EVENT = "ev"
CUSTOMER = "cus"
PROCEDURE = "trun"
GENERATION = "gen"
TOOL_CALL = "call"

_VERSION_SUFFIX = re.compile(r"v(0|[1-9][0-9]*)")


class InvalidVersionIdError(ValueError):
    """A string that tries to be a version id but is not one (``ca_x@vfoo``)."""


@dataclass(frozen=True)
class VersionRef:
    """An agent id, optionally narrowed to one revision number."""

    agent_id: str
    number: int | None = None

    @property
    def prefix(self) -> str:
        return prefix_of(self.agent_id)

    @property
    def is_bare(self) -> bool:
        return self.number is None


def new_id(prefix: str) -> str:
    """A fresh random id such as ``ca_8qm9JBCiTe7``. Ids only need to be unique, not secret
    (tokens are, ``new_token``): one draw from a generator seeded by the system, rather than
    a system call per character, keeps every streamed event cheap."""
    return f"{prefix}_{''.join(_IDS.choices(ALPHABET, k=ID_LENGTH))}"


def new_token() -> str:
    """A fresh ephemeral conversation token (unguessable)."""
    return "tok_" + secrets.token_urlsafe(24)


def version_id(agent_id: str, number: int) -> str:
    return f"{agent_id}@v{number}"


def prefix_of(identifier: str) -> str:
    """The prefix before the first underscore (``ca`` for ``ca_x``), or ``""``."""
    head, sep, _ = identifier.partition("_")
    return head if sep else ""


def parse_ref(ref: str) -> VersionRef:
    """Split ``ca_x`` or ``ca_x@vN``; raise InvalidVersionIdError for anything else after ``@``."""
    agent_id, sep, suffix = ref.partition("@")
    if not sep:
        return VersionRef(agent_id)
    match = _VERSION_SUFFIX.fullmatch(suffix)
    if not agent_id or match is None:
        raise InvalidVersionIdError(f"{ref!r} is not a valid version id (expected <agent id>@v<N>)")
    return VersionRef(agent_id, int(match.group(1)))
