"""Test controls under ``/_emulator`` (bearer key required, no version header, no faults).

``GET|POST|DELETE /_emulator/faults``     read, change (partial), reset faults and compat modes
``POST /_emulator/clock``                 ``{"advance_s": N}`` moves the clock (token expiry)
``GET|DELETE /_emulator/requests``        the request log (method, path, status)
``POST /_emulator/brain``                 ``{"silent": bool, "rules": {...}}``
``PUT /_emulator/revisions/{version_id}`` edit any revision in place, as the dashboard could
``POST /_emulator/conversations/{id}/events`` ``{"payloads": [...]}`` appends raw events
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from operator_iac.emulator import present
from operator_iac.emulator.agents import Revision
from operator_iac.emulator.brain import Brain
from operator_iac.emulator.clock import iso
from operator_iac.emulator.events import Envelope
from operator_iac.emulator.http_helpers import modes, ok, path_param, read_object
from operator_iac.emulator.problems import invalid
from operator_iac.emulator.routes_agents import stored_fields
from operator_iac.emulator.rules import RulesError, parse_rules
from operator_iac.emulator.state import EmulatorState
from operator_iac.emulator.validation import validate_agent_body

PREFIX = "/_emulator"


def admin_routes(state: EmulatorState) -> list[BaseRoute]:
    async def get_faults(request: Request) -> Response:
        return ok(state.faults.snapshot())

    async def set_faults(request: Request) -> Response:
        body = await read_object(request)
        if body.pop("reset", False):
            state.faults.reset()
        try:
            state.faults.update(**body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise invalid(f"faults.{where}: {first['msg']}") from exc
        return ok(state.faults.snapshot())

    async def reset_faults(request: Request) -> Response:
        state.faults.reset()
        return ok(state.faults.snapshot())

    async def advance_clock(request: Request) -> Response:
        seconds = (await read_object(request)).get("advance_s", 0)
        if not isinstance(seconds, int | float) or isinstance(seconds, bool) or seconds < 0:
            raise invalid("advance_s: must be a non-negative number")
        return ok({"now": iso(state.clock.advance(float(seconds)))})

    async def list_requests(request: Request) -> Response:
        return ok({"data": [{"method": r.method, "path": r.path, "status": r.status}
                            for r in state.requests]})

    async def clear_requests(request: Request) -> Response:
        state.requests.clear()
        return ok({"data": []})

    async def set_brain(request: Request) -> Response:
        body = await read_object(request)
        try:
            rules = parse_rules(body.get("rules"), "rules")
        except RulesError as exc:
            raise invalid(str(exc)) from exc
        state.brain = Brain(rules, bool(body.get("silent", False)), state.dice)
        return ok({"silent": state.brain.silent, "rules": len(rules.rules)})

    async def edit(request: Request) -> Response:
        revision = edit_revision(state, path_param(request, "version_id"),
                                 await read_object(request))
        return ok(present.agent(revision, modes(state)))

    async def inject(request: Request) -> Response:
        payloads = (await read_object(request)).get("payloads")
        envelopes = inject_events(state, path_param(request, "conversation_id"), payloads)
        return ok({"count": len(envelopes)})

    return [
        Route(f"{PREFIX}/faults", get_faults, methods=["GET"]),
        Route(f"{PREFIX}/faults", set_faults, methods=["POST"]),
        Route(f"{PREFIX}/faults", reset_faults, methods=["DELETE"]),
        Route(f"{PREFIX}/clock", advance_clock, methods=["POST"]),
        Route(f"{PREFIX}/requests", list_requests, methods=["GET"]),
        Route(f"{PREFIX}/requests", clear_requests, methods=["DELETE"]),
        Route(f"{PREFIX}/brain", set_brain, methods=["POST"]),
        Route(f"{PREFIX}/revisions/{{version_id}}", edit, methods=["PUT"]),
        Route(f"{PREFIX}/conversations/{{conversation_id}}/events", inject, methods=["POST"]),
    ]


# ---- shared with the Python controls of ``EmulatorServer`` ----------------------------------


def edit_revision(state: EmulatorState, version_id: str, body: dict[str, Any]) -> Revision:
    """Change a revision in place, as a dashboard user could (even a released one)."""
    prefix = version_id.partition("_")[0]
    if prefix not in ("ca", "pa"):
        raise invalid("version_id: must name a ca_ or pa_ revision")
    fields = validate_agent_body(prefix, body, creating=False)
    return state.agents.edit_in_place(version_id, stored_fields(fields, modes(state)))


def inject_events(state: EmulatorState, conversation_id: str, payloads: Any) -> list[Envelope]:
    """Append raw events to a conversation (each payload an object with a string type)."""
    conversation = state.conversations.get(conversation_id)
    if not isinstance(payloads, list) or not all(_is_payload(p) for p in payloads):
        raise invalid("payloads: must be a list of objects with a string type")
    return state.events.append_many(conversation.id, conversation.agent_id,
                                    conversation.livemode, payloads)


def _is_payload(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("type"), str)
