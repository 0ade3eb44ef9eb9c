"""The read-ahead of ``plan`` and ``status`` (``services.read_ahead``): the platform is read
while the declarations load, and what comes out is what a plan without it reads, with the
same requests; a configuration error the documentation promises before any request still
comes before any request, wherever the value is missing; a command that fails before using
the reads ends at once, having only read; ``apply`` reads ahead as ``plan`` does and goes on
with the client that read."""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from operator_iac.api.client import OperatorClient
from operator_iac.services.apply import ApplyRequest, apply_declarations
from operator_iac.services.plan import make_plan
from operator_iac.services.read_ahead import begin_read_ahead
from operator_iac.settings import NO_CACHE_VARIABLE

from .conftest import WRITE_METHODS, Platform, ProjectCopy

Project = Callable[..., ProjectCopy]
OTHER_TEAMS = 12

DIGEST = """kind: procedural_agent
name: Weekly digest
description: Sums up the week's calls.

config:
  filter_statuses: [completed]
  runtime:
    model: openai/gpt-4o-mini
    prompt:
      type: fixed
      text: Summarise the call in one line.
"""


def requests_of(copy: ProjectCopy) -> Counter[tuple[str, str]]:
    """The requests since the log was last cleared (method, path), as a multiset; cleared."""
    seen = Counter((r.method, r.path) for r in copy.emulator.requests)
    copy.emulator.clear_requests()
    return seen


def _namesake_of_a_managed_agent(copy: ProjectCopy, platform: Platform) -> str:
    """(The id of) an unmanaged agent named like a declared agent the project already
    manages: read in depth for its name, which only the declarations tell; nothing else is
    read."""
    return platform.create("procedural_agents", name="Call summary",
                           description="Made by hand.", config={"filter_statuses": ["completed"]})


def _new_key_and_its_namesake(copy: ProjectCopy, platform: Platform) -> str:
    """A declared key with no agent yet (so the rest of the account is read too) and (the id
    of) an unmanaged agent of its name."""
    (copy.agents_dir / "weekly-digest.yaml").write_text(DIGEST, encoding="utf-8")
    return platform.create("procedural_agents", name="Weekly digest",
                           description="Made by hand.", config={"filter_statuses": ["completed"]})


def _lists_without_descriptions(copy: ProjectCopy, platform: Platform) -> str:
    """A platform whose agent lists carry no description (a compatibility mode): the list
    shows no marker, so the read-ahead claims nothing by it and every agent is read once the
    declarations are known; (the id of) an unmanaged namesake among them."""
    copy.emulator.set_compat("list_without_description")
    return _namesake_of_a_managed_agent(copy, platform)


def _paths_moved(copy: ProjectCopy, platform: Platform) -> str:
    """A platform that answers every path with a redirect to it with a trailing slash (a
    compatibility mode): the lists sent before the client was built are answered by a
    redirect, which the client follows as it follows its own; an unmanaged namesake."""
    copy.emulator.set_compat("slash_redirects")
    return _namesake_of_a_managed_agent(copy, platform)


@pytest.mark.parametrize("arrange", [_namesake_of_a_managed_agent, _new_key_and_its_namesake,
                                     _lists_without_descriptions, _paths_moved])
def test_a_plan_read_ahead_is_the_plan_read_after_with_the_same_requests(
        applied: ProjectCopy, platform: Platform, monkeypatch: pytest.MonkeyPatch,
        arrange: Callable[[ProjectCopy, Platform], str]) -> None:
    monkeypatch.setenv(NO_CACHE_VARIABLE, "1")
    for n in range(OTHER_TEAMS):
        platform.create("procedural_agents", name=f"Other team {n}", description=f"Theirs {n}.",
                        config={"filter_statuses": ["completed"]})
    namesake = arrange(applied, platform)
    applied.emulator.clear_requests()

    with OperatorClient(applied.emulator.url, applied.emulator.api_key) as client:
        after = make_plan(applied.target(), client, smoke=False).plan
    read_after = requests_of(applied)

    reading = begin_read_ahead(applied.project_file, applied.env, api_url=applied.emulator.url,
                               cache=True, parallelism=4)
    assert reading is not None
    try:
        target = applied.target()
        assert reading.serves(target, reading.client, everything=False)
        ahead = make_plan(target, reading.client, smoke=False, reading=reading).plan
    finally:
        reading.close()
    read_ahead = requests_of(applied)

    assert ahead.model_dump(exclude={"created_at"}) == after.model_dump(exclude={"created_at"})
    assert ("GET", f"/procedural_agents/{namesake}/versions") in read_ahead  # in depth
    assert read_ahead == read_after
    assert not any(method in WRITE_METHODS for method, _ in read_ahead)


def test_a_value_missing_in_a_prompt_outside_the_agents_folder_stops_before_any_request(
        project: Project) -> None:
    copy = project()
    shared = copy.root / "shared-prompts"
    shared.mkdir()
    prompt = (copy.agents_dir / "prompts" / "appointment-booking.md").read_text(encoding="utf-8")
    (shared / "booking.md").write_text(prompt + "\nSee ${var:booking_page_url}.\n",
                                       encoding="utf-8")
    copy.replace_in("appointment-booking.yaml", "file: prompts/appointment-booking.md",
                    "file: ../shared-prompts/booking.md")

    for command in ("plan", "status"):
        result = copy.run(command)
        assert result.exit_code == 3, result.stdout + result.stderr
        assert "${var:booking_page_url}" in result.stderr
    assert copy.emulator.requests == []


def test_a_command_that_fails_after_reading_ahead_ends_at_once_having_only_read(
        applied: ProjectCopy) -> None:
    applied.emulator.clear_requests()
    applied.replace_in("support-triage.yaml", "kind: conversational_agent",
                       "kind: conversational_agent\nkind: twice")

    inside = applied.plan()
    # The real process: a read-ahead still running must not hold its exit.
    outside = subprocess.run(applied.command("status"), capture_output=True, text=True,
                             timeout=60, check=False)

    assert inside.exit_code == 3 and outside.returncode == 3, outside.stderr
    assert "support-triage.yaml" in inside.stderr and "support-triage.yaml" in outside.stderr
    assert all(r.method == "GET" for r in applied.emulator.requests)


def test_no_read_ahead_where_the_search_for_missing_values_cannot_vouch(
        project: Project, tmp_path: Path) -> None:
    copy = project()
    staging = dict(api_url=copy.emulator.url, cache=False, parallelism=4)
    reading = begin_read_ahead(copy.project_file, "staging", **staging)
    assert reading is not None
    reading.close()
    # Another environment's key variable unset, an unknown one, a value only a template
    # instance could give: nothing is read ahead (the command then says what is wrong).
    assert begin_read_ahead(copy.project_file, "production", environ={}, **staging) is None
    assert begin_read_ahead(copy.project_file, "nowhere", **staging) is None
    (copy.agents_dir / "notes.md").write_text("${var:from_an_instance}", encoding="utf-8")
    reading = begin_read_ahead(copy.project_file, "staging", **staging)  # named by no agent
    assert reading is not None
    reading.close()
    prompt = copy.agents_dir / "prompts" / "appointment-booking.md"
    prompt.write_text(prompt.read_text(encoding="utf-8") + "{{> ../notes.md}}\n",
                      encoding="utf-8")
    assert begin_read_ahead(copy.project_file, "staging", **staging) is None


def test_a_value_missing_in_an_agents_folder_outside_the_project_stops_before_any_request(
        project: Project) -> None:
    copy = project()
    elsewhere = copy.root.parent / "shared-agents"
    copy.agents_dir.rename(elsewhere)
    copy.edit_project_file("agents_dir: agents\n", "agents_dir: ../shared-agents\n")
    booking = elsewhere / "appointment-booking.yaml"
    booking.write_text(booking.read_text(encoding="utf-8").replace(
        "name: Appointment booking", "name: ${var:front_desk_name}", 1), encoding="utf-8")

    result = copy.plan()
    assert result.exit_code == 3, result.stdout + result.stderr
    assert "${var:front_desk_name}" in result.stderr
    assert copy.emulator.requests == []


def test_whatever_goes_wrong_while_vouching_the_command_reads_after_instead(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = project()
    staging = dict(api_url=copy.emulator.url, cache=False, parallelism=4)
    (copy.agents_dir / "loop.md").symlink_to(copy.agents_dir / "loop.md")
    reading = begin_read_ahead(copy.project_file, "staging", **staging)  # a loop is skipped
    assert reading is not None
    reading.close()

    def broken(*_: object) -> None:
        raise RuntimeError("unexpected")

    with monkeypatch.context() as patched:
        patched.setattr("operator_iac.spec.prescan.unresolvable", broken)
        assert begin_read_ahead(copy.project_file, "staging", **staging) is None
    reading = begin_read_ahead(copy.project_file, "staging", **staging)
    assert reading is not None
    reading.close()
    copy.append_to_project_file("project: twice\n")  # the loader refuses a duplicate key
    assert begin_read_ahead(copy.project_file, "staging", **staging) is None


def test_a_plan_read_ahead_through_transient_faults_is_the_plan_without_them(
        applied: ProjectCopy) -> None:
    calm = applied.plan()
    # The first pages of both lists, then versions lists, answer 503 before they answer.
    applied.emulator.fail_next(2, 503, "GET", r"_agents$", retry_after=0)
    applied.emulator.fail_next(3, 503, "GET", r"/versions$", retry_after=0)
    stormy = applied.plan()
    assert stormy.exit_code == calm.exit_code == 0, stormy.stderr
    assert stormy.stdout == calm.stdout
    assert "retrying" in stormy.stderr


def test_a_project_at_the_root_of_a_repository_reads_ahead(project: Project) -> None:
    """Its README and changelog write the syntax in prose, and no declaration names them."""
    copy = project()
    for name in ("README.md", "CHANGELOG.md", "docs/usage.md"):
        path = copy.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("Write `${env:NAME}` or `${var:name}` in a prompt.\n", encoding="utf-8")
    reading = begin_read_ahead(copy.project_file, "staging", api_url=copy.emulator.url,
                               cache=False, parallelism=4)
    assert reading is not None
    reading.close()


def test_an_apply_reads_ahead_and_goes_on_with_the_client_that_read(
        applied: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    """An apply's plan is read while its declarations load; its writes and smoke tests then
    go through the client that read, chat sessions included at the URL the environment
    names, and it costs the requests an apply without the read-ahead costs."""
    monkeypatch.setenv(NO_CACHE_VARIABLE, "1")
    ws_url = applied.emulator.ws_url.replace("127.0.0.1", "localhost")  # not the derived one
    applied.edit_project_file("    api_key_env: OPERATOR_API_KEY_STAGING\n",
                              f"    api_key_env: OPERATOR_API_KEY_STAGING\n"
                              f"    ws_url: {ws_url}\n")

    def change(version: int) -> None:
        before = f"point ({version - 1}) of" if version > 1 else "point of"
        applied.replace_in("support-triage.yaml", before, f"point ({version}) of")

    change(1)
    applied.emulator.clear_requests()
    with applied.target().client() as client:
        plain = apply_declarations(applied.target(), client, ApplyRequest())
    without = requests_of(applied)
    change(2)
    reading = begin_read_ahead(applied.project_file, applied.env, api_url=applied.emulator.url,
                               cache=False, parallelism=4, writes=True)
    assert reading is not None
    try:
        target = applied.target()
        assert reading.reaches(target) and reading.client.ws_url == ws_url
        ahead = apply_declarations(target, reading.client, ApplyRequest(), reading=reading)
    finally:
        reading.close()
    with_reading = requests_of(applied)

    assert plain.report is not None and ahead.report is not None
    assert plain.report.exit_code() == ahead.report.exit_code() == 0
    assert [v.passed for r in ahead.report.results for v in r.smoke] == [True, True]
    lists = [("GET", "/conversational_agents"), ("GET", "/procedural_agents")]
    assert [with_reading[k] for k in lists] == [without[k] for k in lists] == [1, 1]
    assert with_reading.total() == without.total()


def test_an_apply_reads_nothing_ahead_for_an_environment_it_refuses(project: Project) -> None:
    copy = project()
    staging = dict(api_url=copy.emulator.url, cache=False, parallelism=4)
    assert begin_read_ahead(copy.project_file, "production", writes=True, **staging) is None
    reading = begin_read_ahead(copy.project_file, "production", **staging)  # plan may read
    assert reading is not None
    reading.close()
