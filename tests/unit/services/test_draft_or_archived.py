"""Telling a foreign "draft" from an archived revision before apply refuses it
(``services.apply._draft_or_archived``): on a platform that reports only ``is_released``, a
revision newer than the released one is asked with a write of its own content. What each
answer means, and that nothing is written where the platform tells statuses itself or the
revision cannot be the newest."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.apply.report import ApplyOptions
from operator_iac.plan.model import Plan, RemoteState, ResourcePlan
from operator_iac.services.apply import (
    Started,
    _draft_or_archived,
    _ensure_drafts_are_drafts,
)

AGENT = "ca_one"
CONTENT = {"name": "Front desk", "description": "made in the dashboard",
           "config": {"runtime": {"prompt": {"type": "fixed", "text": "Hello."}}},
           "postprocess_agents": ["pa_summary"]}


class Platform:
    """Answers the read of ``@v1`` (``status``: its ``version_status``, None for a platform
    that reports only ``is_released``) and a write to it with ``put``."""

    def __init__(self, put: httpx.Response, status: str | None = None) -> None:
        self.put, self.status = put, status
        self.calls: list[tuple[str, str, object]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, body))
        if request.method == "PUT":
            return self.put
        revision = {**CONTENT, "version_id": f"{AGENT}@v1", "is_released": False}
        if self.status is not None:
            revision["version_status"] = self.status
        return httpx.Response(200, json=revision)


def _resource(draft: str = f"{AGENT}@v1", released: str = f"{AGENT}@v0") -> ResourcePlan:
    return ResourcePlan(key="front-desk", kind="conversational_agent", action="update",
                        name="Front desk", blocked="foreign_draft", foreign_draft=True,
                        remote=RemoteState(agent_id=AGENT, released_version_id=released,
                                           draft_version_id=draft))


@pytest.mark.parametrize(("answer", "found"), [
    (httpx.Response(409, json={"error": {"message": "version_immutable"}}), "archived"),
    (httpx.Response(200, json={"id": AGENT, "version_id": f"{AGENT}@v1"}), "draft"),
    (httpx.Response(200, json={"id": AGENT, "version_id": f"{AGENT}@v2"}), "untold"),
    (httpx.Response(422, json={"error": {"message": "immutable"}}), "archived"),
    (httpx.Response(403, json={"error": {"message": "forbidden"}}), "untold"),
])
def test_each_answer_to_the_write_of_its_own_content(
        answer: httpx.Response, found: str,
        mock_client: Callable[..., OperatorClient]) -> None:
    platform = Platform(answer)

    assert _draft_or_archived(mock_client(platform.handle), _resource()) == found
    method, path, body = next(call for call in platform.calls if call[0] == "PUT")
    assert (method, path) == ("PUT", f"/conversational_agents/{AGENT}@v1")
    # a part of its own content, and no text: its post-processing ids
    assert body == {"postprocess_agents": CONTENT["postprocess_agents"]}


def test_a_platform_that_reports_statuses_is_taken_at_its_word(
        mock_client: Callable[..., OperatorClient]) -> None:
    platform = Platform(httpx.Response(409, json={}), status="draft")

    assert _draft_or_archived(mock_client(platform.handle), _resource()) == "draft"
    assert [method for method, _, _ in platform.calls] == ["GET"]


def test_a_revision_older_than_the_released_one_is_never_asked(
        mock_client: Callable[..., OperatorClient]) -> None:
    platform = Platform(httpx.Response(409, json={}))

    found = _draft_or_archived(mock_client(platform.handle), _resource(draft=f"{AGENT}@v0",
                                                              released=f"{AGENT}@v1"))
    assert found == "draft" and platform.calls == []


def test_an_archived_revision_no_longer_blocks_and_an_untold_one_says_why(
        mock_client: Callable[..., OperatorClient]) -> None:
    plan = Plan(project="p", api_url="https://api.example.test", created_at="2026-01-01T00:00:00Z",
                declarations_hash="0" * 16, resources=(_resource(),))
    said: list[str] = []

    archived = Platform(httpx.Response(409, json={}))
    unblocked, untold = _ensure_drafts_are_drafts(plan, ApplyOptions(),
                                                  mock_client(archived.handle), said.append)
    resource = unblocked.resources[0]
    assert (resource.blocked, resource.foreign_draft, untold) == (None, False, {})
    assert said and f"{AGENT}@v1 is an archived revision" in said[0]

    unknown = Platform(httpx.Response(403, json={}))
    kept, untold = _ensure_drafts_are_drafts(plan, ApplyOptions(), mock_client(unknown.handle),
                                             said.append)
    assert kept is plan and "may also be an archived revision" in untold["front-desk"]

    overwriting = Platform(httpx.Response(409, json={}))
    kept, untold = _ensure_drafts_are_drafts(plan, ApplyOptions(overwrite_draft=True),
                                             mock_client(overwriting.handle), said.append)
    assert kept is plan and overwriting.calls == []  # nothing to tell: it is overwritten


def test_a_procedural_agent_is_asked_with_its_name_alone() -> None:
    """A procedural agent has no field without text: the shortest it has, its name."""
    from operator_iac.api.models import Agent
    from operator_iac.services.apply import _unchanging_write

    revision = Agent(id="pa_one", version_id="pa_one@v1", name="Summary",
                     description="long text & more", config={"filter_statuses": ["completed"]})

    assert _unchanging_write(revision, "procedural_agent") == {"name": "Summary"}


class BareIdOnly(Platform):
    """A platform that takes writes at the bare id only: a write addressed to ``@v1`` is
    answered 404, and one at the bare id names the draft it wrote (``bare``)."""

    def __init__(self, bare: httpx.Response) -> None:
        super().__init__(bare)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and "@" in request.url.path:
            self.calls.append(("PUT", request.url.path, json.loads(request.content)))
            return httpx.Response(404, json={"error": {"message": "no such agent"}})
        return super().handle(request)


@pytest.mark.parametrize(("answer", "found"), [
    (httpx.Response(200, json={"id": AGENT, "version_id": f"{AGENT}@v1"}), "draft"),
    (httpx.Response(200, json={"id": AGENT, "version_id": f"{AGENT}@v2"}),
     Started(f"{AGENT}@v2")),
    (httpx.Response(200, json={"id": AGENT}), "untold"),
    (httpx.Response(409, json={}), "untold"),
])
def test_where_writes_go_to_the_bare_id_only_the_same_write_is_made_there(
        answer: httpx.Response, found: str | Started,
        mock_client: Callable[..., OperatorClient]) -> None:
    """The answer names the draft the write went to (documented): the revision itself is a
    draft; another, a draft the write started, so the revision is archived."""
    platform = BareIdOnly(answer)

    assert _draft_or_archived(mock_client(platform.handle), _resource()) == found
    writes = [(path, body) for method, path, body in platform.calls if method == "PUT"]
    own = {"postprocess_agents": CONTENT["postprocess_agents"]}
    assert writes == [(f"/conversational_agents/{AGENT}@v1", own),
                      (f"/conversational_agents/{AGENT}", own)]
