"""The creates journal: the agents a run on this machine created, kept until the platform's
agents list shows them.

A platform may show a new agent in its agents list some seconds after the create was
answered (nothing in the contract says otherwise). An apply waits for that before it ends
(``apply.visibility``), but a run that dies first (killed, its runner lost) leaves agents
the next run cannot see in the list, and that run would create their keys a second time.
So every create is noted here before it is sent, with the agent's id once the platform
answers, and forgotten once the list shows the agent. The next run on this machine reads
the agents noted here that the list does not show yet by their ids (a read by id is not
late, where a list is), as if they were listed; a create sent but never answered (the run
died in between) makes it wait, up to ``VISIBILITY_TIMEOUT_S`` after the create was sent,
for the list to show an agent with that key's marker (``services.remote``).

One small file per create, in the user's cache directory, in a folder per platform URL,
project and environment: no file is written by two runs, and no secret is kept (the kind,
the key, the id and the time). Entries older than ``KEEP_S`` are removed by whoever reads
the folder. A journal that cannot be written or read is skipped, as the revision cache is:
it can keep a run from creating an agent twice, never make one fail. A run on another
machine, started before the list caught up, is not covered: nothing it can read names the
agent.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from operator_iac.plan.marker import Owner
    from operator_iac.spec.desired import AgentKind

logger = logging.getLogger(__name__)

# Far beyond any delay of a platform's lists: an entry this old is forgotten unread.
KEEP_S = 3600.0
_KINDS = ("conversational_agent", "procedural_agent")


@dataclass(frozen=True)
class Noted:
    """One create noted in the journal."""

    kind: AgentKind
    """The kind of agent created."""
    key: str
    """The declared key it was created for."""
    agent_id: str | None
    """The new agent's id; None while the create is unanswered (or was never answered)."""
    at: float
    """When the create was sent (seconds since the epoch, this machine's clock)."""
    path: Path
    """The entry's file."""


class CreatesJournal:
    """The creates of one project's environment on one platform, noted on this machine."""

    def __init__(self, folder: Path, api_url: str, owner: Owner) -> None:
        target = f"{api_url.rstrip('/')}\n{owner.project}\n{owner.environment or ''}"
        self.folder = folder / hashlib.sha256(target.encode()).hexdigest()[:32]

    def begun(self, kind: AgentKind, key: str) -> Noted | None:
        """Note a create about to be sent; None when the journal cannot be written."""
        _sweep_once(self.folder.parent)
        noted = Noted(kind, key, None, time.time(),
                      self.folder / f"{key}.{secrets.token_hex(6)}.json")
        return noted if self._write(noted) else None

    def answered(self, noted: Noted | None, agent_id: str) -> Noted | None:
        """The create ``noted`` made agent ``agent_id``."""
        if noted is None:
            return None
        answered = replace(noted, agent_id=agent_id)
        return answered if self._write(answered) else noted

    def entries(self) -> list[Noted]:
        """The creates noted and not forgotten, oldest first; older ones are removed."""
        found: list[Noted] = []
        with contextlib.suppress(OSError):
            for path in self.folder.glob("*.json"):
                noted = _read(path)
                if noted is None or noted.at < time.time() - KEEP_S:
                    path.unlink(missing_ok=True)
                else:
                    found.append(noted)
        return sorted(found, key=lambda n: n.at)

    def forget(self, noted: Iterable[Noted | None]) -> None:
        """Forget creates the agents list shows (or that made nothing)."""
        for entry in noted:
            if entry is not None:
                with contextlib.suppress(OSError):
                    entry.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the folder goes with its last entry
            self.folder.rmdir()

    def _write(self, noted: Noted) -> bool:
        data = {"kind": noted.kind, "key": noted.key, "agent_id": noted.agent_id,
                "at": noted.at}
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial = noted.path.with_suffix(".part")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(json.dumps(data))
            os.replace(partial, noted.path)
            return True
        except OSError as exc:
            logger.info("the creates journal %s cannot be written (%s): skipped", self.folder,
                        exc)
            return False


_swept: set[Path] = set()


def _sweep_once(journals: Path) -> None:
    """Remove, once per process, the entries older than ``KEEP_S`` of every target's journal
    in ``journals`` and the folders left empty: targets nobody reads again (an emulator's
    port, an environment renamed) would otherwise keep theirs for ever."""
    if journals in _swept:
        return
    _swept.add(journals)
    with contextlib.suppress(OSError):
        for folder in journals.iterdir():
            for path in folder.glob("*.json"):
                with contextlib.suppress(OSError):
                    if path.stat().st_mtime < time.time() - KEEP_S:
                        path.unlink()
            with contextlib.suppress(OSError):
                folder.rmdir()


def _read(path: Path) -> Noted | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("kind") not in _KINDS or \
            not isinstance(data.get("key"), str) or \
            not isinstance(data.get("at"), int | float) or \
            not isinstance(data.get("agent_id"), str | None):
        return None
    return Noted(data["kind"], data["key"], data["agent_id"], float(data["at"]), path)
