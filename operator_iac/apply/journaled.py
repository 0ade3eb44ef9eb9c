"""An agents resource whose writes are noted in the run's journal before they are sent
(``state.journal``), so that a run that dies with a write in flight, or before the lists
show its writes, leaves the next run on this machine what it needs to wait for.

A write is noted before it is sent because a run killed between sending it and reading its
answer is the likeliest death of all (most of an apply is spent waiting on requests): the
platform may have done what was asked. The next run tells what happened by reading by id,
which is never late (``services.remote``). A write the platform refused made nothing, and is
forgotten at once; one whose answer was lost stays noted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from operator_iac.api.models import agent_id_of
from operator_iac.errors import AmbiguousWriteError, OperatorIacError

if TYPE_CHECKING:
    from operator_iac.api.models import DeleteResult, WriteResult
    from operator_iac.api.resources import AgentsResource
    from operator_iac.apply.visibility import WriteLog
    from operator_iac.spec.desired import AgentKind
    from operator_iac.state.journal import NotedWhat

T = TypeVar("T")


class JournaledAgents:
    """``agents`` (one kind's resource) with ``update``, ``release`` and ``delete`` noted in
    ``log``'s journal first; every other call goes to ``agents`` as it is."""

    def __init__(self, agents: AgentsResource, kind: AgentKind, log: WriteLog) -> None:
        self._agents, self._kind, self._log = agents, kind, log

    def __getattr__(self, name: str) -> Any:
        return getattr(self._agents, name)

    def update(self, id_or_version_id: str, **fields: Any) -> WriteResult:
        return self._noted("drafting", id_or_version_id,
                           lambda: self._agents.update(id_or_version_id, **fields))

    def release(self, version_id: str) -> WriteResult:
        return self._noted("releasing", version_id, lambda: self._agents.release(version_id))

    def delete(self, agent_id: str) -> DeleteResult:
        return self._noted("deleting", agent_id, lambda: self._agents.delete(agent_id))

    def _noted(self, what: NotedWhat, target: str, send: Callable[[], T]) -> T:
        agent_id = agent_id_of(target)
        noted = self._log.intends(what, self._kind, agent_id,
                                  target if "@" in target else None)
        try:
            answer = send()
        except AmbiguousWriteError:
            raise  # it may have been done: the note stays
        except OperatorIacError:
            self._log.refused(noted)  # refused: nothing was done
            raise
        self._log.answered(noted, agent_id, getattr(answer, "version_id", None))
        return answer
