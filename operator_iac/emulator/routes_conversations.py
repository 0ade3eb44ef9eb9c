"""REST routes of conversations and customers (operator-api.md section 5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from operator_iac.emulator import compat, present
from operator_iac.emulator.agents import CONVERSATIONAL
from operator_iac.emulator.clock import iso
from operator_iac.emulator.conversations import TimeFilters, refuse_unless_in_progress
from operator_iac.emulator.http_helpers import (
    base_urls,
    cursor_of,
    modes,
    ok,
    page_size,
    path_param,
    read_object,
    time_param,
)
from operator_iac.emulator.lifecycle import RELEASED
from operator_iac.emulator.problems import Problem, conflict
from operator_iac.emulator.state import EmulatorState
from operator_iac.emulator.validation import ContextUpdate, ConversationCreate, validate

# What a conversations list item leaves out where lists give summaries (``summary_lists``).
_LEFT_OUT_OF_SUMMARIES = frozenset({"override_config", "context", "custom_fields"})


def conversation_routes(state: EmulatorState) -> list[BaseRoute]:
    conversations = state.conversations

    async def create(request: Request) -> Response:
        body = validate(ConversationCreate, await read_object(request))
        if state.faults.has("released_only_conversations"):
            _refuse_unreleased(state, body.agent_id)
        if body.override_config is not None:  # stored like any config the platform keeps
            body = body.model_copy(update={"override_config": compat.stored_config(
                body.override_config, modes(state))})
        conversation, token = conversations.create(body)
        http_base, ws_base = base_urls(request)
        channel = present.created_channel(conversation, token.value, http_base, ws_base,
                                          modes(state))
        return ok({"id": conversation.id, "channel": channel})

    async def list_conversations(request: Request) -> Response:
        filters = TimeFilters(**{name: time_param(request, name)
                                 for name in TimeFilters.__dataclass_fields__})
        page, cursor = conversations.page(filters, cursor_of(request), page_size(state))
        shown = modes(state)
        items = [present.conversation(c, shown) for c in page]
        if "summary_lists" in shown:  # summaries: the whole object is read by id
            items = [{k: v for k, v in item.items() if k not in _LEFT_OUT_OF_SUMMARIES}
                     for item in items]
        return ok(compat.shown({"data": items, "cursor": cursor}, shown))

    async def get(request: Request) -> Response:
        conversation_id = path_param(request, "conversation_id")
        try:
            conversation = conversations.get(conversation_id)
        except Problem as problem:
            return ok(state.stub_of_deleted(conversation_id, problem))
        return ok(present.conversation(conversation, modes(state)))

    async def delete(request: Request) -> Response:
        conversation_id = path_param(request, "conversation_id")
        kept = present.conversation(conversations.get(conversation_id), modes(state)) \
            if state.faults.has("soft_deletes") else None
        conversations.delete(conversation_id)
        state.deleted.add(conversation_id)
        if kept is not None:  # still read, marked deleted; listed no more
            state.soft_deleted[conversation_id] = kept
        return ok({"id": conversation_id, "deleted": True})

    async def refresh_token(request: Request) -> Response:
        token = conversations.refresh_token(path_param(request, "conversation_id"))
        return ok({"token": token.value, "expires_at": iso(token.expires_at)})

    async def update_context(request: Request) -> Response:
        conversation_id = path_param(request, "conversation_id")
        body = validate(ContextUpdate, await read_object(request))
        faults = state.faults
        if faults.has("context_in_progress_only"):
            refuse_unless_in_progress(conversations.get(conversation_id))
        event = conversations.update_context(conversation_id, body.context,
                                             bare=faults.has("bare_context_event"))
        merged = conversations.get(conversation_id).context
        return ok({"id": conversation_id, "context": merged, "event_id": event["id"]})

    async def customer(request: Request) -> Response:
        return ok(present.customer(conversations.customer(path_param(request, "customer_id"))))

    one = "/conversations/{conversation_id}"
    return [
        Route("/conversations", create, methods=["POST"]),
        Route("/conversations", list_conversations, methods=["GET"]),
        Route(one, get, methods=["GET"]),
        Route(one, delete, methods=["DELETE"]),
        Route(one + "/token/refresh", refresh_token, methods=["POST"]),
        Route(one + "/context", update_context, methods=["POST"]),
        Route("/customers/{customer_id}", customer, methods=["GET"]),
    ]


def _refuse_unreleased(state: EmulatorState, agent_id: str) -> None:
    """Only released revisions can be conversed with (a compatibility mode)."""
    if "@" not in agent_id:
        return  # the bare id means the released revision anyway
    revision = state.agents.get(CONVERSATIONAL, agent_id)
    if revision.status != RELEASED:
        raise conflict("version_not_released",
                       f"{agent_id} is {revision.status}; only the released revision of an "
                       "agent can be conversed with")
