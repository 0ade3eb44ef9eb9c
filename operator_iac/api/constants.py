"""Fixed facts of the Operator API this client speaks, shared by its HTTP and WebSocket halves.

The REST URL a run uses when none is chosen is a default: ``operator_iac.defaults.API_URL``.
"""

from __future__ import annotations

from operator_iac import __version__

DEFAULT_WS_URL = "wss://agent.app.operator.xyz"
API_VERSION = "2025-06-19"
USER_AGENT = f"operator-iac/{__version__}"

CONVERSATIONAL_AGENTS = "/conversational_agents"
PROCEDURAL_AGENTS = "/procedural_agents"
AGENT_LISTS = (PROCEDURAL_AGENTS, CONVERSATIONAL_AGENTS)
"""The lists of both kinds of agent: a plan's first reads (``services.read_ahead``)."""
