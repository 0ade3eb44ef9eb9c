"""The writes journal: what a run on this machine wrote, kept until the platform's lists
show it.

A platform may show a write in its lists some seconds after it answered it (nothing in the
contract says otherwise): a new agent in the agents list, a new draft or a release in the
versions list. An apply waits for that before it ends (``apply.visibility``), but a run
that dies first (killed, its runner lost) leaves writes the next run cannot see yet: it
would create their keys a second time, or plan on a versions list that a moment later
shows more, and stop at its own check before writing ("changed since the plan was made").
So every write of an apply is noted here, a create before it is sent (with the agent's id
once the platform answers), and forgotten once the lists show it. The next run on this
machine first finishes the wait the dead run could not (``services.remote``): it waits,
bounded, for the lists to show the writes noted, reads the agents they touched again, and
takes a new agent the agents list still does not show by its id (a read by id is not late,
where a list is). A create sent but never answered (the run died in between) makes it wait,
up to ``VISIBILITY_TIMEOUT_S`` after the create was sent, for the list to show an agent with
that key's marker.

One small file per write, in the user's cache directory, in a folder per platform URL,
project and environment: no file is written by two runs, and no secret is kept (what was
written, the kind, the key, the ids and the time, and for a draft's write digests of what the
draft held before it, so that the next run also waits for reads by id to show the write).
Entries older than ``KEEP_S`` are removed by whoever reads them. A journal that cannot be
written or read is skipped, as the revision cache is: it can keep a run from creating an
agent twice, never make one fail. A run on another machine, started before the lists
caught up, reads no journal: it creates the keys again, and the claim rule settles the two
agents once the list shows both (``apply.claims``: the dead run's, created first, is kept
and finished by the live run).

Two runs on one machine (two pipelines on one runner, two terminals) share the journal, and
the entries of a run still alive are its own to finish, as those of a run on another machine
are: only a run that died leaves its writes to the next. Each process holds an OS lock on a
file of its own for as long as it lives (the kernel releases it on any death, SIGKILL too)
and names that file in every entry it writes; ``earlier`` leaves out the entries of a
process whose file is still locked (``_alive``). Where locks cannot be had (no ``fcntl``, a
file system without them), every entry is taken as a dead run's, which only costs waiting
for a live run's writes to show.

Beside the writes, the journal remembers the agents this machine created for the
environment or found to be its own (``WritesJournal.seen``), for lists that can show less
than one read before (a replica trailing by a delay of its own): a read missing one of
them reads it by id (``services.remote``).
"""

from __future__ import annotations

import atexit
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
from typing import TYPE_CHECKING, Literal

from operator_iac.state.floor import Floor

try:
    import fcntl
except ImportError:  # not on every system: no run is then told alive (module docstring)
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from operator_iac.plan.marker import Owner
    from operator_iac.spec.desired import AgentKind

logger = logging.getLogger(__name__)

# Far beyond any delay of a platform's lists: an entry this old is forgotten unread.
KEEP_S = 3600.0
_KINDS = ("conversational_agent", "procedural_agent")
_WHATS = ("creating", "drafting", "releasing", "deleting", "recording", "created", "drafted",
          "released", "deleted", "recorded")


# What a noted entry says: a write a run set out to make (``creating``, ``drafting``,
# ``releasing``, ``deleting``, ``recording``: noted before it is sent, whether it was done is
# for the next run to read), then, once the platform answered it, the write made
# (``created`` with the new agent's id, ``drafted`` and ``released`` with the revision,
# ``deleted``, ``recorded`` with the smoke records kept right after a release, which readers
# find by listing the conversations of the time after it).
NotedWhat = Literal["creating", "drafting", "releasing", "deleting", "recording",
                    "created", "drafted", "released", "deleted", "recorded"]
DONE: dict[str, NotedWhat] = {"creating": "created", "drafting": "drafted",
                              "releasing": "released", "deleting": "deleted",
                              "recording": "recorded"}


@dataclass(frozen=True)
class Noted:
    """One write noted in the journal."""

    what: NotedWhat
    """What was sent (``creating``: a create, its answer not seen; ``created``: answered)."""
    kind: AgentKind
    """The kind of agent written."""
    key: str | None
    """The declared key, for a create (where the agent's id may not be known)."""
    agent_id: str | None
    """The agent written; None for a create not answered."""
    at: float
    """When it was written (seconds since the epoch, this machine's clock)."""
    path: Path
    """The entry's file."""
    version_id: str | None = None
    """The revision the write named (``@vN``), or a create's first revision."""
    records: tuple[str, str] | None = None
    """For ``recorded``: the release record and the proof record written after the release
    of ``version_id``."""
    superseded: tuple[str, ...] = ()
    """For ``drafting``: the states the draft held before the write (``state_digest`` of
    each ``read_state``): a read by id still showing one trails the write, and the next
    run waits for the write to show there too before it plans."""
    run: str | None = None
    """The process that noted it: the name of the file it holds locked while it lives
    (``_alive``); None where it could not lock one."""


class WritesJournal:
    """The writes of one project's environment on one platform, noted on this machine, and
    the agents this machine saw as that environment's (``seen``)."""

    def __init__(self, folder: Path, api_url: str, owner: Owner) -> None:
        target = f"{api_url.rstrip('/')}\n{owner.project}\n{owner.environment or ''}"
        self.folder = folder / hashlib.sha256(target.encode()).hexdigest()[:32]
        # One file per agent seen, named ``<id>.<kind>`` and holding what was seen of it
        # (``seen``), and when each was last remembered and what it held, as read or written.
        self.seen_folder = self.folder.with_name(f"{self.folder.name}.seen")
        self._seen_at: dict[tuple[str, str], tuple[float, Floor | None]] = {}

    def seen(self) -> dict[tuple[AgentKind, str], Floor | None]:
        """The agents (kind, id) a read on this machine found to be this environment's, or a
        run here created for it, and that no read by id found gone since, each with what was
        seen of it (``state.floor``; None where nothing is kept).

        Remembered for monotonic reads: a platform may serve each read of its lists from a
        replica trailing the writes by a delay of its own, so that a list shows less than one
        read a moment before. A later read whose agents list does not show one of these
        reads it by id, never late where a list is, and one whose versions list shows less
        of one reads it again (``services.remote``)."""
        found: dict[tuple[AgentKind, str], Floor | None] = {}
        self._seen_at = {}
        with contextlib.suppress(OSError):
            for path in self.seen_folder.iterdir():
                agent_id, _, kind = path.name.partition(".")
                with contextlib.suppress(OSError, UnicodeDecodeError):
                    at = path.stat().st_mtime
                    if at < time.time() - KEEP_S:
                        path.unlink(missing_ok=True)  # not seen for long: lists caught up
                    elif kind in _KINDS and agent_id:
                        floor = Floor.parse(path.read_text(encoding="utf-8"))
                        found[(kind, agent_id)] = floor  # type: ignore[index]
                        self._seen_at[(kind, agent_id)] = (at, floor)
        return dict(sorted(found.items()))

    def remember_seen(self, agents: Iterable[tuple[AgentKind, str, Floor | None]]) -> None:
        """Remember agents a read found to be this environment's (``seen``), as seen now,
        each with what was seen of it (raising what is kept, never lowering it): one not seen
        for ``KEEP_S`` is forgotten, as an old entry of the journal is. (One remembered
        lately, as ``seen`` read it, with as much seen, is left as it is: a read that shows
        nothing new writes nothing.)"""
        try:
            for kind, agent_id, floor in agents:
                if "/" in agent_id or agent_id.startswith("."):
                    continue
                path = self.seen_folder / f"{agent_id}.{kind}"
                if (kind, agent_id) not in self._seen_at:  # not read in this process yet
                    self._seen_at[(kind, agent_id)] = (0.0, Floor.parse(_read_text(path)))
                at, kept = self._seen_at[(kind, agent_id)]
                raised = floor.raised(kept) if floor is not None else kept
                if at > time.time() - KEEP_S / 2 and raised == kept:
                    continue
                self.seen_folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                _replace_text(path, raised.text() if raised is not None else "")
                self._seen_at[(kind, agent_id)] = (time.time(), raised)
        except OSError as exc:
            logger.info("the agents seen %s cannot be written (%s): skipped", self.seen_folder,
                        exc)

    def seen_of(self, kind: AgentKind, agent_id: str) -> Floor | None:
        """What is kept of one agent seen (``seen``), read from its file alone."""
        return Floor.parse(_read_text(self.seen_folder / f"{agent_id}.{kind}"))

    def reset_seen(self, kind: AgentKind, agent_id: str, floor: Floor) -> None:
        """Keep ``floor`` for the agent in place of what was seen of it (a rollback: what
        was seen before it may not hold any more)."""
        self.forget_seen(agent_id)
        self.remember_seen([(kind, agent_id, floor)])

    def forget_seen(self, agent_id: str) -> None:
        """An agent read by id was not found: it is gone (or what was seen of it is not
        to be kept)."""
        for key in [key for key in self._seen_at if key[1] == agent_id]:
            del self._seen_at[key]
        with contextlib.suppress(OSError):
            for path in self.seen_folder.glob(f"{agent_id}.*"):
                path.unlink(missing_ok=True)

    def description_limit(self) -> int | None:
        """The characters of a description this platform keeps, as a run here learnt it
        (``apply.steps``: a write cut short or refused), within ``KEEP_S``; None when none
        was learnt. Kept so that the next run fits its first writes too: a run killed
        between a write cut short and its refit would leave a draft without its marker."""
        path = self.folder.with_name(f"{self.folder.name}.limit")
        with contextlib.suppress(OSError, ValueError):
            if path.stat().st_mtime >= time.time() - KEEP_S:
                return int(path.read_text(encoding="utf-8"))
        return None

    def remember_description_limit(self, limit: int) -> None:
        path = self.folder.with_name(f"{self.folder.name}.limit")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _replace_text(path, str(limit))
        except OSError as exc:
            logger.info("the description limit cannot be kept in %s (%s): skipped", path, exc)

    def begun(self, kind: AgentKind, key: str) -> Noted | None:
        """Note a create about to be sent; None when the journal cannot be written."""
        _sweep_once(self.folder.parent)
        return self._new(Noted("creating", kind, key, None, time.time(), self._path(key)))

    def answered(self, noted: Noted | None, agent_id: str,
                 version_id: str | None = None,
                 records: tuple[str, str] | None = None) -> Noted | None:
        """The write ``noted`` was made (the platform answered it): of agent ``agent_id``
        (a create's new agent), revision ``version_id`` (the draft written, the release
        made, a create's first revision), ``records`` (the smoke records written)."""
        if noted is None:
            return None
        answered = replace(noted, what=DONE.get(noted.what, noted.what), agent_id=agent_id,
                           version_id=version_id or noted.version_id,
                           records=records or noted.records)
        if answered.what in ("created", "drafted", "released"):
            self.remember_seen([(answered.kind, agent_id, _floor_of(answered))])
        return answered if self._write(answered) else noted

    def intends(self, what: NotedWhat, kind: AgentKind, agent_id: str,
                version_id: str | None = None,
                superseded: tuple[str, ...] = ()) -> Noted | None:
        """Note a write of agent ``agent_id`` (revision ``version_id``, when it names one)
        about to be sent: a draft (``superseded``: what it held before), a release, a
        deletion, the smoke records of a release."""
        _sweep_once(self.folder.parent)
        return self._new(Noted(what, kind, None, agent_id, time.time(), self._path(agent_id),
                               version_id, superseded=superseded))

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.{secrets.token_hex(6)}.json"

    def _new(self, noted: Noted) -> Noted | None:
        """``noted``, by this process's run (``_lease``), once written."""
        noted = replace(noted, run=_lease(self._runs_folder()))
        return noted if self._write(noted) else None

    def earlier(self) -> list[Noted]:
        """The writes noted by runs that ended (``entries``), this process's own included
        (its runs come one after the other): those of a run still alive on this machine
        are its own to finish (module docstring)."""
        runs = self._runs_folder()
        return [noted for noted in self.entries() if not _alive(runs, noted.run)]

    def _runs_folder(self) -> Path:
        """Where each process keeps the file it holds locked while it lives: beside the
        journals, out of the sweep of old entries (a run may live longer than ``KEEP_S``)."""
        return self.folder.parent.with_name(f"{self.folder.parent.name}.runs")

    def entries(self) -> list[Noted]:
        """The writes noted and not forgotten, oldest first; older ones are removed."""
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
        """Forget writes the lists show (or creates that made nothing)."""
        for entry in noted:
            if entry is not None:
                with contextlib.suppress(OSError):
                    entry.path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the folder goes with its last entry
            self.folder.rmdir()

    def _write(self, noted: Noted) -> bool:
        data = {"what": noted.what, "kind": noted.kind, "key": noted.key,
                "agent_id": noted.agent_id, "version_id": noted.version_id, "at": noted.at,
                "records": list(noted.records) if noted.records else None,
                "superseded": list(noted.superseded),
                "run": noted.run}
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            partial = noted.path.with_suffix(".part")
            descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                file.write(json.dumps(data))
            os.replace(partial, noted.path)
            return True
        except OSError as exc:
            logger.info("the writes journal %s cannot be written (%s): skipped", self.folder,
                        exc)
            return False


def _floor_of(answered: Noted) -> Floor | None:
    """What a write the platform answered shows of its agent: the revision it made or wrote
    there, and a release's revision released (never the draft again)."""
    from operator_iac.api.models import version_number

    number = version_number(answered.version_id or "")
    if number is None:
        return None
    if answered.what == "released":
        return Floor(number, number, number, number, time.time())
    return Floor(number)


def _read_text(path: Path) -> str:
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return path.read_text(encoding="utf-8")
    return ""


def _replace_text(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all (two runs on one machine may write it at once)."""
    partial = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
    os.replace(partial, path)


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
            # A target's own files (its ``.limit``) beside the folders of its entries.
            for path in (folder.iterdir() if folder.is_dir() else [folder]):
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
    if not isinstance(data, dict) or data.get("what") not in _WHATS or \
            data.get("kind") not in _KINDS or not isinstance(data.get("at"), int | float) or \
            not all(isinstance(data.get(name), str | None)
                    for name in ("key", "agent_id", "version_id")) or \
            (data["agent_id"] is None) != (data["what"] == "creating") or \
            (data["what"] in ("creating", "created") and data["key"] is None):
        return None
    records = data.get("records")
    if records is not None and not (isinstance(records, list) and len(records) == 2 and
                                    all(isinstance(r, str) and r for r in records)):
        return None
    superseded = data.get("superseded") or []
    if not (isinstance(superseded, list) and all(isinstance(s, str) for s in superseded)):
        return None
    run = data.get("run")
    return Noted(data["what"], data["kind"], data["key"], data["agent_id"], float(data["at"]),
                 path, data.get("version_id"), (records[0], records[1]) if records else None,
                 tuple(superseded), run if isinstance(run, str) and run.isalnum() else None)


# This process's run, per folder of runs: its name and the descriptor of its locked file,
# kept open (so locked) until the process ends.
_leases: dict[Path, tuple[str, int]] = {}


def _lease(folder: Path) -> str | None:
    """The name of this process's file in ``folder``, locked for as long as the process
    lives (made on first use); None where no lock can be had."""
    if fcntl is None:
        return None
    if folder in _leases:
        return _leases[folder][0]
    name = secrets.token_hex(8)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(folder / f"{name}.lock", os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return None
    _leases[folder] = (name, descriptor)
    _sweep_dead_runs(folder)
    return name


def end_leases() -> None:
    """This process's runs have ended: their files go, unlocked (at the process's end, and
    between the runs of one process that uses many cache folders, as a test suite does). A
    process killed leaves its file, unlocked, to the next reader or to ``_sweep_dead_runs``."""
    for folder, (name, descriptor) in list(_leases.items()):
        with contextlib.suppress(OSError):
            (folder / f"{name}.lock").unlink()
        with contextlib.suppress(OSError):
            os.close(descriptor)
    _leases.clear()


atexit.register(end_leases)


def _sweep_dead_runs(folder: Path) -> None:
    """Remove the files of dead runs (unlocked) that a process ending abnormally left, or
    whose end came while a thread of it still wrote: a reader of an entry naming one takes
    that run as dead all the same. A file a minute old at least: one just made may not be
    locked yet."""
    with contextlib.suppress(OSError):
        for path in folder.glob("*.lock"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < time.time() - _LOCKED_WITHIN_S:
                    _alive(folder, path.stem)  # removes the file of a dead run


# How long a run's new file may stay unlocked (between its creation and its lock).
_LOCKED_WITHIN_S = 60.0


def _alive(folder: Path, run: str | None) -> bool:
    """Whether the process that noted an entry as ``run`` is another one, still alive: its
    file in ``folder`` is still locked. A file found unlocked is a dead run's, removed."""
    if run is None or fcntl is None or _leases.get(folder, ("",))[0] == run:
        return False
    path = folder / f"{run}.lock"
    try:
        descriptor = os.open(path, os.O_WRONLY)
    except OSError:
        return False  # removed by another reader: that run is dead
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    else:
        with contextlib.suppress(OSError):
            path.unlink()
        return False
    finally:
        os.close(descriptor)
