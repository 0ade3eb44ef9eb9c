"""REST routes of procedures, the runs of procedural agents (operator-api.md section 4)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from operator_iac.emulator import compat, http_helpers, present
from operator_iac.emulator.agents import PROCEDURAL
from operator_iac.emulator.http_helpers import cursor_of, modes, ok, path_param, read_object
from operator_iac.emulator.state import EmulatorState
from operator_iac.emulator.validation import ProcedureCreate, validate


def procedure_routes(state: EmulatorState) -> list[BaseRoute]:
    procedures = state.procedures

    def page(request: Request, agent_id: str | None, conversation_id: str | None) -> Response:
        items, cursor = procedures.page(agent_id, conversation_id, cursor_of(request),
                                        http_helpers.page_size(state))
        shown = modes(state)
        return ok(compat.shown({"page": [present.procedure(p, shown) for p in items],
                                "cursor": cursor}, shown))

    async def create(request: Request) -> Response:
        body = validate(ProcedureCreate, await read_object(request))
        return ok({"id": procedures.create(body).id})

    async def get(request: Request) -> Response:
        return ok(present.procedure(procedures.get(path_param(request, "procedure_id")),
                                     modes(state)))

    async def list_procedures(request: Request) -> Response:
        query = request.query_params
        return page(request, query.get("agent_id") or None, query.get("conversation_id") or None)

    async def of_conversation(request: Request) -> Response:
        conversation_id = path_param(request, "conversation_id")
        state.conversations.get(conversation_id)
        return page(request, None, conversation_id)

    async def of_agent(request: Request) -> Response:
        agent_ref = path_param(request, "ref")
        state.agents.get(PROCEDURAL, agent_ref)
        return page(request, agent_ref, None)

    return [
        Route("/procedures", create, methods=["POST"]),
        Route("/procedures", list_procedures, methods=["GET"]),
        Route("/procedures/{procedure_id}", get, methods=["GET"]),
        Route("/conversations/{conversation_id}/procedures", of_conversation, methods=["GET"]),
        Route("/procedural_agents/{ref}/procedures", of_agent, methods=["GET"]),
    ]
