"""Smoke records: their context form, reading them from a platform that shows a
conversation's context, and the apply gate that writes them. The platform here is an
``httpx.MockTransport``; the emulator's path (context read from the event stream) is covered
end to end."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.plan.model import ResourcePlan
from operator_iac.smoke import gate as gate_module
from operator_iac.smoke import record as records
from operator_iac.smoke.gate import SmokeVerdict, recording_gate
from operator_iac.smoke.record import (
    PLACEHOLDER_VALUE,
    RECORD_KEY,
    SmokeRecord,
    last_smoke_result,
)

from .conftest import PROJECT

Factory = Callable[..., Any]
AGENT = "ca_1"
_ids = itertools.count()


def a_record(**changes: Any) -> SmokeRecord:
    fields: dict[str, Any] = {"project": PROJECT, "key": "booking", "version_id": f"{AGENT}@v1",
                              "passed": True, "summary": "2 passed",
                              "at": "2025-06-19T10:00:00.000001Z", "content_hash": "abc123abc123",
                              "commit": "0123abcd", "stage": "released"}
    return SmokeRecord(**{**fields, **changes})


def test_a_record_survives_its_context_form() -> None:
    record = a_record()
    context = {RECORD_KEY: json.loads(json.dumps(record.payload()))}
    assert SmokeRecord.from_context(context, "conv_1") == record
    assert SmokeRecord.from_context(context, "conv_1").conversation_id == "conv_1"  # type: ignore[union-attr]


@pytest.mark.parametrize("context", [
    None, {}, {"$variables": {}}, {RECORD_KEY: "text"},
    {RECORD_KEY: {**a_record().payload(), "passed": "yes"}},
    {RECORD_KEY: {k: v for k, v in a_record().payload().items() if k != "version_id"}},
])
def test_anything_else_is_no_record(context: Any) -> None:
    assert SmokeRecord.from_context(context) is None


def test_required_prompt_variables_get_a_placeholder() -> None:
    config = {"runtime": {"variables": [{"name": "customer", "default_value": None},
                                        {"name": "clinic", "default_value": "Brightsmile"}]}}
    assert records.placeholder_context(config) == {"$variables": {"customer": PLACEHOLDER_VALUE}}
    assert records.placeholder_context({"runtime": {}}) == {}


def test_lookups_start_a_little_before_the_revision() -> None:
    assert records._with_slack("2025-06-19T10:00:30Z") == "2025-06-19T09:59:30Z"
    assert records._with_slack(None) is None
    assert records._with_slack("yesterday") is None


# ---- reading from a platform that shows context ----------------------------------------------


@dataclass
class FakePlatform:
    """Conversations (with their context) and one agent's versions list."""

    conversations: list[dict[str, Any]]
    requests: list[httpx.Request]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == f"/conversational_agents/{AGENT}/versions":
            return httpx.Response(200, json={"data": [
                {"version_id": f"{AGENT}@v{n}", "version_status": status,
                 "created_at": f"2025-06-19T0{n}:00:00Z", "name": "x", "description": ""}
                for n, status in enumerate(("archived", "released"))]})
        if request.url.path == "/conversations":
            return httpx.Response(200, json={"data": self.conversations, "cursor": None})
        return httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})


def conversation(record: SmokeRecord | None, *, agent_id: str = f"{AGENT}@v1",
                 livemode: bool = False, status: str = "queued") -> dict[str, Any]:
    return {"id": f"conv_{next(_ids)}", "agent_id": agent_id,
            "livemode": livemode, "status": status,
            "context": {RECORD_KEY: record.payload()} if record else {}}


@pytest.fixture
def platform() -> Iterator[Callable[..., tuple[OperatorClient, FakePlatform]]]:
    clients: list[OperatorClient] = []

    def make(*conversations: dict[str, Any]) -> tuple[OperatorClient, FakePlatform]:
        fake = FakePlatform(list(conversations), [])
        client = OperatorClient("http://platform.test", "op_test_key",
                                transport=httpx.MockTransport(fake.handle))
        clients.append(client)
        return client, fake

    yield make
    for client in clients:
        client.close()


def test_the_newest_record_of_the_revision_decides(platform: Callable[..., Any]) -> None:
    old = a_record(passed=False, at="2025-06-19T10:00:00.000001Z")
    new = a_record(passed=True, at="2025-06-19T10:00:00.000002Z")
    client, fake = platform(conversation(new), conversation(old))
    found = last_smoke_result(client, project=PROJECT, key="booking", agent_id=f"{AGENT}@v1")
    assert found == new
    listed = next(r for r in fake.requests if r.url.path == "/conversations")
    # from the revision's creation (01:00), with a minute of slack
    assert listed.url.params["created_at_gte"] == "2025-06-19T00:59:00Z"


def test_records_of_others_do_not_count(platform: Callable[..., Any]) -> None:
    client, _ = platform(
        conversation(a_record(project="other")),
        conversation(a_record(key="triage")),
        conversation(a_record(), livemode=True),
        conversation(a_record(), status="completed"),
        conversation(a_record(), agent_id="ca_2@v1"),
        conversation(a_record(version_id=f"{AGENT}@v0"), agent_id=f"{AGENT}@v0"),
        conversation(None),
    )
    assert last_smoke_result(client, project=PROJECT, key="booking",
                             agent_id=f"{AGENT}@v1") is None
    # a bare id accepts a record of any revision of the agent
    anywhere = last_smoke_result(client, project=PROJECT, key="booking", agent_id=AGENT)
    assert anywhere is not None and anywhere.version_id == f"{AGENT}@v0"


# ---- the gate --------------------------------------------------------------------------------


def test_the_gate_records_what_decides_a_release(make_desired: Factory, plan_for: Factory,
                                                 platform: Callable[..., Any]) -> None:
    agent = make_desired(smoke=("a test",))
    resource: ResourcePlan = plan_for([agent]).resources[0]
    client, fake = platform()  # every write answers 404: recording fails
    warnings: list[str] = []
    verdicts = iter([SmokeVerdict("draft", True, "ok"), SmokeVerdict("released", False, "bad")])
    gate = recording_gate(lambda *args: next(verdicts), client, project=PROJECT,
                          warn=warnings.append)
    assert gate(resource, agent, f"{AGENT}@v0", "draft", {}).passed
    assert fake.requests == [] and warnings == []  # the draft stage is not recorded
    verdict = gate(resource, agent, f"{AGENT}@v0", "released", {})
    assert verdict.summary == "bad"  # the verdict passes through unchanged
    assert len(warnings) == 1 and "could not be recorded" in warnings[0]


def test_only_agents_with_tests_are_recorded(make_desired: Factory, plan_for: Factory) -> None:
    tested = make_desired(smoke=("a test",))
    resource: ResourcePlan = plan_for([tested]).resources[0]
    assert gate_module._decides_release(resource, tested, "released")
    assert not gate_module._decides_release(resource, make_desired(), "released")
    draft_only = resource.model_copy(update={"smoke": ("draft",)})
    assert gate_module._decides_release(draft_only, tested, "draft")
