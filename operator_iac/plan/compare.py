"""Comparison of one declared agent with remote revisions: the normalised forms both sides
are reduced to, and the questions the builder asks about them.

Two spaces are used (see ``refs``): *id space* for diffs (what the platform holds, with agents
this plan creates shown by key) and *key space* for content hashes (independent of ids, so the
hash in a marker means the same in every environment).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from operator_iac.plan import normalise, refs
from operator_iac.plan.hashing import canonical_json, content_hash, hash_matches
from operator_iac.plan.marker import (
    Marker,
    Owner,
    cut_short_own,
    parse_marker,
    parse_own_marker,
    strip_marker,
)
from operator_iac.plan.owned import strip_owned, strip_owned_config
from operator_iac.plan.stored import EMPTY, Difference, StoredForms, differences, equate
from operator_iac.plan.written import WrittenRecord, holds_written, written_record
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import RemoteRevision, RemoteVersion
from operator_iac.state.times import parse_time, precision

# A revision whose update time is this close to its creation time was not changed after it
# was made, at most: platforms that stamp whole seconds give both the same second, and a
# person's edit in the dashboard comes later than that. Finer stamps judge finer
# (``untouched_since_made``).
UNTOUCHED_S = 1.0
# A write's ``updated_at`` against the time its marker says it was made (``at=``, by the
# platform's clock, never ahead of it): no earlier than this before it (the platform's two
# clocks, and a stamp of whole seconds, may each be a second apart) ...
WRITTEN_EARLIER_S = 2.0
# ... and no later than this after it: the ``Date`` the time was read from is up to a second
# behind, and the write takes a round trip to land. A person's edit under the marker, in the
# moments after the write, is what the run's own read-back would have taken for the write too.
WRITTEN_LATER_S = 5.0

# Why a released revision counts as changed outside operator-iac (drift).
NO_MARKER = "the released revision carries no operator-iac marker"
HASH_MISMATCH = "the released revision no longer matches the content hash in its marker"


@dataclass(frozen=True)
class DesiredView:
    """A declared agent, normalised once."""

    agent: DesiredAgent
    sealed_config: dict[str, Any]  # key space, secrets sealed
    id_config: dict[str, Any]  # the same with references resolved to ids
    key_content: dict[str, Any]
    id_content: dict[str, Any]
    content_hash: str
    # How the platform is known to store values (learnt from this project's markers), on top
    # of what each compared revision's own marker records.
    forms: StoredForms = EMPTY

    @property
    def written(self) -> WrittenRecord:
        """What writing this declaration records in the marker (``plan.written``)."""
        agent = self.agent
        return written_record(agent.kind, agent.name, agent.description, agent.config,
                              agent.postprocess_agents, owned=agent.dashboard_owned)

    @classmethod
    def of(cls, agent: DesiredAgent, ids: Mapping[str, str],
           forms: StoredForms = EMPTY) -> DesiredView:
        """The declaration normalised; fields the dashboard owns are left out of it.
        ``forms``: stored forms learnt from other revisions (``plan.stored``)."""
        owned = agent.dashboard_owned
        sealed = strip_owned_config(
            normalise.prepare(normalise.seal_paths(agent.config, agent.sensitive_paths)), owned)
        id_config, id_postprocess = refs.to_ids(sealed, agent.postprocess_agents, ids)
        key_content = strip_owned(normalise.content(
            agent.kind, agent.name, agent.description, sealed, agent.postprocess_agents), owned)
        id_content = strip_owned(normalise.content(
            agent.kind, agent.name, agent.description, id_config, id_postprocess), owned)
        return cls(agent, sealed, id_config, key_content, id_content, content_hash(key_content),
                   forms)

    def remote_content(self, revision: RemoteRevision | None) -> dict[str, Any] | None:
        """A remote revision in id space, projected onto what this agent declares (the
        fields the dashboard owns left out), with secrets sealed where the declaration marks
        them or where the revision's marker says it held them, and each value the platform
        is known to store in another form (``plan.stored``) taken as the declared one."""
        if revision is None:
            return None
        content, _ = equate(self.id_content, self.stored_content(revision),
                            self.forms | recorded_forms(revision))
        return dict(content)

    def stored_forms_in(self, revision: RemoteRevision | None) -> list[Difference]:
        """The declared values that ``revision`` holds in a recorded stored form."""
        if revision is None:
            return []
        _, replaced = equate(self.id_content, self.stored_content(revision),
                             self.forms | recorded_forms(revision))
        return replaced

    def stored_content(self, revision: RemoteRevision) -> dict[str, Any]:
        """``remote_content`` as the platform holds it, no stored form taken as declared:
        what a read-back is compared with to learn the platform's forms."""
        remote = normalise.seal_recorded(normalise.prepare(revision.config),
                                         recorded_secrets(revision), self.id_config)
        config = normalise.project(remote, self.id_config)
        return strip_owned(normalise.content(self.agent.kind, self._name(revision),
                                             self._description(revision), config,
                                             revision.postprocess_agents),
                           self.agent.dashboard_owned)

    def remote_hashes(self, revision: RemoteRevision,
                      key_by_id: Mapping[str, str]) -> tuple[str, ...]:
        """The content hash ``revision`` would have had, had this tool written it: with the
        secrets its marker records (what it was written with), and with the declaration's
        own (for markers that do not record them)."""
        config, postprocess = refs.to_keys(normalise.prepare(revision.config),
                                           revision.postprocess_agents, key_by_id)
        owned = self.agent.dashboard_owned
        recorded = normalise.seal_recorded(config, recorded_secrets(revision))
        plain = strip_owned_config(normalise.prepare(self.agent.config), owned)
        shapes = ((recorded, plain), (config, self.sealed_config))
        return tuple(content_hash(strip_owned(normalise.content(
            self.agent.kind, self._name(revision), self._description(revision),
            normalise.project(remote, shape), postprocess), owned)) for remote, shape in shapes)

    def _name(self, revision: RemoteRevision) -> str:
        """The remote name, as declared when the platform stored it normalised."""
        declared = self.agent.name
        return declared if normalise.stored_as(declared, revision.name) else revision.name

    def _description(self, revision: RemoteRevision) -> str:
        """The remote description (marker aside), as declared when stored normalised."""
        declared = strip_marker(self.agent.description)
        stored = strip_marker(revision.description)
        return declared if normalise.stored_as(declared, stored) else stored

    def equals(self, revision: RemoteRevision | None) -> bool:
        remote = self.remote_content(revision)
        return remote is not None and canonical_json(remote) == canonical_json(self.id_content)


def own_marker(revision: RemoteRevision | None, owner: Owner | str, key: str) -> Marker | None:
    """The revision's marker if it is ``owner``'s for ``key``."""
    return parse_own_marker(revision.description, owner, key) if revision is not None else None


def marked_for(revision: RemoteRevision | None, owner: Owner | str, key: str,
               wanted: str) -> bool:
    """Whether ``revision`` carries this key's marker for content hash ``wanted``."""
    return revision is not None and _marked_for_text(revision.description, owner, key, wanted)


def self_consistent(revision: RemoteRevision, view: DesiredView, owner: Owner | str,
                    key_by_id: Mapping[str, str]) -> bool:
    """Whether ``revision`` carries this key's marker and still holds the content it names.

    Judged on what was written (the marker's ``written`` record) when the marker has one,
    so that a change of which fields are declared is not taken for an edit; markers of
    older versions are judged on the fields declared now."""
    marker = own_marker(revision, owner, view.agent.key)
    if marker is None:
        return False
    unchanged = holds_own_writing(revision, marker, view.agent.kind, key_by_id)
    if unchanged is not None:
        return unchanged
    return any(hash_matches(marker.content_hash, computed)
               for computed in view.remote_hashes(revision, key_by_id))


def unfinished_own_write(revision: RemoteRevision | None, view: DesiredView,
                         owner: Owner | str, version: RemoteVersion | None = None,
                         released: RemoteRevision | None = None,
                         versions: Sequence[RemoteVersion] = ()) -> bool:
    """Whether ``revision`` is this tool's own write of the content declared now, cut short
    before the run read it back: it carries this key's marker for the declared content hash,
    and what sets it apart from the declaration is the platform's doing, not someone's edit.

    A draft made in the dashboard copies the released revision's description, marker and
    all: when the ``released`` revision carries the same content hash, the draft may be such
    a copy, and nothing here makes it this tool's. Otherwise it is sure in two cases. Every
    value in which it differs is one the platform did not keep at all (``lost``: a field a
    platform drops on create, which the run writes again right after). Or its draft never
    changed after it was made (``version``: its update time within ``UNTOUCHED_S`` of its
    creation), or it was last changed when its marker says the write was made
    (``changed_when_written``: a write into a draft that was there before), and no other
    revision of the agent (``versions``) carries that hash, which a
    person could have copied into a new draft with an edit (a dashboard saves both at once):
    the write of this tool made it, and it holds what the platform made of that write, in
    whatever forms it stores values. An apply killed between a write and the read-back that
    learns those forms (a create's claims are settled in between, so that is the long
    window) leaves such a draft; the next apply, on any machine, finishes the write instead
    of taking the draft for someone else's. Anything else stays a foreign draft (a dashboard
    edit keeps the marker): a value changed later, a draft written into one that was there
    before (its creation time is older), a hash another revision carries, or a platform
    that gives no times."""
    key, wanted = view.agent.key, view.content_hash
    if marked_for(released, owner, key, wanted) or not (
            marked_for(revision, owner, key, wanted) or _cut_for(revision, view, owner)):
        return False
    found = differences(view.id_content, view.remote_content(revision))
    if not found:
        return False
    if all(difference.lost for difference in found):
        return True
    assert revision is not None
    copied = any(v.version_id != revision.version_id and
                 _marked_for_text(v.description, owner, key, wanted) for v in versions)
    marker = parse_marker(revision.description)
    last_change_is_write = untouched_since_made(version) or changed_when_written(
        version, marker.written_at if marker is not None else None)
    return last_change_is_write and not copied


def _cut_for(revision: RemoteRevision | None, view: DesiredView, owner: Owner | str) -> bool:
    """Whether ``revision``'s description is the declared one followed by this key's marker
    for the declared content, cut off at a platform's limit (``cut_own_write``)."""
    return revision is not None and cut_own_write(
        revision.description, owner, view.agent.key, view.content_hash, view.agent.description)


def cut_own_write(description: str, owner: Owner | str, key: str, content_hash: str,
                  text: str) -> bool:
    """Whether ``description`` is the user's ``text`` followed by ``owner``'s marker for
    ``key`` and ``content_hash``, cut off at a platform's limit where its identity is still
    whole (``parse_cut_marker``): a write of that content whose marker was not fitted yet,
    never another writer's content."""
    cut = parse_own_marker(description, owner, key, cut=True)
    return cut is not None and hash_matches(cut.content_hash, content_hash) and \
        cut_short_own(description, text)


def _marked_for_text(description: str, owner: Owner | str, key: str, wanted: str) -> bool:
    """``marked_for``, of a description (a versions list entry's)."""
    marker = parse_own_marker(description, owner, key)
    return marker is not None and hash_matches(marker.content_hash, wanted)


def untouched_since_made(version: RemoteVersion | None) -> bool:
    """Whether the versions list shows the revision never changed after it was made: its
    update time is its creation time, as finely as the platform stamps them (within the
    second where it stamps whole seconds; to the millisecond where it stamps those, so that
    an edit a moment after the write is an edit)."""
    if version is None:
        return False
    made, changed = parse_time(version.created_at), parse_time(version.updated_at)
    if made is None or changed is None:
        return False
    tick = max(precision(version.created_at) or UNTOUCHED_S,
               precision(version.updated_at) or UNTOUCHED_S)
    return abs((changed - made).total_seconds()) <= min(tick, UNTOUCHED_S)


def changed_when_written(version: RemoteVersion | None, written_at: int | None) -> bool:
    """Whether the versions list shows the revision last changed when its marker says it was
    written (``written_at``: seconds by the platform's clock, ``Marker.written_at``), within
    the evidence's resolution (``WRITTEN_EARLIER_S`` before, ``WRITTEN_LATER_S`` after): that
    write was its last change. False when either time is not known."""
    changed = parse_time(version.updated_at) if version is not None else None
    if changed is None or written_at is None:
        return False
    after = changed.timestamp() - written_at
    return -WRITTEN_EARLIER_S <= after <= WRITTEN_LATER_S


def holds_own_writing(revision: RemoteRevision, marker: Marker, kind: str,
                      key_by_id: Mapping[str, str]) -> bool | None:
    """Whether ``revision`` holds what its marker says was written; None when the marker
    records nothing about it (written by an older version)."""
    record = WrittenRecord.decode(marker.written, marker.content_hash)
    return None if record is None else holds_written(revision, kind, record, key_by_id)


def recorded_forms(revision: RemoteRevision) -> StoredForms:
    """The stored forms the revision's marker (of any environment) records."""
    marker = parse_marker(revision.description)
    return StoredForms.decode(marker.stored) if marker is not None else EMPTY


def recorded_secret_names(revision: RemoteRevision | None
                          ) -> dict[str, frozenset[str]] | None:
    """Config path -> variable names, as the revision's marker records them (None when the
    marker does not record names: written by an older version, or no marker)."""
    marker = parse_marker(revision.description) if revision is not None else None
    if marker is None or marker.secret_names is None:
        return None
    names: dict[str, set[str]] = {}
    for path, name in marker.secret_names:
        names.setdefault(path, set()).add(name)
    return {path: frozenset(found) for path, found in names.items()}


def recorded_secrets(revision: RemoteRevision) -> tuple[str, ...]:
    """The config paths the revision's marker (of any project) records as secret."""
    marker = parse_marker(revision.description)
    return marker.secrets or () if marker is not None else ()
