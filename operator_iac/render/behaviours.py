"""The tables of ``docs/platform-behaviours.md``, rendered from the registry of variations.

The page is written by hand around one generated part, between ``BEGIN`` and ``END``:
``with_tables(page)`` returns the page with that part rendered afresh from
``operator_iac.emulator.variations``, and a test fails when the page on disk differs, so the
documentation cannot fall behind the registry. To bring it up to date::

    python -c "from pathlib import Path; from operator_iac.render.behaviours import \\
    with_tables; p = Path('docs/platform-behaviours.md'); p.write_text(with_tables(p.read_text()))"

Pure functions of the registry.
"""

from __future__ import annotations

from collections.abc import Sequence

from operator_iac.emulator.variations import GROUPS, VARIATIONS, Alternative, Variation

BEGIN = ("<!-- The tables below are generated from the registry of variations: edit it, "
         "not them. -->")
END = "<!-- End of the generated tables. -->"
_HEADER = ("| Point | The emulator | The alternative | operator-iac | `doctor` |\n"
           "|---|---|---|---|---|")
_STANCES = {"adapts": "**Adapts**", "your call": "**Your call**"}
_OBSERVED = {"read": "reads: {how}", "conversation": "its conversation: {how}",
             "write": "`--write-check`: {how}", "never": "not observed"}


def render_tables(variations: Sequence[Variation] = VARIATIONS) -> str:
    """One section per group, one table row per variation."""
    sections = []
    for group in GROUPS:
        rows = [_row(v) for v in variations if v.group == group]
        if rows:
            sections.append(f"## {group}\n\n{_HEADER}\n" + "\n".join(rows))
    return "\n\n".join(sections)


def with_tables(page: str, variations: Sequence[Variation] = VARIATIONS) -> str:
    """``page`` with its generated part rendered from ``variations``; ValueError when the
    page has no such part."""
    before, begin, rest = page.partition(BEGIN)
    _, end, after = rest.partition(END)
    if not begin or not end:
        raise ValueError("the page has no generated part (its BEGIN and END comments)")
    return f"{before}{BEGIN}\n\n{render_tables(variations)}\n\n{END}{after}"


def _row(variation: Variation) -> str:
    alternatives = "; ".join(_alternative(a) for a in variation.alternatives)
    adapts = f"{_STANCES[variation.stance]}: {variation.adapts}"
    observed = _OBSERVED[variation.observed].format(how=variation.how_observed)
    return (f"| {variation.point} | {variation.usual} | {alternatives} | {adapts} | "
            f"{observed} |")


def _alternative(alternative: Alternative) -> str:
    if alternative.delay:
        flag = alternative.mode.replace("_", "-")
        return f"{alternative.behaviour} (`--{flag} SECONDS`)"
    return f"{alternative.behaviour} (`--compat {alternative.mode}`)"
