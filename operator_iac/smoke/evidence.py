"""Release evidence: whether a released revision was proven by its smoke tests, read from the
platform alone, with work that follows the project and never the account's traffic.

Why not search for it. The platform lists conversations only by time (``created_at`` and
``completed_at`` bounds, a cursor; no agent filter, no documented order or page size), so a
record found by listing costs every conversation the account took in the time searched: a
week of production traffic is thousands of conversations, read page after page by every plan.
And the platform keeps nothing the tool may change later except drafts: a released revision
is immutable, a conversation's context may be updated only while it is in progress (on some
platforms), and a record written after the release cannot be pointed at from anything a
reader already holds. So the evidence is laid down before the release, where a reader finds
it by id, and what happens after the release is told by deleting, the one change an old
conversation always allows.

The design. Each release of a conversational agent with smoke tests by ``apply`` (and so by
``promote``) is preceded by two smoke records (``smoke.record``, written by
``smoke.announce``), and the draft's marker is written once more to name them
(``smoke=<release>,<proof>``, ``plan.marker``). The released revision carries its marker, so
every reader of it (plan, status, promote, smoke: they read its description anyway) knows
where they are:

- the *release record*: "project/key releases this revision (previous revision, content hash,
  commit, whether this run tests it, and within how long it records a failure)". It stays.
- the *proof record*: "that release is not proven yet". It is deleted as soon as the smoke
  tests pass on the released revision (on the draft, for agents tested on their draft only),
  by the run that released it, or later by ``apply`` (``verify``) or ``smoke``.

A revision is then *pending* while its proof record exists (a run killed after the release,
tests that failed without a rollback, a ``--no-smoke`` release not tested since); *proven*
once the proof record is gone and the release record is there; *without evidence* when both
are gone (deleted, or expired: the safe side). Plan and status read one conversation per
released revision (its proof record: ``unproven_releases``); promote reads both. When a
release's tests fail, its run also keeps a failure verdict with the reason; promote reads the
few minutes the release record names for it, only to say why it refuses.

Where the records cannot be named in the marker (a platform that converses only with released
revisions, and no released agent of the project yet to pin them to; one that keeps
descriptions too short to name them beside the user's, ``plan.marker.fitted``), they are
written right
after the release, pinned to the revision, and a reader finds them by listing the
``WINDOW_S`` seconds that follow the revision's creation (on such a platform nothing is
tested between the draft's creation and its release): the conversations of two minutes.
Where the marker gave up their ids for a platform's limit, it says instead that they follow
(``smoke=after``): a reader that does not find them in a listing that may trail their writes
(a run released the revision and died a moment ago) reads it again, bounded, rather than take
the release for one made without records.

What it does not cover, and why that is the safe side: a revision released without records
(by the dashboard, by a version of operator-iac before this design, or where they could not
be written; apply warns) has no evidence: plan shows no ``verify`` for it, promote refuses
it, and a later ``smoke`` run cannot keep a verdict for it where promote would find it (it
says so, exit 7); the agent's next release has records again. A later ``smoke`` run that
fails does not revoke a proven release (its failure is its own report's exit 4): deleting
cannot be undone, so a revocation could never be lifted by a later pass.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any

from operator_iac import defaults
from operator_iac.api.polling import bounded_pauses, pauses_until
from operator_iac.defaults import PARALLELISM
from operator_iac.errors import NotFoundError, OperatorIacError, SmokeRecordError
from operator_iac.plan.marker import Owner, parse_marker, parse_own_marker
from operator_iac.smoke.announce import PENDING_SUMMARY, UNTESTED_SUMMARY
from operator_iac.smoke.record import (
    PROOF_STAGE,
    RELEASE_STAGE,
    SmokeRecord,
    now,
    record_of,
    remove_record,
    shifted,
    shorten,
    write_record,
)
from operator_iac.state.times import parse_time

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Conversation
    from operator_iac.smoke.results import TestResult
    from operator_iac.state.snapshot import RemoteAgent

logger = logging.getLogger(__name__)

PASSED_SUMMARY = "smoke tests passed on the released revision"
# Conversation timestamps may be whole seconds: a window is widened by this much.
ROUNDING_S = 2.0
# Records written after the release (see the module docstring) are created within this long
# of the revision itself.
WINDOW_S = 120.0
NO_RECORDS = ("was released without smoke records (by the dashboard, an older operator-iac, "
              "or a run that could not write them), so no verdict about it can be kept where "
              "promote finds it; the next release of the agent has them again")


def records_of(description: str | None, project: str, key: str) -> tuple[str, str] | None:
    """The records a revision's marker names (release, proof), or None."""
    marker = parse_own_marker(description, project, key)
    return marker.smoke if marker is not None else None


# ---- locating the records of one release -----------------------------------------------------


@dataclass(frozen=True)
class Revision:
    """What a reader knows about a released revision: its id, its description (with the
    marker) and, from the versions list, when it was created."""

    version_id: str
    description: str
    created_at: str | None = None


@dataclass(frozen=True)
class Located:
    """The conversations holding a release's records, as found (None: not there)."""

    release: Conversation | None
    proof: Conversation | None
    named: bool  # found by the ids in the marker (else in the window after the revision)


def locate(client: OperatorClient, project: str, key: str, revision: Revision) -> Located:
    """The release and proof records of ``revision``: by the ids its marker names, else in
    the window after its creation."""
    named = records_of(revision.description, project, key)
    if named is not None:
        release, proof = _get(client, named[0]), _get(client, named[1])
        if _about(release or proof, project, key, revision.version_id):
            return Located(release, proof, True)
    found: dict[str, tuple[Conversation, SmokeRecord]] = {}
    for conversation, record in _listed_after(client, project, key, revision):
        newest = found.get(record.stage or "")
        if newest is None or newest[1].at < record.at:
            found[record.stage or ""] = (conversation, record)
    kept, pending = found.get(RELEASE_STAGE), found.get(PROOF_STAGE)
    return Located(kept[0] if kept else None, pending[0] if pending else None, False)


def records_follow(description: str | None, project: str, key: str) -> bool:
    """Whether the marker says its release's records follow the release (``smoke=after``)."""
    marker = parse_own_marker(description, project, key)
    return marker is not None and marker.records_follow


def _listed_after(client: OperatorClient, project: str, key: str,
                  revision: Revision) -> list[tuple[Conversation, SmokeRecord]]:
    """``_written_after``; where the marker says the records follow the release
    (``smoke=after``) and the window after a revision made moments ago shows none of them,
    read again, with growing pauses, until it does or a lagging list would have shown them
    (``VISIBILITY_TIMEOUT_S`` after the window, and no longer than that from now). A run
    that released the revision and died a moment ago wrote them; on another machine no
    journal says so, and a list that trails its writes proves no absence: read once, the
    release would pass for one made without records."""
    found = _written_after(client, project, key, revision)
    made = parse_time(revision.created_at)
    if found or made is None or not records_follow(revision.description, project, key):
        return found
    # How long a lagging list could still hide them, on the platform's clock (the one that
    # stamped the revision) where an answer told it, else this machine's.
    platform_now = client.platform_clock.now()
    now = platform_now.timestamp() if platform_now is not None else time.time()
    left = made.timestamp() + WINDOW_S + defaults.VISIBILITY_TIMEOUT_S - now
    for pause in pauses_until(time.time() + min(left, defaults.VISIBILITY_TIMEOUT_S)):
        logger.info("%s, made %s, says its smoke records follow its release, and the listing "
                    "of the minutes after it shows none yet: the platform's lists may trail "
                    "the writes of a run that released it; listing again in %.2f s",
                    revision.version_id, revision.created_at, pause)
        client.pause(pause)
        found = _written_after(client, project, key, revision)
        if found:
            break
    return found


def _written_after(client: OperatorClient, project: str, key: str,
                   revision: Revision) -> list[tuple[Conversation, SmokeRecord]]:
    """The release and proof records of ``revision`` in the window after its creation: more
    than one of each when concurrent applies released it (each writes its own)."""
    since = revision.created_at
    if since is None and "@" in revision.version_id:
        # The marker named records of another revision (a write that made another draft
        # than the one it named them for): the reader held no creation time, as none seemed
        # needed, and this release's records follow the revision's creation.
        since = client.conversational_agents.created_at(revision.version_id)
    return [(conversation, record) for conversation, record in _window(client, since, WINDOW_S)
            if record.stage in (RELEASE_STAGE, PROOF_STAGE)
            and record.describes(project, key, revision.version_id)]


def _about(conversation: Conversation | None, project: str, key: str, version_id: str) -> bool:
    """Whether named records are this revision's: they say so, or say nothing (gone, or not
    readable). Records of another revision (a write that made another draft than the one it
    named them for) send the reader to the window after the revision's creation."""
    record = record_of(conversation) if conversation is not None else None
    return record is None or record.describes(project, key, version_id)


def _get(client: OperatorClient, conversation_id: str) -> Conversation | None:
    try:
        return client.conversations.get(conversation_id)
    except NotFoundError:
        return None


def _window(client: OperatorClient, since: str | None,
            span_s: float) -> list[tuple[Conversation, SmokeRecord]]:
    """The records among the testmode conversations created within ``span_s`` seconds of
    ``since``. A record is read for what it holds, never for what became of its conversation
    since: nobody joins it, and a platform may end such a conversation a while after its
    creation (nothing documented says how long one stays queued)."""
    start, end = shifted(since, -ROUNDING_S), shifted(since, span_s + ROUNDING_S + 1)
    if start is None or end is None:
        return []
    # Only the testmode conversations of a window of minutes are read in full (a list item
    # may be a summary), bounded by the tool's own.
    whole = (client.conversations.in_full(c) for c in
             client.conversations.list(created_at_gte=start, created_at_lt=end) if c.testmode)
    return [(c, r) for c in whole if c is not None and (r := record_of(c)) is not None]


def unlisted_records(client: OperatorClient, version_id: str, records: tuple[str, str],
                     since: str | None) -> str | None:
    """What the listing of the window after ``version_id``'s creation (``since``, read once
    by the caller: ``AgentsResource.created_at``) does not show yet of the ``records``
    (release, proof) a run wrote right after releasing it: the release record must be
    listed, and the proof record listed exactly while it exists (None: the listing shows
    them as they are, as the next reader will find them)."""
    release, proof = records
    listed = {c.id for c, _ in _window(client, since, WINDOW_S)}
    if release not in listed:
        return f"the release record {release} of {version_id} not listed yet"
    if (proof in listed) != (_get(client, proof) is not None):
        return f"the proof record {proof} of {version_id} still listed after its deletion" \
            if proof in listed else f"the proof record {proof} of {version_id} not listed yet"
    return None


def lists_a_release_record(client: OperatorClient, version_id: str, since: str | None) -> bool:
    """Whether the listing of the window after ``version_id``'s creation (``since``) shows a
    release record of it: where a run that wrote one died before seeing its answer, the
    next run waits for this."""
    return any(record.stage == RELEASE_STAGE and record.version_id == version_id
               for _, record in _window(client, since, WINDOW_S))


def _revision(client: OperatorClient, project: str, key: str, version_id: str,
              description: str | None = None) -> Revision:
    """``version_id`` as a reader knows it: its description (read unless the caller holds
    it) and, only when its marker names no records (the one case it is needed), when it was
    created."""
    agents = client.conversational_agents
    read = agents.get(version_id) if description is None else None
    known = read.description if read is not None else description or ""
    if "@" not in version_id or records_of(known, project, key) is not None:
        return Revision(version_id, known)
    return Revision(version_id, known, agents.created_at(version_id, read))


# ---- what plan, promote and smoke ask --------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What the platform holds about the release of one revision."""

    version_id: str
    """The revision."""
    release: SmokeRecord | None = None
    """The release record as read (None: gone, or not readable)."""
    release_exists: bool = False
    """Whether the release record exists."""
    proof: SmokeRecord | None = None
    """The proof record as read, while it exists and can be read."""
    proof_exists: bool = False
    """Whether the proof record exists (the release is pending)."""
    failure: SmokeRecord | None = None
    """The failure verdict of the run that released it, when it kept one."""

    def record(self, project: str, key: str) -> SmokeRecord | None:
        """The record promote judges: None without evidence, a passed record once proven,
        else the failure, or a record saying the release is pending."""
        if not (self.release_exists or self.proof_exists):
            return None
        if self.failure is not None and self.proof_exists:
            return self.failure
        base = self.release or self.proof or SmokeRecord(project, key, self.version_id,
                                                         False, "", "", stage=PROOF_STAGE)
        if self.proof_exists:
            summary = PENDING_SUMMARY if base.tested else UNTESTED_SUMMARY
            return replace(base, passed=False, summary=summary)
        if not self.release_exists:
            return None
        return replace(base, passed=True, summary=PASSED_SUMMARY, stage="released")


def release_evidence(client: OperatorClient, *, project: str, key: str, version_id: str,
                     description: str | None = None) -> Evidence:
    """What the platform holds about the release of ``version_id``: two reads by id, and
    the failure window's listing when the release is pending and its run said how long it
    would take to keep a failure."""
    located = locate(client, project, key,
                     _revision(client, project, key, version_id, description))
    release = record_of(located.release) if located.release else None
    proof = record_of(located.proof) if located.proof else None
    found = Evidence(version_id, release, located.release is not None, proof,
                     located.proof is not None)
    if located.proof is not None and located.release is not None and release is not None \
            and release.within_s is not None:
        failures = [r for _, r in _window(client, located.release.created_at,
                                          release.within_s)
                    if not r.passed and r.stage in ("draft", "released")
                    and r.describes(project, key, version_id)]
        found = replace(found, failure=max(failures, key=lambda r: r.at, default=None))
    return found


class ProofReadAhead:
    """Proof records read while the snapshot is still being read: an agent's read is followed
    at once, in the same task of the pool, by the read of the proof record its released
    revision's marker names (``after``), so that ``unproven_releases`` finds it read instead
    of waiting for the whole snapshot first. A read and nothing more: which agent is the
    key's, and what its record means, is decided afterwards. Each read is used once.

    ``wanted`` says whether a key's releases are verified, or None while that is not known
    yet (the declarations still loading): the record is then read on speculation, since a
    release whose marker names records was made by a run with smoke tests, which the
    declarations nearly always still have. Waiting for them instead would hold the pool's
    task, and the reads queued behind it, until the declarations are loaded."""

    def __init__(self, client: OperatorClient, owner: Owner,
                 wanted: Callable[[str], bool | None]) -> None:
        self.client, self.owner, self._wanted = client, owner, wanted
        self._read: dict[str, Conversation | OperatorIacError | None] = {}
        self._lock = threading.Lock()

    def after(self, agent: RemoteAgent) -> None:
        """Read the proof record ``agent``'s released revision names, when it is this
        owner's for a key that ``wanted``; a failure is kept for whoever asks for it."""
        released = agent.released
        marker = parse_marker(released.description) if released is not None else None
        if marker is None or marker.smoke is None or not self.owner.claims(marker) or \
                self._wanted(marker.key) is False:
            return
        proof_id = marker.smoke[1]
        found: Conversation | OperatorIacError | None
        try:
            found = _get(self.client, proof_id)
        except OperatorIacError as exc:
            found = exc
        with self._lock:
            self._read[proof_id] = found

    def get(self, conversation_id: str) -> Conversation | None:
        """The conversation as read ahead (once), else read now."""
        with self._lock:
            if conversation_id not in self._read:
                return _get(self.client, conversation_id)
            found = self._read.pop(conversation_id)
        if isinstance(found, OperatorIacError):
            raise found
        return found


def unproven_releases(client: OperatorClient, project: str, revisions: Mapping[str, Revision],
                      *, parallelism: int = PARALLELISM,
                      read_ahead: ProofReadAhead | None = None) -> dict[str, SmokeRecord]:
    """Key -> the proof record of each released revision (``revisions``) whose release a run
    meant to prove and did not: one read each, all at once (none for a record
    ``read_ahead`` has read already)."""
    from operator_iac.api.pool import WorkPool

    read = read_ahead.get if read_ahead is not None else partial(_get, client)

    def pending(item: tuple[str, Revision]) -> SmokeRecord | None:
        key, revision = item
        named = records_of(revision.description, project, key)
        proof = read(named[1]) if named is not None else None
        if named is None or not _about(proof, project, key, revision.version_id):
            proof = locate(client, project, key, revision).proof
        if proof is None:
            return None
        found = record_of(proof) or SmokeRecord(project, key, revision.version_id, False, "",
                                                "", stage=PROOF_STAGE)
        usable = found.describes(project, key, revision.version_id) and found.tested
        return replace(found, passed=False, summary=PENDING_SUMMARY) if usable else None

    items = sorted(revisions.items())
    with WorkPool(client, parallelism=parallelism) as pool:
        found = pool.map(pending, items)
    return {key: record for (key, _), record in zip(items, found, strict=True)
            if record is not None}


def prove(client: OperatorClient, *, project: str, key: str, version_id: str,
          description: str | None = None) -> None:
    """The smoke tests passed on ``version_id``: delete its proof record (one that is gone
    already was proven before). Raises ``SmokeRecordError`` when the revision has no
    records (it was released without them)."""
    revision = _revision(client, project, key, version_id, description)
    named = records_of(revision.description, project, key)
    # The records a marker names are this release's unless the kept release record says
    # otherwise: a write that made another draft than the one it named them for (a concurrent
    # writer made that one first) had this release's records written after it, and readers
    # find those in the window after the revision's creation (``locate``).
    if named is not None and _about(_get(client, named[0]), project, key, version_id):
        remove_record(client, named[1])
        return
    # Every proof record of this revision goes, not only the newest a reader judges by:
    # concurrent applies that released it each wrote their own, and one left behind would
    # keep the release pending for ever after both runs passed.
    found = _listed_after(client, project, key, revision)
    if not found:
        raise SmokeRecordError(f"{version_id} {NO_RECORDS}")
    removed = set()
    for conversation, record in found:
        if record.stage == PROOF_STAGE:
            remove_record(client, conversation.id)
            removed.add(conversation.id)
    if removed:
        _await_unlisted(client, project, key, revision, removed)


def _await_unlisted(client: OperatorClient, project: str, key: str, revision: Revision,
                    removed: set[str]) -> None:
    """Read your own deletions: the next reader finds these records by the same listing,
    which on some platforms trails the writes; until it stops showing the proof records just
    deleted, the release would read as pending there. Bounded (``VISIBILITY_TIMEOUT_S``),
    each pause logged; past it the proof stands done, as it is."""
    pauses = bounded_pauses(defaults.VISIBILITY_TIMEOUT_S)
    while True:
        shown = {c.id for c, _ in _written_after(client, project, key, revision)} & removed
        if not shown:
            return
        pause = next(pauses, None)
        if pause is None:
            logger.warning("after %.0f s the conversations list still shows the deleted proof "
                           "record(s) %s of %s", defaults.VISIBILITY_TIMEOUT_S,
                           ", ".join(sorted(shown)), revision.version_id)
            return
        logger.info("the conversations list still shows the deleted proof record(s) %s of "
                    "%s: reading it again in %.2f s", ", ".join(sorted(shown)),
                    revision.version_id, pause)
        client.pause(pause)


def record_smoke_result(client: OperatorClient, *, project: str, key: str, version_id: str,
                        content_hash: str | None, passed: bool, summary: str,
                        commit: str | None, stage: str | None = None,
                        previous: str | None = None, description: str | None = None,
                        config: Mapping[str, Any] | None = None) -> SmokeRecord:
    """Keep the verdict of a smoke run of the released revision ``version_id``: a pass proves
    its release (its proof record is deleted); a failure is kept as a failure verdict.
    ``description`` and ``config`` are the revision's, when the caller holds them (else they
    are read). Raises ``SmokeRecordError`` when a pass cannot be kept (the revision has no
    records)."""
    record = SmokeRecord(project, key, version_id, passed, shorten(summary), now(),
                         content_hash, commit, stage or "released", previous)
    if passed:
        prove(client, project=project, key=key, version_id=version_id,
              description=description)
        return record
    if config is None:
        config = client.conversational_agents.get(version_id).config
    return write_record(client, version_id, config, record)


def last_smoke_result(client: OperatorClient, *, project: str, key: str, agent_id: str,
                      description: str | None = None) -> SmokeRecord | None:
    """What the platform says about the smoke tests of revision ``agent_id`` (``ca_x@vN``;
    a bare id means its released revision): a passed record once its release is proven, a
    failed one while it is not, None without evidence. ``description``: the revision's,
    when the caller holds it (else it is read)."""
    version_id = agent_id if "@" in agent_id else _released(client, agent_id)
    if version_id is None:
        return None
    found = release_evidence(client, project=project, key=key, version_id=version_id,
                             description=description)
    return found.record(project, key)


def _released(client: OperatorClient, agent_id: str) -> str | None:
    versions = client.conversational_agents.list_versions(agent_id)
    return next((v.version_id for v in versions if v.status == "released"), None)


class ReleaseProofs:
    """``operator-iac smoke`` run against released revisions, as evidence: each revision
    whose tests all passed proves its release the moment its conversations are done
    (``tested``, told by the suite), so what a run proved stays proven if it stops later. A
    failure is the report's own (exit 4) and revokes nothing. ``descriptions`` are the tested
    revisions' descriptions as the caller read them (their markers name the records).
    Use it only for a run of the released revisions: a record must speak about what is
    released."""

    def __init__(self, client: OperatorClient, project: str, descriptions: Mapping[str, str],
                 *, say: Callable[[str], None], warn: Callable[[str], None]) -> None:
        self.client, self.project, self.descriptions = client, project, descriptions
        self._say, self._warn = say, warn
        self._lock = threading.Lock()
        self._problems: dict[str, str] = {}

    def tested(self, tests: Sequence[TestResult]) -> None:
        """The results of one revision's tests (quarantined tests are reported, never
        evidence against it): prove its release when they all hold."""
        if not tests or not all(t.holds for t in tests):
            return
        key, version_id = tests[0].agent_key, tests[0].version_id
        try:
            prove(self.client, project=self.project, key=key, version_id=version_id,
                  description=self.descriptions.get(version_id))
        except OperatorIacError as exc:
            problem = (f"{key}: the smoke result of {version_id} could not be recorded "
                       f"({exc}); a promotion from this environment refuses it until one is")
            with self._lock:
                self._problems[version_id] = problem
            self._warn(problem)
            return
        self._say(f"{key}: the release of {version_id} is proven")

    def problems(self) -> tuple[str, ...]:
        """Why a pass could not be recorded, one line per revision."""
        with self._lock:
            return tuple(line for _, line in sorted(self._problems.items()))
