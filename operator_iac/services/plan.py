"""``plan`` as a service: resolve the declarations for a ``Target``, read the platform, build
the plan (``make_plan``); or read a saved plan and check it against the declarations now
(``load_saved_plan``). Both answer with a ``PlannedRun``, which is what ``apply`` carries out.
The CLI and the Python API call these same functions, so both behave the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.defaults import PARALLELISM
from operator_iac.errors import OperationError, PlanFileError, StalePlanError, UsageError
from operator_iac.services.feedback import QUIET, Feedback
from operator_iac.services.provenance import current_commit
from operator_iac.spec.secrets import SECRETS

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.plan.marker import Owner
    from operator_iac.plan.model import Plan, PlanOptions
    from operator_iac.services.read_ahead import ReadAhead
    from operator_iac.services.target import Target
    from operator_iac.smoke.evidence import ProofReadAhead
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.state.snapshot import Snapshot

# A plan holds every selected agent's content and prompt diff: a few MiB at most in practice.
MAX_PLAN_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class PlannedRun:
    """A plan together with the declarations it was made from (secrets resolved), the
    target it was made for (None only when built by hand), and the file it was saved in."""

    plan: Plan
    desired: dict[str, DesiredAgent]
    target: Target | None = None
    # The file a saved plan was read from: apply derives it again and compares before writing.
    saved_from: Path | None = None
    smoke: bool = True  # False: made with --no-smoke (``without_smoke``)


def project_commit(target: Target, environ: Mapping[str, str] | None = None) -> str | None:
    """The commit the target's declarations come from, ``+dirty`` when the agents directory
    or the project file has uncommitted changes (``services.provenance``)."""
    project = target.project
    return current_commit(project.root, environ, paths=(project.agents_dir, project.file))


def make_plan(target: Target, client: OperatorClient, *, options: PlanOptions | None = None,
              parallelism: int = PARALLELISM, environ: Mapping[str, str] | None = None,
              smoke: bool = True, feedback: Feedback = QUIET,
              reading: ReadAhead | None = None) -> PlannedRun:
    """Resolve the declarations, read the platform, and build the plan.

    ``smoke=False`` (``--no-smoke``) makes the plan say that no smoke test will run.
    ``reading``: the reads begun before the declarations loaded (``services.read_ahead``).
    """
    desired = target.desired(environ)
    plan = _build(target, client, desired, options=options, parallelism=parallelism,
                  commit=project_commit(target, environ), feedback=feedback, reading=reading)
    return PlannedRun(plan if smoke else without_smoke(plan), desired, target, smoke=smoke)


def _build(target: Target, client: OperatorClient, desired: Mapping[str, DesiredAgent], *,
           options: PlanOptions | None, parallelism: int, commit: str | None,
           feedback: Feedback, reading: ReadAhead | None = None) -> Plan:
    from operator_iac.plan.builder import build_plan

    snapshot = read_platform(target, client, desired, parallelism=parallelism,
                             feedback=feedback, everything=bool(options and options.prune),
                             reading=reading)
    plan = build_plan(desired, snapshot, project=target.project.name,
                      environment=target.env_name, options=options, commit=commit,
                      protect=target.protected)
    # The platform holds secrets in clear: any left in what the plan shows (an old value at
    # a path no longer marked, a value moved elsewhere) is masked by value.
    return plan.masked(SECRETS.mask_data)


def read_platform(target: Target, client: OperatorClient, desired: Mapping[str, DesiredAgent],
                  *, parallelism: int = PARALLELISM, feedback: Feedback = QUIET,
                  everything: bool = False, reading: ReadAhead | None = None) -> Snapshot:
    """The snapshot a plan is built from: the agents that can be the project's
    (``services.remote``; ``everything`` for all of them), and the smoke verdicts of the
    released revisions whose release may be unproven (``plan.verification``). Verdicts that
    cannot be read are a warning: the plan then cannot show ``verify``. ``reading``: reads
    begun before the declarations loaded, used when they are this target's
    (``services.read_ahead``), thrown away otherwise."""
    from operator_iac.services.remote import finish_project_read, read_project_agents
    from operator_iac.smoke.evidence import ProofReadAhead

    with feedback.activity() as say:
        say(f"Reading agents from {target.api_url} ...")
        if reading is not None and reading.serves(target, client, everything=everything):
            listed, ahead = reading.finish(desired)
            snapshot = finish_project_read(client, target.owner, desired, listed,
                                           parallelism=parallelism,
                                           cache=target.revision_cache, say=say,
                                           journal=target.writes_journal)
        else:
            if reading is not None:
                reading.abandon()
            # Each released revision's proof record is read right after its agent, not
            # after the whole snapshot: the verdicts then cost no round trip of their own.
            ahead = ProofReadAhead(client, target.owner,
                                   lambda key: verified(desired, key))
            snapshot = read_project_agents(client, target.owner, desired,
                                           everything=everything, parallelism=parallelism,
                                           cache=target.revision_cache, say=say,
                                           after=ahead.after, journal=target.writes_journal)
        try:
            return _with_verdicts(client, target.owner, desired, snapshot, parallelism, ahead)
        except OperationError as exc:
            feedback.warn(f"could not read the smoke records on the platform ({exc}); "
                          "releases whose smoke tests never passed are not shown")
            return snapshot


def verified(desired: Mapping[str, DesiredAgent], key: str) -> bool:
    """Whether the releases of ``key`` are proven by smoke tests, so that its proof record
    is read (``plan.verification``)."""
    from operator_iac.plan.verification import needs_verification

    return key in desired and needs_verification(desired[key])


def _with_verdicts(client: OperatorClient, owner: Owner, desired: Mapping[str, DesiredAgent],
                   snapshot: Snapshot, parallelism: int = PARALLELISM,
                   read_ahead: ProofReadAhead | None = None) -> Snapshot:
    """The snapshot with the releases still unproven (``smoke.evidence``): one read of a
    conversation per released revision with smoke tests, by id."""
    from operator_iac.plan.verification import verification_candidates
    from operator_iac.smoke.evidence import Revision, unproven_releases
    from operator_iac.state.snapshot import ReleaseVerdict

    wanted = verification_candidates(desired, snapshot, owner)
    revisions = {key: Revision(r.version_id, r.description, created)
                 for key, (r, created) in wanted.items()}
    records = unproven_releases(client, owner.project, revisions, parallelism=parallelism,
                                read_ahead=read_ahead) if revisions else {}
    verdicts = {r.version_id: ReleaseVerdict(r.version_id, r.passed, r.summary, r.previous)
                for r in records.values()}
    return replace(snapshot, verdicts=verdicts)


def saved_plan_breaches(planned: PlannedRun, client: OperatorClient, *,
                        parallelism: int = PARALLELISM,
                        feedback: Feedback = QUIET) -> dict[str, str]:
    """Derive a saved plan again from its declarations and the platform now; why the result
    is not the saved plan, by key (``plan.contract``). Empty: the saved plan still holds."""
    from operator_iac.plan.contract import contract_breaches

    saved = planned.plan
    if planned.target is None:
        raise ValueError("a saved plan is checked against the target it was loaded for")
    journal = planned.target.writes_journal
    if journal is not None:
        # What the saved plan's read showed of each agent, a read now shows at least
        # (``state.floor``): one that shows less, served by a replica that trails, is read
        # again rather than taken for a change since the plan, on a machine that never
        # read the agents itself as on the one that made the plan.
        from operator_iac.plan.writes import seen_by_plan

        journal.remember_seen((r.kind, r.remote.agent_id, seen_by_plan(r.remote))
                              for r in saved.resources if r.remote is not None)
    fresh = _build(planned.target, client, planned.desired, options=saved.options,
                   parallelism=parallelism, commit=saved.commit, feedback=feedback)
    return contract_breaches(saved, fresh if planned.smoke else without_smoke(fresh))


def without_smoke(plan: Plan) -> Plan:
    """The plan with no smoke stage on any resource (``--no-smoke``): a release to verify
    is left as it is, since nothing would prove it."""
    resources = tuple(r.model_copy(update={"smoke": (), "rollback_to": None, "action": "no-op",
                                           "gate": None})
                      if r.action == "verify" else r.model_copy(update={"smoke": (), "gate": None})
                      for r in plan.resources)
    return plan.model_copy(update={"resources": resources})


def load_saved_plan(path: Path, target: Target, environ: Mapping[str, str] | None = None, *,
                    smoke: bool = True) -> PlannedRun:
    """A saved plan, checked against this project, environment and the declarations now.

    ``smoke=False`` (``--no-smoke``) makes the plan say that no smoke test will run.
    """
    from operator_iac.plan.model import Plan

    plan = Plan.from_json(read_plan_file(path), source=str(path))
    check_made_for(plan, target, path)
    desired = target.desired(environ)
    check_declarations_unchanged(plan, desired)
    return PlannedRun(plan if smoke else without_smoke(plan), desired, target, saved_from=path,
                      smoke=smoke)


def check_made_for(plan: Plan, target: Target, path: Path) -> None:
    """A saved plan is applied only to the project, environment and platform it was made
    for. Another project or platform is a conflict naming both (exit 5): the plan's remote
    revisions say nothing about that platform. Another environment is a usage mistake."""
    if plan.project != target.project.name:
        raise StalePlanError(f"{path}: the plan was made for project {plan.project!r}, not "
                             f"{target.project.name!r}; make a new plan")
    if plan.environment != target.env_name:
        raise UsageError(f"{path}: the plan is for environment {plan.environment!r}; "
                         f"pass --env {plan.environment}" if plan.environment else
                         f"{path}: the plan was made without an environment")
    if not same_platform(plan.api_url, target.api_url):
        raise StalePlanError(f"{path}: the plan was made for the platform at {plan.api_url}, "
                             f"not {target.api_url}; make a new plan against this platform")


def same_platform(one: str, other: str) -> bool:
    """Whether two spellings of a platform's URL name the same platform."""
    return one.strip().rstrip("/").lower() == other.strip().rstrip("/").lower()


def read_plan_file(path: Path) -> str:
    """The text of a saved plan: a regular file within ``MAX_PLAN_FILE_BYTES``, checked before
    anything is read (a device or a FIFO fails at once), in UTF-8."""
    from operator_iac.spec.loader import UnreadableFile, read_bounded

    try:
        raw = read_bounded(path, MAX_PLAN_FILE_BYTES, "plan file")
    except UnreadableFile as exc:
        raise PlanFileError(f"{path}: {exc}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PlanFileError(f"{path}: the plan file is not UTF-8 text (byte {exc.start}); "
                            "make a new plan") from exc


def check_declarations_unchanged(plan: Plan, desired: Mapping[str, DesiredAgent]) -> None:
    """Refuse a saved plan when any declaration, or the set of declared keys, has changed."""
    from operator_iac.plan.compare import DesiredView
    from operator_iac.plan.hashing import declarations_hash

    hashes: dict[str, str] = {}
    for resource in plan.resources:
        if resource.desired_hash is None:
            continue
        agent = desired.get(resource.key)
        if agent is None:
            raise StalePlanError(f"agent {resource.key!r} is no longer declared; "
                                 "make a new plan")
        hashes[resource.key] = DesiredView.of(agent, {}).content_hash
    if declarations_hash(hashes, desired) != plan.declarations_hash:
        raise StalePlanError("the declarations changed since the plan was made; "
                             "make a new plan")
