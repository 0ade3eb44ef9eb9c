"""``operator-iac schema``: print the JSON Schema of agent files (or of the project file)."""

from __future__ import annotations

import json

import click

from operator_iac.cli.output import result


@click.command("schema")
@click.argument("what", type=click.Choice(["agent", "project"]), default="agent")
def schema_command(what: str) -> int:
    """Print the JSON Schema of agent files (default) or of operator-iac.yaml.

    Save it and point your editor at it for completion, hover help and checks as you type:
    with the YAML language server (VS Code's YAML extension and others) through the
    yaml.schemas setting, or on the first line of each agent file:
    # yaml-language-server: $schema=../.schemas/agent.schema.json

    \b
    Examples:
      operator-iac schema > .schemas/agent.schema.json
      operator-iac schema project > .schemas/project.schema.json
    """
    from operator_iac.spec.schema import agent_file_schema, project_file_schema

    schema = agent_file_schema() if what == "agent" else project_file_schema()
    result(json.dumps(schema, indent=2))
    return 0
