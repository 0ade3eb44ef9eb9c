"""The documentation site: ``mkdocs build --strict`` passes (every page of ``docs/`` is in the
navigation, no link is broken), the reference pages are generated from the click commands and
the JSON Schemas, and the built site, rendered by a real headless browser, shows every command
and every top-level field."""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from operator_iac.cli.main import COMMANDS
from operator_iac.spec.schema import agent_file_schema, project_file_schema

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _top_level_fields(schema: dict[str, object]) -> set[str]:
    defs = schema["$defs"]
    assert isinstance(defs, dict)
    if "project" in (schema.get("properties") or {}):  # the project file
        return set(schema["properties"])  # type: ignore[arg-type]
    return {name for kind in ("conversational_agent", "procedural_agent")
            for name in defs[kind]["properties"]}


AGENT_FIELDS = _top_level_fields(agent_file_schema())
PROJECT_FIELDS = _top_level_fields(project_file_schema())


def _build(docs: Path, site: Path) -> subprocess.CompletedProcess[str]:
    config = docs.parent / "mkdocs.yml"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "-f", str(config), "-d", str(site)],
                          capture_output=True, text=True, timeout=120, env=env, check=False)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    built = tmp_path_factory.mktemp("site")
    done = _build(REPO / "docs", built)
    assert done.returncode == 0, done.stdout + done.stderr
    return built


def test_the_site_builds_strictly_with_a_page_per_command(site: Path) -> None:
    for name in COMMANDS:
        page = (site / "commands" / name / "index.html").read_text(encoding="utf-8")
        assert f"operator-iac {name}" in page
        assert "Usage" in page and "Options" in page
    for page in ("getting-started", "concepts", "python-api", "exit-codes", "ci",
                 "platform-behaviours", "plan-format", "reference/agent-file",
                 "reference/project-file"):
        assert (site / page / "index.html").is_file(), page


def test_a_page_left_out_of_the_navigation_fails_the_build(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "docs", copy / "docs")
    shutil.copy(REPO / "mkdocs.yml", copy / "mkdocs.yml")
    (copy / "docs" / "forgotten.md").write_text("# Forgotten\n", encoding="utf-8")
    done = _build(copy / "docs", tmp_path / "site")
    assert done.returncode != 0
    assert "forgotten.md" in done.stdout + done.stderr


def _hook() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_reference_hook",
                                                  REPO / "docs" / "hooks" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nav_pages(nav: list[Any]) -> list[str]:
    pages: list[str] = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_page_and_every_command_page_is_in_the_navigation() -> None:
    """The hook adds a page per command; every other page of ``docs/`` is listed in
    ``mkdocs.yml`` itself."""
    nav = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))["nav"]
    config = _hook().on_config({"docs_dir": str(REPO / "docs"), "nav": copy.deepcopy(nav)})
    pages = _nav_pages(config["nav"])
    assert {f"commands/{name}.md" for name in COMMANDS} <= set(pages)
    written = {p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").glob("*.md")}
    for name in ("security.md", "lint.md", "statistics.md", "performance.md",
                 "json-output.md"):
        assert name in written
    assert written <= set(pages)
    assert len(pages) == len(set(pages))


def _chromium() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


def _rendered(browser: str, page: Path, profile: Path) -> str:
    """The page's DOM after a headless browser loaded and ran it, as text."""
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return re.sub(r"<[^>]+>", " ", done.stdout)


def test_a_browser_shows_every_command_and_every_top_level_field(site: Path,
                                                                tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        pytest.skip("this test renders the built site in a headless browser, and none is "
                    f"installed (looked for {', '.join(CHROMIUM_NAMES)}); to run it, install "
                    "Chromium (Debian: apt-get install chromium; .ci/run does so when it runs "
                    "as root)")
    commands = _rendered(browser, site / "commands" / "index.html", tmp_path / "profile")
    for name in COMMANDS:
        assert re.search(rf"\b{re.escape(name)}\b", commands), name
    assert "Global options" in commands
    for page, fields in (("agent-file", AGENT_FIELDS), ("project-file", PROJECT_FIELDS)):
        shown = _rendered(browser, site / "reference" / page / "index.html",
                          tmp_path / "profile")
        assert "Top-level fields" in shown
        missing = [f for f in fields if not re.search(rf"\b{re.escape(f)}\b", shown)]
        assert missing == [], (page, missing)
