"""Conversational and procedural agents: immutable revisions, one draft, one release.

``AgentService`` applies the pure rules of ``lifecycle`` to the store and raises
``Problem`` for every refusal the contract names (404 unknown, 400 malformed version id,
409 ``version_immutable`` / ``agent_in_use`` / ``no_released_version``). Its list reads
(``page``, ``seen_versions``, ``seen``) trail the writes by the lags the fault settings ask
for (``consistency``); every other read is consistent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from operator_iac.emulator import consistency, ids, lifecycle
from operator_iac.emulator.clock import Clock
from operator_iac.emulator.problems import bad_request, conflict, not_found
from operator_iac.emulator.store import Store, decode_cursor, dumps, encode_cursor, loads
from operator_iac.emulator.validation import AgentFields


@dataclass(frozen=True)
class Kind:
    """One of the two agent families, which share every rule but their id prefix."""

    prefix: str
    collection: str
    label: str

    @property
    def has_postprocess(self) -> bool:
        return self.prefix == ids.CONVERSATIONAL_AGENT


CONVERSATIONAL = Kind(ids.CONVERSATIONAL_AGENT, "conversational_agents", "conversational agent")
PROCEDURAL = Kind(ids.PROCEDURAL_AGENT, "procedural_agents", "procedural agent")
KINDS = (CONVERSATIONAL, PROCEDURAL)


@dataclass(frozen=True)
class Revision:
    agent_id: str
    number: int
    name: str
    description: str
    config: dict[str, Any]
    postprocess_agents: list[str] | None
    status: str
    created_at: float
    updated_at: float

    @property
    def version_id(self) -> str:
        return ids.version_id(self.agent_id, self.number)


def _revision(row: sqlite3.Row) -> Revision:
    return Revision(
        agent_id=row["agent_id"], number=row["number"], name=row["name"],
        description=row["description"], config=loads(row["config"]),
        postprocess_agents=loads(row["postprocess_agents"]), status=row["status"],
        created_at=row["created_at"], updated_at=row["updated_at"],
    )


def parse_ref(kind: Kind, ref: str) -> ids.VersionRef:
    """The parsed reference; 400 when malformed, 404 when it names another kind of thing."""
    try:
        parsed = ids.parse_ref(ref)
    except ids.InvalidVersionIdError as exc:
        raise bad_request("invalid_version_id", str(exc)) from exc
    if parsed.prefix != kind.prefix:
        raise not_found(kind.label, ref)
    return parsed


@dataclass(frozen=True)
class Lags:
    """How far the list reads trail the writes, in seconds (``FaultSettings``)."""

    list_s: float = 0.0
    versions_s: float = 0.0
    read_s: float = 0.0
    list_spread: str | None = None
    """How the lists' delays vary (``consistency.SPREADS``), the agents list's and the
    versions lists' alike: None, one delay for every agent and every read (a list shows the
    platform as it was ``list_s``, or ``versions_s``, ago)."""


class AgentService:
    """Agents and their revisions, persisted in the store."""

    def __init__(self, store: Store, clock: Clock,
                 lags: Callable[[], Lags] = Lags) -> None:
        self._store = store
        self._clock = clock
        self._lags = lags
        self.history = consistency.History()

    # ---- reads ---------------------------------------------------------------------------

    def get(self, kind: Kind, ref: str) -> Revision:
        """The revision ``ref`` names; a bare id means the newest revision."""
        parsed = parse_ref(kind, ref)
        with self._store.tx() as db:
            statuses = self._statuses(db, kind, parsed.agent_id)
            number = lifecycle.newest(statuses) if parsed.number is None else parsed.number
            return self._load(db, kind, parsed.agent_id, number)

    def exists(self, agent_id: str) -> bool:
        with self._store.tx() as db:
            row = db.execute("SELECT 1 FROM agents WHERE id = ?", (agent_id,)).fetchone()
        return row is not None

    def versions(self, kind: Kind, ref: str) -> list[Revision]:
        parsed = parse_ref(kind, ref)
        with self._store.tx() as db:
            self._statuses(db, kind, parsed.agent_id)
            rows = db.execute("SELECT * FROM revisions WHERE agent_id = ? ORDER BY number",
                              (parsed.agent_id,)).fetchall()
        return [_revision(row) for row in rows]

    def seen(self, kind: Kind, ref: str) -> Revision:
        """``get``, with the status a reader trailing the writes by ``versions_lag`` sees;
        under ``read_lag``, the revision as it was that long ago (not found before it was
        made)."""
        revision = self.get(kind, ref)
        lag = self._lags().read_s
        if lag <= 0:
            return consistency.status_as_seen(revision, self._statuses_seen(revision.agent_id))
        earlier = self._content_then(revision, parse_ref(kind, ref).number,
                                     self._clock.now() - lag)
        if earlier is None:
            raise not_found(kind.label, ref)
        lagging = self.history.statuses_at(
            revision.agent_id, self._clock.now() - max(lag, self._lags().versions_s))
        return consistency.status_as_seen(earlier, lagging)

    def _content_then(self, revision: Revision, number: int | None,
                      moment: float) -> Revision | None:
        """``revision`` (``@v{number}``; None: the agent's newest at ``moment``) as it was at
        ``moment``: None before it was made, as it is when nothing is remembered of it (after
        a restart the reads are consistent)."""
        if number is None:
            statuses = self.history.statuses_at(revision.agent_id, moment)
            number = max(statuses) if statuses else revision.number
        earlier = self.history.content_at(revision.agent_id, number, moment)
        return revision if isinstance(earlier, consistency.Unknown) else earlier

    def seen_versions(self, kind: Kind, ref: str) -> list[Revision]:
        """``versions`` as a reader trailing the writes by ``versions_lag`` sees them."""
        revisions = self.versions(kind, ref)
        return consistency.as_seen(revisions, self._statuses_seen(parse_ref(kind, ref).agent_id))

    def page(self, kind: Kind, cursor: str | None, size: int, *,
             newest_first: bool = False,
             by_released: bool = False) -> tuple[list[Revision], str | None]:
        """One page of agents (oldest first, or ``newest_first``), each described by its
        newest revision (``by_released``: its released one, while it has one), as a reader
        trailing the writes by ``list_lag`` (and ``versions_lag``) sees them. The cursor
        names the last agent shown, so a page goes on from there in the page's order."""
        last = decode_cursor(cursor)
        lags = self._lags()
        now = self._clock.now()
        seen_at = consistency.list_moments(now, lags.list_s, lags.list_spread)
        beyond, order = ("seq < ?", "DESC") if newest_first else ("seq > ?", "ASC")
        bound = (last if last is not None else 2 ** 62) if newest_first else (last or 0)
        with self._store.tx() as db:
            if seen_at.uniform is not None:  # every agent as the platform was at one moment
                rows = db.execute(
                    f"SELECT seq, id FROM agents WHERE kind = ? AND {beyond} AND "
                    f"created_at <= ? ORDER BY seq {order} LIMIT ?",
                    (kind.prefix, bound, seen_at.uniform, size + 1)).fetchall()
            else:  # each agent as it was at a moment of its own: filtered here
                rows = [row for row in db.execute(
                    f"SELECT seq, id, created_at FROM agents WHERE kind = ? AND {beyond} "
                    f"ORDER BY seq {order}", (kind.prefix, bound)).fetchall()
                    if row["created_at"] <= seen_at(row["id"])][:size + 1]
            listed: list[tuple[int, str | consistency.Gone]] = [
                (row["seq"], row["id"]) for row in rows]
            listed += [(g.seq, g) for g in self.history.still_listed(kind.prefix, seen_at)
                       if (g.seq < bound if newest_first else g.seq > bound)]
            listed.sort(key=lambda entry: entry[0], reverse=newest_first)
            page = listed[:size]
            newest = [item.newest if isinstance(item, consistency.Gone)
                      else self._newest_seen(db, kind, item, by_released) for _, item in page]
        more = len(listed) > size and bool(page)
        return newest, (encode_cursor(page[-1][0]) if more else None)

    def resolve_for_use(self, kind: Kind, ref: str) -> Revision:
        """The revision a conversation or procedure runs: bare id = the released one (409 if
        none), ``@vN`` = that revision whatever its status."""
        parsed = parse_ref(kind, ref)
        with self._store.tx() as db:
            statuses = self._statuses(db, kind, parsed.agent_id)
            number = parsed.number
            if number is None:
                number = lifecycle.released_of(statuses)
                if number is None:
                    raise conflict("no_released_version",
                                   f"{kind.label} {parsed.agent_id} has no released revision; "
                                   "release one or address a revision as <id>@v<N>")
            return self._load(db, kind, parsed.agent_id, number)

    def released(self, kind: Kind, agent_id: str) -> Revision | None:
        with self._store.tx() as db:
            row = db.execute("SELECT * FROM revisions WHERE agent_id = ? AND status = ?",
                             (agent_id, lifecycle.RELEASED)).fetchone()
        return None if row is None or ids.prefix_of(agent_id) != kind.prefix else _revision(row)

    # ---- writes --------------------------------------------------------------------------

    def create(self, kind: Kind, fields: AgentFields) -> Revision:
        now = self._clock.now()
        agent_id = ids.new_id(kind.prefix)
        with self._store.tx() as db:
            self._check_postprocess(db, fields.postprocess_agents)
            db.execute("INSERT INTO agents (id, kind, created_at) VALUES (?, ?, ?)",
                       (agent_id, kind.prefix, now))
            postprocess = (fields.postprocess_agents or []) if kind.has_postprocess else None
            revision = Revision(agent_id, 0, fields.name or "", fields.description or "",
                                fields.config or {}, postprocess, lifecycle.DRAFT, now, now)
            self._insert(db, revision)
            self.history.record(agent_id, now, {0: lifecycle.DRAFT})
        return revision

    def update(self, kind: Kind, ref: str, fields: AgentFields) -> Revision:
        """Write into the draft, or into a new draft copied from the newest revision."""
        parsed = parse_ref(kind, ref)
        with self._store.tx() as db:
            statuses = self._statuses(db, kind, parsed.agent_id)
            if parsed.number is not None and parsed.number not in statuses:
                raise not_found(f"{kind.label} version", ref)
            try:
                target = lifecycle.put_target(statuses, parsed.number)
            except lifecycle.RevisionImmutableError as exc:
                raise conflict("version_immutable",
                               f"{ref} is not the draft and cannot be changed ({exc}); "
                               "write the draft or use the bare agent id") from exc
            self._check_postprocess(db, fields.postprocess_agents)
            base = self._load(db, kind, parsed.agent_id, target.number)
            revised = _apply(base, fields, self._clock.now())
            if target.action == "new":
                revised = _as_new_draft(revised, lifecycle.newest(statuses) + 1)
                self._insert(db, revised)
                self.history.record(parsed.agent_id, revised.created_at,
                                    {**statuses, revised.number: lifecycle.DRAFT})
            else:
                self._rewrite(db, revised)
        return revised

    def release(self, kind: Kind, ref: str) -> Revision:
        parsed = parse_ref(kind, ref)
        with self._store.tx() as db:
            statuses = self._statuses(db, kind, parsed.agent_id)
            number = lifecycle.newest(statuses) if parsed.number is None else parsed.number
            if number not in statuses:
                raise not_found(f"{kind.label} version", ref)
            released = lifecycle.after_release(statuses, number)
            for n, status in released.items():
                if statuses[n] != status:
                    db.execute("UPDATE revisions SET status = ? WHERE agent_id = ? AND number = ?",
                               (status, parsed.agent_id, n))
            if released != statuses:
                self.history.record(parsed.agent_id, self._clock.now(), released)
            return self._load(db, kind, parsed.agent_id, number)

    def holder_of_name(self, kind: Kind, name: str, other_than: str = "") -> str | None:
        """The agent of ``kind`` (other than ``other_than``) whose newest revision has
        ``name``, or None (a platform that keeps names unique refuses a second one)."""
        with self._store.tx() as db:
            row = db.execute(
                "SELECT r.agent_id FROM revisions r JOIN agents a ON a.id = r.agent_id "
                "WHERE a.kind = ? AND r.name = ? AND r.agent_id != ? AND r.number = "
                "(SELECT MAX(number) FROM revisions WHERE agent_id = r.agent_id)",
                (kind.prefix, name, other_than)).fetchone()
        return None if row is None else str(row[0])

    def open_draft(self, kind: Kind, agent_id: str) -> Revision | None:
        """A new draft copied from the released revision, unless there is a draft already
        (a platform that keeps an editable draft beside every release)."""
        with self._store.tx() as db:
            statuses = self._statuses(db, kind, agent_id)
            released = lifecycle.released_of(statuses)
            if lifecycle.draft_of(statuses) is not None or released is None:
                return None
            base = self._load(db, kind, agent_id, released)
            draft = _as_new_draft(_apply(base, AgentFields(), self._clock.now()),
                                  lifecycle.newest(statuses) + 1)
            self._insert(db, draft)
            self.history.record(agent_id, draft.created_at,
                                {**statuses, draft.number: lifecycle.DRAFT})
        return draft

    def delete(self, kind: Kind, ref: str) -> str:
        parsed = parse_ref(kind, ref)
        if parsed.number is not None:
            raise bad_request("invalid_id", "delete takes an agent id, not a version id")
        with self._store.tx() as db:
            self._statuses(db, kind, parsed.agent_id)
            users = self._referencing_agents(db, parsed.agent_id)
            if users:
                raise conflict("agent_in_use",
                               f"{parsed.agent_id} is used by {', '.join(users)} "
                               "(released or draft revision); remove it there first")
            self._bury(db, kind, parsed.agent_id)
            db.execute("DELETE FROM revisions WHERE agent_id = ?", (parsed.agent_id,))
            db.execute("DELETE FROM agents WHERE id = ?", (parsed.agent_id,))
        return parsed.agent_id

    def edit_in_place(self, version_id: str, fields: AgentFields) -> Revision:
        """Change any revision directly, as a dashboard user could (drift for tests). Its
        ``updated_at`` moves forward, to the next whole second at least: timestamps are shown
        in whole seconds, and an edit is always later than the write before it."""
        kind = CONVERSATIONAL if version_id.startswith("ca_") else PROCEDURAL
        revision = self.get(kind, version_id)
        edited = _apply(revision, fields, max(self._clock.now(), revision.updated_at // 1 + 1))
        with self._store.tx() as db:
            self._rewrite(db, edited)
        return edited

    # ---- helpers -------------------------------------------------------------------------

    def _statuses(self, db: sqlite3.Connection, kind: Kind, agent_id: str) -> dict[int, str]:
        rows = db.execute("SELECT number, status FROM revisions WHERE agent_id = ?",
                          (agent_id,)).fetchall()
        if not rows:
            raise not_found(kind.label, agent_id)
        return {row["number"]: row["status"] for row in rows}

    def _load(self, db: sqlite3.Connection, kind: Kind, agent_id: str, number: int) -> Revision:
        row = db.execute("SELECT * FROM revisions WHERE agent_id = ? AND number = ?",
                         (agent_id, number)).fetchone()
        if row is None:
            raise not_found(f"{kind.label} version", ids.version_id(agent_id, number))
        return _revision(row)

    def _newest(self, db: sqlite3.Connection, agent_id: str) -> Revision:
        row = db.execute("SELECT * FROM revisions WHERE agent_id = ? ORDER BY number DESC "
                         "LIMIT 1", (agent_id,)).fetchone()
        return _revision(row)

    def _statuses_seen(self, agent_id: str) -> dict[int, str] | None:
        """The statuses a reader trailing by ``versions_lag`` sees, its delay varying as the
        agents list's does (``consistency.SPREADS``): under ``replica_lists`` a versions list
        can show less than the one before it, a release a moment ago as the draft again."""
        lags = self._lags()
        if lags.versions_s <= 0:
            return None
        moments = consistency.list_moments(self._clock.now(), lags.versions_s, lags.list_spread)
        return self.history.statuses_at(agent_id, moments(agent_id))

    def _newest_seen(self, db: sqlite3.Connection, kind: Kind, agent_id: str,
                     by_released: bool = False) -> Revision:
        """The newest revision a reader trailing by ``versions_lag`` knew of (v0, as a draft,
        when it knew of none yet), with the status it saw; ``by_released``: the released
        one it saw, while there was one."""
        statuses = self._statuses_seen(agent_id)
        if statuses is None:
            newest = self._newest(db, agent_id)
            if not by_released:
                return newest
            statuses = self._statuses(db, kind, agent_id)
            released = lifecycle.released_of(statuses)
            return newest if released is None else self._load(db, kind, agent_id, released)
        released = lifecycle.released_of(statuses) if by_released else None
        number = released if released is not None else max(statuses, default=0)
        revision = self._load(db, kind, agent_id, number)
        return consistency.status_as_seen(revision, statuses or {0: lifecycle.DRAFT})

    def _bury(self, db: sqlite3.Connection, kind: Kind, agent_id: str) -> None:
        """Remember a deleted agent for a list that trails the delete."""
        row = db.execute("SELECT seq, created_at FROM agents WHERE id = ?",
                         (agent_id,)).fetchone()
        if row is not None:
            self.history.bury(agent_id, consistency.Gone(
                row["seq"], kind.prefix, row["created_at"], self._clock.now(),
                self._newest_seen(db, kind, agent_id)))

    def _insert(self, db: sqlite3.Connection, rev: Revision) -> None:
        self.history.keep(rev, self._clock.now())
        db.execute(
            "INSERT INTO revisions (agent_id, number, name, description, config, "
            "postprocess_agents, status, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (rev.agent_id, rev.number, rev.name, rev.description, dumps(rev.config),
             _dumps_optional(rev.postprocess_agents), rev.status, rev.created_at,
             rev.updated_at))

    def _rewrite(self, db: sqlite3.Connection, rev: Revision) -> None:
        self.history.keep(rev, self._clock.now())
        db.execute(
            "UPDATE revisions SET name = ?, description = ?, config = ?, postprocess_agents = ?, "
            "updated_at = ? WHERE agent_id = ? AND number = ?",
            (rev.name, rev.description, dumps(rev.config),
             _dumps_optional(rev.postprocess_agents), rev.updated_at, rev.agent_id, rev.number))

    def _check_postprocess(self, db: sqlite3.Connection, refs: list[str] | None) -> None:
        for ref in refs or []:
            parsed = parse_ref(PROCEDURAL, ref)
            self._statuses(db, PROCEDURAL, parsed.agent_id)

    def _referencing_agents(self, db: sqlite3.Connection, agent_id: str) -> list[str]:
        rows = db.execute(
            "SELECT agent_id, number, postprocess_agents FROM revisions "
            "WHERE postprocess_agents IS NOT NULL AND status IN (?, ?)",
            (lifecycle.DRAFT, lifecycle.RELEASED)).fetchall()
        return sorted({
            ids.version_id(row["agent_id"], row["number"]) for row in rows
            if any(ref.partition("@")[0] == agent_id for ref in loads(row["postprocess_agents"]))
        })


def _apply(base: Revision, fields: AgentFields, now: float) -> Revision:
    """The revision with the body's fields replacing whole values; omitted ones are kept."""
    given = fields.model_fields_set
    return Revision(
        agent_id=base.agent_id, number=base.number,
        name=fields.name if "name" in given and fields.name is not None else base.name,
        description=(fields.description if "description" in given
                     and fields.description is not None else base.description),
        config=fields.config if "config" in given and fields.config is not None else base.config,
        postprocess_agents=(fields.postprocess_agents if "postprocess_agents" in given
                            and base.postprocess_agents is not None
                            else base.postprocess_agents),
        status=base.status, created_at=base.created_at, updated_at=now,
    )


def _as_new_draft(rev: Revision, number: int) -> Revision:
    return Revision(rev.agent_id, number, rev.name, rev.description, rev.config,
                    rev.postprocess_agents, lifecycle.DRAFT, rev.updated_at, rev.updated_at)


def _dumps_optional(value: Any) -> str | None:
    return None if value is None else dumps(value)
