"""Announcing a release: the smoke records apply writes before it releases a revision of a
conversational agent with smoke tests, and what it names in the draft's marker
(``operator_iac.smoke.evidence`` says why and how they are read).

The records are pinned to the draft itself where the platform converses with drafts. Where it
converses only with released revisions, they are pinned to the agent's released revision, or
to another released agent of the project; where there is none (the first release of a
project there), they are written right after the release instead, pinned to the revision
itself, and found by the window that follows its creation (``evidence.WINDOW_S``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from operator_iac.errors import ApiConflictError, OperatorIacError, SmokeRecordError
from operator_iac.plan.marker import parse_own_marker, with_marker
from operator_iac.smoke.record import (
    PROOF_STAGE,
    RELEASE_STAGE,
    SmokeRecord,
    now,
    record_of,
    remove_record,
    write_record,
)

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient

PENDING_SUMMARY = "released; its smoke tests have not passed on the released revision yet"
UNTESTED_SUMMARY = "released without its smoke tests (--no-smoke)"
# Beyond the smoke tests' own time limits, how long a run may take to record a failure.
VERDICT_SLACK_S = 300.0
# Smoke stages a release run may test (draft, then released): the failure window's reach.
STAGES = 2


@dataclass(frozen=True)
class Pin:
    """A revision a record conversation may be pinned to, and its config (whose prompt
    variables without a default the record must supply)."""

    version_id: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class Announcement:
    """The two records written for a release."""

    release: SmokeRecord
    proof: SmokeRecord

    @property
    def ids(self) -> tuple[str, str]:
        """(release record, proof record): what the revision's marker names."""
        return self.release.conversation_id or "", self.proof.conversation_id or ""


def announce(client: OperatorClient, release: SmokeRecord, pins: Sequence[Pin], *,
             ledger: ProofLedger | None = None) -> Announcement:
    """Write the proof and release records of ``release`` (a record with stage ``release``),
    pinned to the first of ``pins`` the platform accepts: platforms may refuse conversations
    with an unreleased revision (``ledger`` remembers that for the rest of the run). Raises
    ``SmokeRecordError`` when no pin is accepted."""
    proof = replace(release, stage=PROOF_STAGE, within_s=None)
    problems = []
    for pin in pins:
        is_draft = pin.version_id == release.version_id
        if is_draft and ledger is not None and ledger.drafts_refused():
            continue
        try:
            written = write_record(client, pin.version_id, pin.config, proof)
        except OperatorIacError as exc:
            if is_draft and ledger is not None and isinstance(exc, ApiConflictError):
                ledger.refused_a_draft()
            problems.append(f"{pin.version_id}: {exc}")
            continue
        try:
            kept = write_record(client, pin.version_id, pin.config, release)
        except OperatorIacError:
            with contextlib.suppress(OperatorIacError):  # a stray record harms nothing
                remove_record(client, written.conversation_id or "")
            raise
        return Announcement(kept, written)
    raise SmokeRecordError("no revision to keep the records on was accepted"
                           + (f" ({'; '.join(problems)})" if problems else ""))


def marked_with(description: str, project: str, key: str,
                ids: tuple[str, str] | None) -> str | None:
    """``description`` with its marker naming the records ``ids``, or (``ids`` None) saying
    that they follow the release (``smoke=after``: their ids do not fit beside the user's
    text); None without a marker of this project and key."""
    marker = parse_own_marker(description, project, key)
    return None if marker is None else \
        with_marker(description, replace(marker, smoke=ids, records_follow=ids is None))


def _limits(test: Any) -> tuple[float, int]:
    """A smoke test's (``SmokeTest``) own limits: how long one conversation may take
    (``timeout_s``, the spec's default where unset) and how many it has (``repeat``)."""
    return float(getattr(test, "timeout_s", 120.0)), int(getattr(test, "repeat", 1))


def budget_s(tests: Sequence[Any], stages: int = STAGES) -> float:
    """How long ``stages`` smoke stages of ``tests`` may take at most, by their own limits."""
    each = sum(timeout * repeat for timeout, repeat in map(_limits, tests))
    return each * stages + VERDICT_SLACK_S


def stage_limit_s(tests: Sequence[Any], gate: Any, parallelism: int) -> float:
    """How long one smoke stage of ``tests`` may take by their own limits, run as many at
    once as ``parallelism``: waves as long as the longest ``timeout_s``, each test run
    ``repeat`` times or, compared with the released revision under a release gate
    (``gate``, ``spec.gate.GateSettings``), as many conversations as that gate may use."""
    from operator_iac.spec.gate import DEFAULT_MAX_CONVERSATIONS, compared_tests

    compared = set(compared_tests(gate, tests))
    most = getattr(gate, "max_conversations", DEFAULT_MAX_CONVERSATIONS)
    attempts = sum(most if test.name in compared else _limits(test)[1] for test in tests)
    longest = max((_limits(test)[0] for test in tests), default=0.0)
    return longest * -(-attempts // max(1, parallelism))


class ProofLedger:
    """What one run learns about keeping records on this platform, shared by its threads:
    whether it refuses conversations with unreleased revisions (then records are pinned
    elsewhere from the start instead of trying the draft first each time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._drafts_refused = False

    def drafts_refused(self) -> bool:
        with self._lock:
            return self._drafts_refused

    def refused_a_draft(self) -> None:
        with self._lock:
            self._drafts_refused = True


class ReleaseRecorder:
    """Apply's side of the evidence. ``release`` describes a release about to be made;
    ``announce`` writes its records before it, ``announce_released`` right after it where
    that was not possible. Records that cannot be written at all are a warning (``warn``),
    not a failure of the apply: that release then has none."""

    def __init__(self, client: OperatorClient, project: str, *,
                 warn: Callable[[str], None]) -> None:
        self.client, self.project, self._warn = client, project, warn
        self.ledger = ProofLedger()

    def release(self, key: str, version_id: str, description: str, *, previous: str | None,
                tested: bool, tests: Sequence[Any]) -> SmokeRecord:
        """The release record of releasing ``version_id`` (whose ``description`` carries
        its marker); ``tested``: the run smoke-tests what it releases (``tests``)."""
        marker = parse_own_marker(description, self.project, key)
        return SmokeRecord(self.project, key, version_id, False,
                           PENDING_SUMMARY if tested else UNTESTED_SUMMARY, now(),
                           marker.content_hash if marker else None,
                           marker.commit if marker else None, RELEASE_STAGE, previous,
                           tested=tested, within_s=budget_s(tests))

    def holds(self, release: SmokeRecord, description: str) -> bool:
        """Whether ``description`` already names records of this very release, still
        pending (a run that announced it stopped before releasing): they serve again."""
        marker = parse_own_marker(description, self.project, release.key)
        if marker is None or marker.smoke is None:
            return False
        try:
            kept = record_of(self.client.conversations.get(marker.smoke[0]))
            self.client.conversations.get(marker.smoke[1])
        except OperatorIacError:
            return False
        return kept is not None and (kept.version_id, kept.previous, kept.tested) == \
            (release.version_id, release.previous, release.tested)

    def announce(self, release: SmokeRecord, pins: Sequence[Pin]) -> tuple[str, str] | None:
        """Write the records of ``release`` before it is made; their ids (release, proof)
        for the draft's marker, or None when no pin was accepted (``announce_released``
        then writes them after the release)."""
        try:
            return announce(self.client, release, pins, ledger=self.ledger).ids
        except OperatorIacError:
            return None

    def announce_released(self, release: SmokeRecord,
                          config: Mapping[str, Any]) -> tuple[str, str] | None:
        """Write the records of ``release`` right after it was made, pinned to the revision
        itself (``config`` is its config); their ids (release, proof), or None when they
        could not be written (a warning)."""
        try:
            return announce(self.client, replace(release, at=now()),
                            [Pin(release.version_id, config)]).ids
        except OperatorIacError as exc:
            self._warn(f"{release.key}: the release of {release.version_id} could not be "
                       f"recorded on the platform ({exc}): if this run stops before its smoke "
                       "tests pass, plan will not show it, and promote refuses it until the "
                       "agent's next release")
            return None
