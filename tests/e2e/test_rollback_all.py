"""``rollback --all --to-commit SHA``: every agent back to a commit in one command, shown first,
smoke-tested after; agents created after the commit are listed and left alone unless
``--delete-created``. ``history --all`` lists the commits that can be named."""

from __future__ import annotations

import json

import pytest

from .conftest import Platform, ProjectCopy
from .dashboard import Dashboard, set_at

FIRST, SECOND, THIRD = "aaaa1111aaaa", "bbbb2222bbbb", "cccc3333cccc"


def apply_at(copy: ProjectCopy, commit: str, monkeypatch: pytest.MonkeyPatch,
             *args: str) -> None:
    """Apply as CI does for ``commit``; the emulator's clock moves on between commits (the
    platform stamps revisions in whole seconds)."""
    monkeypatch.setenv("GIT_COMMIT", commit)
    result = copy.apply(*args)
    assert result.exit_code == 0, result.stdout + result.stderr
    copy.emulator.advance_clock(5)


@pytest.fixture
def three_commits(project: object, monkeypatch: pytest.MonkeyPatch) -> ProjectCopy:
    """FIRST: the example project. SECOND: support-triage's prompt and lead-qualification's
    effort change. THIRD: appointment-booking's model changes and summary-two is added."""
    copy: ProjectCopy = project()  # type: ignore[operator]
    apply_at(copy, FIRST, monkeypatch)
    copy.replace_in("support-triage.yaml", "Be friendly and brief.", "Be warm and brief.")
    copy.replace_in("lead-qualification.yaml", "reasoning_effort: high", "reasoning_effort: low")
    apply_at(copy, SECOND, monkeypatch)
    text = copy.agent_file("call-summary").read_text(encoding="utf-8")
    copy.agent_file("summary-two").write_text(
        text.replace("name: Call summary", "name: Call summary two"), encoding="utf-8")
    copy.replace_in("appointment-booking.yaml", "model: openai/gpt-4o-mini",
                    "model: openai/gpt-4.1")
    apply_at(copy, THIRD, monkeypatch)
    return copy


def released_config(platform: Platform, key: str) -> dict[str, object]:
    return platform.released(platform.id_of(key)).config


def test_history_all_lists_the_commits_that_can_be_named(three_commits: ProjectCopy) -> None:
    text = three_commits.run("history", "--all")
    data = json.loads(three_commits.run("history", "--all", "--format", "json").stdout)

    assert text.exit_code == 0
    assert [c["commit"] for c in data["commits"]] == [THIRD, SECOND, FIRST]
    assert data["commits"][1]["agents"] == ["lead-qualification", "support-triage"]
    assert data["commits"][2]["released"] == ["call-summary"]
    assert text.stdout.splitlines()[1].startswith(THIRD)
    assert "operator-iac rollback --all --to-commit COMMIT" in text.stdout


def test_every_agent_goes_back_to_a_commit_and_later_agents_are_left_alone(
        three_commits: ProjectCopy, platform: Platform) -> None:
    copy = three_commits
    before = copy.emulator.requests
    refused = copy.run("rollback", "--all", "--to-commit", FIRST[:6])  # no terminal, no --yes
    assert refused.exit_code == 3 and "--yes" in refused.stderr
    assert "Rollback of every agent to commit aaaa1111aaaa" in refused.stdout  # shown first
    assert not [r for r in copy.emulator.requests[len(before):] if r.method == "POST"]

    result = copy.run("rollback", "--all", "--to-commit", FIRST[:6], "--yes")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "summary-two" in result.stdout and "left alone (--delete-created deletes it)" in \
        result.stdout
    assert released_config(platform, "appointment-booking")["runtime"]["model"] == \
        "openai/gpt-4o-mini"  # type: ignore[index]
    assert released_config(platform, "lead-qualification")["runtime"][  # type: ignore[index]
        "reasoning_effort"] == "high"
    assert "Be friendly and brief." in released_config(platform, "support-triage")[
        "runtime"]["prompt"]["text"]  # type: ignore[index]
    assert "summary-two" in platform.owners()
    assert "smoke tests passed" in result.stdout  # the rolled-back agents were tested
    status = json.loads(copy.run("status", "--format", "json").stdout)
    commits = {a["key"]: a["commit"] for a in status["agents"]}
    assert commits["support-triage"] == FIRST and commits["summary-two"] == THIRD


def test_an_agent_the_commit_did_not_change_gets_its_revision_of_that_time(
        three_commits: ProjectCopy, platform: Platform) -> None:
    result = three_commits.run("rollback", "--all", "--to-commit", SECOND, "--yes",
                               "--no-smoke")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert f"not changed by commit {SECOND}: its revision of that time" in result.stdout
    assert released_config(platform, "appointment-booking")["runtime"]["model"] == \
        "openai/gpt-4o-mini"  # type: ignore[index]
    assert "Be warm and brief." in released_config(platform, "support-triage")[
        "runtime"]["prompt"]["text"]  # type: ignore[index]


def test_delete_created_removes_what_came_after_and_is_protected_in_production(
        three_commits: ProjectCopy, platform: Platform) -> None:
    copy = three_commits
    copy.replace_in("../operator-iac.yaml", "    api_key_env: OPERATOR_API_KEY_STAGING\n",
                    "    api_key_env: OPERATOR_API_KEY_STAGING\n    protect: true\n")
    protected = copy.run("rollback", "--all", "--to-commit", FIRST, "--yes", "--no-smoke",
                         "--delete-created")
    assert protected.exit_code == 3 and "needs --allow-delete" in protected.stderr
    assert "summary-two" in platform.owners()

    result = copy.run("rollback", "--all", "--to-commit", FIRST, "--yes", "--no-smoke",
                      "--delete-created", "--allow-delete")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert "summary-two: deleted" in result.stdout
    assert "summary-two" not in platform.owners()


def test_a_dashboard_copy_of_a_revision_is_not_taken_for_one_written_from_the_commit(
        three_commits: ProjectCopy, platform: Platform) -> None:
    agent_id = platform.id_of("call-summary")
    Dashboard(three_commits.emulator).edit_and_release(
        agent_id, set_at("runtime", "model", value="dashboard/model"))

    result = three_commits.run("rollback", "--all", "--to-commit", FIRST, "--yes",
                               "--no-smoke")

    assert result.exit_code == 0, result.stdout + result.stderr
    assert released_config(platform, "call-summary")["runtime"]["model"] == \
        "openai/gpt-4o-mini"  # type: ignore[index]
    assert f"{agent_id}@v0 released again" in result.stdout


@pytest.mark.parametrize(("args", "message"), [
    (("--all",), "--to-commit"),
    (("--to-commit", FIRST), "goes with --all"),
    (("support-triage", "--all", "--to-commit", FIRST), "leave out KEY"),
    (("--all", "--to-commit", "ffff9999"), "no revision of this project was written from"),
    (("--all", "--to-commit", "zz"), "hex digits"),
])
def test_usage_mistakes_are_one_line_errors(three_commits: ProjectCopy, args: tuple[str, ...],
                                            message: str) -> None:
    result = three_commits.run("rollback", *args, "--yes")
    assert result.exit_code == 3
    assert message in result.stderr


def test_where_only_is_released_is_reported_no_revision_put_aside_reads_as_a_draft(
        three_commits: ProjectCopy) -> None:
    """On a platform that reports only ``is_released``, each agent rolled back starts a draft
    holding what it released, so the revisions put aside never read as changes applied and
    never released."""
    copy = three_commits
    copy.emulator.set_faults(compat=["is_released"])

    result = copy.run("rollback", "--all", "--to-commit", FIRST, "--yes", "--no-smoke")

    assert result.exit_code == 0, result.stdout + result.stderr
    said = result.stdout + result.stderr
    for key in ("appointment-booking", "lead-qualification", "support-triage"):
        assert f"{key}: started draft" in said, key
    plan = copy.run("plan")
    assert plan.exit_code == 0, plan.stdout + plan.stderr
    assert "never released" not in plan.stdout + plan.stderr
