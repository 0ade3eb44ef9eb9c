"""The published JSON Schemas of ``--format json`` (``docs/schemas/<command>.json``), loaded with
the references between them resolved, and a check of one command's output against its own."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

DOCS = Path(__file__).resolve().parents[2] / "docs"
SCHEMAS = DOCS / "schemas"


@cache
def _registry() -> Registry:
    files = [*SCHEMAS.glob("*.json"), DOCS / "plan.schema.json"]
    return Registry().with_resources(
        (path.resolve().as_uri(), Resource.from_contents(json.loads(path.read_text("utf-8")),
                                                          default_specification=DRAFT202012))
        for path in files)


def schema_commands() -> list[str]:
    """The commands with a published schema."""
    return sorted(p.stem for p in SCHEMAS.glob("*.json") if p.stem != "envelope")


def validator(command: str) -> Draft202012Validator:
    """A validator of ``command``'s report, its references resolved among the files."""
    uri = (SCHEMAS / f"{command}.json").resolve().as_uri()
    return Draft202012Validator({"$ref": uri}, registry=_registry())


def check_report(command: str, stdout: str, exit_code: int) -> dict[str, Any]:
    """``stdout`` is exactly one envelope of ``command``, valid against its schema, whose
    ``exit_code`` is the process's; the report, decoded."""
    report = json.loads(stdout)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator(command).iter_errors(report)]
    assert problems == [], f"{command} output does not match its schema: {problems[:5]}"
    assert report["command"] == command and report["exit_code"] == exit_code
    return report
