"""Declarations: strict models of agent and project files, the one YAML loader, checks
within and across files, resolution into desired state, and JSON Schemas."""
