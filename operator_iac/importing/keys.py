"""Agent keys for imported agents: derived from the remote agent's name, and checked for
collisions before anything is written.

A key is a file stem and appears in ``agent:<key>`` references and in ownership markers, so it
is a slug: lower-case ASCII letters, digits and single hyphens ("Appointment booking" becomes
``appointment-booking``). A name with nothing usable in it falls back to the agent's id, which
is already a valid key. Two imported agents whose names give the same key are an error that
lists both: guessing a suffix would make the key depend on the order of the agents list.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from operator_iac.errors import UsageError

MAX_KEY_LENGTH = 64
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class KeyCandidate:
    """A remote agent waiting for a key: its id, its name, and the key chosen for it."""

    agent_id: str
    name: str
    key: str


def derive_key(name: str, agent_id: str) -> str:
    """The key for an agent named ``name``; the id when the name has no letters or digits."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")
    slug = slug[:MAX_KEY_LENGTH].rstrip("-")
    return slug or agent_id.lower()


def check_collisions(candidates: Iterable[KeyCandidate]) -> None:
    """Refuse when two agents would be written under one key; the message lists them all."""
    by_key: dict[str, list[KeyCandidate]] = defaultdict(list)
    for candidate in candidates:
        by_key[candidate.key].append(candidate)
    clashes = {key: found for key, found in sorted(by_key.items()) if len(found) > 1}
    if not clashes:
        return
    parts = [f"{key!r} from " + ", ".join(f"{c.name!r} ({c.agent_id})" for c in found)
             for key, found in clashes.items()]
    raise UsageError("these agents' names give the same agent key, so they cannot be imported "
                     "together: " + "; ".join(parts) + ". Give them distinct names in the "
                     "dashboard (adoption matches agents by name), then import again")
