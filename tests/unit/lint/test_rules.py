"""Every rule of the table, through its own documentation: the example triggers it (and no
other rule), the fixed example triggers nothing, and a suppression comment with a reason on
the finding's line silences it and is reported with the finding."""

from __future__ import annotations

import pytest
import yaml

from operator_iac.lint.catalog import RULES
from operator_iac.lint.rule import Rule

from .conftest import Lint

CHECKED = [rule for rule in RULES.values() if rule.check is not None]


@pytest.mark.parametrize("rule", RULES.values(), ids=list(RULES))
def test_the_example_triggers_the_rule_and_the_fixed_one_nothing(rule: Rule,
                                                                 lint: Lint) -> None:
    found = lint(rule.example.files)
    assert found.problems == ()
    assert rule.id in {f.rule for f in found.active}
    assert {f.rule for f in found.active} <= {rule.id, *rule.companions}
    assert all(f.at.line >= 1 and f.at.column >= 1 and f.message for f in found.findings)
    fixed = lint(rule.fixed.files)
    assert fixed.problems == ()
    assert [f"{f.rule} {f.message}" for f in fixed.findings if f.suppressed is None] == []


@pytest.mark.parametrize("rule", CHECKED, ids=[r.id for r in CHECKED])
def test_a_suppression_with_a_reason_silences_the_rule_on_its_line(rule: Rule,
                                                                   lint: Lint) -> None:
    found = next(f for f in lint(rule.example.files).active if f.rule == rule.id)
    files = dict(rule.example.files)
    path = next(p for p in files if found.at.file.endswith(p))
    lines = files[path].split("\n")
    lines[found.at.line - 1] += f"  # operator-iac: ignore[{rule.id}] reviewed by the team"
    files[path] = "\n".join(lines)
    again = lint(files)
    assert [f.rule for f in again.active] == []
    silenced = [f for f in again.suppressed if f.rule == rule.id]
    assert silenced and silenced[0].suppressed == "reviewed by the team"
    assert silenced[0].at == found.at
    assert not again.failed


@pytest.mark.parametrize("rule", CHECKED, ids=[r.id for r in CHECKED])
def test_each_rule_can_be_turned_off_and_made_an_error(rule: Rule, lint: Lint) -> None:
    project = yaml.safe_load(rule.example.files.get("operator-iac.yaml", "project: acme\n"))
    for level in ("off", "error"):
        project.setdefault("lint", {}).setdefault("rules", {})[rule.id] = level
        found = lint({**rule.example.files, "operator-iac.yaml": yaml.safe_dump(project)})
        mine = [f for f in found.active if f.rule == rule.id]
        if level == "off":
            assert mine == []
        else:
            assert mine and {f.severity for f in mine} == {"error"}


def test_the_table_has_twenty_rules_or_more_with_stable_unique_ids() -> None:
    assert len(CHECKED) >= 20
    assert all(r.id.startswith("OIC") and len(r.id) == 6 and r.id[3:].isdigit()
               for r in RULES.values())
    assert len({r.name for r in RULES.values()}) == len(RULES)
    assert all(r.title and r.rationale and r.fix and r.group for r in RULES.values())
