"""Release evidence: whether a released revision was proven by its smoke tests, read from the
platform alone, with work that follows the project and never the account's traffic.

Why not search for it. The platform lists conversations only by time (``created_at`` and
``completed_at`` bounds, a cursor; no agent filter, no documented order or page size), so a
record found by listing costs every conversation the account took in the time searched: a
week of production traffic is thousands of conversations, read page after page by every plan.
And the platform keeps nothing the tool may change later except drafts: a released revision
is immutable, a conversation's context may be updated only while it is in progress (on some
platforms), and a record written later than the release cannot be pointed at from anything
a reader already holds. So the evidence is laid down before the release, where a reader finds
it by id, and what happens after the release is told by deleting, the one change an old
conversation always allows.

The design. Each release of a conversational agent with smoke tests, by ``apply`` (and so by
``promote``), is preceded by two smoke records (``smoke.record``), written before the draft is
released, and the draft's marker is written once more to name them (``smoke=<release>,<proof>``
in ``plan.marker``); the release then carries its marker, and every reader of the revision
(plan, status, promote, smoke: they read its description anyway) knows where they are:

- the *release record*: "project/key releases this revision (previous revision, content hash,
  commit, whether this run tests it, and by when it records a failure)". It stays.
- the *proof record*: "that release is not proven yet". It is deleted as soon as the smoke
  tests pass on the released revision (on the draft, for agents tested on their draft only),
  by the run that released it, or later by ``apply`` (``verify``) or ``smoke``.

A revision whose marker names records is then: *pending* while its proof record exists (a run
killed after the release, tests that failed, a ``--no-smoke`` release not tested since);
*proven* once the proof record is gone and the release record is there; *without evidence*
when both are gone (deleted by someone, or expired: the safe side). Plan and status read one
conversation per released revision (the proof record; ``unproven_releases``), promote two
(``last_smoke_result``). When the release's tests fail, the run that released it also writes
a failure verdict with its reason, within the time the release record names; promote reads
that window (the conversations created in those few minutes) only to say why it refuses.

What it does not cover, and why that is the safe side: a revision released without records
(by the dashboard, by a version of operator-iac before this design, or where the records
could not be written; apply warns) has no evidence: plan shows no ``verify`` for it, promote
refuses it, and a later ``smoke`` run cannot record a verdict for it where promote would find
it (it says so, exit 7); the next release of the agent has records again. A later ``smoke``
run that fails does not revoke a proven release (its failure is its own report's exit 4):
deleting cannot be undone, so a revocation could never be lifted by a later pass.

Costs, in requests: writing the records of a release is two creates, one write of the draft
and its read-back; proving it is one read of the revision and one delete; plan and status
read one conversation per released revision with smoke tests; promote two per agent.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from operator_iac.errors import (
    ApiConflictError,
    NotFoundError,
    OperatorIacError,
    SmokeRecordError,
)
from operator_iac.plan.marker import parse_own_marker, with_marker
from operator_iac.smoke.record import (
    SmokeRecord,
    now,
    record_of,
    remove_record,
    shifted,
    shorten,
    write_record,
)

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.models import Conversation
    from operator_iac.smoke.results import SmokeReport, TestResult

RELEASE_STAGE = "release"
PROOF_STAGE = "proof"
PENDING_SUMMARY = "released; its smoke tests have not passed on the released revision yet"
UNTESTED_SUMMARY = "released without its smoke tests (--no-smoke)"
PASSED_SUMMARY = "smoke tests passed on the released revision"
# Conversation timestamps may be whole seconds: a window is widened by this much.
ROUNDING_S = 2.0
# Beyond the smoke tests' own time limits, how long a run may take to record a failure.
VERDICT_SLACK_S = 300.0


@dataclass(frozen=True)
class Pin:
    """A revision a record conversation may be pinned to, and its config (whose prompt
    variables without a default the record must supply)."""

    version_id: str
    config: Mapping[str, Any]


@dataclass(frozen=True)
class Announcement:
    """The two records written before a release."""

    release: SmokeRecord
    proof: SmokeRecord

    @property
    def ids(self) -> tuple[str, str]:
        """(release record, proof record): what the revision's marker names."""
        return self.release.conversation_id or "", self.proof.conversation_id or ""


# ---- writing ---------------------------------------------------------------------------------


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
            _remove_quietly(client, written.conversation_id)
            raise
        return Announcement(kept, written)
    raise SmokeRecordError("no revision to keep the records on was accepted"
                           + (f" ({'; '.join(problems)})" if problems else ""))


def marked_with(description: str, project: str, key: str, ids: tuple[str, str]) -> str | None:
    """``description`` with its marker naming the records ``ids``; None without a marker of
    this project and key."""
    marker = parse_own_marker(description, project, key)
    return None if marker is None else with_marker(description, replace(marker, smoke=ids))


def records_of(description: str | None, project: str, key: str) -> tuple[str, str] | None:
    """The records a revision's marker names (release, proof), or None."""
    marker = parse_own_marker(description, project, key)
    return marker.smoke if marker is not None else None


def prove(client: OperatorClient, *, project: str, key: str, version_id: str,
          description: str | None = None) -> None:
    """The smoke tests passed on ``version_id``: delete its proof record. ``description`` is
    the revision's (read when not given). Raises ``SmokeRecordError`` when the revision names
    no records (it was released without them)."""
    if description is None:
        description = client.conversational_agents.get(version_id).description
    named = records_of(description, project, key)
    if named is None:
        raise SmokeRecordError(f"{version_id} was released without smoke records (by the "
                               "dashboard, an older operator-iac, or a run that could not "
                               "write them), so no verdict about it can be kept where promote "
                               "finds it; the next release of the agent has them again")
    remove_record(client, named[1])


def record_failure(client: OperatorClient, failure: SmokeRecord,
                   config: Mapping[str, Any]) -> SmokeRecord:
    """Keep a failed verdict (``failure``) of the run that released its revision, pinned to
    that revision: promote reads it to say why it refuses."""
    return write_record(client, failure.version_id, config, failure)


def budget_s(tests: Sequence[Any], stages: int) -> float:
    """How long ``stages`` smoke stages of ``tests`` may take at most, by their own limits."""
    each = sum(float(getattr(t, "timeout_s", 120.0)) * int(getattr(t, "repeat", 1))
               for t in tests)
    return each * stages + VERDICT_SLACK_S


# ---- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """What the platform holds about the release of one revision."""

    version_id: str
    """The revision."""
    named: bool
    """Whether the revision's marker names smoke records."""
    release: SmokeRecord | None = None
    """The release record as read (None: gone, or not readable)."""
    release_exists: bool = False
    """Whether the release record exists."""
    proof: SmokeRecord | None = None
    """The proof record as read, while it exists and can be read."""
    proof_exists: bool = False
    """Whether the proof record exists (the release is pending)."""
    failure: SmokeRecord | None = None
    """The failure verdict of the run that released it, when it recorded one."""

    def record(self, project: str, key: str) -> SmokeRecord | None:
        """The record promote judges: None without evidence, a passed record once proven,
        else the failure or a record saying the release is pending."""
        known = self.release or self.proof
        if not self.named or not (self.release_exists or self.proof_exists):
            return None
        if self.failure is not None and self.proof_exists:
            return self.failure
        base = known or SmokeRecord(project, key, self.version_id, False, "", "")
        if self.proof_exists:
            summary = PENDING_SUMMARY if base.tested else UNTESTED_SUMMARY
            return replace(base, passed=False, summary=summary)
        if not self.release_exists:
            return None
        return replace(base, passed=True, summary=PASSED_SUMMARY, stage="released")


def release_evidence(client: OperatorClient, *, project: str, key: str, version_id: str,
                     description: str | None = None) -> Evidence:
    """What the platform holds about the release of ``version_id`` (its description is read
    when not given): at most two reads by id, and the failure window's listing when the
    release is pending and its run recorded by when it would say why."""
    if description is None:
        description = client.conversational_agents.get(version_id).description
    named = records_of(description, project, key)
    if named is None:
        return Evidence(version_id, False)
    release_conversation = _get(client, named[0])
    proof_conversation = _get(client, named[1])
    release = record_of(release_conversation) if release_conversation else None
    proof = record_of(proof_conversation) if proof_conversation else None
    found = Evidence(version_id, True, release, release_conversation is not None, proof,
                     proof_conversation is not None)
    if found.proof_exists and release_conversation is not None and release is not None:
        failure = _failure(client, release_conversation, release)
        found = replace(found, failure=failure)
    return found


def unproven_releases(client: OperatorClient, project: str,
                      revisions: Mapping[str, tuple[str, str]], *,
                      parallelism: int = 8) -> dict[str, SmokeRecord]:
    """Key -> the proof record of each released revision whose release a run meant to prove
    and did not (``revisions``: key -> (version id, description)): one read each, at once."""
    from operator_iac.api.pool import WorkPool

    def pending(item: tuple[str, tuple[str, str]]) -> SmokeRecord | None:
        key, (version_id, description) = item
        named = records_of(description, project, key)
        conversation = _get(client, named[1]) if named is not None else None
        if conversation is None:
            return None
        found = record_of(conversation) or SmokeRecord(
            project, key, version_id, False, PENDING_SUMMARY, "", stage=PROOF_STAGE)
        usable = found.describes(project, key, version_id) and found.tested
        return replace(found, passed=False, summary=PENDING_SUMMARY) if usable else None

    items = sorted(revisions.items())
    with WorkPool(client, parallelism=parallelism) as pool:
        found = pool.map(pending, items)
    return {key: record for (key, _), record in zip(items, found, strict=True)
            if record is not None}


def _get(client: OperatorClient, conversation_id: str) -> Conversation | None:
    try:
        return client.conversations.get(conversation_id)
    except NotFoundError:
        return None


def _failure(client: OperatorClient, release_conversation: Conversation,
             release: SmokeRecord) -> SmokeRecord | None:
    """The failure verdict the releasing run wrote, looked for only between its release
    record and the time that record named: the conversations of those minutes."""
    if release.within_s is None:
        return None
    since = shifted(release_conversation.created_at, -ROUNDING_S)
    until = shifted(release_conversation.created_at, release.within_s + ROUNDING_S + 1)
    if since is None or until is None:
        return None
    found = [r for c in client.conversations.list(created_at_gte=since, created_at_lt=until)
             if c.livemode is False and not c.is_started
             and (r := record_of(c)) is not None and not r.passed
             and r.stage in ("draft", "released")
             and r.describes(release.project, release.key, release.version_id)]
    return max(found, key=lambda r: r.at, default=None)


def _remove_quietly(client: OperatorClient, conversation_id: str | None) -> None:
    # An extra record never started harms nothing.
    if conversation_id:
        with contextlib.suppress(OperatorIacError):
            remove_record(client, conversation_id)


# ---- the public functions --------------------------------------------------------------------


def record_smoke_result(client: OperatorClient, *, project: str, key: str, version_id: str,
                        content_hash: str | None, passed: bool, summary: str,
                        commit: str | None, stage: str | None = None,
                        previous: str | None = None) -> SmokeRecord:
    """Keep the verdict of a smoke run of the released revision ``version_id``: a pass proves
    its release (its proof record is deleted); a failure is kept as a failure verdict.
    Raises ``SmokeRecordError`` when a pass cannot be kept (the revision has no records)."""
    revision = client.conversational_agents.get(version_id)
    record = SmokeRecord(project, key, version_id, passed, shorten(summary), now(),
                         content_hash, commit, stage or "released", previous)
    if passed:
        prove(client, project=project, key=key, version_id=version_id,
              description=revision.description)
        return record
    return record_failure(client, record, revision.config)


def last_smoke_result(client: OperatorClient, *, project: str, key: str,
                      agent_id: str) -> SmokeRecord | None:
    """What the platform says about the smoke tests of revision ``agent_id`` (``ca_x@vN``;
    a bare id means its released revision): a passed record once its release is proven, a
    failed one while it is not, None without evidence."""
    version_id = agent_id if "@" in agent_id else _released(client, agent_id)
    if version_id is None:
        return None
    found = release_evidence(client, project=project, key=key, version_id=version_id)
    return found.record(project, key)


def _released(client: OperatorClient, agent_id: str) -> str | None:
    versions = client.conversational_agents.list_versions(agent_id)
    return next((v.version_id for v in versions if v.status == "released"), None)


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
    """Apply's side of the evidence: ``announce`` writes the records of a release about to be
    made. Records that cannot be written are a warning (``warn``), not a failure of the
    apply: that release then has none (see the module docstring for what that costs)."""

    def __init__(self, client: OperatorClient, project: str, *,
                 warn: Callable[[str], None]) -> None:
        self.client, self.project, self._warn = client, project, warn
        self.ledger = ProofLedger()

    def announce(self, key: str, version_id: str, *, previous: str | None,
                 content_hash: str | None, commit: str | None, tested: bool,
                 tests: Sequence[Any], pins: Sequence[Pin]) -> tuple[str, str] | None:
        """Write the records of releasing ``version_id``; their ids (release, proof), for
        the draft's marker, or None when they could not be written. ``tested``: this run
        smoke-tests what it releases (``tests``, on up to two stages)."""
        release = SmokeRecord(self.project, key, version_id, False,
                              PENDING_SUMMARY if tested else UNTESTED_SUMMARY, now(),
                              content_hash, commit, RELEASE_STAGE, previous, tested=tested,
                              within_s=budget_s(tests, 2))
        try:
            return announce(self.client, release, pins, ledger=self.ledger).ids
        except OperatorIacError as exc:
            self._warn(f"{key}: the release of {version_id} could not be recorded on the "
                       f"platform ({exc}): if this run stops before its smoke tests pass, "
                       "plan will not show it, and promote refuses it until the agent's "
                       "next release")
            return None


def record_smoke_report(client: OperatorClient, report: SmokeReport, *, project: str,
                        parallelism: int = 8) -> list[str]:
    """Record the verdicts of ``operator-iac smoke`` run against released revisions: each
    revision whose tests all passed proves its release, all at once through the pool (and
    its back-off). A failure is the report's own (exit 4) and revokes nothing. Returns why a
    pass could not be recorded, one line per revision. Call it only for a run of the
    released revisions: a record must speak about what is released."""
    from operator_iac.api.pool import WorkPool

    by_revision: dict[tuple[str, str], list[TestResult]] = {}
    for test in report.tests:
        by_revision.setdefault((test.agent_key, test.version_id), []).append(test)
    # Quarantined tests are reported, never evidence against a revision.
    passed = sorted(revision for revision, tests in by_revision.items()
                    if all(t.holds for t in tests))

    def one(revision: tuple[str, str]) -> str | None:
        key, version_id = revision
        try:
            prove(client, project=project, key=key, version_id=version_id)
        except OperatorIacError as exc:
            return (f"{key}: the smoke result of {version_id} could not be recorded ({exc}); "
                    "a promotion from this environment refuses it until one is")
        return None

    with WorkPool(client, parallelism=parallelism) as pool:
        problems = pool.map(one, passed)
    return [problem for problem in problems if problem is not None]
