"""docs/lint.md documents every rule: its reference part is generated from the rule table
(whose examples ``test_rules`` lints), so it must equal what the table generates now. Run
this file with Python to regenerate it after changing a rule."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from operator_iac.lint.catalog import RULES
from operator_iac.render.lint_docs import BEGIN, END, anchor, with_reference
from operator_iac.spec.schema import project_file_schema, undescribed_properties

PAGE = Path(__file__).resolve().parents[3] / "docs" / "lint.md"


def test_every_rule_id_in_the_code_has_an_entry_in_the_documentation() -> None:
    text = PAGE.read_text(encoding="utf-8")
    documented = re.findall(r"^#### (OIC\d{3}) ([a-z-]+)$", text, flags=re.MULTILINE)
    assert documented == [(r.id, r.name) for r in RULES.values()]
    for rule in RULES.values():
        assert f"](#{anchor(rule)})" in text


def test_the_reference_is_what_the_rule_table_generates() -> None:
    text = PAGE.read_text(encoding="utf-8")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert with_reference(text) == text, \
        f"docs/lint.md is out of date: run python {Path(__file__).relative_to(PAGE.parents[1])}"
    for rule in RULES.values():  # the examples shown are the examples the tests lint
        for content in rule.example.files.values():
            assert content.rstrip() in text


def test_the_project_file_schema_describes_the_lint_section() -> None:
    schema = project_file_schema()
    _, undescribed = undescribed_properties(schema)
    assert undescribed == []
    lint = schema["$defs"]["lint_settings"]
    assert set(lint["properties"]) == {"rules", "allowed_models", "allowed_transfer_numbers",
                                       "max_prompt_chars", "require_ai_disclosure",
                                       "disclosure_phrases"}
    assert "16000" in lint["properties"]["max_prompt_chars"]["description"]
    assert lint["properties"]["rules"]["propertyNames"]["pattern"] == "^OIC[0-9]{3}$"
    environment = schema["$defs"]["environment"]["properties"]["lint"]
    assert "overriding" in environment["description"]


if __name__ == "__main__":
    PAGE.write_text(with_reference(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    sys.exit(0)
