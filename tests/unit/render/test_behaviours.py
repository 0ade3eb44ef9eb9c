"""docs/platform-behaviours.md shows every variation of the registry, as the registry says."""

from __future__ import annotations

from pathlib import Path

import pytest

from operator_iac.emulator.variations import VARIATIONS, Alternative, Variation
from operator_iac.render.behaviours import render_tables, with_tables

PAGE = Path(__file__).resolve().parents[3] / "docs" / "platform-behaviours.md"


def test_the_page_holds_the_tables_the_registry_renders() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page == with_tables(page), (
        "docs/platform-behaviours.md is behind the registry of variations; regenerate its "
        "tables as the docstring of operator_iac.render.behaviours says")
    for variation in VARIATIONS:
        assert f"| {variation.point} |" in page
        for alternative in variation.alternatives:
            shown = alternative.mode.replace("_", "-") if alternative.delay else alternative.mode
            assert shown in page


def test_a_new_variation_gets_a_row_of_its_own() -> None:
    new = Variation("x", VARIATIONS[0].group, "A new point", "usual", (
        Alternative("other_mode", "does otherwise"), Alternative("late", "late", delay=True)),
        "copes", stance="your call", observed="write", how_observed="writes one")
    tables = render_tables((*VARIATIONS, new))
    assert ("| A new point | usual | does otherwise (`--compat other_mode`); late "
            "(`--late SECONDS`) | **Your call**: copes | `--write-check`: writes one |") in tables
    assert tables.count("## ") == len({v.group for v in VARIATIONS})


def test_a_page_without_its_generated_part_is_refused() -> None:
    with pytest.raises(ValueError, match="no generated part"):
        with_tables("# A page\n")
