"""The dashboard, as plain HTTP: what a person editing an agent in Operator's web app sends.

The dashboard reads the revision it starts from, changes fields, and sends the whole body back
with ``PUT`` (which writes into the draft, or starts one); "Release" then releases that draft.
It keeps the description as it was, ownership marker included. Nothing here goes through
operator-iac's client, so that a bug the client shares with the tool cannot hide.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .raw_http import raw_client

if TYPE_CHECKING:
    from operator_iac.emulator.server import EmulatorServer

Edit = Callable[[dict[str, Any]], None]


@dataclass
class Dashboard:
    server: EmulatorServer

    def _kind(self, agent_id: str) -> str:
        return "conversational_agents" if agent_id.startswith("ca_") else "procedural_agents"

    def versions(self, agent_id: str) -> list[dict[str, Any]]:
        with raw_client(self.server) as http:
            response = http.get(f"/{self._kind(agent_id)}/{agent_id}/versions")
            response.raise_for_status()
            data: list[dict[str, Any]] = response.json()["data"]
        if data and "version_status" not in data[0]:
            _infer_statuses(data)
        return data

    def revision(self, agent_id: str, status: str = "released") -> dict[str, Any]:
        """The agent's revision with ``status`` (``released`` or ``draft``; on a platform
        that says only ``is_released``, the draft is the newest revision after the
        released one)."""
        entry = next(v for v in self.versions(agent_id) if _status(v) == status)
        with raw_client(self.server) as http:
            response = http.get(f"/{self._kind(agent_id)}/{entry['version_id']}")
            response.raise_for_status()
            body: dict[str, Any] = response.json()
            return body

    def edit(self, agent_id: str, edit: Edit, *, start_from: str = "released") -> str:
        """Change the agent as a person would (``edit`` changes a copy of the revision's
        body in place) and save it as the draft; returns the draft's version id."""
        body = copy.deepcopy(self.revision(agent_id, start_from))
        edit(body)
        fields = {k: body[k] for k in ("name", "description", "config", "postprocess_agents")
                  if k in body}
        with raw_client(self.server) as http:
            response = http.put(f"/{self._kind(agent_id)}/{agent_id}", json=fields)
            response.raise_for_status()
            version_id: str = response.json()["version_id"]
            return version_id

    def release(self, version_id: str) -> None:
        with raw_client(self.server) as http:
            response = http.post(f"/{self._kind(version_id)}/{version_id}/release")
            response.raise_for_status()

    def edit_and_release(self, agent_id: str, edit: Edit) -> str:
        version_id = self.edit(agent_id, edit)
        self.release(version_id)
        return version_id


def _status(version: dict[str, Any]) -> str:
    return str(version.get("version_status") or version.get("_status"))


def _infer_statuses(versions: list[dict[str, Any]]) -> None:
    def number(v: dict[str, Any]) -> int:
        return int(str(v["version_id"]).rsplit("@v", 1)[1])

    released = max((number(v) for v in versions if v.get("is_released")), default=-1)
    newest = max(number(v) for v in versions)
    for version in versions:
        n = number(version)
        version["_status"] = "released" if version.get("is_released") else \
            "draft" if n == newest and n > released else "archived"


def set_at(*path: str, value: Any) -> Edit:
    """An edit that sets ``config.<path>`` to ``value``."""
    def change(body: dict[str, Any]) -> None:
        node = body["config"]
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return change


def append_to_prompt(text: str) -> Edit:
    def change(body: dict[str, Any]) -> None:
        prompt = body["config"]["runtime"]["prompt"]
        prompt["text"] = prompt["text"].rstrip("\n") + f"\n{text}\n"
    return change
