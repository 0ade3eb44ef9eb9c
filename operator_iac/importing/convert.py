"""From a remote revision to the content of an agent file: pure, no I/O.

The result is what a person would have written, and it declares exactly what the platform
holds, so that the next ``plan`` shows an adoption without field changes:

- the ownership marker is stripped from the description;
- references to other agents become keys: ``postprocess_agents`` ids, and transfers whose
  target is an agent being imported or already declared (``agent:<key>``);
- values equal to the defaults are left out (``null``, empty lists and mappings), which the
  planner treats as "not declared" and never reports as a change;
- fields the declaration models do not know are kept verbatim under ``config.extra``, so
  nothing the platform holds is lost. A list whose items carry unknown fields moves there as a
  whole (``extra`` replaces lists, it does not merge them); so does any value the strict
  models refuse, such as a number where the model wants a string;
- ``${`` is written as ``$${``, because the tool would otherwise read it as a substitution;
- a long prompt (more than ``PROMPT_FILE_CHARS`` characters or ``PROMPT_FILE_LINES`` lines)
  goes to its own Markdown file, named in the agent file as ``prompt: {type: fixed, file: ...}``.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from operator_iac.errors import OperationError
from operator_iac.plan import normalise, refs
from operator_iac.plan.marker import strip_marker
from operator_iac.spec.agent_file import agent_adapter
from operator_iac.spec.desired import AgentKind
from operator_iac.spec.merge import deep_merge
from operator_iac.spec.models import ConversationalConfig, ProceduralConfig
from operator_iac.state.snapshot import RemoteRevision

PROMPT_FILE_CHARS = 400
PROMPT_FILE_LINES = 8
PROMPTS_DIR = "prompts"
# Each round of the validation fix-up moves at least one value to ``extra``; a config has far
# fewer top-level paths than this, so the bound only stops a bug from looping.
_MAX_FIX_ROUNDS = 50
_CONFIG_MODELS: dict[str, type[BaseModel]] = {
    "conversational_agent": ConversationalConfig,
    "procedural_agent": ProceduralConfig,
}

ConfigPath = tuple[str, ...]  # mapping keys into a config


class _Omit:
    """Marks "nothing to write here" (``None`` is a value a config may hold)."""


_OMIT = _Omit()


@dataclass(frozen=True)
class AgentDocument:
    """One agent file's content, and its prompt file when the prompt was moved out."""

    key: str
    kind: AgentKind
    data: dict[str, Any]
    prompt_file: str | None = None  # relative to the agent file
    prompt_text: str | None = None
    extra_paths: tuple[str, ...] = ()  # config paths kept under config.extra


def to_document(kind: AgentKind, revision: RemoteRevision, key: str,
                keys_by_id: Mapping[str, str]) -> AgentDocument:
    """The agent file for ``revision``, stored under ``key``; ``keys_by_id`` names every agent
    that has (or gets) a declaration, so references to them can be written as keys."""
    config, postprocess = refs.to_keys(normalise.prepare(revision.config),
                                       revision.postprocess_agents, keys_by_id)
    known, extra = split_config(escape(config), _CONFIG_MODELS[kind])
    head = {"kind": kind, "name": escape(revision.name),
            "description": escape(strip_marker(revision.description))}
    tail = {"postprocess_agents": list(postprocess)} if kind == "conversational_agent" else {}
    _fix_until_valid(head, known, extra, tail, revision.version_id)
    prompt_file, prompt_text = _move_long_prompt(known, key)
    data = assemble(head, known, extra, tail)
    return AgentDocument(key, kind, data, prompt_file, prompt_text,
                         tuple(sorted(_moved_paths(known, extra))))


def assemble(head: Mapping[str, Any], known: Mapping[str, Any], extra: Mapping[str, Any],
             tail: Mapping[str, Any]) -> dict[str, Any]:
    """The file's data in the order people write it; empty description and lists left out."""
    config = dict(known)
    if extra:
        config["extra"] = dict(extra)
    data = {k: v for k, v in head.items() if v != ""}
    data["config"] = config
    data.update({k: v for k, v in tail.items() if v})
    return data


def escape(value: Any) -> Any:
    """``value`` with every ``${`` in its strings written as ``$${`` (a literal ``${``)."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {k: escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [escape(v) for v in value]
    return value


# ---- known and unknown fields ------------------------------------------------------------


def split_config(config: Mapping[str, Any],
                 model: type[BaseModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields ``model`` knows, defaults left out; everything else, verbatim)."""
    known: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for name, value in config.items():
        field = model.model_fields.get(name)
        if field is None or name == "extra":
            extra[name] = value
            continue
        kept, left = _split_value(field.annotation, value)
        if not isinstance(kept, _Omit):
            known[name] = kept
        if not isinstance(left, _Omit):
            extra[name] = left
    order = list(model.model_fields)
    return dict(sorted(known.items(), key=lambda item: order.index(item[0]))), extra


def _split_value(annotation: Any, value: Any) -> tuple[Any, Any]:
    nested = _model_in(annotation)
    if nested is not None and isinstance(value, dict):
        known, extra = split_config(value, nested)
        return known or _OMIT, extra or _OMIT
    item_model = _list_item_model(annotation)
    if item_model is not None and isinstance(value, list):
        return _split_list(item_model, value)
    if value is None or value == [] or value == {}:
        return _OMIT, _OMIT
    return value, _OMIT


def _split_list(model: type[BaseModel], items: list[Any]) -> tuple[Any, Any]:
    """A list of modelled items is declared only when every item is fully known."""
    if not items:
        return _OMIT, _OMIT
    if not all(isinstance(item, dict) for item in items):
        return _OMIT, items
    parts = [split_config(item, model) for item in items]
    if any(extra for _, extra in parts):
        return _OMIT, items
    return [known for known, _ in parts], _OMIT


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class of a field typed ``Model`` or ``Model | None``."""
    candidates = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    return next((c for c in candidates
                 if isinstance(c, type) and issubclass(c, BaseModel)), None)


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    """The item model of a field typed ``list[Model]`` or ``list[Model] | None``."""
    candidates = typing.get_args(annotation) if _is_union(annotation) else (annotation,)
    for candidate in candidates:
        if typing.get_origin(candidate) is list:
            (item,) = typing.get_args(candidate)
            return _model_in(item)
    return None


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


# ---- what the strict models refuse ---------------------------------------------------------


def _fix_until_valid(head: dict[str, Any], known: dict[str, Any], extra: dict[str, Any],
                     tail: dict[str, Any], version_id: str) -> None:
    """Move config values the models refuse into ``extra`` until the file validates."""
    for _ in range(_MAX_FIX_ROUNDS):
        try:
            agent_adapter().validate_python(assemble(head, known, extra, tail))
            return
        except ValidationError as exc:
            errors = exc.errors()
        paths = [_movable_path(error, known) for error in errors]
        for error, path in zip(errors, paths, strict=True):
            if path is None:
                raise _unimportable(version_id, error)
        for path in dict.fromkeys(paths):
            # Several errors can point into one value (two items of one list): move it once.
            if path is not None and _has(known, path):
                _move(path, known, extra)
    raise OperationError(f"{version_id}: cannot be written as an agent file")


def _movable_path(error: Mapping[str, Any], known: Mapping[str, Any]) -> ConfigPath | None:
    """The config path (mapping keys only) whose value to move, if moving can help."""
    location = list(error["loc"])[1:]  # the first element names the kind (the union's tag)
    if error["type"] == "missing" or location[:1] != ["config"]:
        return None
    path: list[str] = []
    for part in location[1:]:
        if not isinstance(part, str):
            break
        path.append(part)
    return tuple(path) if path and _has(known, tuple(path)) else None


def _has(data: Mapping[str, Any], path: ConfigPath) -> bool:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _move(path: ConfigPath, known: dict[str, Any], extra: dict[str, Any]) -> None:
    """Take the value at ``path`` out of ``known`` and put it at the same place in ``extra``;
    mappings left empty in ``known`` are removed."""
    parents = [known]
    for part in path[:-1]:
        parents.append(parents[-1][part])
    value = parents[-1].pop(path[-1])
    for depth in range(len(path) - 1, 0, -1):
        if not parents[depth]:
            del parents[depth - 1][path[depth - 1]]
    node = extra
    for part in path[:-1]:
        node = node.setdefault(part, {})
    last = path[-1]
    # Part of this mapping may have moved already: keep both parts.
    node[last] = deep_merge(node[last], value) if last in node else value


def _unimportable(version_id: str, error: Mapping[str, Any]) -> OperationError:
    where = ".".join(str(part) for part in list(error["loc"])[1:]) or "the agent"
    return OperationError(f"{version_id} cannot be written as an agent file: {where}: "
                          f"{error['msg']}")


# ---- prompt files ----------------------------------------------------------------------------


def is_long_prompt(text: str) -> bool:
    return len(text) > PROMPT_FILE_CHARS or text.count("\n") + 1 > PROMPT_FILE_LINES


def _move_long_prompt(known: dict[str, Any], key: str) -> tuple[str | None, str | None]:
    prompt = known.get("runtime", {}).get("prompt")
    text = prompt.get("text") if isinstance(prompt, dict) else None
    if not isinstance(text, str) or not is_long_prompt(text):
        return None, None
    assert isinstance(prompt, dict)
    relative = f"{PROMPTS_DIR}/{key}.md"
    rest = {k: v for k, v in prompt.items() if k != "text"}
    known["runtime"]["prompt"] = {**rest, "file": relative}
    return relative, text


def _moved_paths(known: Mapping[str, Any], extra: Mapping[str, Any],
                 prefix: str = "") -> list[str]:
    """Dotted paths of what ``extra`` holds, named where they part from what is declared."""
    paths: list[str] = []
    for name, value in extra.items():
        dotted = f"{prefix}{name}"
        beside = known.get(name)
        if isinstance(value, dict) and isinstance(beside, dict):
            paths += _moved_paths(beside, value, dotted + ".")
        else:
            paths.append(dotted)
    return paths
