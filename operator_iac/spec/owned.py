"""Fields the dashboard owns: ``dashboard_owned`` paths, written as the plan writes them.

An agent file (``dashboard_owned: [config.runtime.prompt.text]``) or an environment of the
project file (``dashboard_owned: {<key>: [...]}``) can hand fields over to the dashboard: the
planner leaves them out of every comparison, and apply writes the platform's released value
back (``operator_iac.plan.owned``). The paths are the plan's: ``name``, ``description``,
``postprocess_agents`` or ``config.<field>...`` with the API's field names (the prompt is
``config.runtime.prompt.text`` even when the file names a prompt ``file``), and an item of a
list with a natural key as ``config.tool.tools[name=book]``.

``path_problem`` checks a path against the shape of agent files (the models of
``operator_iac.spec.models``): every field must exist for the agent's kind, a selector must
follow a list and name a field of its items. Below a free-form field (``output_schema``) any
path is accepted, and so is a config field the agent passes through ``config.extra``.
"""

from __future__ import annotations

import re
import types
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from operator_iac.spec.base import did_you_mean
from operator_iac.spec.models import ConversationalConfig, ProceduralConfig

_SEGMENT_RE = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<field>[A-Za-z_]\w*)="
                         r"(?P<value>[^\]]*)\])?$")
_TOP_LEVEL = ("name", "description", "config", "postprocess_agents")
_CONFIGS: dict[str, type[BaseModel]] = {"conversational_agent": ConversationalConfig,
                                        "procedural_agent": ProceduralConfig}
# The file's prompt (``text`` or ``file``) is the API's ``text``.
_API_ONLY = {"file"}


@dataclass(frozen=True)
class Segment:
    """One step of an owned path: a field, and for a list an item chosen by a field."""

    name: str
    select: tuple[str, str] | None = None


def parse_path(path: str) -> tuple[Segment, ...] | None:
    """The segments of ``path``; None when it is not written like a plan path."""
    segments = []
    for part in _split(path):
        match = _SEGMENT_RE.match(part)
        if match is None:
            return None
        select = (match["field"], match["value"]) if match["field"] else None
        segments.append(Segment(match["name"], select))
    return tuple(segments) or None


def _split(path: str) -> list[str]:
    """Split on the dots outside ``[...]`` (a selected value may hold dots)."""
    parts, depth, current = [], 0, ""
    for char in path:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def path_problem(path: str, kind: str, extra_keys: Iterable[str] = ()) -> str | None:
    """Why ``path`` names no field of an agent of ``kind`` (``extra_keys``: the top-level
    fields its ``config.extra`` passes through), or None when it does."""
    segments = parse_path(path)
    if segments is None:
        return (f"dashboard_owned path {path!r} is not written like a plan path (for example "
                "config.runtime.prompt.text or config.tool.tools[name=book])")
    first = segments[0]
    if first.name not in _TOP_LEVEL:
        return f"dashboard_owned path {path!r}: no field {first.name!r}" \
               f"{did_you_mean(first.name, _TOP_LEVEL)}"
    if first.name != "config":
        return None if len(segments) == 1 and first.select is None else \
            f"dashboard_owned path {path!r}: {first.name} is one value, with no fields inside"
    if len(segments) == 1:
        return f"dashboard_owned path {path!r}: name a field of config, not config itself"
    if segments[1].name in set(extra_keys):
        return None
    return _walk(path, segments[1:], _CONFIGS[kind])


def _walk(path: str, segments: tuple[Segment, ...], model: Any) -> str | None:
    node: Any = model
    for segment in segments:
        fields = _fields(node)
        if fields is None:
            return None  # a free-form value: anything below it is the user's business
        if segment.name in _API_ONLY:
            return (f"dashboard_owned path {path!r}: the plan names the prompt "
                    "config.runtime.prompt.text, whether the file gives text or file")
        if segment.name not in fields:
            known = [f for f in fields if f not in _API_ONLY and f != "extra"]
            return f"dashboard_owned path {path!r}: no field {segment.name!r}" \
                   f"{did_you_mean(segment.name, known)}"
        node, is_list = _unwrap(fields[segment.name])
        if segment.select is not None:
            problem = _selector_problem(path, segment, node, is_list)
            if problem:
                return problem
    return None


def _selector_problem(path: str, segment: Segment, item: Any, is_list: bool) -> str | None:
    assert segment.select is not None
    if not is_list:
        return f"dashboard_owned path {path!r}: {segment.name} is not a list"
    fields = _fields(item) or {}
    if segment.select[0] not in fields:
        return (f"dashboard_owned path {path!r}: the items of {segment.name} have no field "
                f"{segment.select[0]!r}{did_you_mean(segment.select[0], fields)}")
    return None


def _fields(node: Any) -> dict[str, Any] | None:
    if isinstance(node, type) and issubclass(node, BaseModel):
        return {info.alias or name: info.annotation for name, info in node.model_fields.items()}
    return None


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The model (or type) a field holds, and whether it holds a list of them."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        chosen = [a for a in get_args(annotation) if a is not type(None)]
        return _unwrap(chosen[0]) if len(chosen) == 1 else (annotation, False)
    if origin is list:
        inner, _ = _unwrap(get_args(annotation)[0])
        return inner, True
    return annotation, False
