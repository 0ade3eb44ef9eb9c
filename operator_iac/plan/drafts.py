"""Foreign drafts made visible: what an unreleased draft operator-iac did not write holds, and
what becomes of it.

A draft someone wrote in the dashboard is work in progress. The plan shows every such draft
on the agents it covers, whether or not the agent has a change of its own, with the diff of
that work: the draft's differences from the released revision (all of them, not only the
declared fields, since a write replaces the whole draft). Its ``fate`` says what apply does:

- ``overwritten``: apply writes the agent and ``--overwrite-draft`` was given; the diff lists
  only what the write does not keep (a field the draft changed to the declared value is not
  lost);
- ``blocked``: apply would write the agent, and refuses (exit 5) without
  ``--overwrite-draft``; the diff is what that flag would discard;
- ``kept``: apply does not write the agent; the draft stays as it is;
- ``deleted``: the agent is deleted (``--prune``), and its draft with it.

Values at the places the declaration holds secrets, or where the revision's marker records
one, are shown as ``(sensitive)``.
"""

from __future__ import annotations

from typing import Any

from operator_iac.plan.compare import DesiredView, recorded_secrets
from operator_iac.plan.diff import diff_content, prompt_diff, prompt_text
from operator_iac.plan.model import DraftFate, ForeignDraft
from operator_iac.plan.normalise import (
    content,
    is_sealed,
    merge_for_write,
    prepare,
    project,
    seal_recorded,
)
from operator_iac.state.snapshot import RemoteAgent, RemoteRevision


def review_draft(agent: RemoteAgent, fate: DraftFate,
                 view: DesiredView | None = None) -> ForeignDraft | None:
    """The review of ``agent``'s draft; ``view`` is the declaration (None for a deletion)."""
    draft = agent.draft
    if draft is None:
        return None
    shape = view.id_config if view is not None else {}
    base = agent.released
    before = _full(agent.kind, base, shape)
    after = _full(agent.kind, draft, shape)
    changes = diff_content(before, after)
    if fate in ("overwritten", "blocked") and view is not None:
        kept = _written(agent.kind, view, base or draft, shape)
        lost = {c.path for c in diff_content(kept, after)}
        changes = tuple(c for c in changes if c.path in lost)
    old, new = prompt_text(before), prompt_text(after)
    label = f"{draft.version_id} (draft)"
    diff = prompt_diff(old, new, before_label=f"{base.version_id} (released)" if base else
                       "(nothing released)", after_label=label) \
        if any(c.path == _PROMPT for c in changes) else None
    return ForeignDraft(version_id=draft.version_id, fate=fate, changes=changes,
                        prompt_diff=diff, updated_at=draft.updated_at)


def overwrite_loses(view: DesiredView, remote: RemoteAgent | None) -> bool:
    """Whether writing the declaration over the agent's draft would lose any of the draft's
    changes from the released revision (``review_draft``: what ``--overwrite-draft`` would
    discard). A draft holding none (a copy of the released revision, a run's own write whose
    marker cannot yet vouch for it, changes the declaration makes too) is nobody's work at
    risk: the write goes over it. The plan's rule for a draft it reads, and apply's for one
    written since its plan (``apply.same_change.draft_to_write_over``)."""
    review = review_draft(remote, "blocked", view) if remote is not None else None
    return review is None or bool(review.changes)


_PROMPT = "config.runtime.prompt.text"


def _full(kind: str, revision: RemoteRevision | None,
          shape: dict[str, Any]) -> dict[str, Any] | None:
    """All of a revision's content, secrets sealed where the declaration holds them."""
    if revision is None:
        return None
    return content(kind, revision.name, revision.description, _sealed(revision, shape),
                   revision.postprocess_agents)


def _sealed(revision: RemoteRevision, shape: dict[str, Any]) -> dict[str, Any]:
    recorded = seal_recorded(prepare(revision.config), recorded_secrets(revision), shape)
    sealed: dict[str, Any] = sealed_like(recorded, shape)
    return sealed


def _written(kind: str, view: DesiredView, base: RemoteRevision,
             shape: dict[str, Any]) -> dict[str, Any]:
    """What the write leaves on the agent: the declaration merged over ``base``."""
    agent = view.agent
    config = merge_for_write(_sealed(base, shape), view.id_config)
    postprocess = view.id_content.get("postprocess_agents", ())
    return content(kind, agent.name, agent.description, config, postprocess)


def sealed_like(remote: Any, shape: Any) -> Any:
    """``remote`` whole, with its values sealed wherever ``shape`` holds a sealed secret
    (``normalise.project`` finds them; everything it leaves out is kept as it is)."""
    return _overlay(remote, project(remote, shape)) if shape else remote


def _overlay(full: Any, projected: Any) -> Any:
    # ``project`` keeps the remote's list order and length, so items pair up by position.
    if isinstance(full, dict) and isinstance(projected, dict):
        return {k: _overlay(v, projected[k]) if k in projected else v for k, v in full.items()}
    if isinstance(full, list) and isinstance(projected, list) and len(full) == len(projected):
        return [_overlay(a, b) for a, b in zip(full, projected, strict=True)]
    return projected if is_sealed(projected) else full
