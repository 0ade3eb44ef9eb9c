"""The Plan: a frozen value saying what ``apply`` will do to each agent, and why.

A plan is pure data. ``operator_iac.plan.builder`` makes it from the declarations and a
snapshot of the remote state; renderers show it; ``apply`` executes it. It round-trips through
JSON (``Plan.to_json`` / ``Plan.from_json``): the file carries a ``format_version``, a summary,
and a checksum over everything else, so a truncated or hand-edited file is refused with a
``PlanFileError`` instead of being half-applied. The format is documented in
``docs/plan-format.md`` and ``docs/plan.schema.json``.

A plan file never holds a secret: values that came from ``${env:...}`` appear as
``(sensitive)`` in changes and in the desired body. ``apply`` resolves them again from the
environment and checks that the declarations still hash to ``desired_hash``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from operator_iac.errors import InvalidInputError, PlanFileError
from operator_iac.plan.hashing import canonical_json
from operator_iac.spec.assertions import SmokeStage
from operator_iac.spec.desired import AgentKind
from operator_iac.spec.field_docs import describe_fields

FORMAT_VERSION = 1

Action = Literal["create", "update", "release", "adopt", "verify", "delete", "no-op"]
ACTIONS: tuple[Action, ...] = ("create", "update", "release", "adopt", "verify", "delete",
                               "no-op")
# Actions that end with a release: they change what conversations get, so they are the ones
# smoke-tested and, in a promotion, checked in the source environment.
RELEASING_ACTIONS: tuple[Action, ...] = ("create", "update", "release", "adopt")
# ``verify``: the released revision already holds the declaration, but its smoke tests never
# passed there (a run stopped after its release); apply tests it and rolls back on failure.
SMOKING_ACTIONS: tuple[Action, ...] = (*RELEASING_ACTIONS, "verify")
ChangeKind = Literal["added", "removed", "changed"]
RiskFlag = Literal["model_change", "tool_removed", "transfer_target_changed",
                   "prompt_size_change", "deletion"]
# Why apply will not carry out a resource as planned without another flag.
BlockReason = Literal["needs_adopt", "needs_allow_delete", "foreign_draft"]
# What apply does with an unreleased draft operator-iac did not write (``plan.drafts``).
DraftFate = Literal["overwritten", "blocked", "kept", "deleted"]
# How a change touches a ``${env:NAME}`` reference (``plan.secret_refs``).
SecretChange = Literal["introduced", "removed", "changed"]
# The path of the change to the prompt text: shown as a line diff (``prompt_diff``), not a value.
PROMPT_TEXT_PATH = "config.runtime.prompt.text"


class _Frozen(BaseModel):
    # Field docstrings are the plan file schema's descriptions (``spec.field_docs``).
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=describe_fields)


class FieldChange(_Frozen):
    """One field that differs: ``path`` like ``config.tool.tools[name=book]``."""

    path: str
    kind: ChangeKind
    before: Any = None
    after: Any = None


class SecretReference(_Frozen):
    """A ``${env:NAME}`` reference that a change introduces, removes or changes, by name,
    never by value, so that a reviewer sees what is about to be written into an agent."""

    change: SecretChange
    """``introduced``: the path held no secret; ``removed``: the path held one and holds
    none now; ``changed``: the path held a secret (whose name the platform does not record)
    and its value changes."""
    path: str
    """Where, as a field change's path: ``config.runtime.prompt.text``."""
    name: str | None = None
    """The variable's name; None for a removal whose name the platform did not record."""


class RemoteState(_Frozen):
    """The remote revisions a resource plan was computed against.

    Fingerprints are ``hashing.revision_fingerprint`` of the full revision as fetched; apply
    compares them (and the version ids) with a fresh read before it writes.
    """

    agent_id: str
    version_ids: tuple[str, ...] = ()
    newest_version_id: str | None = None
    released_version_id: str | None = None
    released_fingerprint: str | None = None
    draft_version_id: str | None = None
    draft_fingerprint: str | None = None


class ForeignDraft(_Frozen):
    """An unreleased draft operator-iac did not write, shown so that nobody's work is lost
    unseen: its revision, what apply does with it (``fate``), and the changes it holds
    against the released revision (for ``overwritten``: only those the write discards)."""

    version_id: str
    fate: DraftFate
    changes: tuple[FieldChange, ...] = ()
    prompt_diff: str | None = None
    updated_at: str | None = None


class DesiredBody(_Frozen):
    """What apply writes: references still as keys, secrets as ``(sensitive)``, and the
    description ending with the ownership marker."""

    name: str
    description: str
    config: dict[str, Any]
    postprocess_agents: tuple[str, ...] = ()


class GatePlan(_Frozen):
    """The release gate of one agent: its compared smoke tests run on the revision under
    test and on ``baseline_version_id`` side by side, at ``stage``, and a regression blocks
    the release (``smoke.gate``, or tests with ``compare``)."""

    stage: SmokeStage
    """Where the comparison runs: on the draft, or right after the release."""
    baseline_version_id: str
    """The revision compared with: the one released when the plan was made."""
    tests: tuple[str, ...]
    """The names of the compared smoke tests."""
    max_drop: float
    """The drop in pass rate the gate must catch."""
    confidence: float
    """1 - the false-alarm rate of the whole gate."""
    max_conversations: int
    """The budget of each compared test, both revisions together."""
    inconclusive: Literal["block", "warn"]
    """What an inconclusive comparison does to the release."""
    worst_case_conversations: int
    """Every compared test's whole budget: the most the gate may use if no verdict settles
    early."""
    estimated_seconds: float
    """How long the worst case takes at ``concurrency`` conversations at once."""
    concurrency: int
    """The conversations at once the estimate assumes."""


class ResourcePlan(_Frozen):
    """The plan for one agent: its ``action``, the remote state it was computed against,
    the desired body apply writes, field changes and prompt diff for review, drift and
    foreign-draft flags, risks, the smoke stages to run, and the keys it depends on."""

    key: str
    kind: AgentKind
    action: Action
    name: str
    source: str | None = None
    remote: RemoteState | None = None
    desired_hash: str | None = None
    desired: DesiredBody | None = None
    sensitive_paths: tuple[str, ...] = ()
    # ${env:NAME} references this change introduces, changes or removes (names, no values).
    secret_references: tuple[SecretReference, ...] = ()
    # Plan paths of fields the dashboard owns: left out of changes and drift, and written
    # with the platform's released value (the declared one only on create).
    dashboard_owned: tuple[str, ...] = ()
    changes: tuple[FieldChange, ...] = ()
    prompt_diff: str | None = None
    drift: bool = False
    drift_reason: str | None = None
    foreign_draft: bool = False
    foreign_draft_review: ForeignDraft | None = None
    blocked: BlockReason | None = None
    risks: tuple[RiskFlag, ...] = ()
    smoke: tuple[SmokeStage, ...] = ()
    depends_on: tuple[str, ...] = ()
    # The revision released again when the smoke tests of this one's release fail: the one
    # released when the plan was made, or for ``verify`` the one recorded before its release.
    rollback_to: str | None = None
    gate: GatePlan | None = None

    @property
    def agent_id(self) -> str | None:
        return self.remote.agent_id if self.remote else None

    @property
    def writes(self) -> bool:
        """Whether apply writes a revision for this resource (create, update or adopt)."""
        return self.action in ("create", "update", "adopt")


class PlanOptions(_Frozen):
    """How the plan was asked for: ``--adopt``, ``--prune``, ``--allow-delete``,
    ``--overwrite-draft`` and the ``--target``/``--exclude`` selection; a saved plan keeps them."""

    adopt: bool = False
    prune: bool = False
    allow_delete: bool = False
    overwrite_draft: bool = False
    targets: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    # ``--record-environment``: write this environment into the markers of agents claimed
    # through markers that name none (a release of the same content).
    record_environment: bool = False

    @property
    def selects(self) -> bool:
        """Whether any option but ``--overwrite-draft`` was given: they decide what is planned,
        so a saved plan, applied exactly as it was made, refuses them."""
        return bool(self.targets or self.excludes or self.prune or self.adopt or
                    self.allow_delete or self.record_environment)


class StoredForm(_Frozen):
    """A declared value the platform holds in a form of its own, learnt from reading back
    what was written (``plan.stored``): not a change, stated once so nobody mistakes it for
    one. Secrets show as ``(sensitive)``."""

    path: str
    """Where the value is, dotted from the agent's top (``config.runtime.model``)."""
    declared: Any = None
    """The value as the declarations hold it."""
    stored: Any = None
    """The value as the platform returns it."""


class UnprunedAgent(_Frozen):
    """A remote agent this project owns under a key no longer declared (no ``--prune``)."""

    key: str
    kind: AgentKind
    agent_id: str


class Summary(_Frozen):
    """How many agents each action touches (the plan's first line)."""

    create: int = 0
    update: int = 0
    release: int = 0
    adopt: int = 0
    verify: int = 0
    delete: int = 0
    unchanged: int = 0

    @property
    def changes(self) -> int:
        return self.create + self.update + self.release + self.adopt + self.verify + \
            self.delete


class Plan(_Frozen):
    """What apply will do, as a frozen value: one ``ResourcePlan`` per agent, the project,
    environment, platform and commit it was made for, and what it was made from (the remote
    revisions in each resource's ``remote``, the declarations in ``declarations_hash``).
    Built without I/O by ``plan.builder.build_plan``; saved as JSON with a checksum
    (``to_json``/``from_json``)."""

    format_version: Literal[1] = 1
    project: str
    environment: str | None = None
    api_url: str
    created_at: str
    commit: str | None = None
    protected: bool = False
    options: PlanOptions = PlanOptions()
    declarations_hash: str
    resources: tuple[ResourcePlan, ...] = ()
    unpruned: tuple[UnprunedAgent, ...] = ()
    included_dependencies: tuple[str, ...] = ()
    # Remote ids of every declared key matched to a remote agent, selected or not: what
    # references resolve to (a targeted agent may name one that is not in this plan).
    known_ids: dict[str, str] = {}
    # Declared values the platform stores in a form of its own (not changes).
    stored_forms: tuple[StoredForm, ...] = ()
    # Keys whose agent carries a marker written before environments were recorded: read as
    # this environment's, and given the environment on their next write.
    unrecorded_environment: tuple[str, ...] = ()

    # ---- queries --------------------------------------------------------------------------

    def summary(self) -> Summary:
        counts = {a: 0 for a in ACTIONS}
        for resource in self.resources:
            counts[resource.action] += 1
        return Summary(create=counts["create"], update=counts["update"],
                       release=counts["release"], adopt=counts["adopt"],
                       verify=counts["verify"], delete=counts["delete"],
                       unchanged=counts["no-op"])

    @property
    def has_changes(self) -> bool:
        return any(r.action != "no-op" for r in self.resources)

    def resource(self, key: str) -> ResourcePlan | None:
        return next((r for r in self.resources if r.key == key), None)

    def blocked_resources(self) -> tuple[ResourcePlan, ...]:
        return tuple(r for r in self.resources if r.blocked is not None)

    def waves(self) -> tuple[tuple[ResourcePlan, ...], ...]:
        """Resources with work, in groups that may run concurrently, groups in order.

        Creates, updates, releases, adoptions and verifications come first, each after the
        agents it refers to that this plan creates (so procedural agents precede the
        conversational agents that name them); then deletions in reverse: conversational
        before procedural.
        """
        writes = [r for r in self.resources if r.action in SMOKING_ACTIONS]
        levels = _dependency_levels(writes)
        groups = [tuple(r for r in writes if levels[r.key] == level)
                  for level in range(max(levels.values(), default=-1) + 1)]
        for kind in ("conversational_agent", "procedural_agent"):
            groups.append(tuple(r for r in self.resources
                                if r.action == "delete" and r.kind == kind))
        return tuple(group for group in groups if group)

    def masked(self, mask: Callable[[Any], Any]) -> Plan:
        """The plan with ``mask`` (secret values to ``(sensitive)``) applied to everything it
        shows of the platform and the declarations: field changes, prompt diffs, the desired
        config. Ids, hashes and markers, which apply relies on, are left as they are."""
        def one(resource: ResourcePlan) -> ResourcePlan:
            desired = resource.desired
            if desired is not None:
                desired = desired.model_copy(update={"config": mask(desired.config)})
            changes = tuple(FieldChange(path=mask(c.path), kind=c.kind, before=mask(c.before),
                                        after=mask(c.after)) for c in resource.changes)
            return resource.model_copy(update={
                "changes": changes, "desired": desired,
                "prompt_diff": mask(resource.prompt_diff)})

        forms = tuple(f.model_copy(update={"declared": mask(f.declared),
                                           "stored": mask(f.stored)})
                      for f in self.stored_forms)
        return self.model_copy(update={"resources": tuple(one(r) for r in self.resources),
                                       "stored_forms": forms})

    def ordered_resources(self) -> tuple[ResourcePlan, ...]:
        """Every resource with work, in an order that is safe to apply one by one."""
        return tuple(r for group in self.waves() for r in group)

    def shown_resources(self) -> tuple[ResourcePlan, ...]:
        """What a rendering shows in full: every resource with work, in apply order, then
        the unchanged agents that hold an unreleased draft operator-iac did not write."""
        kept = tuple(r for r in self.resources if r.action == "no-op" and r.foreign_draft)
        return (*self.ordered_resources(), *kept)

    def foreign_drafts(self) -> tuple[ResourcePlan, ...]:
        """Resources whose agent holds an unreleased draft operator-iac did not write."""
        return tuple(r for r in self.resources if r.foreign_draft_review is not None)

    # ---- JSON -----------------------------------------------------------------------------

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        summary = self.summary()
        # ``verify`` is counted only when there is one, so summaries keep their usual shape.
        data["summary"] = summary.model_dump(exclude=set() if summary.verify else {"verify"})
        data["checksum"] = _checksum(data)
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "plan file") -> Plan:
        """Read a saved plan; ``PlanFileError`` says clearly what is wrong with the file."""
        data = _load_object(text, source)
        _drop_report_fields(data, source)
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise PlanFileError(f"{source}: format_version {version!r} is not supported "
                                f"(this version of operator-iac reads {FORMAT_VERSION})")
        recorded = data.pop("checksum", None)
        if recorded != _checksum(data):
            raise PlanFileError(f"{source}: the checksum does not match the content: the file "
                                "was edited or damaged after it was written; make a new plan")
        data.pop("summary", None)
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise PlanFileError(f"{source}: invalid plan at {where}: {first['msg']}") from exc


def _dependency_levels(resources: list[ResourcePlan]) -> dict[str, int]:
    created = {r.key: r for r in resources if r.action == "create"}
    levels: dict[str, int] = {}

    def level(resource: ResourcePlan, path: tuple[str, ...]) -> int:
        if resource.key in levels:
            return levels[resource.key]
        deps = [created[k] for k in resource.depends_on if k in created and k != resource.key]
        cycle = next((d.key for d in deps if d.key in path), None)
        if cycle is not None:
            raise InvalidInputError(f"agents {' -> '.join((*path, cycle))} refer to each other "
                                    "in a cycle and none of them exists yet: create one "
                                    "without the reference first")
        levels[resource.key] = 1 + max((level(d, (*path, d.key)) for d in deps), default=-1)
        return levels[resource.key]

    for resource in resources:
        level(resource, (resource.key,))
    return levels


def _load_object(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # A plan file ends with its object's closing brace; a cut inside a long string makes
        # the decoder point at the string's start, not at the end.
        ended = text.rstrip().endswith("}")
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) or not ended \
            else ""
        raise PlanFileError(f"{source}: not valid JSON{hint}: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno}") from exc
    if not isinstance(data, dict):
        raise PlanFileError(f"{source}: not a plan (expected a JSON object)")
    return data


# What ``plan --format json`` prints around the plan file's fields (docs/json-output.md): saved
# from stdout, that is a plan file too, and these fields are outside its checksum.
_REPORT_FIELDS = ("command", "exit_code", "errors")


def _drop_report_fields(data: dict[str, Any], source: str) -> None:
    """Read the output of ``plan --format json`` as the plan file it holds; the output of a
    plan that failed holds none, and says why."""
    errors = data.get("errors")
    if data.get("command") == "plan" and errors and isinstance(errors, list):
        first = errors[0].get("message") if isinstance(errors[0], dict) else errors[0]
        raise PlanFileError(f"{source}: the output of a plan that failed, not a plan "
                            f"({first}); make a new plan")
    for key in _REPORT_FIELDS:
        data.pop(key, None)


def _checksum(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "checksum"}
    return "sha256:" + hashlib.sha256(canonical_json(body).encode()).hexdigest()


def plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of a plan file (the model's schema plus ``summary`` and ``checksum``)."""
    schema = Plan.model_json_schema()
    summary = Summary.model_json_schema()
    schema["properties"]["summary"] = {"$ref": "#/$defs/Summary"}
    schema["$defs"]["Summary"] = summary
    schema["properties"]["checksum"] = {
        "type": "string", "pattern": "^sha256:[0-9a-f]{64}$",
        "description": "sha256 over the canonical JSON of every other top-level field"}
    schema["required"] = [*schema.get("required", []), "summary", "checksum"]
    schema["title"] = "operator-iac plan"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}

