"""``smoke`` as a service: smoke-testing what an environment holds.

It reads the remote state, finds each declared agent's platform agent by this project's
marker, picks the revision asked for (``released``, ``draft`` or ``vN``), and runs the
smoke tests against it. Agents that cannot be tested (not deployed, no such revision) are
reported as problems, which make the command exit 1; agents without smoke tests are skipped.
A run of the released revisions is recorded on the platform: it is what ``promote`` checks.
``replay_conversation`` drives a past conversation's user turns against a revision instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from operator_iac.errors import UsageError
from operator_iac.services.feedback import QUIET, Feedback
from operator_iac.smoke.results import Problem, SmokeReport
from operator_iac.smoke.suite import (
    DEFAULT_PARALLELISM,
    Progress,
    SmokeTarget,
    output_schemas,
    run_smoke_tests,
)
from operator_iac.spec.base import did_you_mean
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import RemoteAgent

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.services.target import Target
    from operator_iac.state.cache import RevisionCache

_VERSION = re.compile(r"^(released|draft|v(\d+))$")


@dataclass(frozen=True)
class Selection:
    """What to test, what could not be tested, and what has nothing to test."""

    targets: tuple[SmokeTarget, ...] = ()
    problems: tuple[Problem, ...] = ()
    skipped: tuple[Problem, ...] = ()


def parse_version(text: str) -> str:
    """``released``, ``draft`` or ``vN``; anything else is a usage error."""
    value = text.strip().lower()
    if _VERSION.match(value) is None:
        raise UsageError(f"--version must be released, draft or vN (like v3), not {text!r}")
    return value


def check_keys(keys: Iterable[str], desired: Mapping[str, DesiredAgent]) -> None:
    for key in keys:
        if key not in desired:
            raise UsageError(f"no agent {key!r} is declared{did_you_mean(key, desired)}")


def pick_revision(remote: RemoteAgent, version: str) -> str:
    """The version id to test ("" when the agent has no such revision)."""
    if version == "released":
        return remote.released.version_id if remote.released else ""
    if version == "draft":
        return remote.draft.version_id if remote.draft else ""
    wanted = int(version[1:])
    found = next((v for v in remote.versions if v.number == wanted), None)
    return found.version_id if found else ""


def _missing_revision(key: str, remote: RemoteAgent, version: str) -> str:
    if version == "released":
        return (f"{key} ({remote.id}) has no released revision; apply it first, or test the "
                "draft with --version draft")
    if version == "draft":
        return f"{key} ({remote.id}) has no draft"
    newest = remote.newest
    latest = f" (the newest is v{newest.number})" if newest else ""
    return f"{key} ({remote.id}) has no revision {version}{latest}"


def select_targets(desired: Mapping[str, DesiredAgent], owned: Mapping[str, RemoteAgent],
                   keys: Sequence[str], version: str, env_name: str | None = None) -> Selection:
    """Pure: the revisions to test for ``keys`` (every declared agent when empty)."""
    check_keys(keys, desired)
    targets: list[SmokeTarget] = []
    problems: list[Problem] = []
    skipped: list[Problem] = []
    for key in keys or sorted(desired):
        agent = desired[key]
        if agent.kind != "conversational_agent" or not agent.smoke:
            if keys:
                skipped.append(Problem(key, f"{key} has no smoke tests"))
            continue
        remote = owned.get(key)
        if remote is None:
            where = f" in environment {env_name!r}" if env_name else ""
            problems.append(Problem(key, f"{key} is not deployed{where}; run apply first"))
            continue
        version_id = pick_revision(remote, version)
        if not version_id:
            problems.append(Problem(key, _missing_revision(key, remote, version)))
            continue
        targets.append(SmokeTarget(key, version_id, tuple(agent.smoke)))
    return Selection(tuple(targets), tuple(problems), tuple(skipped))


def smoke_environment(client: OperatorClient, project: str,
                      desired: Mapping[str, DesiredAgent], *, keys: Sequence[str] = (),
                      version: str = "released", env_name: str | None = None,
                      parallelism: int = DEFAULT_PARALLELISM, keep_conversations: bool = False,
                      progress: Progress | None = None,
                      cache: RevisionCache | None = None) -> SmokeReport:
    """Run the smoke tests of ``keys`` (default: all) against the chosen revisions."""
    from operator_iac.plan.identity import resolve_ownership
    from operator_iac.plan.marker import Owner
    from operator_iac.services.remote import read_project_agents

    check_keys(keys, desired)
    snapshot = read_project_agents(client, Owner(project, env_name), desired, keys=keys or None,
                                   parallelism=parallelism, cache=cache)
    ownership = resolve_ownership(desired, snapshot, Owner(project, env_name))
    selection = select_targets(desired, ownership.owned, keys, parse_version(version),
                               env_name)
    report = run_smoke_tests(client, selection.targets, parallelism=parallelism,
                             keep_conversations=keep_conversations,
                             procedural_schemas=output_schemas(desired),
                             key_to_id=ownership.id_by_key(), progress=progress)
    return replace(report, problems=selection.problems, skipped=selection.skipped)


def smoke_project(target: Target, client: OperatorClient, *, keys: Sequence[str] = (),
                  version: str = "released", parallelism: int = DEFAULT_PARALLELISM,
                  keep_conversations: bool = False, feedback: Feedback = QUIET) -> SmokeReport:
    """``operator-iac smoke``: test the chosen revisions of ``keys`` (default: all); a run of
    the released revisions is recorded for ``promote``, whose evidence it is."""
    from operator_iac.smoke.record import record_smoke_report

    selector = parse_version(version)
    report = smoke_environment(client, target.project.name, target.desired(), keys=keys,
                               version=selector, env_name=target.env_name,
                               parallelism=parallelism, keep_conversations=keep_conversations,
                               progress=feedback.info, cache=target.revision_cache)
    if selector == "released":
        unrecorded: list[str] = []

        def warn(line: str) -> None:
            unrecorded.append(line)
            feedback.warn(line)

        record_smoke_report(client, report, project=target.project.name, warn=warn)
        report = replace(report, unrecorded=tuple(unrecorded))
    return report


@dataclass(frozen=True)
class Replay:
    """A conversation's user turns driven again against a revision: the smoke report of the
    test made from it, and how the new run differs from the original."""

    conversation_id: str
    report: SmokeReport
    differences: tuple[str, ...]


def replay_conversation(target: Target, client: OperatorClient, key: str,
                        conversation_id: str, *, version: str = "released",
                        keep_conversations: bool = False,
                        feedback: Feedback = QUIET) -> Replay:
    """``smoke KEY --replay CONV_ID``: the test ``transcript --to-test`` would write, run
    against the chosen revision of ``key``, compared with the original conversation."""
    from operator_iac.services.transcript import conversation_test
    from operator_iac.smoke.from_conversation import differences, ended_status, observe
    from operator_iac.spec.models import SmokeTest

    desired = target.desired()
    check_keys([key], desired)
    made = conversation_test(client, conversation_id, target=target)
    test = SmokeTest.model_validate(made.data)
    feedback.info(f"Replaying the {len(test.turns)} turn(s) of {conversation_id} on {key}")
    report = smoke_environment(client, target.project.name,
                               {**desired, key: replace(desired[key], smoke=(test,))},
                               keys=[key], version=parse_version(version),
                               env_name=target.env_name, keep_conversations=keep_conversations,
                               progress=feedback.info, cache=target.revision_cache)
    runs = [run for t in report.tests for run in t.runs]
    if not runs:
        return Replay(conversation_id, report, ())
    events = runs[0].events
    found = differences(made.turns, observe(events), made.status, ended_status(events))
    return Replay(conversation_id, report, tuple(found))
