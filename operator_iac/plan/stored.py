"""Stored forms: how a platform stores what operator-iac writes, learnt from reading it back.

The contract does not say that a platform keeps a value byte for byte. One may store a model
alias as its dated snapshot, sort a list, normalise Unicode, trim text, fill a default or drop
an empty value. Guessing every such rule in advance cannot work (the next platform makes
another choice), so the tool learns them instead: after each write it reads the revision back,
and every declared value that came back in another form is a *stored form* of what was sent.
The pair is recorded in the revision's marker (``stored=``) as two short digests, the value
sent and the value stored, never the values themselves (a secret stays a digest of a digest).

From then on every comparison goes through the record: where the declaration holds the sent
value and the revision the stored one, the two are equal (``equate``). A platform's
normalisation is therefore never a diff, a conflict, a foreign draft or a reason not to
release, and the plan says once, plainly, what the platform does ("stores
config.runtime.model `openai/gpt-4o` as `openai/gpt-4o-2024-08-06`").

Ownership never rests on this: who wrote a revision is told by its marker and revision
identity (``plan.identity``, ``apply.steps``); stored forms only say which *values* are equal.

Values are compared at their leaves: a scalar, a list of scalars as a whole (a platform that
sorts a list changes its order, not its items), and the fields of list items matched by
position (canonical order). Both sides of every comparison are walked the same way, so a pair
learnt at one place is found again at the same place.

The record grows with the forms a platform uses (a procedural agent's output schema can take
a dozen pairs), while a platform may keep descriptions short. So the record also carries a
*seal* (``all.<digest>``): one digest of every pair the revision holds, as read back after the
write. A marker fitted to a short limit keeps the seal alone (``plan.marker.smaller_markers``),
whose size does not grow with the forms: a revision whose differences from the declaration
are exactly the sealed set is equal to it, whole. The seal is weaker than the pairs in one
way only: once the declaration changes, or the revision is edited, its differences are no
longer that set, and the forms of that revision show among the changes until the next write
records them again (the pairs of the project's other markers still apply leaf by leaf). It
never makes a change read as equal: any difference it does not seal leaves it unmatched.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from operator_iac.plan.hashing import digest

# Hex digits of each digest in a pair: 32 bits each, so a false equality needs two collisions
# at the same place (about one in 2**64), while a marker stays short.
DIGEST_LENGTH = 8
# A marker fitted beside a description on a platform that keeps descriptions short records
# half of each digest (``StoredForms.shortened``): a false equality then needs two 16-bit
# collisions at the same place (about one in 2**32).
SHORT_DIGEST_LENGTH = 4
_PAIR_RE = re.compile(rf"^([0-9a-f]{{{DIGEST_LENGTH}}}\.[0-9a-f]{{{DIGEST_LENGTH}}}|"
                      rf"[0-9a-f]{{{SHORT_DIGEST_LENGTH}}}\.[0-9a-f]{{{SHORT_DIGEST_LENGTH}}})$")
# Hex digits of the seal: a false equality needs the digest of a different set of pairs to
# collide with it (about one in 2**48).
SEAL_LENGTH = 12
SEAL_PREFIX = "all."
_SEAL_RE = re.compile(rf"^{re.escape(SEAL_PREFIX)}([0-9a-f]{{{SEAL_LENGTH}}})$")

Path = tuple[str, ...]


@dataclass(frozen=True)
class Difference:
    """One leaf where what was declared (``sent``) and what the platform holds (``stored``)
    differ; ``path`` is dotted from the content's top (``config.runtime.model``)."""

    path: Path
    sent: Any
    stored: Any

    @property
    def lost(self) -> bool:
        """A declared value with something in it that the platform does not hold at all:
        not a form of the value but a field it did not keep. A value made only of zero
        values (false, 0, empty text, lists and objects, null, at any depth) has nothing in
        it: a platform that leaves zero values out of what it shows stores it as absent, a
        form like any other."""
        return _empty(self.stored) and _holds_something(self.sent)

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class StoredForms:
    """Pairs of (digest of a value sent, digest of the form the platform stored it in), and
    the seal of one revision's whole set of them."""

    pairs: frozenset[tuple[str, str]] = frozenset()
    """Each form recorded: compared leaf by leaf, at any place and in any revision."""
    seal: str | None = None
    """``seal_of`` the differences of the revision whose marker records it, as read back
    after the write (``SEAL_LENGTH`` hex digits); None when not recorded."""

    def __bool__(self) -> bool:
        return bool(self.pairs) or self.seal is not None

    def __or__(self, other: StoredForms) -> StoredForms:
        """Both records' pairs; ``other``'s seal where it has one (a seal speaks of one
        revision: the one compared is the right-hand side's)."""
        return StoredForms(self.pairs | other.pairs, other.seal or self.seal)

    def matches(self, sent: Any, stored: Any) -> bool:
        pair = (value_digest(sent), value_digest(stored))
        return pair in self.pairs or \
            (pair[0][:SHORT_DIGEST_LENGTH], pair[1][:SHORT_DIGEST_LENGTH]) in self.pairs

    def seals(self, found: list[Difference]) -> bool:
        """Whether ``found`` (every difference between a declaration and a revision) is the
        set the seal was made of: each is then a form the platform stored, none a change."""
        return self.seal is not None and bool(found) and seal_of(found) == self.seal

    def shortened(self) -> StoredForms:
        """The same pairs with half of each digest, for a marker short of room."""
        return StoredForms(frozenset((a[:SHORT_DIGEST_LENGTH], b[:SHORT_DIGEST_LENGTH])
                                     for a, b in self.pairs), self.seal)

    def sealed_only(self) -> StoredForms:
        """The seal without the pairs: the smallest record that keeps the revision it was
        made for equal to its declaration."""
        return StoredForms(frozenset(), self.seal)

    def without_seal(self) -> StoredForms:
        """The pairs alone: what holds beyond the revision the seal was made for."""
        return StoredForms(self.pairs)

    def encode(self) -> str | None:
        """The marker's ``stored`` value (None when there is nothing to record): the pairs,
        then the seal."""
        items = [f"{a}.{b}" for a, b in sorted(self.pairs)]
        if self.seal is not None:
            items.append(f"{SEAL_PREFIX}{self.seal}")
        return ",".join(items) or None

    @classmethod
    def decode(cls, text: str | None) -> StoredForms:
        """The pairs and seal in a marker's ``stored`` value; anything unreadable is left
        out."""
        items = (text or "").split(",")
        pairs = (item.split(".", 1) for item in items if _PAIR_RE.match(item))
        seals = [m.group(1) for m in map(_SEAL_RE.match, items) if m]
        return cls(frozenset((a, b) for a, b in pairs), seals[-1] if seals else None)

    @classmethod
    def learnt(cls, differences: Iterable[Difference]) -> StoredForms:
        """The pairs a read-back teaches (values the platform did not keep are no form)."""
        return cls(frozenset((value_digest(d.sent), value_digest(d.stored))
                             for d in differences if not d.lost))

    @classmethod
    def sealing(cls, differences: list[Difference]) -> StoredForms:
        """The pairs ``differences`` teach (every difference between a declaration and the
        read-back of its write), with their seal; empty where there is none, or where one
        is a value the platform did not keep (no form, so nothing to seal)."""
        if not differences or any(d.lost for d in differences):
            return cls.learnt(differences)
        return cls(cls.learnt(differences).pairs, seal_of(differences))


EMPTY = StoredForms()


def value_digest(value: Any) -> str:
    return digest(value, length=DIGEST_LENGTH)


def seal_of(found: list[Difference]) -> str | None:
    """One digest of the set of (sent, stored) pairs ``found`` holds, and of where each is
    (``SEAL_LENGTH`` hex digits); None where one of them is a value not kept at all."""
    if any(d.lost for d in found):
        return None
    pairs = sorted({(d.dotted, value_digest(d.sent), value_digest(d.stored)) for d in found})
    return digest([list(p) for p in pairs], length=SEAL_LENGTH)


def differences(sent: Any, stored: Any) -> list[Difference]:
    """Every leaf where ``stored`` is not ``sent`` (both normalised contents)."""
    return list(_walk(sent, stored, ()))


def equate(desired: Any, remote: Any, forms: StoredForms) -> tuple[Any, list[Difference]]:
    """``remote`` with each leaf that is a recorded stored form of the declared leaf at the
    same place replaced by the declared one, and the leaves so replaced: every difference
    where the record's seal is of exactly these (``StoredForms.seals``)."""
    if not forms:
        return remote, []
    found = list(_walk(desired, remote, ()))
    replaced = found if forms.seals(found) else \
        [d for d in found if forms.matches(d.sent, d.stored)]
    result = remote
    for difference in replaced:
        result = _replace(result, difference.path, difference.sent)
    return result, replaced


# ---- internals ----------------------------------------------------------------------------


def _walk(sent: Any, stored: Any, path: Path) -> Iterator[Difference]:
    if sent == stored:
        return
    if isinstance(sent, dict) and isinstance(stored, dict):
        for key in sorted(set(sent) | set(stored), key=str):
            yield from _walk(sent.get(key), stored.get(key), (*path, str(key)))
    elif _items_by_position(sent, stored):
        for index, (a, b) in enumerate(zip(sent, stored, strict=True)):
            yield from _walk(a, b, (*path, str(index)))
    else:
        yield Difference(path, sent, stored)


def _items_by_position(sent: Any, stored: Any) -> bool:
    """Lists of objects of one length are compared item by item; any other list whole."""
    return isinstance(sent, list) and isinstance(stored, list) and len(sent) == len(stored) \
        and all(isinstance(item, dict) for item in (*sent, *stored))


def _replace(node: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        copied = dict(node)
        copied[head] = _replace(node.get(head), rest, value)
        return copied
    if isinstance(node, list) and head.isdigit() and int(head) < len(node):
        copied_list = list(node)
        copied_list[int(head)] = _replace(node[int(head)], rest, value)
        return copied_list
    return node


def _empty(value: Any) -> bool:
    return value is None or value in ("", [], {})


def _holds_something(value: Any) -> bool:
    """Whether ``value`` holds anything but zero values: a leaf that is not null, false, 0
    or empty text, or a list with items (an object is what its fields hold)."""
    if isinstance(value, dict):
        return any(_holds_something(v) for v in value.values())
    if isinstance(value, list):
        return bool(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return not _empty(value)


def excerpts(sent: Any, stored: Any, width: int) -> tuple[str, str]:
    """The two sides of a stored form as JSON text for a note, each about ``width``
    characters at most. Where either is longer, both are cut to the same stretch around
    their first difference: a long prompt stored with one character encoded differently
    would otherwise show as two identical beginnings. Values reach here masked (secrets are
    sealed digests, ``plan.normalise.mask_sealed``)."""
    before, after = (json.dumps(v, ensure_ascii=False, sort_keys=True) for v in (sent, stored))
    if len(before) <= width and len(after) <= width:
        return before, after
    first = next((i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
                 min(len(before), len(after)))
    start = max(0, first - width // 3)

    def cut(text: str) -> str:
        end = start + width
        return ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")

    return cut(before), cut(after)
