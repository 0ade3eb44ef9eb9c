"""JSON Schemas of agent files and of the project file, for editors
(``# yaml-language-server: $schema=...``), check-jsonschema and other tools.

They are generated from the models, then shaped for the person reading them in an editor:

- every property has a description: the field's attribute docstring, or for a field that is
  another definition without a docstring of its own, that definition's;
- definitions are named and titled in the user's words (``conversational_agent``,
  "Smoke test"), never by model class (no ``ConversationalAgentSpec`` in a completion list);
- a choice between shapes is ``if``/``then`` on what tells them apart: an agent's ``kind``,
  or for an assertion, a bare name against a mapping whose one key names the kind. A
  validator then reports the error inside the branch the file meant ("'smokee' was
  unexpected") instead of "is not valid under any of the given schemas", and an editor
  completes the keys of that branch;
- an optional value is ``type: [T, "null"]``, and a ``null`` default is left out.

One agent schema covers both kinds. The schemas describe the files as written (prompt
``file``, ``extra``, smoke tests), not the API payload.
"""

from __future__ import annotations

import re
from typing import Any

from operator_iac import __version__
from operator_iac.spec.agent_file import agent_adapter
from operator_iac.spec.assertions import ASSERTION_TYPES, BARE_ASSERTIONS
from operator_iac.spec.project_file import project_adapter

DIALECT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]

# Model class -> (definition name, title), where the words derived from the class name
# (``SmokeTest`` -> ``smoke_test``, "Smoke test") would not be the user's.
NAMES: dict[str, tuple[str, str]] = {
    "ConversationalAgentSpec": ("conversational_agent", "Conversational agent"),
    "ProceduralAgentSpec": ("procedural_agent", "Procedural agent"),
    "ConversationalConfig": ("conversational_config", "Conversational agent configuration"),
    "ProceduralConfig": ("procedural_config", "Procedural agent configuration"),
    "ConversationalTools": ("conversational_tools", "Tools and transfers"),
    "ProceduralTools": ("procedural_tools", "Tools"),
    "VoiceSettings": ("voice_settings", "Sound on calls"),
    "SmokeContext": ("conversation_context", "Conversation context"),
    "SmokeSettings": ("smoke_settings", "When smoke tests run"),
    "SmokeDefaults": ("defaults", "Project defaults"),
    "TextMatch": ("text_match", "Text conditions"),
    "ToolCall": ("tool_call", "Expected tool call"),
    "ToolName": ("tool_name", "Tool"),
    "ToolErrorRef": ("tool_error", "Tool error"),
    "ProcedureExpect": ("procedure_expectation", "Expected procedure run"),
    "JudgeSpec": ("judge", "Judge"),
    "GateSettings": ("gate", "Release gate"),
    "Output": ("output", "Output"),
}
ASSERTION_DEF = "assertion"
ASSERTION_DESCRIPTION = (
    "One check, a mapping whose one key names its kind (`agent_says: {contains: Hi}`); "
    + ", ".join(f"`{name}`" for name in BARE_ASSERTIONS) + " may be written bare.")


def agent_file_schema() -> Schema:
    return _allow_parts(_for_editors(
        agent_adapter().json_schema(), "operator-iac agent file",
        "One Operator agent (conversational or procedural) declared as code. The file stem is "
        "the agent's key; a file with instances declares one agent per instance; a base file "
        "(abstract: true) declares none."))


def project_file_schema() -> Schema:
    return _for_editors(project_adapter().json_schema(), "operator-iac project file",
                        "operator-iac.yaml: project name, agents directory, smoke defaults "
                        "and environments.")


def undescribed_properties(schema: Schema) -> tuple[int, list[str]]:
    """How many properties the schema declares (at any depth), and the paths of those without
    a description (``#/$defs/smoke_test/properties/name``). The conditions of ``if`` declare
    nothing and are not counted."""
    found: list[tuple[str, bool]] = []

    def visit(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for name, sub in (node.get("properties") or {}).items():
                found.append((f"{path}/properties/{name}", bool(sub.get("description"))))
            for key, value in node.items():
                if key != "if":
                    visit(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, f"{path}/{index}")

    visit(schema, "#")
    return len(found), [path for path, described in found if not described]


# ---- base files and templates --------------------------------------------------------------

# Definitions whose required keys a base file, or an agent file that extends one, may leave to
# the other file: the merged declaration has them (operator_iac.spec.compose).
_PARTS = ("conversational_agent", "procedural_agent", "conversational_config",
          "procedural_config", "conversational_runtime", "procedural_runtime")
_COMPOSED = {"anyOf": [{"required": ["extends"]},
                       {"required": ["abstract"], "properties": {"abstract": {"const": True}}}]}


def _allow_parts(schema: Schema) -> Schema:
    """A file with ``extends`` or ``abstract: true`` is checked against copies of the agent
    definitions without their required keys: unknown keys and wrong types are still errors,
    a missing ``name`` or ``config.runtime`` is not (the other file declares it)."""
    defs: dict[str, Schema] = schema["$defs"]
    parts = {name: f"part_of_{name}" for name in _PARTS if name in defs}

    def retarget(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (f"#/$defs/{parts[v.rsplit('/', 1)[-1]]}" if k == "$ref" and
                        v.rsplit("/", 1)[-1] in parts else retarget(v)) for k, v in node.items()}
        return [retarget(item) for item in node] if isinstance(node, list) else node

    for name, part in parts.items():
        defs[part] = retarget({k: v for k, v in defs[name].items() if k != "required"})
        defs[part]["title"] = f"{defs[name].get('title', name)}, in part (base file or extends)"
    whole = {k: schema.pop(k) for k in ("required", "allOf") if k in schema}
    kinds = [retarget(branch) for branch in whole.get("allOf", [])]
    either = {"anyOf": [{"$ref": f"#/$defs/{parts[n]}"} for n in _PARTS[:2] if n in parts]}
    in_part = {"allOf": [*kinds, {"if": {"not": {"required": ["kind"]}}, "then": either}]}
    defs_last = schema.pop("$defs")
    return {**schema, "if": _COMPOSED, "then": in_part, "else": whole, "$defs": defs_last}


# ---- shaping ---------------------------------------------------------------------------------


def _for_editors(schema: Schema, title: str, description: str) -> Schema:
    defs: dict[str, Schema] = schema.pop("$defs", {})
    _collapse_assertions(schema, defs)
    renames = {name: _user_name(name) for name in defs if name != ASSERTION_DEF}
    body = _walk(schema, defs, renames)
    new_defs = {}
    for name, definition in defs.items():
        key, def_title = renames.get(name, (ASSERTION_DEF, "Assertion"))
        walked = _walk(definition, defs, renames)
        new_defs[key] = {"title": def_title, **{k: v for k, v in walked.items() if k != "title"}}
    body.pop("title", None)
    body.pop("description", None)
    head = {"$schema": DIALECT, "title": title,
            "description": f"{description} (operator-iac {__version__})"}
    return {**head, **body, "$defs": new_defs}


def _user_name(class_name: str) -> tuple[str, str]:
    if class_name in NAMES:
        return NAMES[class_name]
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", class_name.removesuffix("Spec"))
    lowered = [w.lower() for w in words] or [class_name.lower()]
    return "_".join(lowered), " ".join(lowered).capitalize()


def _collapse_assertions(schema: Schema, defs: dict[str, Schema]) -> None:
    """Every union of the assertion models becomes one ``assertion`` definition: a bare name,
    or a mapping whose properties are the assertion kinds (so an unknown kind is reported as
    an unexpected property, and an editor completes the kinds)."""
    members = {model.__name__ for model in ASSERTION_TYPES.values()}
    if not members <= set(defs):
        return
    kinds = {tag: defs.pop(model.__name__)["properties"][tag]
             for tag, model in ASSERTION_TYPES.items()}
    defs[ASSERTION_DEF] = {
        "description": ASSERTION_DESCRIPTION,
        "if": {"type": "string"},
        "then": {"enum": list(BARE_ASSERTIONS)},
        "else": {"type": "object", "properties": kinds, "additionalProperties": False,
                 "minProperties": 1, "maxProperties": 1},
    }
    reference = {"$ref": f"#/$defs/{ASSERTION_DEF}"}

    def replace(node: Any) -> Any:
        if isinstance(node, dict):
            refs = {m.get("$ref", "").rsplit("/", 1)[-1] for m in node.get("anyOf", ())}
            if members <= refs:
                return {**{k: v for k, v in node.items() if k != "anyOf"}, **reference}
            return {k: replace(v) for k, v in node.items()}
        if isinstance(node, list):
            return [replace(item) for item in node]
        return node

    schema.update(replace(schema))
    for name in list(defs):
        defs[name] = replace(defs[name])


def _walk(node: Any, defs: dict[str, Schema], renames: dict[str, tuple[str, str]]) -> Any:
    """Rename references, turn discriminated unions into ``if``/``then``, and tidy every
    property (no generated titles, nullable types, descriptions everywhere)."""
    if isinstance(node, list):
        return [_walk(item, defs, renames) for item in node]
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if "discriminator" in node and "oneOf" in node:
        node = _kind_branches(node)
    result: Schema = {}
    for key, value in node.items():
        if key == "$ref":
            result[key] = _renamed(value, renames)
        elif key == "properties" and isinstance(value, dict):
            result[key] = {name: _property(sub, defs, renames) for name, sub in value.items()}
        elif key == "description" and isinstance(value, str):
            result[key] = _markdown(value)
        else:
            result[key] = _walk(value, defs, renames)
    return result


def _property(schema: Schema, defs: dict[str, Schema],
              renames: dict[str, tuple[str, str]]) -> Schema:
    prop = {k: v for k, v in schema.items() if k != "title"}
    if prop.get("default", ...) is None:
        del prop["default"]
    prop = _nullable(prop)
    if "description" not in prop:
        target = _referenced(prop)
        if target is not None and defs.get(target, {}).get("description"):
            prop["description"] = defs[target]["description"]
    return _walk(prop, defs, renames)


def _nullable(prop: Schema) -> Schema:
    """``anyOf: [{type: T, ...}, {type: null}]`` as ``{type: [T, null], ...}``: the same
    values, and one error message instead of two."""
    options = prop.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return prop
    other = next(o for o in options if o != {"type": "null"})
    if not isinstance(other.get("type"), str) or "$ref" in other:
        return prop
    merged = {k: v for k, v in prop.items() if k != "anyOf"}
    return {**other, **merged, "type": [other["type"], "null"]}


def _referenced(prop: Schema) -> str | None:
    """The definition a property stands for: ``$ref``, or ``anyOf: [$ref, null]``."""
    refs = [prop.get("$ref"), *(o.get("$ref") for o in prop.get("anyOf", ()))]
    found = [r for r in refs if isinstance(r, str)]
    return found[0].rsplit("/", 1)[-1] if len(found) == 1 else None


def _kind_branches(union: Schema) -> Schema:
    """A discriminated ``oneOf`` as ``if {kind: X} then X`` for each value of the
    discriminator: the error comes from the branch the file names."""
    field = union["discriminator"]["propertyName"]
    mapping: dict[str, str] = union["discriminator"]["mapping"]
    rest = {k: v for k, v in union.items() if k not in ("discriminator", "oneOf")}
    return {
        **rest,
        "type": "object",
        "required": [field],
        "properties": {field: {"enum": list(mapping),
                               "description": f"What this is: {' or '.join(mapping)}."}},
        "allOf": [{"if": {"properties": {field: {"const": value}}, "required": [field]},
                   "then": {"$ref": ref}} for value, ref in mapping.items()],
    }


def _renamed(ref: str, renames: dict[str, tuple[str, str]]) -> str:
    prefix, _, name = ref.rpartition("/")
    return f"{prefix}/{renames[name][0]}" if name in renames else ref


_RST_LITERAL = re.compile(r"``([^`]+)``")


def _markdown(text: str) -> str:
    """Docstrings use reStructuredText literals; editors render descriptions as Markdown."""
    return _RST_LITERAL.sub(r"`\1`", text)
