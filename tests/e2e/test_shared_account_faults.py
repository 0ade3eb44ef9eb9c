"""The kill, race and saved-plan guarantees with staging and production in one account:
whatever happens to staging's runs, production's agents (promoted beside them) are never
touched, and each environment keeps one agent per key."""

from __future__ import annotations

from .conftest import KEYS, Platform, ProjectCopy
from .dashboard import Dashboard, append_to_prompt
from .test_killed_apply import kill_apply_at
from .test_races import finish, start_apply


def released_versions(platform: Platform, environment: str) -> dict[str, str]:
    return {key: platform.released(ids[0]).version_id
            for key, ids in platform.owners(environment).items()}


def test_kills_races_and_saved_plans_in_staging_never_touch_production(
        applied: ProjectCopy, platform: Platform) -> None:
    assert applied.run("smoke").exit_code == 0  # what promote asks for: a passed run
    promoted = applied.run("promote", "--to", "production", "--yes")
    assert promoted.exit_code == 0, promoted.stdout + promoted.stderr
    production = released_versions(platform, "production")
    assert sorted(production) == sorted(KEYS)

    # A staging apply killed right after its release, then three staging applies at once.
    applied.replace_in("support-triage.yaml", "Be friendly and brief.", "Be friendly and short.")
    kill_apply_at(applied, "released")
    results = finish([start_apply(applied) for _ in range(3)])
    codes = [code for code, _ in results]
    assert set(codes) <= {0, 5} and 0 in codes, results
    assert applied.plan("--detailed-exitcode").exit_code == 0

    # A saved staging plan does not care about a dashboard release in production.
    saved = applied.root / "plan.json"
    assert applied.plan("--out", str(saved)).exit_code == 0
    agent_id = platform.owners("production")["appointment-booking"][0]
    Dashboard(applied.emulator).edit_and_release(agent_id, append_to_prompt("Say hello."))
    assert applied.apply(str(saved)).exit_code == 0

    for environment in ("staging", "production"):
        owners = platform.owners(environment)
        assert sorted(owners) == sorted(KEYS), (environment, owners)
        assert all(len(ids) == 1 for ids in owners.values()), (environment, owners)
    now = released_versions(platform, "production")
    assert {k: v for k, v in now.items() if k != "appointment-booking"} == \
        {k: v for k, v in production.items() if k != "appointment-booking"}
    assert len(platform.agent_ids()) == 2 * len(KEYS)
