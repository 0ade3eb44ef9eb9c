"""``transcript`` as a service: one conversation's events, read once or followed live.

The conversation is looked up first, so that a wrong id is a clear 404 before any stream is
opened, and a conversation that has not started yet is said to be waited for. A finished
conversation can also become a smoke test (``conversation_test``), printed for review or
appended to its agent's file (``write_conversation_test``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from operator_iac.errors import UsageError
from operator_iac.services.feedback import QUIET, Feedback
from operator_iac.smoke.from_conversation import TurnSeen

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.api.events import Event
    from operator_iac.api.models import Procedure
    from operator_iac.services.target import Target
    from operator_iac.smoke.collector import OnEvent


def read_transcript(client: OperatorClient, conversation_id: str, *, follow: bool = False,
                    on_event: OnEvent | None = None, feedback: Feedback = QUIET) -> list[Event]:
    """The conversation's events; with ``follow``, until it ends, each also handed to
    ``on_event`` as it arrives."""
    from operator_iac.smoke.collector import read_events

    conversation = client.conversations.get(conversation_id)
    if follow and not conversation.is_started:
        feedback.info(f"{conversation_id} has not started yet ({conversation.status}); waiting "
                      "for it to start and end (Ctrl-C to stop)")
    return read_events(client, conversation_id, follow=follow, on_event=on_event)


# ---- conversations become smoke tests ----------------------------------------------------


@dataclass(frozen=True)
class ConversationTest:
    """A smoke test made from a conversation: its declaration (``data``), its text for an
    agent file (``text``, marked for review), what the conversation did, and whose it was."""

    conversation_id: str
    version_id: str | None  # the revision it talked to (ca_x@vN)
    agent_key: str | None  # that agent's key in this project (None: not known here)
    data: dict[str, Any]
    text: str
    turns: tuple[TurnSeen, ...]
    status: str | None


def conversation_test(client: OperatorClient, conversation_id: str, *,
                      name: str | None = None, target: Target | None = None) -> ConversationTest:
    """The smoke test that replays ``conversation_id``: its user turns as the script, its tool
    calls, end status and procedure outputs as suggested assertions. With ``target``, agents
    are named by their keys in the project (procedures of other agents are left out)."""
    from operator_iac.api.models import agent_id_of
    from operator_iac.smoke.collector import read_events
    from operator_iac.smoke.from_conversation import ended_status, observe, suggest_test, yaml_item

    conversation = client.conversations.get(conversation_id)
    events = read_events(client, conversation_id)
    procedures = list(client.procedures.list_for_conversation(conversation_id))
    keys = _keys_by_id(client, target) if target is not None else {}
    left_out: list[str] = []

    def key_of(procedure: Procedure) -> str | None:
        key = keys.get(agent_id_of(procedure.agent_id or procedure.agent_version_id or ""))
        if key is None:
            left_out.append(f"procedure {procedure.name or procedure.agent_id} "
                            f"({procedure.status}): not an agent of this project")
        return key

    turns = observe(events)
    status = ended_status(events, conversation.status)
    data = suggest_test(name or f"replays {conversation_id}", turns, status, procedures, key_of)
    agent = conversation.agent_id
    return ConversationTest(conversation_id, agent, keys.get(agent_id_of(agent or "")), data,
                            yaml_item(data, turns, conversation_id, left_out), tuple(turns),
                            status)


def _keys_by_id(client: OperatorClient, target: Target) -> dict[str, str]:
    """Platform id -> key of every agent this project owns there."""
    from operator_iac.plan.identity import resolve_ownership
    from operator_iac.services.remote import read_project_agents
    from operator_iac.services.rollback import SecretsNotNeeded

    desired = target.desired(SecretsNotNeeded(os.environ))
    snapshot = read_project_agents(client, target.owner, desired,
                                   cache=target.revision_cache)
    ownership = resolve_ownership(desired, snapshot, target.owner)
    return ownership.key_by_id()


def write_conversation_test(target: Target, made: ConversationTest) -> Path:
    """Append the test to its agent's file, every other byte of the file kept."""
    from operator_iac.spec.append import append_item
    from operator_iac.spec.models import ConversationalAgentSpec, SmokeTest

    if made.agent_key is None or made.agent_key not in target.project.agents:
        raise UsageError(f"{made.conversation_id} was with {made.version_id}, which is not an "
                         "agent of this project in this environment; print the test without "
                         "--write and add it by hand")
    agent = target.project.agents[made.agent_key]
    SmokeTest.model_validate(made.data)  # what is written must load
    taken = [t.name for t in agent.spec.smoke] \
        if isinstance(agent.spec, ConversationalAgentSpec) else []
    if made.data["name"] in taken:
        raise UsageError(f"{made.agent_key} already has a smoke test named "
                         f"{made.data['name']!r}; choose another with --name")
    raw = agent.path.read_bytes().decode("utf-8")
    newline = "\r\n" if "\r\n" in raw else "\n"
    item = made.text.replace("\n", newline)
    agent.path.write_bytes(append_item(raw, "smoke", item, agent.path).encode("utf-8"))
    return agent.path
