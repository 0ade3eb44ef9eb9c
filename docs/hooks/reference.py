"""MkDocs hook: the reference pages, generated at build time so they cannot drift.

- ``commands/<name>.md`` for every ``operator-iac`` command, from the click commands
  themselves: the help text, the usage line, every argument and option with its help,
  default and environment variable (click's own help records), and the examples of the help;
  ``commands/index.md`` lists the commands and the global options.
- ``reference/agent-file.md`` and ``reference/project-file.md`` from the JSON Schemas that
  ``operator-iac schema`` prints: every top-level field, then every definition, each property
  with its type, default and description.

The navigation is completed here too: the command pages are listed under the command
reference, one per command the CLI has.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

from operator_iac.cli.main import COMMANDS, cli
from operator_iac.spec.schema import agent_file_schema, project_file_schema

COMMANDS_DIR = "commands"
FIELD_PAGES = {
    "reference/agent-file.md": ("Agent file reference", agent_file_schema),
    "reference/project-file.md": ("Project file reference", project_file_schema),
}
PROG = "operator-iac"
Schema = dict[str, Any]


# ---- MkDocs events ---------------------------------------------------------------------------


def on_config(config: Any) -> Any:
    """Expand the command reference in the navigation."""
    for entry in config["nav"]:
        if isinstance(entry, dict) and isinstance(entry.get("Reference"), list):
            _expand_commands(entry["Reference"])
    return config


def on_files(files: Any, config: Any) -> Any:
    """Add the generated pages to the site."""
    from mkdocs.structure.files import File

    for path, text in generated_pages().items():
        files.append(File.generated(config, path, content=text))
    return files


def _expand_commands(reference: list[Any]) -> None:
    for index, entry in enumerate(reference):
        if isinstance(entry, dict) and entry.get("Commands") == f"{COMMANDS_DIR}/index.md":
            pages = [f"{COMMANDS_DIR}/index.md"] + [{name: f"{COMMANDS_DIR}/{name}.md"}
                                                    for name in sorted(COMMANDS)]
            reference[index] = {"Commands": pages}


def generated_pages() -> dict[str, str]:
    """Every generated page: path in the site's sources -> Markdown."""
    pages = {f"{COMMANDS_DIR}/index.md": commands_index()}
    pages.update({f"{COMMANDS_DIR}/{name}.md": command_page(name) for name in sorted(COMMANDS)})
    pages.update({path: field_page(title, make()) for path, (title, make) in
                  FIELD_PAGES.items()})
    return pages


# ---- commands --------------------------------------------------------------------------------


def _context(command: click.Command, name: str) -> click.Context:
    parent = click.Context(cli, info_name=PROG)
    return click.Context(command, parent=parent, info_name=name)


def _command(name: str) -> click.Command:
    command = cli.get_command(click.Context(cli), name)
    assert command is not None, name
    return command


def _global_names() -> set[str]:
    return {param.name for param in cli.params if param.name}


def commands_index() -> str:
    ctx = click.Context(cli, info_name=PROG)
    lines = ["# Commands", "", _text(_description(cli.help or "")), "",
             "| Command | What it does |", "|---|---|"]
    for name in sorted(COMMANDS):
        command = _command(name)
        lines.append(f"| [`{name}`]({name}.md) | {_cell(command.get_short_help_str(200))} |")
    lines += ["", "## Global options", "",
              "They work before or after the command (`operator-iac plan --no-color` and "
              "`operator-iac --no-color plan` are the same; given twice, the later one wins). "
              "Settings come from flags first, then `OPERATOR_IAC_*` environment variables, "
              "then the project file.", "", *_options_table(cli.params, ctx)]
    return "\n".join(lines) + "\n"


def command_page(name: str) -> str:
    command = _command(name)
    ctx = _context(command, name)
    description, examples = _split_help(command.help or "")
    usage = " ".join(command.collect_usage_pieces(ctx))
    lines = [f"# {PROG} {name}", "", _text(description), "", "## Usage", "", "```text",
             f"{PROG} {name} {usage}".rstrip(), "```", ""]
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    if arguments:
        lines += ["## Arguments", "", "| Argument | Required | Values |", "|---|---|---|"]
        lines += [_argument_row(a) for a in arguments] + [""]
    own = [p for p in command.params if isinstance(p, click.Option)
           and p.name not in _global_names()]
    lines += ["## Options", "", *_options_table(own, ctx), ""]
    if examples:
        lines += ["## Examples", "", "```sh", *examples, "```", ""]
    lines += ["The [global options](index.md#global-options) work here too.", ""]
    return "\n".join(lines)


def _split_help(help_text: str) -> tuple[str, list[str]]:
    """The description, and the example command lines of a command's help."""
    description, _, after = help_text.partition("Example")
    examples = [line.strip() for line in after.splitlines()[1:]
                if line.strip().startswith(PROG)]
    rest = [line for line in after.splitlines()[1:] if line.strip()
            and not line.strip().startswith((PROG, "\b"))]
    text = description.replace("\b", "").rstrip()
    if rest:
        text += "\n\n" + "\n".join(rest)
    return text, examples


def _description(help_text: str) -> str:
    return _split_help(help_text)[0]


def _text(help_text: str) -> str:
    """Help paragraphs as Markdown: re-flowed text, literal lines kept as code."""
    paragraphs = [p for p in re.split(r"\n\s*\n", help_text.strip()) if p.strip()]
    out = []
    for paragraph in paragraphs:
        lines = [line.strip() for line in paragraph.splitlines()]
        if any(line.startswith(("#", PROG)) for line in lines[1:]) or lines[0].startswith("#"):
            out.append("```text\n" + "\n".join(lines) + "\n```")
        else:
            out.append(_escape(" ".join(lines)))
    return "\n\n".join(out)


def _options_table(params: list[click.Parameter], ctx: click.Context) -> list[str]:
    rows = ["| Option | Description |", "|---|---|"]
    for param in params:
        record = param.get_help_record(ctx) if isinstance(param, click.Option) else None
        if record is None:
            continue
        opts, help_text = record
        rows.append(f"| `{opts}` | {_cell(help_text)} |")
    return rows


def _argument_row(argument: click.Argument) -> str:
    name = argument.human_readable_name
    many = "..." if argument.nargs == -1 else ""
    values = argument.type.get_metavar(argument, click.Context(cli)) or argument.type.name
    return f"| `{name}{many}` | {'yes' if argument.required else 'no'} | {_cell(values)} |"


def _escape(text: str) -> str:
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _cell(text: str) -> str:
    return _escape(" ".join(text.split())).replace("|", "\\|")


# ---- fields ----------------------------------------------------------------------------------


def field_page(title: str, schema: Schema) -> str:
    defs: dict[str, Schema] = schema.get("$defs", {})
    top = top_level_fields(schema)
    lines = [f"# {title}", "", _escape(schema.get("description", "")), "",
             "Generated from the JSON Schema that `operator-iac schema` prints; editors use the "
             "same schema for completion and hover help ([editor support]"
             "(../declaring-agents.md#editor-support)).", "", "## Top-level fields", "",
             "| Field | Type | Description |", "|---|---|---|"]
    for name, field in top.items():
        described = _escape(field.prop.get("description", "")) + \
            (f" ({field.note})" if field.note else "")
        lines.append(f"| [`{name}`](#field-{name}) | {field.type(defs)} | {_cell(described)} |")
    lines.append("")
    for name, field in top.items():
        lines += [f"### `{name}` {{#field-{name}}}", "", *_details(field.prop, defs, field.note,
                                                                   field.type(defs)), ""]
    lines += ["## Definitions", "", "The shapes the fields above refer to.", ""]
    for key, definition in defs.items():
        if key.startswith("part_of_"):
            continue  # the same shapes with every key optional, for base files
        lines += _definition(key, definition, defs)
    return "\n".join(lines) + "\n"


class _Field:
    """A top-level field, as each kind of file that has it declares it."""

    def __init__(self, by_kind: dict[str, Schema], note: str) -> None:
        self.by_kind = by_kind
        self.prop = next(iter(by_kind.values()))
        self.note = note

    def type(self, defs: dict[str, Schema]) -> str:
        shown = {kind: _type(prop, defs) for kind, prop in self.by_kind.items()}
        if len(set(shown.values())) == 1:
            return next(iter(shown.values()))
        return " or ".join(f"{text} ({kind.replace('_', ' ')})" for kind, text in shown.items())


def top_level_fields(schema: Schema) -> dict[str, _Field]:
    """Every top-level field: the schema's own properties, or for an agent file those of each
    kind, with a note saying which kinds have the field."""
    defs: dict[str, Schema] = schema.get("$defs", {})
    kinds = [k for k in ("conversational_agent", "procedural_agent") if k in defs]
    if not kinds:
        return {name: _Field({"": prop}, "required" if name in schema.get("required", ())
                             else "") for name, prop in schema.get("properties", {}).items()}
    fields: dict[str, dict[str, Schema]] = {}
    for kind in kinds:
        for name, prop in defs[kind].get("properties", {}).items():
            fields.setdefault(name, {})[kind] = prop
    result = {}
    for name, by_kind in fields.items():
        required = all(name in defs[k].get("required", []) for k in by_kind)
        which = "" if len(by_kind) == len(kinds) else \
            f"{next(iter(by_kind)).replace('_', ' ')}s only"
        note = ", ".join(n for n in ("required" if required else "", which) if n)
        if name == "kind" and "kind" in schema.get("properties", {}):
            by_kind = {"": schema["properties"]["kind"]}
        result[name] = _Field(by_kind, note)
    return result


def _definition(key: str, definition: Schema, defs: dict[str, Schema]) -> list[str]:
    lines = [f"### {definition.get('title', key)} {{#{key}}}", ""]
    if definition.get("description"):
        lines += [_escape(definition["description"]), ""]
    properties = definition.get("properties") or {}
    if not properties:
        return [*lines, *_details(definition, defs, ""), ""]
    required = set(definition.get("required", []))
    lines += ["| Field | Type | Default | Description |", "|---|---|---|---|"]
    for name, prop in properties.items():
        mark = " (required)" if name in required else ""
        lines.append(f"| `{name}`{mark} | {_type(prop, defs)} | {_default(prop)} | "
                     f"{_cell(prop.get('description', ''))} |")
    return [*lines, ""]


def _details(prop: Schema, defs: dict[str, Schema], note: str, shown: str = "") -> list[str]:
    lines = [f"Type: {shown or _type(prop, defs)}" + (f" ({note})" if note else "") + "."]
    if "default" in prop:
        lines += ["", f"Default: {_default(prop)}."]
    if prop.get("description"):
        lines += ["", _escape(prop["description"])]
    examples = prop.get("examples")
    if examples:
        shown = ", ".join(f"`{json.dumps(e)}`" for e in examples)
        lines += ["", f"Examples: {shown}."]
    return lines


def _default(prop: Schema) -> str:
    return f"`{json.dumps(prop['default'])}`" if "default" in prop else ""


def _type(prop: Schema, defs: dict[str, Schema]) -> str:
    """A property's type in words, with links to the definitions it refers to."""
    if "$ref" in prop:
        key = prop["$ref"].rsplit("/", 1)[-1]
        return f"[{defs.get(key, {}).get('title', key)}](#{key})"
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    if "enum" in prop:
        return "one of " + ", ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    for union in ("anyOf", "oneOf"):
        if union in prop:
            return " or ".join(_type(option, defs) for option in prop[union])
    kind = prop.get("type")
    if isinstance(kind, list):
        return " or ".join(_type({**prop, "type": k}, defs) for k in kind)
    if kind == "array":
        return f"list of {_type(prop.get('items', {}), defs)}"
    if kind == "object":
        values = prop.get("additionalProperties") or next(
            iter((prop.get("patternProperties") or {}).values()), None)
        return f"mapping of names to {_type(values, defs)}" if isinstance(values, dict) \
            else "mapping"
    return {"string": "string", "integer": "integer", "number": "number",
            "boolean": "`true` or `false`", "null": "`null`"}.get(str(kind), "any value")
