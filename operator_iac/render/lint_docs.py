"""The rules reference of ``docs/lint.md``, generated from the rule table so that it cannot
drift from the code: per rule its id and name, default severity, why it exists, an example
that triggers it, the fix and the example fixed."""

from __future__ import annotations

from operator_iac.lint.catalog import RULES
from operator_iac.lint.rule import Example, Rule

BEGIN = "<!-- rules reference: generated from the rule table, do not edit by hand -->"
END = "<!-- end of the rules reference -->"
_LANGUAGES = {".yaml": "yaml", ".yml": "yaml", ".md": "markdown"}


def rules_reference() -> str:
    """The Markdown of every rule, grouped, between the ``BEGIN`` and ``END`` markers."""
    parts = [BEGIN, "", _index()]
    group = None
    for rule in RULES.values():
        if rule.group != group:
            group = rule.group
            parts += [f"### {group}", ""]
        parts.append(rule_section(rule))
    parts.append(END)
    return "\n".join(parts) + "\n"


def with_reference(page: str) -> str:
    """``page`` (the text of docs/lint.md) with its rules reference generated anew: the part
    from ``BEGIN`` to ``END`` replaced, or the reference appended when it has none."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        return page.rstrip("\n") + "\n\n" + rules_reference()
    return page[:start] + rules_reference() + page[end + len(END):].lstrip("\n")


def _index() -> str:
    rows = ["| Id | Name | Default | Finds |", "|---|---|---|---|"]
    rows += [f"| [{r.id}](#{anchor(r)}) | `{r.name}` | {r.severity} | {r.title} |"
             for r in RULES.values()]
    return "\n".join(rows) + "\n"


def anchor(rule: Rule) -> str:
    """The heading's anchor as MkDocs and GitHub make it from ``OIC103 phone-number-...``."""
    return f"{rule.id.lower()}-{rule.name}"


def rule_section(rule: Rule) -> str:
    lines = [f"#### {rule.id} {rule.name}", "",
             f"{rule.title}. Default severity: **{rule.severity}**.", "",
             f"**Why.** {rule.rationale}", "",
             "**Example** (the rule finds something here):", "",
             _files(rule.example, rule.example), "",
             f"**Fix.** {rule.fix}", "",
             "**Fixed:**", "",
             _files(rule.fixed, rule.example), ""]
    return "\n".join(lines)


def rule_help(rule: Rule) -> str:
    """Why and how to fix, in Markdown: the help a code scanning alert shows."""
    return f"**Why.** {rule.rationale}\n\n**Fix.** {rule.fix}"


def _files(example: Example, against: Example) -> str:
    """The files of ``example``; only those that differ from ``against`` when it is another
    example (the fixed version shows what changed)."""
    shown = [(path, text) for path, text in example.files.items()
             if example is against or against.files.get(path) != text]
    blocks = []
    for path, text in shown:
        language = next((v for k, v in _LANGUAGES.items() if path.endswith(k)), "text")
        blocks.append(f"`{path}`\n\n```{language}\n{text.rstrip()}\n```")
    return "\n\n".join(blocks)
