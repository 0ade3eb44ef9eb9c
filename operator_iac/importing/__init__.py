"""Import: clean agent files for agents that already exist on the platform.

``selection`` decides which agents and under which keys (``keys`` derives them), ``convert``
turns a remote revision into an agent file's content, ``yaml_text`` writes it as YAML the
project loader reads back exactly, and ``service`` does the reading and writing.
"""

from __future__ import annotations

from operator_iac.importing.service import (
    ImportedAgent,
    ImportOptions,
    ImportReport,
    import_agents,
)

__all__ = ["ImportOptions", "ImportReport", "ImportedAgent", "import_agents"]
