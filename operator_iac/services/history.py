"""``history`` as a service: read the platform once and list one agent's revisions (found and
described by ``operator_iac.plan.history``). Rollback starts from the same ``LoadedAgent``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from operator_iac.defaults import PARALLELISM
from operator_iac.plan.history import AgentHistory, LoadedAgent, agent_history, find_agent
from operator_iac.services.feedback import QUIET, Feedback

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.plan.marker import Owner
    from operator_iac.services.target import Target
    from operator_iac.state.cache import RevisionCache


# ---- finding the agent -----------------------------------------------------------------------


def load_agent(client: OperatorClient, project: Owner | str, key: str, *,
               parallelism: int = PARALLELISM,
               cache: RevisionCache | None = None) -> LoadedAgent:
    """Read the platform and find the agent this project's marker names ``key`` on."""
    from operator_iac.services.remote import read_project_agents

    snapshot = read_project_agents(client, project, keys=[key], parallelism=parallelism,
                                   cache=cache)
    return find_agent(snapshot, project, key)


# ---- history ---------------------------------------------------------------------------------


def read_history(target: Target, client: OperatorClient, key: str, *,
                 parallelism: int = PARALLELISM,
                 feedback: Feedback = QUIET) -> AgentHistory:
    """``operator-iac history KEY``: read the platform once and list the agent's revisions."""
    with feedback.activity() as say:
        say(f"Reading agents from {target.api_url} ...")
        loaded = load_agent(client, target.owner, key, parallelism=parallelism,
                            cache=target.revision_cache)
    return agent_history(loaded, target.project.name)
