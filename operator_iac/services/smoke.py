"""``smoke`` as a service: smoke-testing what an environment holds.

It reads the remote state, finds each declared agent's platform agent by this project's
marker, picks the revision asked for (``released``, ``draft`` or ``vN``), and runs the
smoke tests against it. Agents that cannot be tested (not deployed, no such revision) are
reported as problems, which make the command exit 1; agents without smoke tests are skipped.
Tests a gate (or ``--compare``) compares run beside the released revision, as pairs, and a
``--shard`` runs one job's share of the conversations; ``merge_smoke_reports`` joins the
shards' reports. A run of the released revisions is recorded on the platform: it is what
``promote`` checks. ``replay_conversation`` drives a past conversation's user turns against a
revision instead.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.defaults import PARALLELISM
from operator_iac.errors import UsageError
from operator_iac.services.feedback import QUIET, Feedback, silent
from operator_iac.smoke.postprocessing import Habits
from operator_iac.smoke.progress import ConversationBoard
from operator_iac.smoke.results import Problem, SmokeReport
from operator_iac.smoke.shard import Shard
from operator_iac.smoke.suite import (
    Baseline,
    Progress,
    SmokeTarget,
    output_schemas,
    run_smoke_tests,
)
from operator_iac.spec.base import did_you_mean
from operator_iac.spec.desired import DesiredAgent
from operator_iac.spec.gate import GateSettings, compared_tests, gate_settings
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
                   keys: Sequence[str], version: str, env_name: str | None = None,
                   compare: str | None = None) -> Selection:
    """Pure: the revisions to test for ``keys`` (every declared agent when empty), and what
    their compared tests are compared with: ``compare`` (``--compare``) compares every test
    with that revision; without it, tests a gate or ``compare`` declares are compared with
    the released revision, unless that is the revision under test."""
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
            # Compared, an agent without the candidate (no draft: unchanged) has no change
            # to judge; tested on its own, it is an agent that cannot be tested.
            found = skipped if compare is not None else problems
            found.append(Problem(key, _missing_revision(key, remote, version)))
            continue
        baseline = pick_revision(remote, compare or "released")
        if compare is not None and not baseline:
            problems.append(Problem(key, f"{_missing_revision(key, remote, compare)}: "
                                         "nothing to compare with"))
            continue
        targets.append(SmokeTarget(key, version_id, tuple(agent.smoke),
                                   comparison_baseline(agent, version_id, baseline, compare)))
    return Selection(tuple(targets), tuple(problems), tuple(skipped))


def comparison_baseline(agent: DesiredAgent, candidate: str, baseline: str,
                        compare: str | None) -> Baseline | None:
    """What the agent's tests are compared with (None: they run on their own)."""
    if compare is not None:
        names = tuple(test.name for test in agent.smoke)
    else:
        names = compared_tests(agent.smoke_gate, agent.smoke)
        if not baseline or baseline == candidate:
            return None  # nothing released yet, or the released revision is under test
    gate = gate_settings(agent.smoke_gate, agent.smoke) or GateSettings()
    return Baseline(baseline, gate, frozenset(names)) if names else None


def conversation_parallelism(desired: Mapping[str, DesiredAgent], parallelism: int) -> int:
    """``parallelism``, within the environment's ``max_concurrent_conversations``."""
    limits = [a.smoke_concurrency for a in desired.values() if a.smoke_concurrency]
    return min([parallelism, *limits])


@dataclass(frozen=True)
class Comparing:
    """How ``smoke`` compares and splits its conversations: ``--compare``,
    ``--max-conversations`` and ``--shard``."""

    compare: str | None = None
    """The revision every test is compared with (``released``, ``vN``); None: only the
    tests a gate or ``compare`` declares, with the released revision."""
    max_conversations: int | None = None
    """A cap on each compared test's budget."""
    shard: Shard | None = None
    """This job's share of the conversations; None: all of them."""


def smoke_environment(client: OperatorClient, project: str,
                      desired: Mapping[str, DesiredAgent], *, keys: Sequence[str] = (),
                      version: str = "released", env_name: str | None = None,
                      parallelism: int = PARALLELISM, keep_conversations: bool = False,
                      progress: Progress | None = None,
                      cache: RevisionCache | None = None,
                      comparing: Comparing = Comparing(),
                      board: ConversationBoard | None = None, prove: bool = False,
                      warn: Progress | None = None) -> SmokeReport:
    """Run the smoke tests of ``keys`` (default: all) against the chosen revisions. With
    ``prove`` (a run of the released revisions), each revision whose tests all pass proves
    its release as soon as they are done (``smoke.evidence.ReleaseProofs``); what cannot be
    recorded is said through ``warn`` and kept in the report's ``unrecorded``."""
    from operator_iac.plan.identity import resolve_ownership
    from operator_iac.plan.marker import Owner
    from operator_iac.services.remote import read_project_agents
    from operator_iac.smoke.evidence import ReleaseProofs

    check_keys(keys, desired)
    snapshot = read_project_agents(client, Owner(project, env_name), desired, keys=keys or None,
                                   parallelism=parallelism, cache=cache)
    ownership = resolve_ownership(desired, snapshot, Owner(project, env_name))
    selection = select_targets(desired, ownership.owned, keys, parse_version(version),
                               env_name, comparing.compare)
    say, caution = progress or silent, warn or silent
    proofs = ReleaseProofs(client, project, released_descriptions(ownership.owned), say=say,
                           warn=caution) if prove else None
    report = run_smoke_tests(client, selection.targets,
                             parallelism=conversation_parallelism(desired, parallelism),
                             keep_conversations=keep_conversations,
                             procedural_schemas=output_schemas(desired),
                             key_to_id=ownership.id_by_key(), progress=progress,
                             habits=Habits.declared(desired), shard=comparing.shard,
                             max_conversations=comparing.max_conversations, board=board,
                             on_target=proofs.tested if proofs is not None else None)
    return replace(report, problems=selection.problems, skipped=selection.skipped,
                   unrecorded=proofs.problems() if proofs is not None else ())


def released_descriptions(owned: Mapping[str, RemoteAgent]) -> dict[str, str]:
    """Released revision -> its description, as the snapshot read it."""
    return {agent.released.version_id: agent.released.description
            for agent in owned.values() if agent.released is not None}


def smoke_project(target: Target, client: OperatorClient, *, keys: Sequence[str] = (),
                  version: str = "released", parallelism: int = PARALLELISM,
                  keep_conversations: bool = False, feedback: Feedback = QUIET,
                  comparing: Comparing = Comparing()) -> SmokeReport:
    """``operator-iac smoke``: test the chosen revisions of ``keys`` (default: all); a run of
    the released revisions is recorded for ``promote``, whose evidence it is (a shard's
    share is not: its verdicts come from the merge)."""
    began = time.monotonic()
    selector = parse_version(version)
    compare = parse_version(comparing.compare) if comparing.compare is not None else None
    report = smoke_environment(client, target.project.name, target.desired(), keys=keys,
                               version=selector, env_name=target.env_name,
                               parallelism=parallelism, keep_conversations=keep_conversations,
                               progress=feedback.info, cache=target.revision_cache,
                               comparing=replace(comparing, compare=compare),
                               board=feedback.board,
                               prove=selector == "released" and comparing.shard is None,
                               warn=feedback.warn)
    # The report's time is the command's; the conversations' share is kept beside it.
    return replace(report, duration_ms=(time.monotonic() - began) * 1000,
                   conversations_ms=report.duration_ms)


def merge_smoke_reports(paths: Sequence[Path]) -> SmokeReport:
    """``smoke --merge REPORT...``: the JSON reports of every shard of a run, as one report
    judged over all their conversations."""
    from operator_iac.smoke.merge import ReportError, merge_reports, shard_report

    reports = []
    for path in paths:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ReportError(f"{path}: cannot be read as a JSON report ({exc})") from None
        reports.append(shard_report(data, str(path)))
    return merge_reports(reports)


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
                               progress=feedback.info, cache=target.revision_cache,
                               board=feedback.board)
    runs = [run for t in report.tests for run in t.runs]
    if not runs:
        return Replay(conversation_id, report, ())
    events = runs[0].events
    found = differences(made.turns, observe(events), made.status, ended_status(events))
    return Replay(conversation_id, report, tuple(found))
