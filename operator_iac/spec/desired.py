"""The desired state of one agent in one environment: what the declarations ask the platform
to hold, in the API's own shape.

Built from an agent file by ``operator_iac.spec.resolve`` (prompt files inlined, ``${var:...}``
and ``${env:...}`` substituted, the environment's overrides deep-merged). References to other
agents stay as keys here; the planner resolves them to ids. This is the input the planner
compares with the remote snapshot (``operator_iac.state``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

AgentKind = Literal["conversational_agent", "procedural_agent"]

# Prefix of a reference to another declared agent inside config (transfers): "agent:<key>".
AGENT_REF_PREFIX = "agent:"


@dataclass(frozen=True)
class DesiredAgent:
    """One agent as the declarations want it. Treat ``config`` as read-only JSON data."""

    key: str
    kind: AgentKind
    source: Path
    name: str
    description: str
    # API-shaped config (section 3.3 / 4 of the API contract). ``config.extra`` from the file is
    # already merged into the top level of config, verbatim. Transfers to declared agents are
    # kept as {"entity_id": "agent:<key>"}.
    config: dict[str, Any]
    # Keys of procedural agents run after conversations end (conversational agents only).
    postprocess_agents: tuple[str, ...] = ()
    # Dotted paths into ``config`` (e.g. "runtime.prompt.text") whose values came from
    # ${env:...}: secrets, never printed nor written into a plan file.
    sensitive_paths: frozenset[str] = frozenset()
    # (dotted path into ``config``, variable name) of every ${env:NAME} reference: what a
    # plan names when a change introduces or removes one (never the value).
    secret_references: frozenset[tuple[str, str]] = frozenset()
    # Plan paths of the fields the dashboard owns (the agent's dashboard_owned and the
    # environment's): compared and written as the platform holds them (plan.owned).
    dashboard_owned: tuple[str, ...] = ()
    # The agent's smoke tests (operator_iac.spec.models.SmokeTest); not sent to the platform.
    smoke: tuple[Any, ...] = field(default=(), compare=False)
    # When apply runs the smoke tests ("draft", "released"), and whether a failure after
    # release rolls back: project defaults.smoke, overridden by the agent's smoke_settings.
    smoke_on: tuple[str, ...] = field(default=("draft", "released"), compare=False)
    smoke_rollback: bool = field(default=True, compare=False)
    # The release gate (operator_iac.spec.gate.GateSettings) that compares every smoke test
    # with the released revision: the agent's smoke_settings.gate, else the project's
    # defaults.smoke.gate (tests with ``compare`` are compared without one, by its defaults).
    smoke_gate: Any = field(default=None, compare=False)
    # The environment's max_concurrent_conversations (None: no limit of its own).
    smoke_concurrency: int | None = field(default=None, compare=False)
