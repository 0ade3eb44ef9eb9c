"""Typed resources of the Operator API, reached as attributes of ``OperatorClient``.

Each method is one endpoint: it builds the path, lets the client send the request (with its
retry policy and error mapping), and parses the answer into a model of
``operator_iac.api.models``. Creates are sent once: if one fails ambiguously the client
raises ``AmbiguousWriteError`` and the caller decides how to check before trying again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from operator_iac import defaults
from operator_iac.api.failures import error_message
from operator_iac.api.models import (
    Agent,
    AgentSummary,
    Conversation,
    ConversationCreated,
    Customer,
    DeleteResult,
    Procedure,
    ProcedureCreated,
    TokenRefresh,
    VersionEntry,
    WriteResult,
    agent_id_of,
    entry_for,
    normalise_version_statuses,
    version_number,
)
from operator_iac.api.pagination import iter_items
from operator_iac.api.polling import bounded_pauses
from operator_iac.api.retry import http_date
from operator_iac.api.tolerance import (
    is_relative,
    marked_deleted,
    note,
    noting,
    resolved_url,
)
from operator_iac.api.transport import ApiTransport, Params, decode_json, segment
from operator_iac.errors import (
    ApiConflictError,
    BadRequestError,
    MethodNotAllowedError,
    NotFoundError,
    OperationError,
    PermissionDeniedError,
)

logger = logging.getLogger(__name__)

# How a platform refuses a write to an addressed revision that is no longer a draft: 409
# (`version_immutable`, the emulator's [decided] answer), or the 400/422 some platforms give
# instead. Either may also be a draft rejecting the body, so a caller catching these reads the
# revision (or writes to the bare id, where a rejected body is rejected again) to tell which.
REVISION_REFUSALS = (ApiConflictError, BadRequestError)
# A write addressed to a revision (``ca_x@vN``) may be refused for its address as well: a
# platform that takes writes to the bare id only answers 404 or 405 (the address is no agent
# it knows), and one may answer 403 for a revision nobody may change. Any of these, like the
# refusals above, sends the caller to read the agent again and write to the bare id, where
# a real deletion (404), a key without the right (403) or a rejected body is met again and
# stands.
ADDRESSED_ONLY_REFUSALS = (NotFoundError, MethodNotAllowedError, PermissionDeniedError)
ADDRESSED_WRITE_REFUSALS = (*REVISION_REFUSALS, *ADDRESSED_ONLY_REFUSALS)

M = TypeVar("M", bound=BaseModel)


def answered_at(response: httpx.Response) -> datetime | None:
    """When the platform answered, by its own clock: the ``Date`` header every HTTP server
    with a clock sends (whole seconds), or None."""
    return http_date(response.headers.get("date"))


def _asked(data: Any, agent_id: str, version_id: str | None) -> Any:
    """A write's answer, or what was asked for when the answer names nothing (no body)."""
    if isinstance(data, dict) and not data.get("id") and not data.get("version_id"):
        return {**data, "id": agent_id, "version_id": version_id}
    return data


def parse(model: type[M], data: Any, what: str) -> M:
    """Validate a response into ``model``; a shape we cannot read is an OperationError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        # Some platforms answer a failure with a success status and an error object: its
        # message says more than the shape it lacks.
        said = error_message(data)
        raise OperationError(f"{what}: unexpected response ({where}: {first['msg']})"
                             + (f"; the platform said: {said}" if said else "")) from exc


class _Resource:
    """Base of the resources: sends through the client and parses answers into models (in
    their canonical form, noting on the client's ``notices`` what the reading adapted to)."""

    def __init__(self, client: ApiTransport) -> None:
        self._client = client

    def _parse(self, model: type[M], data: Any, what: str) -> M:
        with noting(self._client.notices):
            return parse(model, data, what)

    def _call(self, model: type[M], method: str, path: str, *, params: Params | None = None,
              json: Any = None, idempotent: bool = False) -> M:
        data = self._client.request_json(method, path, params=params, json=json,
                                         idempotent=idempotent)
        return self._parse(model, data, f"{method} {path}")

    def _list(self, model: type[M], path: str, key: str,
              params: Params | None = None, identity: str = "id") -> Iterator[M]:
        def fetch(cursor: str | None) -> Any:
            return self._client.request_json("GET", path, params={**(params or {}),
                                                                  "cursor": cursor})

        for item in iter_items(fetch, key, path, identity):
            if marked_deleted(item):  # kept readable by a soft delete: gone all the same
                continue
            yield self._parse(model, item, f"GET {path}")


class AgentsResource(_Resource):
    """Conversational (``/conversational_agents``) or procedural (``/procedural_agents``)
    agents: both kinds have the same endpoints, so one class serves both."""

    def __init__(self, client: ApiTransport, base_path: str) -> None:
        super().__init__(client)
        self.base_path = base_path

    def _path(self, id_or_version_id: str, *rest: str) -> str:
        return "/".join((self.base_path, segment(id_or_version_id), *rest))

    def create(self, name: str, description: str, config: Mapping[str, Any],
               postprocess_agents: list[str] | None = None) -> WriteResult:
        """Create an agent (its ``v0`` is a draft). Sent once, never retried blindly."""
        body: dict[str, Any] = {"name": name, "description": description,
                                "config": dict(config)}
        if postprocess_agents is not None:
            body["postprocess_agents"] = list(postprocess_agents)
        return self._call(WriteResult, "POST", self.base_path, json=body)

    def get(self, id_or_version_id: str, *, patient: bool = True,
            exists: bool = False) -> Agent:
        """The newest revision for a bare id, or exactly ``@vN``.

        A 404 for ``@vN`` while the agent's versions list shows that revision is a read by
        id trailing the write that made it (reads may be served by replicas: nothing in the
        contract says a read by id is never late), not a deletion: the revision is read
        again with growing pauses, up to ``VISIBILITY_TIMEOUT_S``, each logged. Taken for a
        deletion, an agent would drop out of a plan and its key be created a second time.
        ``exists``: the caller saw the revision exist (in a versions list read before, or
        below one it saw; revisions are only ever added): it is read again for as long while
        the agent's versions list answers at all, whether or not a list served by a replica
        that trails shows it yet. A 404 whose versions list is gone too, or (not
        ``exists``) does not show the revision, stands at once; so does a 404 for a bare id
        (the agent itself unknown), and every 404 with ``patient`` false (``doctor``
        measuring the delay itself)."""
        pauses = bounded_pauses(defaults.VISIBILITY_TIMEOUT_S)
        while True:
            try:
                return self._call(Agent, "GET", self._path(id_or_version_id))
            except NotFoundError:
                pause = next(pauses, None) if patient else None
                if pause is None or not self._may_show(id_or_version_id, exists):
                    raise
                logger.info("%s, %s, reads as not found: the platform's reads by id trail its "
                            "writes; reading it again in %.2f s", id_or_version_id,
                            "seen before" if exists else "shown in its versions list", pause)
                self._client.pause(pause)

    def _may_show(self, version_id: str, exists: bool) -> bool:
        """Whether a read of revision ``version_id`` may yet find it: its agent's versions
        list answers, and shows it unless it is known to ``exist`` (never, for a bare id)."""
        if version_number(version_id) is None:
            return False
        try:
            versions = self.list_versions(agent_id_of(version_id))
        except NotFoundError:
            return False
        return exists or entry_for(versions, version_id) is not None

    def get_version(self, agent_id: str, number: int) -> Agent:
        return self.get(f"{agent_id_of(agent_id)}@v{number}")

    def update(self, id_or_version_id: str, **fields: Any) -> WriteResult:
        """Write the given fields into the draft (created if none); returns the draft."""
        path = self._path(id_or_version_id)
        response = self._client.request("PUT", path, json=fields, idempotent=True)
        data = decode_json(response, "PUT", path)
        # An answer without a body (204) names no draft: the caller reads it where it wrote.
        written = self._parse(WriteResult, _asked(data, agent_id_of(id_or_version_id), None),
                              f"PUT {path}")
        return written.model_copy(update={"answered_at": answered_at(response)})

    def list_versions(self, agent_id: str) -> list[VersionEntry]:
        """Every revision, oldest first, each with a ``version_status``."""
        path = self._path(agent_id, "versions")
        return normalise_version_statuses(list(self._list(VersionEntry, path, "data",
                                                          identity="version_id")))

    def release(self, version_id: str) -> WriteResult:
        """Make a revision the released one (an archived one: a rollback).

        Some platforms answer 409 "already released" where others answer 200: when a retry
        meets a release an earlier attempt already made, or someone released it meanwhile.
        Either way the revision is released, which the versions list or, where that list
        shows a release late, the revision read by its id confirms: a concurrent run's
        release just made must not fail this one.
        """
        path = self._path(version_id, "release")
        try:
            data = self._client.request_json("POST", path, idempotent=True)
        except ApiConflictError:
            if not self._shows_released(version_id):
                raise
            return WriteResult(id=agent_id_of(version_id), version_id=version_id)
        # An answer without a body (204) is the release of the revision asked for.
        return self._parse(WriteResult, _asked(data, agent_id_of(version_id), version_id),
                           f"POST {path}")

    def _shows_released(self, version_id: str) -> bool:
        """Whether the platform shows ``version_id`` released, after a 409 on its release.

        A concurrent run's release, just made, may be answered 409 "already released" before
        the platform's reads show it (lists, and on some platforms a revision's status read
        by its id, trail the writes): both are read again with growing pauses, up to
        ``VISIBILITY_TIMEOUT_S``, each pause logged with its reason. A 409 for another
        reason reads as not released to the end, and is raised then."""
        pauses = bounded_pauses(defaults.VISIBILITY_TIMEOUT_S)
        while True:
            entry = self._entry(version_id)
            if entry is not None and entry.status == "released":
                return True
            if self._status_by_id(version_id) == "released":
                return True
            pause = next(pauses, None)
            if pause is None:
                return False
            logger.info("releasing %s answered 409, and the platform does not show it "
                        "released yet: reading again in %.2f s", version_id, pause)
            self._client.pause(pause)

    def created_at(self, version_id: str, read: Agent | None = None) -> str | None:
        """When revision ``version_id`` was created (None when the platform does not say).

        The contract documents ``created_at`` in the versions list, which may show a revision
        just written late; the revision read by its id is seldom late, but its ``created_at``
        is not documented. So the revision says first (``read``: the caller's read of it,
        else one now), and the versions list when it does not (or is not found yet).
        """
        try:
            revision = read if read is not None else self.get(version_id)
        except NotFoundError:
            revision = None  # a read by id that trails the write that made it
        if revision is not None and revision.created_at:
            return revision.created_at
        entry = self._entry(version_id)
        return entry.created_at if entry is not None else None

    def _status_by_id(self, version_id: str) -> str | None:
        """The revision's status read by its id; None while such a read does not find it
        (reads by id may trail the writes, as lists do; the caller polls)."""
        try:
            return self.get(version_id, patient=False).status
        except NotFoundError:
            return None

    def _entry(self, version_id: str) -> VersionEntry | None:
        """The versions list's entry for ``version_id``, matched by id or by number (entries
        may spell their ids without the agent's)."""
        return entry_for(self.list_versions(agent_id_of(version_id)), version_id)

    def list(self) -> Iterator[AgentSummary]:
        """Every agent of this kind, following the cursor across pages."""
        return self._list(AgentSummary, self.base_path, "data")

    def delete(self, agent_id: str) -> DeleteResult:
        """Delete the agent and all its revisions."""
        return _deleted(self._client, self._path(agent_id), agent_id)


class ConversationsResource(_Resource):
    """``/conversations``: start, read, list and delete conversations, refresh a
    conversation's token and replace its context (``client.conversations``)."""

    path = "/conversations"

    def create(self, agent_id: str, channel: str | Mapping[str, Any] = "chat_realtime", *,
               livemode: bool = True, context: Mapping[str, Any] | None = None,
               override_config: Mapping[str, Any] | None = None) -> ConversationCreated:
        """Start a conversation with ``ca_x`` (released revision) or ``ca_x@vN``. Sent once
        after any failure that may have created it (a livemode conversation may call)."""
        body = _conversation_body(agent_id, channel, livemode, context, override_config)
        return self._created(self._call(ConversationCreated, "POST", self.path, json=body))

    def create_test(self, agent_id: str, channel: str | Mapping[str, Any] = "chat_realtime",
                    *, context: Mapping[str, Any] | None = None,
                    override_config: Mapping[str, Any] | None = None
                    ) -> tuple[ConversationCreated, bool]:
        """Create a testmode conversation, retried like an idempotent request: a duplicate
        never started costs nothing and can be deleted. Returns the conversation and whether
        an earlier attempt may have created another one (``smoke.orphans`` finds it)."""
        body = _conversation_body(agent_id, channel, False, context, override_config)
        data, maybe_duplicated = self._client.post_repeatable(self.path, json=body)
        created = self._parse(ConversationCreated, data, f"POST {self.path}")
        return self._created(created), maybe_duplicated

    def _created(self, created: ConversationCreated) -> ConversationCreated:
        """The channel with absolute URLs: a relative one resolved against the URL of the
        create request, a missing session URL built from the WebSocket base URL and the
        token (``session_url`` is only [decided], not documented)."""
        channel = created.channel
        base = f"{self._client.base_url}{self.path}"
        with noting(self._client.notices):
            if is_relative(channel.session_url):
                note("session_url", "relative")
            elif not channel.session_url and channel.type == "chat_realtime":
                note("session_url", "absent")
        session_url = resolved_url(channel.session_url, base, websocket=True)
        if not session_url and channel.token:
            session_url = self._client.session_url(created.id, channel.token)
        update = {"session_url": session_url,
                  "events_url": resolved_url(channel.events_url, base)}
        return created.model_copy(update={"channel": channel.model_copy(update=update)})

    def get(self, conversation_id: str) -> Conversation:
        return self._call(Conversation, "GET", f"{self.path}/{segment(conversation_id)}")

    def in_full(self, listed: Conversation) -> Conversation | None:
        """An item of a conversations list as the conversation itself: read by id when the
        item shows no ``override_config`` (a platform may list conversations as summaries,
        leaving it to the object), else the item as it is; None when it is gone since."""
        if not listed.shows_no_override:
            return listed
        try:
            return self.get(listed.id)
        except NotFoundError:
            return None

    def list(self, *, created_at_gte: str | None = None, created_at_lt: str | None = None,
             completed_at_gte: str | None = None, completed_at_lt: str | None = None
             ) -> Iterator[Conversation]:
        filters = {"created_at_gte": created_at_gte, "created_at_lt": created_at_lt,
                   "completed_at_gte": completed_at_gte, "completed_at_lt": completed_at_lt}
        return self._list(Conversation, self.path, "data", filters)

    def delete(self, conversation_id: str) -> DeleteResult:
        """Delete a testmode conversation (or a livemode one not yet started)."""
        path = f"{self.path}/{segment(conversation_id)}"
        return _deleted(self._client, path, conversation_id)

    def refresh_token(self, conversation_id: str) -> TokenRefresh:
        """A new ephemeral token; the previous one stops working, so a repeat is harmless."""
        return self._call(TokenRefresh, "POST",
                          f"{self.path}/{segment(conversation_id)}/token/refresh",
                          idempotent=True)

    def update_context(self, conversation_id: str, context: Mapping[str, Any]
                       ) -> dict[str, Any]:
        """Replace the conversation's context; the agent emits ``conversation.context.updated``.

        Setting the same context twice leaves the same state, so it is retried like a PUT.
        """
        data = self._client.request_json(
            "POST", f"{self.path}/{segment(conversation_id)}/context",
            json={"context": dict(context)}, idempotent=True)
        return data if isinstance(data, dict) else {}


def _conversation_body(agent_id: str, channel: str | Mapping[str, Any], livemode: bool,
                       context: Mapping[str, Any] | None,
                       override_config: Mapping[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agent_id": agent_id,
        "channel": {"type": channel} if isinstance(channel, str) else dict(channel),
        "livemode": livemode,
    }
    if context is not None:
        body["context"] = dict(context)
    if override_config is not None:
        body["override_config"] = dict(override_config)
    return body


class ProceduresResource(_Resource):
    """``/procedures``: the runs of procedural agents (post-processing) on conversations,
    started or listed by agent or by conversation (``client.procedures``)."""

    path = "/procedures"

    def create(self, agent_id: str, conversation_id: str, *,
               livemode: bool = True) -> ProcedureCreated:
        """Run a procedural agent (``pa_x`` released, or ``pa_x@vN``) on a conversation.

        A testmode run is retried like an idempotent request (a second run of an analysis
        harms nothing); a livemode run may post to Slack or a webhook, so it is sent once.
        """
        body = {"agent_id": agent_id, "conversation_id": conversation_id, "livemode": livemode}
        if livemode:
            return self._call(ProcedureCreated, "POST", self.path, json=body)
        data, _ = self._client.post_repeatable(self.path, json=body)
        return self._parse(ProcedureCreated, data, f"POST {self.path}")

    def get(self, procedure_id: str) -> Procedure:
        return self._call(Procedure, "GET", f"{self.path}/{segment(procedure_id)}")

    def list(self, *, agent_id: str | None = None,
             conversation_id: str | None = None) -> Iterator[Procedure]:
        params = {"agent_id": agent_id, "conversation_id": conversation_id}
        return self._list(Procedure, self.path, "page", params)

    def list_for_conversation(self, conversation_id: str) -> Iterator[Procedure]:
        path = f"/conversations/{segment(conversation_id)}/procedures"
        return self._list(Procedure, path, "page")

    def list_for_agent(self, agent_id: str) -> Iterator[Procedure]:
        return self._list(Procedure, f"/procedural_agents/{segment(agent_id)}/procedures",
                          "page")


class CustomersResource(_Resource):
    """``/customers``: read one customer (``client.customers``)."""

    def get(self, customer_id: str) -> Customer:
        return self._call(Customer, "GET", f"/customers/{segment(customer_id)}")


def _deleted(client: ApiTransport, path: str, resource_id: str) -> DeleteResult:
    """DELETE ``path``; a 404 (410) reaching here means an earlier attempt already deleted
    it."""
    response = client.request("DELETE", path)
    if response.status_code in (404, 410) or not response.content.strip():
        return DeleteResult(id=resource_id, deleted=True)
    data = decode_json(response, "DELETE", path)
    with noting(client.notices):
        result = parse(DeleteResult, data, f"DELETE {path}")
    return result if result.id else result.model_copy(update={"id": resource_id})
