"""The agents lists read through the real CLI across many pages, whatever form the platform
gives its cursors and its paths: a list read short would make apply create its agents again.
Pages of one agent each, so every listing follows cursors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from operator_iac.emulator.server import EmulatorServer

from .conftest import KEYS, Platform, ProjectCopy


@pytest.fixture
def emulator(emulator_factory: Callable[..., EmulatorServer]) -> EmulatorServer:
    return emulator_factory(page_size=1)


@pytest.mark.parametrize("compat", [(), ("numeric_cursors",),
                                    ("numeric_cursors", "slash_redirects", "epoch_times"),
                                    ("newest_first_lists",)],
                         ids=["opaque", "numeric", "numeric-redirected-epoch", "newest-first"])
def test_every_page_is_read_and_nothing_is_created_twice(
        project: Callable[..., ProjectCopy], platform: Platform,
        compat: tuple[str, ...]) -> None:
    copy = project()
    copy.emulator.set_compat(*compat)
    first = copy.apply()
    assert first.exit_code == 0, first.stdout + first.stderr
    again = copy.run("apply", "--yes", "--no-smoke")
    assert again.exit_code == 0 and "No changes" in again.stdout, again.stdout + again.stderr
    owners = platform.owners()
    assert sorted(owners) == sorted(KEYS) and all(len(ids) == 1 for ids in owners.values())
    assert len(platform.agent_ids()) == len(KEYS)
    listings = [r for r in copy.emulator.requests
                if r.method == "GET" and r.path.rstrip("/") == "/conversational_agents"]
    assert len(listings) > 2  # the lists were read page after page
