"""Field docstrings reach the JSON Schema when one is built, not when a model is defined."""

from __future__ import annotations

import subprocess
import sys

from pydantic import Field

from operator_iac.spec.base import StrictModel
from operator_iac.spec.field_docs import field_docstrings


class _Parent(StrictModel):
    inherited: str
    """From the parent."""
    overridden: str = ""
    """The parent's words."""


class _Child(_Parent):
    overridden: str = ""
    """The child's words."""
    aliased: int = Field(0, alias="with-alias")
    """Under its alias."""
    explicit: int = Field(0, description="Said in the field.")
    """Not this."""
    undocumented: bool = False

    def method(self) -> None:
        hidden: str = ""
        """A local variable's string is no field's docstring."""
        del hidden


def test_a_schema_describes_each_field_by_its_docstring_the_nearest_class_winning() -> None:
    properties = _Child.model_json_schema()["properties"]

    assert properties["inherited"]["description"] == "From the parent."
    assert properties["overridden"]["description"] == "The child's words."
    assert properties["with-alias"]["description"] == "Under its alias."
    assert properties["explicit"]["description"] == "Said in the field."
    assert "description" not in properties["undocumented"]
    assert "hidden" not in field_docstrings(_Child)


def test_defining_the_models_reads_no_source() -> None:
    """The cost this saves: importing every declaration and plan model parses no module
    source (pydantic's own attribute docstrings would, for every class)."""
    probe = ("import inspect, sys\n"
             "read = []\n"
             "real = inspect.findsource\n"
             "inspect.findsource = lambda *a, **k: read.append(1) or real(*a, **k)\n"
             "import operator_iac.spec.project, operator_iac.plan.model\n"
             "sys.exit(len(read))\n")
    done = subprocess.run([sys.executable, "-c", probe], check=False)
    assert done.returncode == 0, f"{done.returncode} sources read while importing the models"
