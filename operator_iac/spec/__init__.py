"""Declarations: strict pydantic models of agent and project files, the YAML loader, checks across files."""
