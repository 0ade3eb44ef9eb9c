"""JSON Schemas of agent files and of the project file, generated from the models, for editors
(``# yaml-language-server: $schema=...``) and other tools.

One agent schema covers both kinds; ``kind`` selects the branch. The schemas describe the
files as written (prompt ``file``, ``extra``, smoke tests), not the API payload.
"""

from __future__ import annotations

from typing import Any

from operator_iac import __version__
from operator_iac.spec.agent_file import agent_adapter
from operator_iac.spec.project_file import project_adapter

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def agent_file_schema() -> dict[str, Any]:
    schema = agent_adapter().json_schema()
    return _decorate(schema, "operator-iac agent file",
                     "One Operator agent (conversational or procedural) declared as code. "
                     "The file stem is the agent's key.")


def project_file_schema() -> dict[str, Any]:
    schema = project_adapter().json_schema()
    return _decorate(schema, "operator-iac project file",
                     "operator-iac.yaml: project name, agents directory, smoke defaults and "
                     "environments.")


def _decorate(schema: dict[str, Any], title: str, description: str) -> dict[str, Any]:
    return {"$schema": DIALECT, "title": title,
            "description": f"{description} (operator-iac {__version__})", **{
                k: v for k, v in schema.items() if k not in ("title", "description")}}
