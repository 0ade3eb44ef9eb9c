"""Smoke records and release evidence against a platform held in memory (an
``httpx.MockTransport`` that keeps conversations by id and answers time-bounded listings):
how a record is kept and read back, how a release is announced and proven, what each state
of its records means, and what each question costs in requests. The emulator's path is
covered end to end (``tests/e2e/test_smoke_records.py``)."""

from __future__ import annotations

import base64
import html
import itertools
import json
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.api.models import Conversation
from operator_iac.errors import OperatorIacError, SmokeRecordError
from operator_iac.plan.marker import Marker, Owner, parse_marker, with_marker
from operator_iac.plan.model import ResourcePlan
from operator_iac.smoke import evidence
from operator_iac.smoke import gate as gate_module
from operator_iac.smoke.announce import PENDING_SUMMARY, Pin, ProofLedger, announce, marked_with
from operator_iac.smoke.evidence import (
    ProofReadAhead,
    Revision,
    last_smoke_result,
    records_of,
    release_evidence,
    unproven_releases,
)
from operator_iac.smoke.gate import SmokeVerdict, recording_gate
from operator_iac.smoke.record import (
    PLACEHOLDER_VALUE,
    RECORD_KEY,
    TEXT_PREFIX,
    SmokeRecord,
    parse_record_text,
    placeholder_context,
    record_of,
    record_text,
)
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision

from .conftest import PROJECT

Factory = Callable[..., Any]
AGENT = "ca_1"
RELEASED = f"{AGENT}@v1"
START = datetime(2025, 6, 19, 10, 0, tzinfo=UTC)


def a_record(**changes: Any) -> SmokeRecord:
    fields: dict[str, Any] = {"project": PROJECT, "key": "booking", "version_id": RELEASED,
                              "passed": False, "summary": "released; not proven",
                              "at": "2025-06-19T10:00:00.000001Z", "content_hash": "abc123abc123",
                              "commit": "0123abcd", "stage": "release", "previous": f"{AGENT}@v0",
                              "within_s": 600.0}
    return SmokeRecord(**{**fields, **changes})


# ---- one record ------------------------------------------------------------------------------


def test_a_record_survives_its_text_and_says_nothing_a_prompt_could_read_as_syntax() -> None:
    record = a_record(summary="'greets' failed: expected $name and @book_slot ✓  ")
    text = record_text(record)
    assert text.isascii() and text == text.strip()
    assert "$" not in text and "@" not in text  # the version ids carry an @ too
    assert parse_record_text(text, "conv_1") == record
    assert parse_record_text(text, "conv_1").conversation_id == "conv_1"  # type: ignore[union-attr]


@pytest.mark.parametrize("stored", [
    html.escape, lambda text: unicodedata.normalize("NFD", text), lambda text: text + "\n",
    lambda text: " ".join(text.split()),
], ids=["markup_and_quotes_encoded", "decomposed", "newline_added", "whitespace_collapsed"])
def test_a_record_reads_back_from_any_form_a_platform_stores_text_in(
        stored: Callable[[str], str]) -> None:
    record = a_record(summary="'greets' failed: expected \"<b>A & B</b>\"")
    assert parse_record_text(stored(record_text(record))) == record


def test_a_record_an_earlier_version_kept_as_plain_json_is_still_read() -> None:
    record = a_record()
    old = TEXT_PREFIX + json.dumps(record.payload(), separators=(",", ":"), sort_keys=True) \
        .replace("@", "\\u0040")
    assert parse_record_text(old) == record


def _plain(data: dict[str, Any]) -> str:
    return TEXT_PREFIX + json.dumps(data)


def _encoded(data: dict[str, Any]) -> str:
    return TEXT_PREFIX + base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize("text", [
    None, "", "You are a helpful agent.", record_text(a_record())[:-1],
    _plain({**a_record().payload(), "passed": "no"}),
    _encoded({**a_record().payload(), "passed": "no"}), _encoded({"hello": "world"}),
    TEXT_PREFIX + "not+base64/at all",
])
def test_anything_else_is_no_record(text: Any) -> None:
    assert parse_record_text(text) is None


def test_a_record_is_read_from_the_prompt_override_else_from_a_shown_context() -> None:
    record = a_record()
    override = {"runtime": {"prompt": {"type": "fixed", "text": record_text(record)}}}
    assert record_of(Conversation(id="conv_1", override_config=override)) == record
    shown = Conversation.model_validate({"id": "conv_2",
                                         "context": {RECORD_KEY: record.payload()}})
    assert record_of(shown) == record
    assert record_of(Conversation(id="conv_3")) is None


def test_required_prompt_variables_get_a_placeholder() -> None:
    config = {"runtime": {"variables": [{"name": "customer", "default_value": None},
                                        {"name": "clinic", "default_value": "Brightsmile"}]}}
    assert placeholder_context(config) == {"$variables": {"customer": PLACEHOLDER_VALUE}}
    assert placeholder_context({"runtime": {}}) == {}


def test_the_marker_names_the_records_and_nothing_else_changes() -> None:
    description = with_marker("Books.", Marker(PROJECT, "booking", "a" * 16, "0123abcd"))
    named = marked_with(description, PROJECT, "booking", ("conv_r", "conv_p"))
    assert named is not None and named.startswith("Books.\n\n[operator-iac ")
    assert records_of(named, PROJECT, "booking") == ("conv_r", "conv_p")
    marker = parse_marker(named)
    assert marker is not None and (marker.content_hash, marker.commit) == ("a" * 16, "0123abcd")
    assert records_of(named, "other", "booking") is None
    assert records_of(description, PROJECT, "booking") is None
    assert marked_with("Books.", PROJECT, "booking", ("conv_r", "conv_p")) is None


# ---- a platform in memory --------------------------------------------------------------------


@dataclass
class FakePlatform:
    """Conversations by id, stamped by a clock that moves one second per create; one agent
    whose released revision has ``description``. ``refused`` revisions cannot be conversed
    with (409)."""

    description: str = ""
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    created: str = "2025-06-19T10:00:00Z"  # when the released revision was created
    clock: datetime = START
    # The versions list does not show the revision yet (a platform whose lists lag); the
    # revision read by its id says when it was created.
    versions_lag: bool = False
    # The revision read by its id does not say when it was created (the contract documents
    # that in the versions list only).
    undated_revision: bool = False
    ids: Iterator[int] = field(default_factory=itertools.count)

    def add(self, body: dict[str, Any], *, at: datetime | None = None,
            status: str = "queued") -> str:
        self.clock = at or self.clock + timedelta(seconds=1)
        conversation_id = f"conv_{next(self.ids)}"
        self.conversations[conversation_id] = {
            "id": conversation_id, "agent_id": body["agent_id"], "livemode": False,
            "status": status, "override_config": body.get("override_config"),
            "created_at": self.clock.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return conversation_id

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, method = request.url.path, request.method
        if path.endswith("/versions"):
            return httpx.Response(200, json={"data": [] if self.versions_lag else [
                {"version_id": RELEASED, "version_status": "released", "name": "B",
                 "description": self.description, "created_at": self.created}]})
        if path.startswith("/conversational_agents/"):
            dated = {} if self.undated_revision else {"created_at": self.created}
            return httpx.Response(200, json={"id": AGENT, "version_id": RELEASED, "name": "B",
                                             "description": self.description, "config": {},
                                             **dated})
        if path == "/conversations" and method == "POST":
            body = json.loads(request.content)
            if body["agent_id"] in self.refused:
                return httpx.Response(409, json={"error": {"message": "not released"}})
            return httpx.Response(200, json={"id": self.add(body), "channel": {}})
        if path == "/conversations":
            return httpx.Response(200, json={"data": self._listed(request), "cursor": None})
        found = self.conversations.get(path.rsplit("/", 1)[-1])
        if found is None:
            return httpx.Response(404, json={"error": {"message": "no such conversation"}})
        if method == "DELETE":
            del self.conversations[found["id"]]
            return httpx.Response(200, json={"id": found["id"], "deleted": True})
        return httpx.Response(200, json=found)

    def _listed(self, request: httpx.Request) -> list[dict[str, Any]]:
        since = request.url.params.get("created_at_gte", "")
        until = request.url.params.get("created_at_lt", "9999")
        return [c for c in self.conversations.values() if since <= c["created_at"] < until]

    def paths(self, method: str = "GET") -> list[str]:
        return [r.url.path for r in self.requests if r.method == method]


@pytest.fixture
def platform() -> Iterator[Callable[..., tuple[OperatorClient, FakePlatform]]]:
    clients: list[OperatorClient] = []

    def make(**fields: Any) -> tuple[OperatorClient, FakePlatform]:
        fake = FakePlatform(**fields)
        client = OperatorClient("http://platform.test", "op_test_key",
                                transport=httpx.MockTransport(fake.handle))
        clients.append(client)
        return client, fake

    yield make
    for client in clients:
        client.close()


def described(ids: tuple[str, str]) -> str:
    named = marked_with(with_marker("Books.", Marker(PROJECT, "booking", "a" * 16)), PROJECT,
                        "booking", ids)
    assert named is not None
    return named


def announced(client: OperatorClient, fake: FakePlatform, **changes: Any) -> tuple[str, str]:
    """Announce the release of RELEASED, and make it carry the records in its marker."""
    ids = announce(client, a_record(**changes), [Pin(RELEASED, {})]).ids
    fake.description = described(ids)
    fake.requests.clear()
    return ids


# ---- announcing ------------------------------------------------------------------------------


def test_a_release_is_announced_by_a_proof_and_a_release_record(platform: Factory) -> None:
    client, fake = platform()
    release_id, proof_id = announce(client, a_record(), [Pin(RELEASED, {})]).ids
    release = record_of(Conversation.model_validate(fake.conversations[release_id]))
    proof = record_of(Conversation.model_validate(fake.conversations[proof_id]))
    assert release == a_record() and release is not None and release.within_s == 600.0
    assert proof == a_record(stage="proof", within_s=None)
    assert fake.paths("POST") == ["/conversations", "/conversations"]  # nothing else


def test_records_go_elsewhere_where_drafts_are_refused_and_the_run_remembers(
        platform: Factory) -> None:
    client, fake = platform(refused={RELEASED})
    ledger = ProofLedger()
    pins = [Pin(RELEASED, {}), Pin(f"{AGENT}@v0", {})]
    first = announce(client, a_record(), pins, ledger=ledger)
    assert first.release.conversation_id in fake.conversations
    assert fake.conversations[first.proof.conversation_id or ""]["agent_id"] == f"{AGENT}@v0"
    fake.requests.clear()
    announce(client, a_record(), pins, ledger=ledger)
    assert fake.paths("POST") == ["/conversations", "/conversations"]  # no draft tried again
    with pytest.raises(SmokeRecordError, match="no revision to keep the records on"):
        announce(client, a_record(), [Pin(RELEASED, {})])


# ---- reading: one state per question ---------------------------------------------------------


def test_a_pending_release_is_one_read_for_plan_and_names_what_to_roll_back_to(
        platform: Factory) -> None:
    client, fake = platform()
    announced(client, fake)
    found = unproven_releases(client, PROJECT, {"booking": Revision(RELEASED,
                                                                    fake.description)})
    assert found["booking"].previous == f"{AGENT}@v0" and not found["booking"].passed
    named = records_of(fake.description, PROJECT, "booking")
    assert named is not None and fake.paths() == [f"/conversations/{named[1]}"]
    # a release its run did not mean to prove (--no-smoke) is not for plan to verify
    client2, other = platform()
    announced(client2, other, tested=False)
    assert unproven_releases(client2, PROJECT,
                             {"booking": Revision(RELEASED, other.description)}) == {}


def test_a_proof_record_read_ahead_is_not_read_again(platform: Factory) -> None:
    """The proof record is read right after its agent (``ProofReadAhead.after``, told by the
    snapshot's fetch); the verdict then uses that read, and only this owner's wanted keys
    are read ahead."""
    client, fake = platform()
    announced(client, fake)
    _, proof_id = records_of(fake.description, PROJECT, "booking") or ("", "")
    released = RemoteRevision(RELEASED, "released", "B", fake.description, {})
    agent = RemoteAgent("conversational_agent", AGENT, (), released=released)
    ProofReadAhead(client, Owner(PROJECT), lambda key: key != "booking").after(agent)
    ProofReadAhead(client, Owner("another"), lambda key: True).after(agent)
    assert fake.paths() == []
    ahead = ProofReadAhead(client, Owner(PROJECT), lambda key: key == "booking")
    ahead.after(agent)
    assert fake.paths() == [f"/conversations/{proof_id}"]
    found = unproven_releases(client, PROJECT, {"booking": Revision(RELEASED,
                                                                    fake.description)},
                              read_ahead=ahead)
    assert not found["booking"].passed
    assert fake.paths() == [f"/conversations/{proof_id}"]  # one read, not two


def test_a_proof_record_is_read_ahead_while_the_declarations_are_not_known(
        platform: Factory) -> None:
    """While the declarations load (``wanted`` says None), the record a release of this
    owner names is read on speculation instead of holding the pool until they are known."""
    client, fake = platform()
    announced(client, fake)
    _, proof_id = records_of(fake.description, PROJECT, "booking") or ("", "")
    released = RemoteRevision(RELEASED, "released", "B", fake.description, {})
    agent = RemoteAgent("conversational_agent", AGENT, (), released=released)
    ahead = ProofReadAhead(client, Owner(PROJECT), lambda key: None)
    ahead.after(agent)
    assert fake.paths() == [f"/conversations/{proof_id}"]


def test_a_read_ahead_that_failed_fails_where_the_verdict_is_asked() -> None:
    description = described(("conv_r", "conv_p"))
    refused = httpx.MockTransport(
        lambda request: httpx.Response(403, json={"error": {"message": "forbidden"}}))
    with OperatorClient("http://platform.test", "op_test_key", transport=refused) as client:
        ahead = ProofReadAhead(client, Owner(PROJECT), lambda key: True)
        released = RemoteRevision(RELEASED, "released", "B", description, {})
        ahead.after(RemoteAgent("conversational_agent", AGENT, (), released=released))
        with pytest.raises(OperatorIacError):  # kept, and raised where it is asked for
            ahead.get("conv_p")


def test_a_proven_release_passes_and_one_without_evidence_has_no_record(
        platform: Factory) -> None:
    client, fake = platform()
    release_id, _ = announced(client, fake)
    evidence.prove(client, project=PROJECT, key="booking", version_id=RELEASED)
    evidence.prove(client, project=PROJECT, key="booking", version_id=RELEASED)  # again: fine
    assert unproven_releases(client, PROJECT,
                             {"booking": Revision(RELEASED, fake.description)}) == {}
    record = last_smoke_result(client, project=PROJECT, key="booking", agent_id=RELEASED)
    assert record is not None and record.passed and record.content_hash == "abc123abc123"
    del fake.conversations[release_id]  # deleted or expired: the safe side
    assert last_smoke_result(client, project=PROJECT, key="booking", agent_id=RELEASED) is None
    fake.description = with_marker("Books.", Marker(PROJECT, "booking", "a" * 16))
    assert last_smoke_result(client, project=PROJECT, key="booking", agent_id=RELEASED) is None
    with pytest.raises(SmokeRecordError, match="released without smoke records"):
        evidence.prove(client, project=PROJECT, key="booking", version_id=RELEASED)


def test_the_failure_of_the_releasing_run_is_read_from_its_window_only(
        platform: Factory) -> None:
    client, fake = platform()
    release_id, _ = announced(client, fake, within_s=60.0)
    failure = a_record(stage="released", summary="1 failed: 'greets'", at="2025-06-19T10:00:05Z")
    text = {"runtime": {"prompt": {"type": "fixed", "text": record_text(failure)}}}
    fake.add({"agent_id": RELEASED, "override_config": text})  # within the window
    late = a_record(stage="released", summary="a later run", at="2025-06-19T11:00:00Z")
    fake.add({"agent_id": RELEASED, "override_config": {"runtime": {"prompt": {
        "type": "fixed", "text": record_text(late)}}}}, at=START + timedelta(hours=1))
    for n in range(5):  # production traffic
        fake.add({"agent_id": f"ca_other@v{n}"}, status="completed")
    found = release_evidence(client, project=PROJECT, key="booking", version_id=RELEASED)
    assert found.failure is not None and found.failure.summary == "1 failed: 'greets'"
    assert found.record(PROJECT, "booking") == found.failure
    listed = [r for r in fake.requests if r.url.path == "/conversations"]
    assert len(listed) == 1
    created = fake.conversations[release_id]["created_at"]
    assert listed[0].url.params["created_at_gte"] == "2025-06-19T10:00:00Z" < created
    assert listed[0].url.params["created_at_lt"] == "2025-06-19T10:01:05Z"


def test_a_release_pending_without_a_recorded_failure_says_so(platform: Factory) -> None:
    client, fake = platform()
    announced(client, fake)
    record = last_smoke_result(client, project=PROJECT, key="booking", agent_id=RELEASED)
    assert record is not None and not record.passed and record.pending and record.tested
    assert record.summary == PENDING_SUMMARY


def test_records_written_after_the_release_are_found_in_the_window_after_its_creation(
        platform: Factory) -> None:
    """Where no revision took the records before the release, they follow the revision's
    creation within two minutes; a reader lists those two minutes, nothing more."""
    client, fake = platform(description=with_marker("Books.", Marker(PROJECT, "booking",
                                                                     "a" * 16)))
    created = "2025-06-19T10:00:00Z"
    for n in range(3):  # traffic before and after
        fake.add({"agent_id": "ca_other@v0"}, at=START + timedelta(minutes=10 * n - 5))
    fake.clock = START
    announce(client, a_record(), [Pin(RELEASED, {})])
    revision = Revision(RELEASED, fake.description, created)
    found = unproven_releases(client, PROJECT, {"booking": revision})
    assert found["booking"].previous == f"{AGENT}@v0"
    listed = [r.url.params for r in fake.requests if r.url.path == "/conversations"
              and r.method == "GET"]
    assert [(p["created_at_gte"], p["created_at_lt"]) for p in listed] == \
        [("2025-06-19T09:59:58Z", "2025-06-19T10:02:03Z")]
    fake.requests.clear()
    evidence.prove(client, project=PROJECT, key="booking", version_id=RELEASED,
                   description=fake.description)
    assert fake.paths("DELETE") == [f"/conversations/{found['booking'].conversation_id}"]
    assert unproven_releases(client, PROJECT, {"booking": revision}) == {}
    nothing = Revision(RELEASED, fake.description, "2025-06-18T10:00:00Z")
    assert unproven_releases(client, PROJECT, {"booking": nothing}) == {}


def test_proving_a_release_two_applies_made_deletes_the_proof_records_of_both(
        platform: Factory) -> None:
    """Two applies released one revision at once, each writing its records after the release
    (the marker names none of them): the first to pass proves the revision, both runs' proof
    records go, and the release is proven whichever run proves it first."""
    client, fake = platform(description=with_marker("Books.", Marker(PROJECT, "booking",
                                                                     "a" * 16)))
    created = "2025-06-19T10:00:00Z"
    fake.clock = START
    first = announce(client, a_record(), [Pin(RELEASED, {})]).ids
    fake.clock = START + timedelta(seconds=1)
    second = announce(client, a_record(at="2025-06-19T10:00:01.000001Z"),
                      [Pin(RELEASED, {})]).ids
    revision = Revision(RELEASED, fake.description, created)
    assert unproven_releases(client, PROJECT, {"booking": revision})["booking"] \
        .conversation_id == second[1]  # a reader judges by the newest

    evidence.prove(client, project=PROJECT, key="booking", version_id=RELEASED,
                   description=fake.description)

    assert sorted(fake.paths("DELETE")) == sorted([f"/conversations/{first[1]}",
                                                   f"/conversations/{second[1]}"])
    assert unproven_releases(client, PROJECT, {"booking": revision}) == {}


def test_a_pass_right_after_the_release_is_kept_while_the_versions_list_lags(
        platform: Factory) -> None:
    """The release's records follow it (no revision took them before): proving its smoke
    tests finds them from the revision's own creation time, read by id, when the versions
    list does not show the revision yet."""
    client, fake = platform(description=with_marker("Books.", Marker(PROJECT, "booking",
                                                                     "a" * 16)),
                            versions_lag=True)
    fake.clock = START
    ids = announce(client, a_record(), [Pin(RELEASED, {})]).ids

    evidence.prove(client, project=PROJECT, key="booking", version_id=RELEASED)

    assert fake.paths("DELETE") == [f"/conversations/{ids[1]}"]


def test_a_revision_that_does_not_say_when_it_was_created_is_dated_by_its_versions_list(
        platform: Factory) -> None:
    """Records that follow the release are found also where the revision read by its id
    carries no ``created_at``: the versions list (documented to carry it) says; the revision
    is read once."""
    client, fake = platform(description=with_marker("Books.", Marker(PROJECT, "booking",
                                                                     "a" * 16)),
                            undated_revision=True)
    fake.clock = START
    ids = announce(client, a_record(), [Pin(RELEASED, {})]).ids
    fake.requests.clear()

    evidence.prove(client, project=PROJECT, key="booking", version_id=RELEASED)

    assert fake.paths("DELETE") == [f"/conversations/{ids[1]}"]
    assert fake.paths().count(f"/conversational_agents/{RELEASED}") == 1


# ---- the gate --------------------------------------------------------------------------------


def test_the_gate_proves_what_decides_a_release(make_desired: Factory, plan_for: Factory,
                                                platform: Factory) -> None:
    agent = make_desired(smoke=("a test",))
    resource: ResourcePlan = plan_for([agent]).resources[0]
    client, fake = platform()
    _, proof_id = announced(client, fake)
    warnings: list[str] = []
    verdicts = iter([SmokeVerdict("draft", True, "ok"), SmokeVerdict("released", True, "ok")])
    gate = recording_gate(lambda *args: next(verdicts), client, project=PROJECT,
                          warn=warnings.append)
    assert gate(resource, agent, RELEASED, "draft", {}).passed
    assert fake.requests == [] and warnings == []  # the draft stage does not decide
    assert gate(resource, agent, RELEASED, "released", {}).record_error is None
    assert proof_id not in fake.conversations and warnings == []


def test_the_gate_records_a_revision_its_caller_holds_without_reading_it(
        make_desired: Factory, plan_for: Factory, platform: Factory) -> None:
    """Apply and rollback hold the revision under test (read back after the write, or
    read to plan the rollback): a pass deletes the proof record it names, a failure writes
    its verdict, and neither reads the revision again."""
    from operator_iac.state.snapshot import RemoteRevision

    agent = make_desired(smoke=("a test",))
    resource: ResourcePlan = plan_for([agent]).resources[0]
    client, fake = platform()
    _, proof_id = announced(client, fake)
    held = RemoteRevision(RELEASED, "released", "B", fake.description, {})
    verdicts = iter([SmokeVerdict("released", True, "ok"),
                     SmokeVerdict("released", False, "1 failed")])
    gate = recording_gate(lambda *args: next(verdicts), client, project=PROJECT,
                          warn=lambda line: pytest.fail(line))
    assert gate(resource, agent, RELEASED, "released", {}, revision=held).record_error is None
    assert fake.paths("DELETE") == [f"/conversations/{proof_id}"]
    gate(resource, agent, RELEASED, "released", {}, revision=held)
    assert fake.paths("POST") == ["/conversations"]
    assert not [path for path in fake.paths() if path.startswith("/conversational_agents")]


def test_a_pass_on_a_release_without_records_is_a_warning(make_desired: Factory,
                                                          plan_for: Factory,
                                                          platform: Factory) -> None:
    agent = make_desired(smoke=("a test",))
    resource: ResourcePlan = plan_for([agent]).resources[0]
    client, _ = platform(description="Books.")
    warnings: list[str] = []
    gate = recording_gate(lambda *args: SmokeVerdict("released", True, "ok"), client,
                          project=PROJECT, warn=warnings.append)
    verdict = gate(resource, agent, RELEASED, "released", {})
    assert verdict.passed and "until its next release" in (verdict.record_error or "")
    assert len(warnings) == 1


def test_only_agents_with_tests_are_recorded(make_desired: Factory, plan_for: Factory) -> None:
    tested = make_desired(smoke=("a test",))
    resource: ResourcePlan = plan_for([tested]).resources[0]
    assert gate_module._decides_release(resource, tested, "released")
    assert not gate_module._decides_release(resource, make_desired(), "released")
    draft_only = resource.model_copy(update={"smoke": ("draft",)})
    assert gate_module._decides_release(draft_only, tested, "draft")


def test_records_of_a_release_not_made_yet_serve_again_while_pending(
        platform: Factory) -> None:
    """A run that wrote its records and stopped before releasing: the next run releasing the
    same draft, after the same previous revision, reuses them; anything else writes anew."""
    from operator_iac.smoke.announce import ReleaseRecorder

    client, fake = platform()
    _, proof_id = announced(client, fake)
    recorder = ReleaseRecorder(client, PROJECT, warn=lambda _line: None)
    assert recorder.holds(a_record(), fake.description)
    assert not recorder.holds(a_record(previous=f"{AGENT}@v5"), fake.description)
    assert not recorder.holds(a_record(tested=False), fake.description)
    del fake.conversations[proof_id]  # proven already: a new release needs new records
    assert not recorder.holds(a_record(), fake.description)
    assert not recorder.holds(a_record(), "Books.")


def test_a_marker_naming_another_revisions_records_proves_this_releases_own(
        platform: Factory) -> None:
    """A write that made another draft than the one it named records for (a concurrent run
    made that one first) has this release's records written after it: proving deletes this
    release's proof, found in the window after the revision's creation, never the proof the
    marker names, which speaks of the other revision."""
    client, fake = platform(description=with_marker("Books.", Marker(PROJECT, "booking",
                                                                     "a" * 16)))
    fake.clock = START
    other = announce(client, a_record(version_id=f"{AGENT}@v0"), [Pin(RELEASED, {})]).ids
    fake.description = described(other)
    own = announce(client, a_record(), [Pin(RELEASED, {})]).ids

    evidence.prove(client, project=PROJECT, key="booking", version_id=RELEASED,
                   description=fake.description)

    assert fake.paths("DELETE") == [f"/conversations/{own[1]}"]
    assert unproven_releases(client, PROJECT, {"booking": Revision(
        RELEASED, fake.description, "2025-06-19T10:00:00Z")}) == {}
    # promote's reader, holding the description but no creation time, finds it proven too
    record = last_smoke_result(client, project=PROJECT, key="booking", agent_id=RELEASED,
                               description=fake.description)
    assert record is not None and record.passed
