"""Versions lists that trail the agents list: telling one, and reading it until it has caught
up.

The agents list and each agent's versions list are separate reads, and nothing in the
contract says they show a write at the same moment: a platform may show a new revision, or a
release, in the agents list some time before the versions list does. A versions list that
does not show the revision its list item describes has not caught up and says nothing about
the agent yet. Read as it is, an agent whose newest revision carries this project's marker
would look like nobody's, and its key would be created a second time. ``listed_revision``
tells for the claim rule of concurrent applies (``apply.claims``: the revision and its
release), ``shows_revision`` for the reading of the account (``state.fetch``: the revision,
whose description says whose it is); ``caught_up_versions`` reads such a list again with
growing pauses, up to the visibility timeout, logging each pause, and then takes it as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from operator_iac import defaults
from operator_iac.api.models import Numbered, entry_for, version_number
from operator_iac.api.polling import bounded_pauses

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.state.snapshot import ListedAgent, RemoteVersion

logger = logging.getLogger(__name__)


class Entry(Numbered, Protocol):
    """What a versions list's entry says, read raw (``VersionEntry``) or as the snapshot holds
    it (``RemoteVersion``): besides its id and number, its status, description and time."""

    @property
    def status(self) -> str | None: ...
    @property
    def description(self) -> str: ...
    @property
    def updated_at(self) -> str | None: ...


class Listed(Protocol):
    """What a list item says of the revision it describes (``AgentSummary``, ``ListedAgent``)."""

    @property
    def version_id(self) -> str: ...
    @property
    def status(self) -> str | None: ...


E = TypeVar("E", bound=Entry)


def listed_revision(summary: Listed, versions: Sequence[E]) -> E | None:
    """The versions list's entry for the revision ``summary`` (a list item) describes, or None
    while the versions list is behind the list: it lacks that revision, or its release. A
    list item that names no revision is described by the newest entry. (Times are not
    compared: what a list item's ``updated_at`` stands for is the platform's choice.)"""
    if not versions:
        return None  # every agent has a revision: an empty list has not caught up
    shown = entry_for(versions, summary.version_id) if summary.version_id else None
    if shown is None:
        if summary.version_id and version_number(summary.version_id) is not None:
            return None
        shown = max(versions, key=lambda v: -1 if v.number is None else v.number)
    if summary.status == "released" and shown.status != "released":
        return None  # the release is not in the versions list yet
    return shown


def shows_revision(summary: Listed, versions: Sequence[Entry]) -> bool:
    """Whether the versions list holds the revision ``summary`` describes (any revision, when
    it names none): what a reader needs to tell whose the agent is. Unlike
    ``listed_revision``, the status is not asked for: a list item whose status says something
    else than the versions list (what its ``status`` stands for is the platform's choice)
    must not make every read wait."""
    if not versions:
        return False  # every agent has a revision: an empty list has not caught up
    if not summary.version_id:
        return True
    return entry_for(versions, summary.version_id) is not None or \
        version_number(summary.version_id) is None


def caught_up_versions(client: OperatorClient, listed: ListedAgent, *,
                       timeout_s: float = defaults.VISIBILITY_TIMEOUT_S,
                       ) -> tuple[RemoteVersion, ...]:
    """``listed``'s versions list once it holds the revision its list item described (or,
    past ``timeout_s``, as it is, with a warning)."""
    from operator_iac.state.fetch import fetch_versions

    versions = fetch_versions(client, listed.kind, listed.id)
    pauses = bounded_pauses(timeout_s)
    while not shows_revision(listed, versions):
        pause = next(pauses, None)
        if pause is None:
            logger.warning("the versions list of %s does not show the revision the agents list "
                           "described %.0f s on; reading it as it is", listed.id, timeout_s)
            break
        logger.info("the versions list of %s does not show yet the revision the agents list "
                    "describes; reading it again in %.2f s", listed.id, pause)
        client.pause(pause)
        versions = fetch_versions(client, listed.kind, listed.id)
    return versions
