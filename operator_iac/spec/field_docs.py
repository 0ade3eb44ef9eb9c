"""Field docstrings as JSON Schema descriptions, read only when a schema is built.

A field is documented by the string literal right under it in the class body::

    class SmokeTest(StrictModel):
        name: str
        \"\"\"Shown in reports and plans.\"\"\"

pydantic can read these itself (``use_attribute_docstrings``), but it does so for every model
class as the class is defined, by reading and parsing its module's source: about 100 ms of
every command's start-up, for text that only the JSON Schemas show (the editor schemas,
``operator-iac schema``, the plan file's schema and the reference pages of the docs site).
``describe_fields``, a model's ``json_schema_extra``, does the same reading when a schema of
that model is built, once per class, so a command that builds no schema pays nothing.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from functools import cache
from itertools import pairwise
from typing import Any

from pydantic import BaseModel


def describe_fields(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """``json_schema_extra`` of documented models: each property of ``model``'s schema that
    has no description takes its field's docstring (an explicit ``Field(description=...)``
    stays as it is)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    docs = field_docstrings(model)
    for name, info in model.model_fields.items():
        doc = docs.get(name)
        key = info.validation_alias if isinstance(info.validation_alias, str) \
            else info.alias or name
        prop = properties.get(key)
        if doc and isinstance(prop, dict) and "description" not in prop:
            prop["description"] = doc


@cache
def field_docstrings(model: type) -> dict[str, str]:
    """Field name -> docstring of ``model``, its own fields and those it inherits (the
    nearest class's docstring wins, as for any attribute)."""
    found: dict[str, str] = {}
    for klass in reversed(model.__mro__):
        if klass is not object and not klass.__module__.startswith("pydantic"):
            found.update(_own_docstrings(klass))
    return found


@cache
def _own_docstrings(klass: type) -> dict[str, str]:
    """The docstrings under the annotated names of ``klass``'s own body."""
    try:
        source = textwrap.dedent(inspect.getsource(klass))
    except (OSError, TypeError):  # no source: a class built at run time, a frozen install
        return {}
    tree = ast.parse(source)
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    docs: dict[str, str] = {}
    for statement, following in pairwise(body):
        if (isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs
