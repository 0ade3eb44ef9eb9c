"""Templates: one agent file with ``instances:`` declares one agent per instance.

Each instance names its key (its identity on the platform, in place of the file stem) and
its ``vars``. An instance's agent is the template with every ``${var:NAME}`` whose NAME the
instance defines replaced by the instance's value, everywhere: name, description, config,
the prompt (with its fragments) and the smoke tests. ``${var:...}`` the instance does not
define stay for the environment's ``vars``; ``${env:...}`` and ``$${`` are left untouched.
So every instance has its own marker, its own content hash and its own smoke tests, and a
change to the template is a change to every instance.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import TypeAdapter

from operator_iac.errors import Diagnostic
from operator_iac.spec.compose import INSTANCES
from operator_iac.spec.diagnostics import validate_data
from operator_iac.spec.loader import YamlDocument
from operator_iac.spec.models import Instance
from operator_iac.spec.templates import find_substitutions


@dataclass(frozen=True)
class Made:
    """One instance of a template: its key, position in the list, vars and declaration."""

    key: str
    index: int
    vars: Mapping[str, Any]
    document: YamlDocument


@functools.cache
def _instances_adapter() -> TypeAdapter[list[Instance]]:
    return TypeAdapter(list[Instance])


def template_instances(doc: YamlDocument) -> tuple[list[Made], list[Diagnostic]] | None:
    """The instances of a template file; None when the file is no template."""
    if not isinstance(doc.data, dict) or INSTANCES not in doc.data:
        return None
    raw = doc.data[INSTANCES]
    instances, problems = validate_data(
        _instances_adapter(), raw,
        lambda path, message, at_key: doc.diagnostic((INSTANCES, *path),
                                                     f"{INSTANCES}: {message}", at_key=at_key))
    if instances is None:
        return [], problems
    if not instances:
        return [], [doc.diagnostic((INSTANCES,), "instances lists no instance; a template "
                                                 "declares at least one")]
    template = {k: v for k, v in doc.data.items() if k != INSTANCES}
    made: list[Made] = []
    seen: dict[str, int] = {}
    for index, instance in enumerate(instances):
        if instance.key in seen:
            first = seen[instance.key]
            problems.append(doc.diagnostic((INSTANCES, index, "key"),
                                           f"instance key {instance.key!r} is used twice in "
                                           f"this template (first as instance {first})"))
            continue
        seen[instance.key] = index
        data = data_with_values(template, instance.vars)
        made.append(Made(instance.key, index, instance.vars, replace(doc, data=data)))
    return made, problems


def data_with_values(value: Any, values: Mapping[str, Any]) -> Any:
    """A copy of nested data with each ``${var:NAME}`` whose NAME is in ``values`` replaced;
    a string that is exactly one such substitution takes the value's own type."""
    if isinstance(value, dict):
        return {k: data_with_values(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [data_with_values(v, values) for v in value]
    if not isinstance(value, str) or "${" not in value:
        return value
    found = [s for s in find_substitutions(value) if s.kind == "var" and s.name in values]
    if len(found) == 1 and found[0].start == 0 and found[0].end == len(value):
        return values[found[0].name]
    for sub in reversed(found):
        value = value[:sub.start] + str(values[sub.name]) + value[sub.end:]
    return value
