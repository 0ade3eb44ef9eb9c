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
    """The agent's key: its file's stem, or a template instance's key (``booking``)."""
    kind: AgentKind
    """``conversational_agent`` or ``procedural_agent``."""
    source: Path
    """The file that declares the agent."""
    name: str
    """The agent's name, ``${var:...}`` substituted."""
    description: str
    """The agent's description, ``${var:...}`` substituted; what is written ends with the
    ownership marker, which the plan adds."""
    config: dict[str, Any]
    """API-shaped config (operator-api.md sections 3.3 and 4): declared fields only, the
    prompt text inlined as ``runtime.prompt`` ``{"type": "fixed", "text": ...}``,
    ``config.extra`` from the file deep-merged over the top level verbatim, and
    substitutions made (secrets in clear: ``sensitive_paths`` says where). Transfers to
    declared agents are kept as ``{"entity_id": "agent:<key>"}``."""
    postprocess_agents: tuple[str, ...] = ()
    """Keys of procedural agents run after conversations end (conversational agents only;
    empty for a procedural agent)."""
    sensitive_paths: frozenset[str] = frozenset()
    """Dotted paths into ``config`` (``runtime.prompt.text``, ``tool.transfers.0.entity_id``)
    whose values came from ``${env:...}``: secrets, never printed nor written into a plan
    file."""
    secret_references: frozenset[tuple[str, str]] = frozenset()
    """(dotted path into ``config``, variable name) of every ``${env:NAME}`` reference: what
    a plan names when a change introduces or removes one (never the value)."""
    dashboard_owned: tuple[str, ...] = ()
    """Plan paths of the fields the dashboard owns (``config.runtime.prompt.text``), the
    agent's ``dashboard_owned`` and the environment's, sorted: compared and written as the
    platform holds them (``plan.owned``)."""
    smoke: tuple[Any, ...] = field(default=(), compare=False)
    """The agent's smoke tests (``operator_iac.spec.models.SmokeTest``), ``quarantine`` set
    on those the project file lists; empty for a procedural agent. Not sent to the
    platform."""
    smoke_on: tuple[str, ...] = field(default=("draft", "released"), compare=False)
    """When apply runs the smoke tests (``draft``, ``released``): the project's
    ``defaults.smoke``, overridden by the agent's ``smoke_settings``."""
    smoke_rollback: bool = field(default=True, compare=False)
    """Whether a smoke failure after release rolls back: the project's ``defaults.smoke``,
    overridden by the agent's ``smoke_settings``."""
    smoke_gate: Any = field(default=None, compare=False)
    """The release gate (``operator_iac.spec.gate.GateSettings``) that compares every smoke
    test with the released revision: the agent's ``smoke_settings.gate``, else the project's
    ``defaults.smoke.gate``; None when neither sets one (tests with ``compare`` are compared
    without one, by its defaults)."""
    smoke_concurrency: int | None = field(default=None, compare=False)
    """The environment's ``max_concurrent_conversations``: test conversations at once stay
    within it; None when it sets no limit of its own, or there is no environment."""
    testmode_postprocessing: bool | None = field(default=None, compare=False)
    """The environment's ``testmode_postprocessing``: whether its platform post-processes
    test conversations (``operator_iac.smoke.postprocessing``); None when not declared."""
