"""How a plan was asked for (``PlanOptions``), apart from the plan's other values
(``plan.model``) so that a command parses its options without building every model of the
plan: ``plan`` begins reading the platform before those are built (``services.read_ahead``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from operator_iac.spec.field_docs import describe_fields


class FrozenModel(BaseModel):
    """The base of the plan's values: immutable, no unknown fields."""

    # Field docstrings are the plan file schema's descriptions (``spec.field_docs``).
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=describe_fields)


class PlanOptions(FrozenModel):
    """How the plan was asked for: ``--adopt``, ``--prune``, ``--allow-delete``,
    ``--overwrite-draft`` and the ``--target``/``--exclude`` selection; a saved plan keeps them."""

    adopt: bool = False
    """``--adopt``: take over unmanaged agents of a declared name and kind; without it they
    are ``blocked: needs_adopt``."""
    prune: bool = False
    """``--prune``: agents this project owns under keys no longer declared are deleted;
    without it they are listed in ``unpruned``."""
    allow_delete: bool = False
    """``--allow-delete``: deletions in a protected environment are not blocked."""
    overwrite_draft: bool = False
    """``--overwrite-draft``: apply replaces unreleased drafts operator-iac did not write,
    as if given the flag itself."""
    targets: tuple[str, ...] = ()
    """``--target`` keys: only these agents, and those they need created, are planned;
    empty: every declared agent."""
    excludes: tuple[str, ...] = ()
    """``--exclude`` keys: left out of the plan, even when targeted."""
    record_environment: bool = False
    """``--record-environment``: write this environment into the markers of agents claimed
    through markers that name none (a release of the same content)."""
    discard_drafts: bool = False
    """``--discard-drafts``: an unreleased draft operator-iac wrote on an agent whose released
    revision already holds the declaration (a change applied but never released: its smoke
    tests failed, or another apply's change was released instead) is discarded: overwritten
    with the released revision's content (action ``discard``); without it the draft is left."""

    @property
    def selects(self) -> bool:
        """Whether any option but ``--overwrite-draft`` was given: they decide what is planned,
        so a saved plan, applied exactly as it was made, refuses them."""
        return bool(self.targets or self.excludes or self.prune or self.adopt or
                    self.allow_delete or self.record_environment or self.discard_drafts)
