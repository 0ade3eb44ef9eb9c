"""Import: clean agent files for agents that already exist on the platform.

``selection`` decides which agents and under which keys (``keys`` derives them), ``convert``
turns a remote revision into an agent file's content, ``yaml_text`` writes it as YAML the
project loader reads back exactly, ``results`` holds what an import made and ``report``
renders it. ``operator_iac.services.import_`` does the reading and writing.
"""
