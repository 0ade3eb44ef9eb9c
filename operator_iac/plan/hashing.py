"""Content hashes: short, stable fingerprints of normalised content.

- ``content_hash``: the hash written into the ownership marker. Its input is the normalised
  *desired* content in key space: name, description without the marker, config with agent
  references as ``agent:<key>``, and postprocess keys. Secrets enter it only as a SHA-256
  digest of their value (``normalise.seal``), so a rotated secret changes the hash while
  nothing reversible about the value is stored anywhere.
- ``revision_fingerprint``: a hash of a remote revision exactly as the platform returned it
  (every field, nothing projected away). A saved plan records it for each revision it was
  computed against; ``apply`` recomputes it to notice that anything at all moved.
- ``declarations_hash``: one hash over every selected agent's content hash and the set of
  declared keys, so a saved plan can be refused when the declarations changed.

Canonical JSON (sorted keys, no whitespace, UTF-8) makes the hashes independent of key order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from operator_iac.plan.marker import strip_marker
from operator_iac.state.snapshot import RemoteRevision

HASH_LENGTH = 16  # hex digits kept: 64 bits, plenty to tell revisions of one agent apart


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def digest(value: Any, length: int = HASH_LENGTH) -> str:
    """The SHA-256 of ``value``'s canonical JSON, as ``length`` hex digits."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()[:length]


def content_hash(normalised_content: Mapping[str, Any]) -> str:
    """The hash of normalised content (``normalise.content``) as written into the marker."""
    return digest(dict(normalised_content))


def hash_matches(marker_hash: str, computed: str) -> bool:
    """Markers may carry a longer or shorter prefix than ``HASH_LENGTH``; compare prefixes."""
    length = min(len(marker_hash), len(computed))
    return length >= 12 and marker_hash[:length] == computed[:length]


def content_fingerprint(revision: RemoteRevision, *, marker: bool = True) -> str:
    """The fingerprint of what a revision holds, whichever revision it is (its id and status
    left out): two writes of one content compare equal. ``marker=False`` leaves the
    description's ownership marker out too (a write that only names records changes it)."""
    description = revision.description if marker else strip_marker(revision.description)
    return revision_fingerprint(replace(revision, version_id="", status="draft",
                                        description=description))


def same_content(one: RemoteRevision, other: RemoteRevision) -> bool:
    """Whether two revisions hold the same content, markers aside (``content_fingerprint``)."""
    return content_fingerprint(one, marker=False) == content_fingerprint(other, marker=False)


def revision_fingerprint(revision: RemoteRevision) -> str:
    return digest({
        "version_id": revision.version_id,
        "status": revision.status,
        "name": revision.name,
        "description": revision.description,
        "config": revision.config,
        "postprocess_agents": list(revision.postprocess_agents),
    })


def declarations_hash(content_hashes: Mapping[str, str], declared_keys: Iterable[str]) -> str:
    """One hash over the selected agents' content hashes and every declared key.

    The declared keys are part of it because they decide what ``--prune`` deletes.
    """
    return digest({"selected": dict(sorted(content_hashes.items())),
                   "declared": sorted(set(declared_keys))})
