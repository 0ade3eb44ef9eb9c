"""Building a plan: a pure function from (declarations, remote snapshot, options) to a Plan.

Per declared and selected agent, the builder decides:

1. *Which remote agent it is* (``identity``): the one carrying its marker, else a same-named
   unmanaged agent to adopt, else none.
2. *The action*:
   - no remote agent: ``create``;
   - an adoption candidate: ``adopt`` (blocked with ``needs_adopt`` unless ``--adopt``, so
     that apply never creates a duplicate next to a same-named agent);
   - released content equals the declaration and carries this content's marker, and any draft
     is equal too or left alone: ``no-op``;
   - a draft equals the declaration and carries this content's marker: ``release``;
   - the released revision is a no-op as above but the platform's smoke records say its
     release was never proven (announced and not tested, or tested and failed): ``verify``;
   - otherwise ``update`` (write the draft, then release it).
3. *Flags*: ``drift`` when the released revision has no marker or no longer matches the hash
   in it; ``foreign_draft`` when a differing draft was not written by this tool for its
   content (blocked unless ``--overwrite-draft``); risk flags; smoke stages.

With ``--prune``, owned agents whose key is no longer declared become ``delete`` (blocked with
``needs_allow_delete`` in a protected environment without ``--allow-delete``); without it
they are listed under ``unpruned``. A never-released duplicate of a declared key (left by
concurrent applies) becomes a ``delete`` under the key ``<key>@<agent id>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from operator_iac.plan import refs
from operator_iac.plan.compare import (
    HASH_MISMATCH,
    NO_MARKER,
    DesiredView,
    holds_own_writing,
    marked_for,
    own_marker,
    recorded_secret_names,
    recorded_secrets,
    self_consistent,
    unfinished_own_write,
)
from operator_iac.plan.diff import diff_content, prompt_diff, prompt_text
from operator_iac.plan.drafts import overwrite_loses, review_draft
from operator_iac.plan.gate import plan_gate
from operator_iac.plan.hashing import declarations_hash, hash_matches
from operator_iac.plan.identity import Ownership, resolve_ownership
from operator_iac.plan.marker import Owner, cut_short_own, parse_marker, with_marker
from operator_iac.plan.model import (
    RELEASING_ACTIONS,
    Action,
    BlockReason,
    DesiredBody,
    ForeignDraft,
    Plan,
    PlanOptions,
    ResourcePlan,
    SmokeStage,
    StoredForm,
    UnprunedAgent,
)
from operator_iac.plan.normalise import mask_sealed
from operator_iac.plan.risks import risk_flags
from operator_iac.plan.secret_refs import secret_changes
from operator_iac.plan.selection import select
from operator_iac.plan.stored import EMPTY, StoredForms
from operator_iac.plan.verification import needs_verification
from operator_iac.plan.writes import remote_state
from operator_iac.spec.desired import DesiredAgent
from operator_iac.state.snapshot import ReleaseVerdict, RemoteAgent, RemoteRevision, Snapshot

SMOKE_STAGES: tuple[SmokeStage, ...] = ("draft", "released")


@dataclass(frozen=True)
class _Context:
    owner: Owner
    commit: str | None
    options: PlanOptions
    protect: bool
    ownership: Ownership
    ids: dict[str, str]
    keys: dict[str, str]
    verdicts: Mapping[str, ReleaseVerdict] | None = None
    # Stored forms learnt from every revision this project wrote (``plan.stored``).
    forms: StoredForms = EMPTY
    # Drafts an earlier run on this machine wrote (``Snapshot.drafted_here``).
    drafted_here: frozenset[str] = frozenset()


def build_plan(desired: Mapping[str, DesiredAgent], snapshot: Snapshot, *, project: str,
               environment: str | None = None, options: PlanOptions | None = None,
               commit: str | None = None, protect: bool = False,
               created_at: str | None = None) -> Plan:
    """The plan that turns ``snapshot`` into ``desired`` (every declared agent, by key).

    ``protect`` is the environment's ``protect`` setting; ``commit`` goes into the markers.
    The plan is dated ``created_at``, by default when the snapshot was read (the planner reads
    no clock).
    Smoke stages come from each agent's ``smoke_on`` (project defaults already applied).
    """
    options = options or PlanOptions()
    owner = Owner(project, environment)
    ownership = resolve_ownership(desired, snapshot, owner)
    ids = ownership.id_by_key()
    selection = select(desired, options, existing=set(ids),
                       orphan_keys={key for key, _ in ownership.orphans})
    ctx = _Context(owner, commit, options, protect, ownership, ids, ownership.key_by_id(),
                   snapshot.verdicts, learnt_forms(snapshot, project), snapshot.drafted_here)
    # Each selected declaration normalised once: the resource and the plan's statement of
    # stored forms both compare through it.
    views = {key: DesiredView.of(desired[key], ids, ctx.forms) for key in selection.keys}
    resources = [_plan_agent(ctx, view) for view in views.values()]
    orphans = [(k, a) for k, a in ownership.orphans if k in selection.prune_keys]
    if options.prune:
        resources.extend(_plan_delete(ctx, key, agent) for key, agent in orphans)
    chosen = set(selection.keys)
    resources.extend(_plan_duplicate(key, agent) for key, agent in ownership.leftovers
                     if key in chosen)
    hashes = {r.key: r.desired_hash for r in resources if r.desired_hash}
    plan = Plan(
        project=project, environment=environment, api_url=snapshot.api_url,
        created_at=created_at or snapshot.read_at, commit=commit, protected=protect,
        options=options,
        declarations_hash=declarations_hash(hashes, desired),
        resources=tuple(sorted(resources, key=lambda r: r.key)),
        unpruned=() if options.prune else tuple(_unpruned(orphans)),
        included_dependencies=selection.included_dependencies,
        known_ids=dict(sorted(ctx.ids.items())),
        stored_forms=_stored_form_notes(ctx, views),
        unrecorded_environment=tuple(k for k in ownership.unrecorded if k in selection.keys)
        if environment is not None else (),
    )
    plan.waves()  # refuses reference cycles among agents that do not exist yet
    return plan


# ---- one declared agent -------------------------------------------------------------------


def _plan_agent(ctx: _Context, view: DesiredView) -> ResourcePlan:
    agent = view.agent
    remote = ctx.ownership.matched(agent.key)
    adopting = agent.key in ctx.ownership.adoptable
    action = _action(ctx, view, remote, adopting)
    verdict = _unverified(ctx, agent, remote) if action == "no-op" else None
    if verdict is not None:
        action = "verify"
    stale = action == "no-op" and _stale_own_draft(ctx, view, remote)
    if stale and ctx.options.discard_drafts:
        action = "discard"
    # Changes are shown against what conversations get now: the released revision, or, for
    # an agent that was never released (a dashboard agent being adopted), its draft.
    base = (remote.released or remote.draft) if remote is not None else None
    before, after = view.remote_content(base), _shown_content(ctx, view, remote)
    changes = diff_content(before, after) if action not in ("no-op", "verify", "discard") \
        else ()
    old_prompt, new_prompt = prompt_text(before), prompt_text(after)
    drift, drift_reason = (False, None) if adopting else _drift(ctx, view, remote)
    foreign = _foreign_draft(ctx, view, remote)
    blocked = _blocked(ctx, action, adopting, foreign and overwrite_loses(view, remote))
    smoke = _smoke_stages(agent, action)
    rollback_to = verdict.previous if verdict is not None else (
        remote.released.version_id if remote is not None and remote.released and
        action in RELEASING_ACTIONS else None)
    return ResourcePlan(
        key=agent.key, kind=agent.kind, action=action, name=agent.name,
        source=str(agent.source), remote=remote_state(remote),
        desired_hash=view.content_hash, desired=_desired_body(ctx, view),
        sensitive_paths=tuple(sorted(agent.sensitive_paths)),
        secret_references=secret_changes(agent, base.config if base else None,
                                         recorded_secrets(base) if base else (),
                                         recorded_secret_names(base))
        if action in RELEASING_ACTIONS else (),
        dashboard_owned=agent.dashboard_owned, changes=changes,
        prompt_diff=_prompt_diff(action, agent.key, old_prompt, new_prompt,
                                 _shown_side(remote, base)),
        drift=drift, drift_reason=drift_reason, foreign_draft=foreign,
        foreign_draft_review=_review(view, remote, action, blocked) if foreign else None,
        stale_draft=remote.draft.version_id if stale and remote and remote.draft else None,
        blocked=blocked,
        risks=risk_flags(action, changes, old_prompt, new_prompt),
        smoke=smoke, depends_on=refs.referenced_keys(agent), rollback_to=rollback_to,
        gate=plan_gate(agent, smoke, rollback_to),
    )


def _unverified(ctx: _Context, agent: DesiredAgent,
                remote: RemoteAgent | None) -> ReleaseVerdict | None:
    """The verdict of a released revision that holds the declaration but whose smoke tests
    never passed there (None when it passed, has no tests, or nothing is known)."""
    if ctx.verdicts is None or remote is None or remote.released is None or \
            not needs_verification(agent):
        return None
    verdict = ctx.verdicts.get(remote.released.version_id)
    return verdict if verdict is not None and not verdict.passed else None


def _smoke_stages(agent: DesiredAgent, action: Action) -> tuple[SmokeStage, ...]:
    if not agent.smoke:
        return ()
    if action == "verify":
        return ("released",)
    return _stages(agent.smoke_on) if action in RELEASING_ACTIONS else ()


def _shown_content(ctx: _Context, view: DesiredView,
                   remote: RemoteAgent | None) -> dict[str, object]:
    """What the diff shows the agent getting: on a create, the fields the dashboard owns
    too (their declared values are the first ones written)."""
    if remote is not None or not view.agent.dashboard_owned:
        return view.id_content
    return DesiredView.of(replace(view.agent, dashboard_owned=()), ctx.ids).id_content


def _action(ctx: _Context, view: DesiredView, remote: RemoteAgent | None,
            adopting: bool) -> Action:
    if remote is None:
        return "create"
    if adopting:
        return "adopt"
    key, wanted = view.agent.key, view.content_hash
    released = remote.released
    marker = own_marker(released, ctx.owner, key)
    equal = released is not None and marker is not None and view.equals(released)
    # A marker naming older content over a revision that holds the declaration: when the
    # revision is still what operator-iac wrote, which fields are declared changed and the
    # marker is refreshed (a release of the same content, so drift keeps its meaning); when it
    # is not (edited outside, then taken into the files by ``pull``), there is nothing to
    # write: a release nobody asked for would only re-mark the dashboard's content.
    released_ok = equal and released is not None and marker is not None and (
        hash_matches(marker.content_hash, wanted) or
        not self_consistent(released, view, ctx.owner, ctx.keys))
    draft_ok = view.equals(remote.draft) and marked_for(remote.draft, ctx.owner, key, wanted)
    if released_ok and ctx.options.record_environment and ctx.owner.environment and \
            key in ctx.ownership.unrecorded:
        return "release" if draft_ok else "update"  # the same content, marked as this env's
    if released_ok:  # any draft is left alone: it is someone's next change, not ours
        return "no-op"
    return "release" if draft_ok else "update"


def _stale_own_draft(ctx: _Context, view: DesiredView, remote: RemoteAgent | None) -> bool:
    """Whether the agent, whose released revision holds the declaration, has an unreleased
    draft operator-iac wrote for other content, still as written: a change applied but never
    released (its smoke tests failed, or another apply released its own change instead).
    ``promote`` refuses while it is there; ``--discard-drafts`` discards it. A draft made in
    the dashboard copies the released marker (the same hash) and a draft edited there no
    longer holds what its marker names: neither is this tool's to discard."""
    if remote is None or remote.draft is None or remote.released is None or \
            view.equals(remote.draft):
        return False
    key = view.agent.key
    drafted, released = own_marker(remote.draft, ctx.owner, key), \
        own_marker(remote.released, ctx.owner, key)
    return drafted is not None and released is not None and \
        not hash_matches(drafted.content_hash, released.content_hash) and \
        self_consistent(remote.draft, view, ctx.owner, ctx.keys)


def _drift(ctx: _Context, view: DesiredView,
           remote: RemoteAgent | None) -> tuple[bool, str | None]:
    released = remote.released if remote is not None else None
    if released is None:
        return False, None
    if own_marker(released, ctx.owner, view.agent.key) is None:
        return True, NO_MARKER
    # A stale hash over content that already equals the declaration overwrites nothing; it
    # comes from a change in which fields are declared, and the marker is simply refreshed.
    if not self_consistent(released, view, ctx.owner, ctx.keys) and not view.equals(released):
        return True, HASH_MISMATCH
    return False, None


def _foreign_draft(ctx: _Context, view: DesiredView, remote: RemoteAgent | None) -> bool:
    """A draft that differs from the declaration and is not this tool's own, untouched one,
    nor its own write of this content cut short (``unfinished_own_write``; or, where this
    machine's journal says an earlier run wrote that draft, one still marked for the content
    declared now, or whose marker the platform cut off at its limit on descriptions: that
    run died before it read its write back, or before it fitted the marker)."""
    draft = remote.pending_draft if remote is not None else None
    if draft is None or view.equals(draft):
        return False
    assert remote is not None
    if draft.version_id in ctx.drafted_here and \
            (marked_for(draft, ctx.owner, view.agent.key, view.content_hash) or
             cut_short_own(draft.description, view.agent.description)):
        return False
    version = next((v for v in remote.versions if v.version_id == draft.version_id), None)
    return not self_consistent(draft, view, ctx.owner, ctx.keys) and \
        not unfinished_own_write(draft, view, ctx.owner, version, remote.released,
                                 remote.versions)


def _review(view: DesiredView, remote: RemoteAgent | None, action: Action,
            blocked: BlockReason | None) -> ForeignDraft | None:
    if remote is None:
        return None
    if action not in ("create", "update", "adopt"):
        return review_draft(remote, "kept", view)
    return review_draft(remote, "blocked" if blocked == "foreign_draft" else "overwritten", view)


def _blocked(ctx: _Context, action: Action, adopting: bool,
             foreign_work: bool) -> BlockReason | None:
    """Why apply may not write the agent: taking it over needs ``--adopt``; a foreign draft
    holding work the write would lose (``foreign_work``) needs ``--overwrite-draft``."""
    if adopting and not ctx.options.adopt:
        return "needs_adopt"
    if foreign_work and action in ("update", "adopt") and not ctx.options.overwrite_draft:
        return "foreign_draft"
    return None


def _shown_side(remote: RemoteAgent | None, base: RemoteRevision | None) -> str:
    """Which revision the changes are shown against, as the prompt diff labels it."""
    if base is None:
        return "none"
    return "released" if remote is not None and base is remote.released else "draft"


def _prompt_diff(action: Action, key: str, old: str | None, new: str | None,
                 side: str) -> str | None:
    if action in ("no-op", "verify", "discard"):
        return None
    return prompt_diff(old, new, before_label=f"{key} ({side})",
                       after_label=f"{key} (desired)")


def _desired_body(ctx: _Context, view: DesiredView) -> DesiredBody:
    agent = view.agent
    marker = ctx.owner.marker(agent.key, view.content_hash, ctx.commit,
                              written=view.written.encode(view.content_hash),
                              secrets=tuple(sorted(agent.sensitive_paths)) or None,
                              secret_names=tuple(sorted(agent.secret_references)) or None)
    return DesiredBody(name=agent.name, description=with_marker(agent.description, marker),
                       config=mask_sealed(view.sealed_config),
                       postprocess_agents=tuple(agent.postprocess_agents))


# ---- deletions and shared pieces ----------------------------------------------------------


def _plan_delete(ctx: _Context, key: str, agent: RemoteAgent) -> ResourcePlan:
    protected = ctx.protect and not ctx.options.allow_delete
    foreign = _foreign_orphan_draft(ctx, key, agent)
    return ResourcePlan(
        key=key, kind=agent.kind, action="delete", name=_remote_name(agent),
        remote=remote_state(agent), risks=risk_flags("delete", (), None, None),
        blocked="needs_allow_delete" if protected else None, foreign_draft=foreign,
        foreign_draft_review=review_draft(agent, "deleted") if foreign else None,
    )


def _foreign_orphan_draft(ctx: _Context, key: str, agent: RemoteAgent) -> bool:
    """A draft on an agent no longer declared that operator-iac did not write as it is."""
    draft = agent.pending_draft
    if draft is None:
        return False
    marker = own_marker(draft, ctx.owner, key)
    return marker is None or holds_own_writing(draft, marker, agent.kind, ctx.keys) is False


def _plan_duplicate(key: str, agent: RemoteAgent) -> ResourcePlan:
    """A never-released second agent for ``key``, left by concurrent applies: deleted, in
    any environment, since no conversation ever used it. Its plan key names the agent."""
    return ResourcePlan(
        key=f"{key}@{agent.id}", kind=agent.kind, action="delete", name=_remote_name(agent),
        remote=remote_state(agent), risks=risk_flags("delete", (), None, None),
    )


def _unpruned(orphans: Iterable[tuple[str, RemoteAgent]]) -> list[UnprunedAgent]:
    return [UnprunedAgent(key=key, kind=agent.kind, agent_id=agent.id) for key, agent in orphans]


def _remote_name(agent: RemoteAgent) -> str:
    if agent.released is not None:
        return agent.released.name
    return agent.newest.name if agent.newest else agent.id


def learnt_forms(snapshot: Snapshot, project: str) -> StoredForms:
    """Every stored form this project's markers record, in any of its environments: how the
    platform stores a value does not depend on the agent it was written to (a seal does:
    it is left with its revision)."""
    forms = EMPTY
    for agent in snapshot.agents:
        revisions = (agent.released, agent.draft)
        descriptions = [v.description for v in agent.versions]
        descriptions += [r.description for r in revisions if r is not None]
        for description in descriptions:
            marker = parse_marker(description)
            if marker is not None and marker.project == project and marker.stored:
                forms = forms | StoredForms.decode(marker.stored).without_seal()
    return forms


def _stored_form_notes(ctx: _Context,
                       views: Mapping[str, DesiredView]) -> tuple[StoredForm, ...]:
    """Each value the platform holds in its own form, once: what the plan states so that
    nobody takes the platform's spelling for a change."""
    notes: dict[tuple[str, str, str], StoredForm] = {}
    for key, view in views.items():
        remote = ctx.ownership.matched(key)
        if remote is None:
            continue
        for revision in (remote.released, remote.draft):
            for found in view.stored_forms_in(revision):
                note = StoredForm(path=found.dotted, declared=mask_sealed(found.sent),
                                  stored=mask_sealed(found.stored))
                notes.setdefault((note.path, repr(note.declared), repr(note.stored)), note)
    return tuple(notes[k] for k in sorted(notes))


def _stages(smoke_on: Iterable[str]) -> tuple[SmokeStage, ...]:
    wanted = set(smoke_on)
    return tuple(stage for stage in SMOKE_STAGES if stage in wanted)
