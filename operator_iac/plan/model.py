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

from pydantic import ValidationError

from operator_iac.errors import InvalidInputError, PlanFileError
from operator_iac.plan.hashing import canonical_json
from operator_iac.plan.options import FrozenModel as _Frozen
from operator_iac.plan.options import PlanOptions as PlanOptions
from operator_iac.spec.assertions import SmokeStage
from operator_iac.spec.desired import AgentKind

FORMAT_VERSION = 1

Action = Literal["create", "update", "release", "adopt", "verify", "discard", "delete",
                 "no-op"]
ACTIONS: tuple[Action, ...] = ("create", "update", "release", "adopt", "verify", "discard",
                               "delete", "no-op")
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


class FieldChange(_Frozen):
    """One field that differs: ``path`` like ``config.tool.tools[name=book]``."""

    path: str
    """Where the value differs: ``name``, ``description``, ``postprocess_agents`` or a dotted
    path under ``config``. A list item with a natural key is named by it
    (``config.tool.tools[name=book]``); other lists change as a whole."""
    kind: ChangeKind
    """``added``: nothing was there before (``before`` is null); ``removed``: nothing is
    there after (``after`` is null); ``changed``: both sides hold a value."""
    before: Any = None
    """The value before: the remote revision's (for a resource, the released one, or the
    draft of an agent never released); null for ``added``. Agents referred to by remote id,
    secrets as ``(sensitive)``; the prompt text whole (``prompt_diff`` shows it by line)."""
    after: Any = None
    """The value after: the declared one (in a foreign draft's review, the draft's); null
    for ``removed``. Agents referred to by remote id (one this plan creates as
    ``agent:<key> (created by this plan)``), secrets as ``(sensitive)``."""


class SecretReference(_Frozen):
    """A ``${env:NAME}`` reference that a change introduces, removes or changes, by name,
    never by value, so that a reviewer sees what is about to be written into an agent."""

    change: SecretChange
    """``introduced``: a variable now read at the path that was not read there before;
    ``removed``: one read there before and no longer; ``changed`` (only against a marker
    written before variable names were recorded): the path held a secret and its value
    changes."""
    path: str
    """Where, as a field change's path: ``config.runtime.prompt.text``."""
    name: str | None = None
    """The variable's name; None for a removal against a marker that recorded no names."""


class RemoteState(_Frozen):
    """The remote revisions a resource plan was computed against.

    Fingerprints are ``hashing.revision_fingerprint`` of the full revision as fetched; apply
    compares them (and the version ids) with a fresh read before it writes.
    """

    agent_id: str
    """The platform's id of the agent."""
    version_ids: tuple[str, ...] = ()
    """Every revision in the agent's versions list, oldest first (``<agent id>@v<N>``).
    apply writes nothing for the agent when the list has changed."""
    newest_version_id: str | None = None
    """The highest-numbered revision, which a new draft follows; None when the versions
    list is empty. Not compared before a write."""
    released_version_id: str | None = None
    """The released revision, the one conversations get; None when nothing is released."""
    released_fingerprint: str | None = None
    """16 hex digits of SHA-256 over the released revision exactly as fetched (id, status,
    name, description, config, postprocess agents); None when nothing is released. apply
    writes nothing for the agent when the revision no longer gives it."""
    draft_version_id: str | None = None
    """The unreleased draft; None when the agent has none."""
    draft_fingerprint: str | None = None
    """The draft's fingerprint, as ``released_fingerprint``; None when there is no draft."""


class ForeignDraft(_Frozen):
    """An unreleased draft operator-iac did not write, shown so that nobody's work is lost
    unseen: its revision, what apply does with it (``fate``), and the changes it holds
    against the released revision (for ``overwritten``: only those the write discards)."""

    version_id: str
    """The draft's revision id."""
    fate: DraftFate
    """``overwritten``: apply writes the agent and ``--overwrite-draft`` was given;
    ``blocked``: apply would write the agent and refuses without ``--overwrite-draft``;
    ``kept``: apply does not write the agent, the draft stays; ``deleted``: the agent is
    pruned, its draft with it."""
    changes: tuple[FieldChange, ...] = ()
    """The draft's differences from the released revision, over every field, declared or
    not (a write replaces the whole draft); all ``added`` when nothing is released. For
    ``overwritten`` and ``blocked``, only those the write discards."""
    prompt_diff: str | None = None
    """A unified line diff of the prompt text from the released revision to the draft;
    None when the prompt text is not among ``changes``, or is a secret."""
    updated_at: str | None = None
    """When the draft was last changed, as the platform reports it; None when it reports
    nothing."""


class DesiredBody(_Frozen):
    """What apply writes: references still as keys, secrets as ``(sensitive)``, and the
    description ending with the ownership marker."""

    name: str
    """The agent's name, as declared."""
    description: str
    """The declared description, its last line the ownership marker apply writes
    (``[operator-iac project=... key=... hash=... commit=...]``)."""
    config: dict[str, Any]
    """The declared config without the fields the dashboard owns, references to other
    agents as ``agent:<key>``, secrets as ``(sensitive)``. apply writes it with references
    resolved to ids and secrets read from the environment again, merged over the config of
    the revision it writes over, whose undeclared fields it keeps."""
    postprocess_agents: tuple[str, ...] = ()
    """Keys of the procedural agents run after a conversation ends (conversational agents
    only; empty otherwise). apply sends their remote ids."""


class GatePlan(_Frozen):
    """The release gate of one agent: its compared smoke tests run on the revision under
    test and on ``baseline_version_id`` side by side, at ``stage``, and a regression blocks
    the release (``smoke.gate``, or tests with ``compare``)."""

    stage: SmokeStage
    """Where the comparison runs: on the draft, or right after the release."""
    baseline_version_id: str
    """The revision compared with: the resource's ``rollback_to`` (the one released when
    the plan was made, or for ``verify`` the one recorded before the unproven release)."""
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
    """The agent's key in the declarations (its file's stem, or an instance's key); for a
    pruned agent, the key its marker names; ``<key>@<agent id>`` for a never-released
    duplicate of a declared agent, which apply deletes."""
    kind: AgentKind
    """``conversational_agent`` or ``procedural_agent``."""
    action: Action
    """What apply does: ``create``; ``update`` (write the draft, then release it);
    ``release`` (a draft already holds the declaration); ``adopt`` (take over an unmanaged
    agent of the declared name); ``verify`` (smoke-test a release never proven);
    ``discard`` (overwrite an unreleased draft of operator-iac's with the released revision,
    which already holds the declaration: ``--discard-drafts``); ``delete``; ``no-op``
    (nothing)."""
    name: str
    """The agent's name as declared; for a deletion, the name on the platform (its released
    revision's, else its newest revision's)."""
    source: str | None = None
    """The agent file that declares it; None for a deletion."""
    remote: RemoteState | None = None
    """The remote agent and revisions the plan was computed against; None for a create.
    Before writing, apply reads the agent again and writes nothing for it if they moved."""
    desired_hash: str | None = None
    """16 hex digits: the content hash of the normalised declaration (secrets only as
    digests of their values), also in the marker as ``hash=``; None for a deletion. apply
    refuses when the declarations, secrets read again, no longer hash to it."""
    desired: DesiredBody | None = None
    """What apply writes for the agent; None for a deletion."""
    sensitive_paths: tuple[str, ...] = ()
    """Dotted paths into ``config`` (``runtime.prompt.text``) whose declared values come from
    ``${env:...}``: shown as ``(sensitive)``; the marker records the paths, never the
    values. Empty for a deletion."""
    secret_references: tuple[SecretReference, ...] = ()
    """The ``${env:NAME}`` references this change introduces, changes or removes, by name,
    never by value; empty unless the action releases (``create``, ``update``, ``release``,
    ``adopt``)."""
    dashboard_owned: tuple[str, ...] = ()
    """Plan paths of the fields the dashboard owns: left out of drift and of changes (but
    for a create, which writes the declared values), and written with the value of the
    revision written over."""
    changes: tuple[FieldChange, ...] = ()
    """How the declaration differs from the released revision (for an agent never released,
    its draft); every field ``added`` on a create. Empty for ``no-op``, ``verify`` and
    ``delete``."""
    prompt_diff: str | None = None
    """A unified line diff of ``config.runtime.prompt.text`` from the remote revision to the
    declaration; None when the text does not change or either side is a secret, and for
    ``no-op``, ``verify`` and ``delete``."""
    drift: bool = False
    """Whether the released revision was changed outside operator-iac: it carries no marker
    for this key, or it differs from the declaration and no longer holds what its marker
    records as written. Never set for an adoption, a deletion or an agent with nothing
    released. apply does not stop for it: the release replaces that revision."""
    drift_reason: str | None = None
    """Why ``drift`` is set, in a sentence; None without drift."""
    foreign_draft: bool = False
    """Whether the agent holds an unreleased draft that operator-iac did not write as it is
    now (and, for a declared agent, that differs from the declaration). It blocks an
    ``update`` or ``adopt`` unless ``--overwrite-draft`` is given."""
    foreign_draft_review: ForeignDraft | None = None
    """That draft: its revision, its fate and the changes it holds; None without one."""
    stale_draft: str | None = None
    """On an agent released as declared (``no-op`` or ``discard``), the revision of an
    unreleased draft operator-iac wrote for other content, still as it wrote it: a change
    applied but never released (its smoke tests failed, or another apply's change was
    released instead). ``promote`` refuses while it is there; ``--discard-drafts`` discards
    it. None without one."""
    blocked: BlockReason | None = None
    """Why apply will not carry this resource out, refusing the whole plan before any write:
    ``needs_adopt`` (an unmanaged agent has the declared name: plan with ``--adopt``),
    ``needs_allow_delete`` (a deletion in a protected environment: ``--allow-delete``),
    ``foreign_draft`` (a draft operator-iac did not write holds changes the write would
    discard: ``--overwrite-draft``). None when nothing blocks it."""
    risks: tuple[RiskFlag, ...] = ()
    """Changes to look at twice: ``model_change``, ``tool_removed``,
    ``transfer_target_changed``, ``prompt_size_change`` (the prompt grows or shrinks by more
    than half), ``deletion``. Never raised on a create; shown only, apply ignores them."""
    smoke: tuple[SmokeStage, ...] = ()
    """Where apply runs the agent's smoke tests: ``draft`` (on the draft, before the
    release) and ``released`` (right after the release); only ``released`` for ``verify``.
    Empty without smoke tests, for ``no-op`` and ``delete``, and with ``--no-smoke``."""
    depends_on: tuple[str, ...] = ()
    """Keys of the agents this one refers to (postprocess agents, then ``agent:<key>``
    transfers), in order of first mention. apply creates those this plan creates first, and
    skips this resource when one of them did not apply. Empty for a deletion."""
    rollback_to: str | None = None
    """The revision released again when the smoke tests of this one's release fail (unless
    rollback is off): the one released when the plan was made, or for ``verify`` the one
    recorded before its release. None when there is none (a create, nothing released) and
    for ``no-op`` and ``delete``."""
    gate: GatePlan | None = None
    """The release gate that compares smoke tests with ``rollback_to``; None when nothing is
    compared (no compared tests, no smoke stage, or no revision to compare with)."""

    @property
    def agent_id(self) -> str | None:
        return self.remote.agent_id if self.remote else None

    @property
    def writes(self) -> bool:
        """Whether apply writes a revision for this resource (create, update or adopt)."""
        return self.action in ("create", "update", "adopt")


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
    """The key its marker names, which no agent file declares any more."""
    kind: AgentKind
    """``conversational_agent`` or ``procedural_agent``."""
    agent_id: str
    """The platform's id of the agent."""


class Summary(_Frozen):
    """How many agents each action touches (the plan's first line)."""

    create: int = 0
    """Resources with the action ``create``."""
    update: int = 0
    """Resources with the action ``update``."""
    release: int = 0
    """Resources with the action ``release``."""
    adopt: int = 0
    """Resources with the action ``adopt``."""
    verify: int = 0
    """Resources with the action ``verify``; left out of the file when there is none."""
    discard: int = 0
    """Resources with the action ``discard``; left out of the file when there is none."""
    delete: int = 0
    """Resources with the action ``delete``."""
    unchanged: int = 0
    """Resources with the action ``no-op``."""

    @property
    def changes(self) -> int:
        return self.create + self.update + self.release + self.adopt + self.verify + \
            self.discard + self.delete


class Plan(_Frozen):
    """What apply will do, as a frozen value: one ``ResourcePlan`` per agent, the project,
    environment, platform and commit it was made for, and what it was made from (the remote
    revisions in each resource's ``remote``, the declarations in ``declarations_hash``).
    Built without I/O by ``plan.builder.build_plan``; saved as JSON with a checksum
    (``to_json``/``from_json``)."""

    format_version: Literal[1] = 1
    """The version of the plan file format; a file with any other is refused."""
    project: str
    """The project's name, written into every marker; apply refuses a plan made for
    another project."""
    environment: str | None = None
    """The environment the plan targets, written into the markers; None when it was made
    without one. apply takes the plan only for the same environment."""
    api_url: str
    """The base URL of the platform's API the agents were read from; apply refuses a plan
    made for another platform (a trailing slash or letter case aside)."""
    created_at: str
    """When the platform was read for this plan, in UTC (``2025-06-19T10:00:00Z``)."""
    commit: str | None = None
    """The short git commit the declarations came from (``+dirty`` when the agents directory
    or the project file had uncommitted changes), written into the markers; None outside
    git and CI."""
    protected: bool = False
    """Whether the environment has ``protect: true``: deletions then need
    ``--allow-delete``."""
    options: PlanOptions = PlanOptions()
    """The options the plan was made with; apply derives a saved plan again with them."""
    declarations_hash: str
    """16 hex digits over every selected agent's ``desired_hash`` and the set of all
    declared keys (which decides what ``--prune`` deletes); apply refuses the plan when the
    declarations now give another."""
    resources: tuple[ResourcePlan, ...] = ()
    """One resource plan per agent, sorted by key: every selected declared agent (``no-op``
    included), and the agents to delete."""
    unpruned: tuple[UnprunedAgent, ...] = ()
    """Agents this project owns under keys no longer declared, left alone; filled only
    without ``--prune`` (with ``--target``, only targeted ones)."""
    included_dependencies: tuple[str, ...] = ()
    """Keys added to a ``--target`` selection because a selected agent refers to them and
    they do not exist yet."""
    known_ids: dict[str, str] = {}
    """Remote ids of every declared key matched to a remote agent, selected or not: what
    references resolve to (a targeted agent may name one that is not in this plan)."""
    stored_forms: tuple[StoredForm, ...] = ()
    """Declared values the platform stores in a form of its own (not changes); empty when
    there are none."""
    unrecorded_environment: tuple[str, ...] = ()
    """Keys whose agent carries a marker written before environments were recorded: read as
    this environment's, and given the environment on their next write. Empty without an
    environment."""

    # ---- queries --------------------------------------------------------------------------

    def summary(self) -> Summary:
        counts = {a: 0 for a in ACTIONS}
        for resource in self.resources:
            counts[resource.action] += 1
        return Summary(create=counts["create"], update=counts["update"],
                       release=counts["release"], adopt=counts["adopt"],
                       verify=counts["verify"], discard=counts["discard"],
                       delete=counts["delete"],
                       unchanged=counts["no-op"])

    @property
    def has_changes(self) -> bool:
        return any(r.action != "no-op" for r in self.resources)

    def resource(self, key: str) -> ResourcePlan | None:
        return next((r for r in self.resources if r.key == key), None)

    def remote_ids(self) -> dict[str, str]:
        """Key -> remote id of every agent the plan knows: what references resolve to."""
        return {**self.known_ids, **{r.key: r.agent_id for r in self.resources if r.agent_id}}

    def blocked_resources(self) -> tuple[ResourcePlan, ...]:
        return tuple(r for r in self.resources if r.blocked is not None)

    def waves(self) -> tuple[tuple[ResourcePlan, ...], ...]:
        """Resources with work, in groups that may run concurrently, groups in order.

        Creates, updates, releases, adoptions and verifications come first, each after the
        agents it refers to that this plan creates, and after the procedural agents it names
        that this plan writes at all: a conversational agent's smoke tests see the released
        revision of each procedural agent it names (its post-processing runs that one), so
        they must run once this plan's revision of it is released, not against the one
        before, or against none where it was never released (an agent a killed run created).
        Then the drafts to discard (each alone on its agent); then deletions in reverse:
        conversational before procedural.
        """
        writes = [r for r in self.resources if r.action in SMOKING_ACTIONS]
        levels = _dependency_levels(writes)
        groups = [tuple(r for r in writes if levels[r.key] == level)
                  for level in range(max(levels.values(), default=-1) + 1)]
        groups.append(tuple(r for r in self.resources if r.action == "discard"))
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
        data["summary"] = summary.model_dump(exclude={name for name in ("verify", "discard")
                                                      if not getattr(summary, name)})
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
    """The wave of each resource: after what it refers to that this plan creates (an id it
    needs), and after the procedural agents it refers to that this plan writes (a released
    revision its smoke tests need: ``Plan.waves``). A procedural agent refers to no agent,
    so the second kind of edge never closes a cycle."""
    needed = {r.key: r for r in resources
              if r.action == "create" or r.kind == "procedural_agent"}
    levels: dict[str, int] = {}

    def level(resource: ResourcePlan, path: tuple[str, ...]) -> int:
        if resource.key in levels:
            return levels[resource.key]
        deps = [needed[k] for k in resource.depends_on if k in needed and k != resource.key]
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
    schema["properties"]["summary"] = {
        "$ref": "#/$defs/Summary",
        "description": "How many resources each action touches, counted from resources when "
                       "the file is written; covered by the checksum, not read back"}
    schema["$defs"]["Summary"] = summary
    schema["properties"]["checksum"] = {
        "type": "string", "pattern": "^sha256:[0-9a-f]{64}$",
        "description": "sha256 over the canonical JSON of every other top-level field"}
    schema["required"] = [*schema.get("required", []), "summary", "checksum"]
    schema["title"] = "operator-iac plan"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}

