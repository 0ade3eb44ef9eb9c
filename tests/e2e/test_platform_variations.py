"""The example project against platforms that made the other plausible choice on a point the
contract leaves undocumented, where the tool says something of its own about it: a create
completed with PUT, trimmed text, a release answered "already released", a lost create found
again, and the variations that are the user's to decide (a platform that does not greet
cannot pass a test that expects a greeting; one that refuses conversations with drafts cannot
test drafts). The whole life on every variation is ``test_random_platforms``.
"""

from __future__ import annotations

import pytest

from .conftest import Result
from .two_platforms import Environments, Platform, environments

__all__ = ["environments"]

KEYS = ("appointment-booking", "call-summary", "lead-qualification", "support-triage")
GREETINGS = {"appointment-booking": "Amanda", "support-triage": "Sam"}


def set_modes(envs: Environments, *modes: str) -> None:
    for name in ("staging", "production"):
        envs.platform(name).emulator.set_compat(*modes)


def smoke_released_only(envs: Environments) -> None:
    """What a user does for a platform that converses with released revisions only."""
    envs.replace_in("operator-iac.yaml", "smoke: {on: [draft, released]",
                    "smoke: {on: [released]")


def ok(result: Result) -> None:
    assert result.exit_code == 0, (result.stdout, result.stderr)


def assert_one_agent_per_key(platform: Platform) -> None:
    owned = platform.owned()
    assert sorted(owned) == sorted(KEYS)
    ids = {summary.id for kind in (platform.client.conversational_agents,
                                   platform.client.procedural_agents)
           for summary in kind.list()}
    assert len(ids) == len(KEYS), ids


@pytest.fixture
def envs(environments: Environments) -> Environments:
    return environments


# ---- what the tool says about a variation -------------------------------------------------


def test_a_create_that_drops_postprocess_agents_is_completed_with_put(
        envs: Environments) -> None:
    set_modes(envs, "create_ignores_postprocess")
    applied = envs.apply_staging()
    ok(applied)
    assert "the create did not keep postprocess_agents" in applied.stderr
    staging = envs.platform("staging")
    booking = staging.released(staging.id_of("appointment-booking"))
    assert booking.postprocess_agents == [staging.id_of("call-summary")]


@pytest.mark.parametrize("refused_with", ["409", "422"])
def test_a_platform_that_releases_what_it_creates(envs: Environments, refused_with: str) -> None:
    """A create that is released at once: the write naming the smoke records is refused on
    that ``v0`` (no longer a draft; with 409, or 422 on a platform that answers so) and goes
    to a new draft, which is smoke-tested and released as usual; the plan after it is empty,
    a change applies, and the promotion of what passed goes through."""
    set_modes(envs, "create_releases", *(("immutable_422",) if refused_with == "422" else ()))
    applied = envs.apply_staging()
    ok(applied)
    assert "was released holding this run's write" in applied.stderr
    staging = envs.platform("staging")
    booking = staging.id_of("appointment-booking")
    assert staging.released(booking).version_id == f"{booking}@v1"
    assert_one_agent_per_key(staging)
    assert envs.run("plan", "--env", "staging", "--detailed-exitcode").exit_code == 0
    envs.change_prompt()
    ok(envs.apply_staging())
    assert envs.run("plan", "--env", "staging", "--detailed-exitcode").exit_code == 0
    ok(envs.promote("--yes"))
    production = envs.platform("production")
    assert_one_agent_per_key(production)
    assert envs.run("plan", "--env", "production", "--detailed-exitcode").exit_code == 0


def test_a_platform_that_opens_a_draft_beside_every_release(envs: Environments) -> None:
    """Each release leaves a draft copied from it. Such a draft holds nobody's work: status
    notes none, and an edit released in the dashboard (its copy opened beside it) is
    replaced by the next apply without --overwrite-draft; the plan after it is empty and the
    promotion goes through."""
    set_modes(envs, "draft_after_release")
    ok(envs.apply_staging())
    staging = envs.platform("staging")
    booking = staging.id_of("appointment-booking")
    assert [v.status for v in staging.versions(booking)] == ["released", "draft"]
    status = envs.run("status", "--env", "staging")
    ok(status)
    assert "unreleased draft" not in status.stdout
    agents = staging.client.conversational_agents
    config = staging.released(booking).config
    config["runtime"]["prompt"]["text"] = "Edited in the dashboard."
    agents.release(agents.update(booking, config=config).version_id)
    assert [v.status for v in staging.versions(booking)] == [
        "archived", "released", "draft"]
    applied = envs.apply_staging()
    ok(applied)
    declared = (envs.root / "agents" / "prompts" / "appointment-booking.md").read_text()
    assert staging.released(booking).config["runtime"]["prompt"]["text"] == declared
    assert envs.run("plan", "--env", "staging", "--detailed-exitcode").exit_code == 0
    ok(envs.promote("--yes"))
    assert envs.run("plan", "--env", "production", "--detailed-exitcode").exit_code == 0


def test_a_rollback_on_a_platform_that_opens_a_draft_beside_every_release(
        envs: Environments) -> None:
    """Rolled back from an edit released in the dashboard, the agent keeps the draft the
    platform copied from that edit: content an archived revision holds, nobody's work.
    Status notes no draft, and the next change applies without --overwrite-draft."""
    set_modes(envs, "draft_after_release")
    ok(envs.apply_staging())
    staging = envs.platform("staging")
    booking = staging.id_of("appointment-booking")
    agents = staging.client.conversational_agents
    config = staging.released(booking).config
    config["runtime"]["prompt"]["text"] = "Edited in the dashboard."
    agents.release(agents.update(booking, config=config).version_id)
    ok(envs.run("rollback", "appointment-booking", "--env", "staging", "--yes"))
    assert [v.status for v in staging.versions(booking)] == [
        "released", "archived", "draft"]
    status = envs.run("status", "--env", "staging")
    ok(status)
    assert "unreleased draft" not in status.stdout
    envs.change_prompt()
    ok(envs.apply_staging())
    declared = (envs.root / "agents" / "prompts" / "appointment-booking.md").read_text()
    assert staging.released(booking).config["runtime"]["prompt"]["text"] == declared
    assert envs.run("plan", "--env", "staging", "--detailed-exitcode").exit_code == 0


@pytest.mark.parametrize("mode", ["bare_id_writes", "deleted_stubs", "no_chat_token"])
def test_the_whole_life_where_the_platform_answers_otherwise(envs: Environments,
                                                             mode: str) -> None:
    """A platform that takes writes to the bare id only (a write addressed to the draft is
    a 404), one that answers a read of a deleted conversation with a stub (200, ``deleted:
    true``: the smoke records' proof is gone all the same), one whose chat create response
    carries no token (the session's is asked of the token refresh): apply with its smoke
    tests, a change, the plans after each (empty: nothing left to verify) and the
    promotion all go through."""
    set_modes(envs, mode)
    ok(envs.apply_staging())
    assert envs.run("plan", "--env", "staging", "--detailed-exitcode").exit_code == 0
    envs.change_prompt()
    ok(envs.apply_staging())
    assert envs.run("plan", "--env", "staging", "--detailed-exitcode").exit_code == 0
    ok(envs.promote("--yes"))
    assert envs.run("plan", "--env", "production", "--detailed-exitcode").exit_code == 0


def test_text_the_platform_trims_converges(envs: Environments) -> None:
    set_modes(envs, "trim_text")
    ok(envs.apply_staging())
    staging = envs.platform("staging")
    prompt = staging.released(staging.id_of("appointment-booking")).config["runtime"]["prompt"]
    declared = (envs.root / "agents" / "prompts" / "appointment-booking.md").read_text()
    assert declared.endswith("\n") and prompt["text"] == declared.rstrip()
    versions = len(staging.versions(staging.id_of("appointment-booking")))
    assert "No changes" in envs.apply_staging("--overwrite-draft").stderr
    assert len(staging.versions(staging.id_of("appointment-booking"))) == versions
    envs.change_prompt()  # a real edit still shows
    assert envs.run("plan", "--env", "staging", "--detailed-exitcode").exit_code == 2


def test_a_retried_release_answered_already_released_succeeds(envs: Environments) -> None:
    set_modes(envs, "release_conflict")
    staging = envs.platform("staging")
    staging.emulator.lose_next_response("POST", r"/release$")
    ok(envs.apply_staging())
    statuses = [(r.method, r.status) for r in staging.emulator.requests
                if r.path.endswith("/release")]
    assert ("POST", 409) in statuses


def test_a_lost_create_is_found_through_the_versions_lists(envs: Environments) -> None:
    set_modes(envs, "list_without_description")
    staging = envs.platform("staging")
    staging.emulator.lose_next_response("POST", r"^/(conversational|procedural)_agents$",
                                        count=2)
    applied = envs.apply_staging()
    ok(applied)
    assert "created by the request whose answer was lost" in applied.stderr
    assert_one_agent_per_key(staging)


def test_an_agent_whose_description_comes_back_null_stops_nothing(envs: Environments) -> None:
    """Empty strings read back as null (here: someone else's agent, and the description of a
    variable) are read as empty: plan, apply and import go on."""
    set_modes(envs, "null_empty")
    staging = envs.platform("staging")
    other = staging.client.conversational_agents.create(
        name="Reception", description="", config={
            "personas": [{"name": "Kim"}],
            "runtime": {"model": "openai/gpt-4o", "prompt": {"type": "fixed", "text": "Hi."},
                        "variables": [{"name": "who", "description": "",
                                       "default_value": "you"}]}})
    assert staging.client.conversational_agents.get(other.id).description == ""
    ok(envs.run("plan", "--env", "staging"))
    ok(envs.apply_staging("--no-smoke"))
    ok(envs.run("plan", "--env", "staging", "--detailed-exitcode"))
    imported = envs.run("import", "--env", "staging", other.id)
    ok(imported)
    assert "name: Reception" in (envs.root / "agents" / "reception.yaml").read_text("utf-8")
    ok(envs.run("validate"))


# ---- what the user must decide ---------------------------------------------------------------


def test_a_platform_that_does_not_greet_fails_tests_expecting_a_greeting_and_says_why(
        envs: Environments) -> None:
    set_modes(envs, "no_greeting")
    for key in GREETINGS:  # fast timeouts
        path = envs.root / "agents" / f"{key}.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("    turns:\n", "    turn_timeout_s: 0.5\n    turns:\n"),
                        encoding="utf-8")
    result = envs.apply_staging()
    assert result.exit_code == 6, result.stderr  # incomplete: nothing could be concluded
    assert "turn 0: the agent did not finish the greeting" in result.stdout
    assert "do not speak first" in result.stdout


def test_drafts_that_cannot_be_conversed_with_fail_naming_the_setting(
        envs: Environments) -> None:
    """Testing after the release instead would put an untested revision in front of callers;
    apply leaves that choice to the user, and names the setting that makes it."""
    set_modes(envs, "released_only_conversations")
    result = envs.apply_staging()
    assert result.exit_code == 1
    assert "does not converse with unreleased drafts" in result.stdout
    assert "smoke: {on: [released]}" in result.stdout
    staging = envs.platform("staging")
    booking = staging.id_of("appointment-booking")
    assert [v.status for v in staging.versions(booking)] == ["draft"]
    smoke_released_only(envs)
    ok(envs.apply_staging())


# ---- a verdict that cannot be kept -----------------------------------------------------------


@pytest.mark.usefixtures("no_backoff")
def test_a_smoke_record_that_cannot_be_written_is_a_warning_and_exit_7(
        envs: Environments, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records that cannot be written: the release stands, with a warning and exit 7, and
    promote refuses what has no record. (Readers of a release whose records follow it look
    for them as long as a list may trail them, shortened for the test.)"""
    from operator_iac import defaults
    from operator_iac.api.client import OperatorClient
    from operator_iac.apply.report import ApplyOptions
    from operator_iac.render.apply_report import render_apply_text
    from operator_iac.services.apply import apply
    from operator_iac.services.plan import make_plan
    from operator_iac.services.target import build_target
    from operator_iac.smoke.gate import SmokeVerdict, recording_gate
    from operator_iac.spec.project import load_project

    staging = envs.platform("staging")
    target = build_target(load_project(envs.project_file), "staging")
    planned = make_plan(target, staging.client)
    warnings: list[str] = []
    # Retried once: a write that fails for good fails the same way after five retries, which
    # only take their back-off's time.
    client = OperatorClient(staging.emulator.url, staging.emulator.api_key, max_retries=1)
    monkeypatch.setattr(defaults, "VISIBILITY_TIMEOUT_S", 2.0)
    gate = recording_gate(lambda _r, _a, _v, stage, _i: SmokeVerdict(stage, True, "2 passed"),
                          client, project=planned.plan.project, warn=warnings.append)
    staging.emulator.fail_next(100, 503, "POST", r"^/conversations$")  # every record write
    with client:
        report = apply(planned, client, smoke_gate=gate, options=ApplyOptions())
    assert report.exit_code() == 7
    assert all(r.outcome == "applied" for r in report.results)
    assert len(warnings) == 2  # the two chat agents
    text = render_apply_text(report)
    assert "2 smoke verdict(s) not recorded for promote" in text
    assert "promote from this environment refuses appointment-booking until its next " \
        "release" in text
    refused = envs.promote("--yes")
    assert refused.exit_code == 5 and "no smoke run of" in refused.stderr
