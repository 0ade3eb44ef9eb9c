"""REST routes of conversational and procedural agents (operator-api.md sections 3 and 4)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from operator_iac.emulator import compat, http_helpers, present
from operator_iac.emulator.agents import KINDS, Kind
from operator_iac.emulator.http_helpers import cursor_of, modes, ok, path_param, read_object
from operator_iac.emulator.lifecycle import RELEASED
from operator_iac.emulator.problems import Problem, conflict, invalid, not_found
from operator_iac.emulator.state import EmulatorState
from operator_iac.emulator.store import decode_cursor
from operator_iac.emulator.validation import AgentFields, validate_agent_body


def agent_routes(state: EmulatorState) -> list[BaseRoute]:
    return [route for kind in KINDS for route in _kind_routes(state, kind)]


def _kind_routes(state: EmulatorState, kind: Kind) -> list[BaseRoute]:
    agents = state.agents

    def stored(fields: AgentFields, creating: bool) -> AgentFields:
        """The fields as this platform keeps them (compatibility modes)."""
        fields = stored_fields(fields, modes(state))
        if state.faults.has("dated_on_create" if creating else "dated_on_put"):
            # one of the platform's two paths alone
            fields = fields.model_copy(update={"config": compat.dated_models(fields.config)})
        if creating and state.faults.has("create_ignores_postprocess"):
            fields = fields.model_copy(update={"postprocess_agents": None})
        return fields

    def require_short_description(fields: AgentFields) -> None:
        """Under ``long_descriptions_refused``: a description over the limit is refused."""
        if state.faults.has("long_descriptions_refused") and fields.description is not None \
                and len(fields.description) > compat.DESCRIPTION_LIMIT:
            raise invalid(f"description: at most {compat.DESCRIPTION_LIMIT} characters")

    def require_unique_name(fields: AgentFields, agent_id: str = "") -> None:
        """Under ``unique_names``: a name another agent of the kind holds is refused."""
        if not state.faults.has("unique_names") or "name" not in fields.model_fields_set \
                or fields.name is None:
            return
        holder = agents.holder_of_name(kind, fields.name, other_than=agent_id)
        if holder is not None:
            raise conflict("name_taken", f"the name {fields.name!r} is taken by {holder}")

    async def create(request: Request) -> Response:
        fields = validate_agent_body(kind.prefix, await read_object(request), creating=True)
        require_short_description(fields)
        require_unique_name(fields)
        made = agents.create(kind, stored(fields, creating=True))
        if state.faults.has("create_releases"):
            made = agents.release(kind, f"{made.agent_id}@v{made.number}")
            if state.faults.has("draft_after_release"):
                agents.open_draft(kind, made.agent_id)
        return ok(present.ref(made))

    async def list_agents(request: Request) -> Response:
        revisions, cursor = agents.page(kind, cursor_of(request), http_helpers.page_size(state),
                                        newest_first=state.faults.has("newest_first_lists"),
                                        by_released=state.faults.has("list_released"))
        shown = modes(state)
        items = [present.agent_list_item(r, shown) for r in revisions]
        if "numeric_cursors" in shown:  # where the next page begins, and whether there is one
            return ok(compat.shown({"data": items, "cursor": decode_cursor(cursor),
                                    "has_more": cursor is not None}, shown))
        return ok(compat.shown({"data": items, "cursor": cursor}, shown))

    async def get(request: Request) -> Response:
        ref = path_param(request, "ref")
        try:
            return ok(present.agent(agents.seen(kind, ref), modes(state)))
        except Problem as problem:
            return ok(state.stub_of_deleted(ref.split("@")[0], problem))

    async def update(request: Request) -> Response:
        if state.faults.has("bare_id_writes") and "@" in path_param(request, "ref"):
            raise not_found(kind.label, path_param(request, "ref"))
        fields = validate_agent_body(kind.prefix, await read_object(request), creating=False)
        require_short_description(fields)
        require_unique_name(fields, path_param(request, "ref").split("@")[0])
        try:
            return ok(present.ref(agents.update(kind, path_param(request, "ref"),
                                                stored(fields, creating=False))))
        except Problem as problem:
            if problem.code == "version_immutable" and state.faults.has("immutable_422"):
                raise invalid(problem.message) from problem
            raise

    async def delete(request: Request) -> Response:
        deleted = agents.delete(kind, path_param(request, "ref"))
        state.deleted.add(deleted)
        return ok({"id": deleted, "deleted": True})

    async def versions(request: Request) -> Response:
        revisions = agents.seen_versions(kind, path_param(request, "ref"))
        shown = modes(state)
        return ok(compat.shown({"data": [present.version_item(r, shown) for r in revisions]},
                               shown))

    async def release(request: Request) -> Response:
        ref = path_param(request, "ref")
        if state.faults.has("release_conflict") and agents.get(kind, ref).status == RELEASED:
            raise conflict("already_released", f"{ref} is already released")
        released = agents.release(kind, ref)
        if state.faults.has("draft_after_release"):
            agents.open_draft(kind, released.agent_id)
        return ok(present.ref(released))

    base = f"/{kind.collection}"
    return [
        Route(base, create, methods=["POST"]),
        Route(base, list_agents, methods=["GET"]),
        Route(base + "/{ref}", get, methods=["GET"]),
        Route(base + "/{ref}", update, methods=["PUT"]),
        Route(base + "/{ref}", delete, methods=["DELETE"]),
        Route(base + "/{ref}/versions", versions, methods=["GET"]),
        Route(base + "/{ref}/release", release, methods=["POST"]),
    ]


def stored_fields(fields: AgentFields, shown: frozenset[str]) -> AgentFields:
    """The fields of a write as a platform with the modes ``shown`` stores them (text
    trimmed or normalised, lists sorted, model aliases dated); the fields left out stay out."""
    return AgentFields.model_construct(
        _fields_set=fields.model_fields_set,
        name=compat.stored_text(fields.name, shown),
        description=compat.stored_description(fields.description, shown),
        config=compat.stored_config(fields.config, shown),
        postprocess_agents=fields.postprocess_agents)
