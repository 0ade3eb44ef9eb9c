"""The ownership marker: one line at the end of a revision's ``description`` that says which
project and key wrote the revision, the hash of the desired content it was written for, and the
git commit it came from::

    Books cleaning appointments.

    [operator-iac project=acme key=booking hash=3f9c0a1b2c3d4e5f commit=9a1b2c3 written=1ffe7f]

The marker is the only state operator-iac keeps, and it lives on the platform itself. It is
stripped before content is compared, so users never see it in a diff. Parsing is strict about
the marker's shape (it must end a line) but tolerant about where it is: a dashboard edit that
appends text after it still leaves the agent owned (the content hash then reveals the edit),
and a platform that joins lines or collapses whitespace still leaves it readable. So does one
that escapes the text it stores, as Markdown (``\\[``) or HTML (``&#91;``, tags): the marker
is read through those escapes (``_readings``), and its values never hold what they add.

``+dirty`` after the commit says the declarations had changes not committed yet
(``commit=9a1b2c3+dirty``), so one commit never names two contents.

After the commit come optional ``name=value`` fields. ``env`` names the environment the revision
was written for: an environment is part of an agent's identity, so two environments of one
project that share an account (one key) never adopt, update, prune or report drift on each
other's agents. Markers written before environments were recorded carry none; they are read as
written by whichever environment finds them (``Owner.claims``), and get ``env`` on their next
write. ``stored`` records how the platform stored what was written, where that differs from
what was sent (``operator_iac.plan.stored``): pairs of digests and their seal, so a later
plan compares through the platform's normalisation instead of reporting it as a change.
``written`` records what was written (``operator_iac.plan.written``: the declared field paths
and a hash of their values), so that drift is judged on what operator-iac wrote rather than on
what is declared today.
``secrets=runtime.prompt.text,tool.transfers.0.entity_id`` names the config paths whose values
came from ``${env:...}`` (paths only, percent-encoded, never values), and
``secret_names=runtime.prompt.text:BOOKING_TOKEN`` the variables they came from (so a plan can
say by name which reference a change removes): views of the revision
mask the platform's values there even after the declaration stops marking them.
``smoke=conv_a,conv_p`` names the two smoke records of the revision's release (the release
record and the proof record, ``operator_iac.smoke.evidence``): written into the draft before
it is released, so whoever reads the revision finds its records by id; ``smoke=after`` says
that they follow the release instead (a marker fitted to a platform's limit gave up their
ids), so that a reader who does not find them yet knows to look again. ``at=1796636400``
says when a write into a draft that was there before it was made, by the platform's clock
(``api.platform_clock``, in seconds since 1970): a draft's times cannot say that the write
was its last change (its creation is older), so this does. Fields this
version does not know are ignored rather than stopping the line from parsing, so a marker
written by a newer version still names its owner.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, unquote

from operator_iac.errors import InvalidInputError

# Project names and keys are slugs: no whitespace, "=" or "]" so the line parses unambiguously.
_SLUG = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_SLUG_RE = re.compile(rf"^{_SLUG}$")
_HASH_RE = re.compile(r"^[0-9a-f]{12,64}$")
_COMMIT_RE = re.compile(r"^[0-9a-f]{4,64}(\+dirty)?$")
# A field's value is written percent-encoded: never whitespace, "=", "]", nor what a
# platform's escaping of stored text adds ("\\", "&", "<", ">", "["), so that an escaped line
# never reads as a marker with the escapes in its values (``_readings`` undoes them first).
_FIELD = r"[a-z][a-z_]*=[^\s\]=\\&<>[]+"
_FIELD_RE = re.compile(rf"^{_FIELD}$")
_VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Searched at the end of a line rather than matched as a whole line: a platform that joins
# lines or collapses whitespace in stored text still leaves the marker readable.
# What every marker begins with: its identity, content hash and commit.
_HEAD = (rf"\[operator-iac project=(?P<project>{_SLUG}) key=(?P<key>{_SLUG})"
         r" hash=(?P<hash>[0-9a-f]{12,64}) commit=(?P<commit>[0-9a-f]{4,64}(?:\+dirty)?|-)")
_MARKER_RE = re.compile(rf"{_HEAD}(?P<fields>(?: {_FIELD})*)\]$")
NO_COMMIT = "-"
DIRTY = "+dirty"
# ``smoke=after``: the release's smoke records follow it rather than being named.
RECORDS_FOLLOW = "after"


@dataclass(frozen=True)
class Marker:
    """What an operator-iac revision says about itself."""

    project: str
    """The name of the project that wrote the revision (a slug: ``acme``)."""
    key: str
    """The agent's key in that project (a slug: ``booking``)."""
    content_hash: str
    """``hashing.content_hash`` of the desired content the revision was written for: 16 hex
    digits as written (``3f9c0a1b2c3d4e5f``); 12 to 64 are read, and compared by prefix
    (``hashing.hash_matches``)."""
    commit: str | None = None
    """The commit the declarations came from, short (``9a1b2c3``), with ``+dirty`` when they
    had uncommitted changes (``services.provenance``); None when none is known (outside git
    and CI), written as ``-``."""
    written: str | None = None
    """What was written (``operator_iac.plan.written.WrittenRecord`` as text:
    ``<mask>[:<hash>][/<path>,...]``); None when not recorded (a marker of an older version,
    or a field path that cannot be named in the marker)."""
    secrets: tuple[str, ...] | None = None
    """The config paths that held ``${env:...}`` values when the revision was written
    (``runtime.prompt.text``, ``tool.transfers.0.entity_id``); None when none were recorded
    (the line then carries no ``secrets=``)."""
    environment: str | None = None
    """The environment the revision was written for (``env=``); None when written by an owner
    of no environment, or before environments were recorded (``Owner.claims``)."""
    stored: str | None = None
    """How the platform stored what was written (``plan.stored.StoredForms`` as text:
    ``<sent>.<stored>`` digest pairs, comma-separated, then the seal ``all.<digest>``; the
    seal alone where the pairs do not fit); None when nothing is recorded."""
    secret_names: tuple[tuple[str, str], ...] | None = None
    """(config path, variable name) of every ``${env:NAME}`` the revision was written with
    (``("runtime.prompt.text", "BOOKING_TOKEN")``); None when the line names none: written
    without one, or before names were recorded. A name that is not a variable name is not
    written."""
    smoke: tuple[str, str] | None = None
    """The conversation ids of the smoke records of the revision's release: (release record,
    proof record), ``smoke.announce``; None when the marker names none (the revision was
    released without records, or they were written after its release)."""
    records_follow: bool = False
    """The smoke records of the revision's release follow it (``smoke=after``): a marker
    fitted to a platform's limit gave up their ids, and they are written right after the
    release, found in the minutes after the revision's creation (``smoke.evidence``)."""
    written_at: int | None = None
    """When the write that carried the marker was made, by the platform's clock (``at=``,
    seconds since 1970, ``api.platform_clock``: never ahead of it): written where the write
    goes into a draft that was there before it, so that a reader can tell the draft's last
    change was that write (``plan.compare.changed_when_written``); None when not said."""

    def __str__(self) -> str:
        return format_marker(self.project, self.key, self.content_hash, self.commit,
                             written=self.written, secrets=self.secrets,
                             environment=self.environment, stored=self.stored,
                             secret_names=self.secret_names, smoke=self.smoke,
                             records_follow=self.records_follow,
                             written_at=self.written_at)

    def owned_by(self, project: str, key: str | None = None) -> bool:
        """Whether the marker names this project (and key), whatever its environment."""
        return self.project == project and (key is None or self.key == key)

    @property
    def dirty(self) -> bool:
        """Written from a working tree with uncommitted changes to the declarations."""
        return bool(self.commit and self.commit.endswith(DIRTY))


@dataclass(frozen=True)
class Owner:
    """Who owns an agent: a project, and the environment of that project that wrote it."""

    project: str
    """The project's name, as markers carry it."""
    environment: str | None = None
    """The environment this owner works in; None for a caller that works in no particular
    environment (a project without environments, the Python API without one): it claims the
    project's agents of every environment, and writes markers without ``env``."""

    def claims(self, marker: Marker | None, key: str | None = None) -> bool:
        """Whether ``marker`` makes its revision this owner's (for ``key``). A marker from
        before environments were recorded belongs to the environment that finds it."""
        if marker is None or not marker.owned_by(self.project, key):
            return False
        return self.environment is None or marker.environment in (None, self.environment)

    def marker(self, key: str, content_hash: str, commit: str | None, **fields: Any) -> Marker:
        """The marker this owner writes for ``key``."""
        return Marker(self.project, key, content_hash, commit, environment=self.environment,
                      **fields)


def format_marker(project: str, key: str, content_hash: str, commit: str | None, *,
                  written: str | None = None, secrets: tuple[str, ...] | None = None,
                  environment: str | None = None, stored: str | None = None,
                  secret_names: tuple[tuple[str, str], ...] | None = None,
                  smoke: tuple[str, str] | None = None, records_follow: bool = False,
                  written_at: int | None = None) -> str:
    """The marker line; refuses values that would make it unparseable."""
    _require(_SLUG_RE, project, "project name")
    _require(_SLUG_RE, key, "agent key")
    if environment is not None:
        _require(_SLUG_RE, environment, "environment name")
    _require(_HASH_RE, content_hash, "content hash", "a hash is 12 to 64 hexadecimal digits")
    if commit is not None:
        _require(_COMMIT_RE, commit.lower(), "git commit",
                 "a commit is 4 to 64 hexadecimal digits (GITHUB_SHA, CI_COMMIT_SHA, "
                 "BUILD_VCS_NUMBER or GIT_COMMIT, when set, is read as one)")
    shown = commit.lower() if commit else NO_COMMIT
    fields = ""
    # The environment first: a marker a platform cut short still names its whole identity
    # within its first hundred characters (``parse_cut_marker``).
    if environment is not None:
        fields += f" env={environment}"
    if written is not None:
        _require(_FIELD_RE, f"written={written}", "record of what was written")
        fields += f" written={written}"
    if secrets:
        fields += f" secrets={','.join(quote(p, safe='._-~') for p in secrets)}"
    if stored:
        _require(_FIELD_RE, f"stored={stored}", "record of stored forms")
        fields += f" stored={stored}"
    names = [f"{quote(path, safe='._-~')}:{name}" for path, name in secret_names or ()
             if _VARIABLE_RE.match(name)]
    if names:
        fields += f" secret_names={','.join(names)}"
    if smoke:
        fields += f" smoke={','.join(quote(i, safe='._-~') for i in smoke)}"
    elif records_follow:
        fields += f" smoke={RECORDS_FOLLOW}"
    if written_at is not None:
        fields += f" at={int(written_at)}"
    return (f"[operator-iac project={project} key={key} hash={content_hash} commit={shown}"
            f"{fields}]")


_NAME_RULE = "use letters, digits, '.', '_' and '-' only, starting with a letter or digit"


def _require(pattern: re.Pattern[str], value: str, what: str, rule: str = _NAME_RULE) -> None:
    if not pattern.match(value):
        raise InvalidInputError(
            f"{what} {value!r} cannot be written into the ownership marker: {rule}")


@functools.lru_cache(maxsize=4096)
def parse_marker(description: str | None) -> Marker | None:
    """The last marker line in ``description``, or None when there is none. Cached: a plan
    asks it of the same few descriptions many times, and a ``Marker`` is immutable."""
    for line in reversed((description or "").splitlines()):
        match = _marker_in(line)
        if match:
            commit = match["commit"]
            fields = dict(item.split("=", 1) for item in match["fields"].split())
            paths = fields.get("secrets")
            environment = fields.get("env")
            return Marker(match["project"], match["key"], match["hash"],
                          None if commit == NO_COMMIT else commit,
                          written=fields.get("written"),
                          secrets=tuple(unquote(p) for p in paths.split(",")) if paths
                          else None,
                          environment=environment if environment and
                          _SLUG_RE.match(environment) else None,
                          stored=fields.get("stored"),
                          secret_names=_secret_names(fields.get("secret_names")),
                          smoke=_smoke_records(fields.get("smoke")),
                          records_follow=fields.get("smoke") == RECORDS_FOLLOW,
                          written_at=int(fields["at"]) if fields.get("at", "").isdigit()
                          else None)
    return None


# How a platform may encode the text it stores, undone: Markdown's backslash escapes
# (``\[``, ``\_``) and markup (HTML entities such as ``&#91;``, tags such as ``<p>``).
_BACKSLASHED = re.compile(r"\\([!-/:-@\[-`{-~])")
_TAG = re.compile(r"<[^<>]*>")


def _readings(line: str) -> Iterator[str]:
    """``line`` as stored, then as it reads once each encoding a platform may apply to stored
    text is undone. The marker is the tool's identity on the platform: a platform that
    escapes what it stores (as Markdown or HTML) must not turn every agent of operator-iac's
    into someone else's, and no list of platforms could name every such encoding, so the
    common reversible ones are undone alike, in any combination. Only a line that does not
    read as a marker as it is gets the other readings."""
    yield line
    if "operator" not in line:
        return
    unescaped = html.unescape(line)
    for reading in (unescaped, _TAG.sub("", unescaped)):
        yield reading
        yield without_backslash_escapes(reading)


def unescaped(text: str) -> str:
    """``text`` with the encodings a platform may apply to stored text undone (HTML
    entities and tags, Markdown's backslash escapes: ``_readings``), as it was sent."""
    return without_backslash_escapes(_TAG.sub("", html.unescape(text)))


def without_backslash_escapes(text: str) -> str:
    """``text`` with Markdown's backslash escapes of punctuation undone (``\\[`` is ``[``)."""
    return _BACKSLASHED.sub(r"\1", text)


def _marker_in(line: str) -> re.Match[str] | None:
    """The marker ending ``line`` in its first reading that has one (``_readings``); the
    match's ``string`` is that reading."""
    for reading in _readings(line):
        match = _MARKER_RE.search(reading.rstrip())
        if match:
            return match
    return None


def _secret_names(text: str | None) -> tuple[tuple[str, str], ...] | None:
    if not text:
        return None
    pairs = (item.rpartition(":") for item in text.split(","))
    return tuple((unquote(path), name) for path, _, name in pairs
                 if path and _VARIABLE_RE.match(name))


def _smoke_records(text: str | None) -> tuple[str, str] | None:
    ids = [unquote(part) for part in (text or "").split(",") if part]
    return (ids[0], ids[1]) if len(ids) == 2 else None


# The beginning of a marker a platform cut off at its limit on descriptions, as far as its
# environment: every field up to it whole (each followed by the space before the next), the
# rest cut anywhere before the closing bracket.
_CUT_RE = re.compile(rf"{_HEAD}(?: {_FIELD})*? env=(?P<env>{_SLUG}) [^\]]*$")
# What a cut may leave of an escape at its end (``&#9``, a lone backslash): not a field.
_TORN_ESCAPE = "\\&#0123456789x;"


def parse_cut_marker(description: str | None) -> Marker | None:
    """The identity a marker cut short at a platform's limit still names (project, key,
    content hash, commit and environment; none of its other fields), or None: a description
    that carries a whole marker, or too little of one to name an environment. What a write of
    this tool leaves on a platform that keeps descriptions short until the write is fitted
    (``fitted``); a run killed in between leaves it for good. Only identity is read from it:
    which agent is whose (``plan.identity``), and whether a draft is that write cut short
    (``plan.compare.unfinished_own_write``)."""
    if parse_marker(description) is not None:
        return None
    lines = (description or "").splitlines()
    for reading in _readings(lines[-1] if lines else ""):
        match = _CUT_RE.search(reading.rstrip(_TORN_ESCAPE))
        if match:
            commit = match["commit"]
            return Marker(match["project"], match["key"], match["hash"],
                          None if commit == NO_COMMIT else commit,
                          environment=match["env"])
    return None


def parse_own_marker(description: str | None, owner: Owner | str, key: str, *,
                     cut: bool = False) -> Marker | None:
    """The last marker in ``description`` if it is ``owner``'s for ``key``, else None (a bare
    project name stands for that project in any environment); ``cut``: the identity a marker
    cut short still names (``parse_cut_marker``) instead."""
    owner = Owner(owner) if isinstance(owner, str) else owner
    marker = parse_cut_marker(description) if cut else parse_marker(description)
    return marker if owner.claims(marker, key) else None


def strip_marker(description: str | None) -> str:
    """The description as its author wrote it: the last marker line removed, trailing
    whitespace dropped (it carries no meaning and the marker's separator adds some)."""
    lines = (description or "").splitlines()
    for index in range(len(lines) - 1, -1, -1):
        match = _marker_in(lines[index])
        if match:
            # The text before it as read (a marker on a line of its own leaves none).
            before = match.string[:match.start()].rstrip()
            if before:
                lines[index] = before
            else:
                del lines[index]
            break
    return "\n".join(lines).rstrip()


def with_marker(description: str, marker: Marker) -> str:
    """``description`` (any previous marker removed) with ``marker`` as its last line."""
    text = strip_marker(description)
    return f"{text}\n\n{marker}" if text else str(marker)


# What a marker gives up, in this order, to fit beside a user's description on a platform
# that keeps descriptions shorter than both (``fitted``): first what only sharpens a report
# (what was written: drift is then judged on the declared content; the commit: history and
# the rollback to a commit then do not name it; the names of secret variables), then when
# the write was made (a run killed before reading it back then leaves a draft the next run
# takes for someone else's, to be overwritten by hand: a promise of the kill guarantees, so
# kept over a report), then what promote's evidence is found by (the smoke records' ids, once
# the record of stored forms is halved, the hash shortened and the record reduced to its
# seal: ``smoke=after`` then says the records follow the release), then what keeps a
# platform's forms from reading as changes (and with it ``smoke=after``), and last the paths
# masked as secrets. Identity (project, key, environment) and the content hash are never
# given up.
GIVEN_UP_IN_ORDER = ("written", "commit", "secret_names", "written_at", "smoke", "stored",
                     "secrets")


def smaller_markers(marker: Marker) -> Iterator[Marker]:
    """``marker`` with one more of its optional fields given up each time
    (``GIVEN_UP_IN_ORDER``), ending with the marker of identity and a 12-digit hash; before
    the smoke records' ids are given up, the record of stored forms is halved, the hash
    shortened, and the record reduced to its seal (``plan.stored``: its size does not grow
    with the platform's forms)."""
    from operator_iac.plan.stored import StoredForms

    for field_name in GIVEN_UP_IN_ORDER:
        if field_name == "smoke":  # the records' ids are worth a shorter hash and forms' record
            forms = StoredForms.decode(marker.stored)
            halved = forms.shortened().encode()
            if halved is not None and halved != marker.stored:
                marker = replace(marker, stored=halved)
                yield marker
            if len(marker.content_hash) > 12:
                marker = replace(marker, content_hash=marker.content_hash[:12])
                yield marker
            sealed = forms.sealed_only().encode()
            if sealed is not None and sealed != marker.stored:
                marker = replace(marker, stored=sealed)
                yield marker
            if marker.smoke is not None:  # the ids give way to saying the records follow
                marker = replace(marker, smoke=None, records_follow=True)
                yield marker
            continue
        if getattr(marker, field_name) is not None:
            given_up: dict[str, Any] = {field_name: None}
            marker = replace(marker, **given_up)
            yield marker
        if field_name == "stored" and marker.records_follow:
            marker = replace(marker, records_follow=False)
            yield marker
    if len(marker.content_hash) > 12:
        yield replace(marker, content_hash=marker.content_hash[:12])


def smaller_descriptions(description: str) -> list[str]:
    """``description`` (a user's text ending in its marker) with each smaller marker in turn
    (``smaller_markers``), the user's text whole; empty when it carries no marker."""
    marker = parse_marker(description)
    if marker is None:
        return []
    text = strip_marker(description)
    return [with_marker(text, smaller) for smaller in smaller_markers(marker)]


def fitted(description: str, limit: int) -> str | None:
    """``description`` (a user's text ending in its marker) within ``limit`` characters: the
    user's text whole, with the richest marker that fits beside it; None when even the
    marker of identity alone does not fit (or there is no marker to fit). The user's text is
    never shortened: the platform's limit is the user's, and only what the tool adds gives
    way."""
    if parse_marker(description) is None:
        return None
    candidates = [description, *smaller_descriptions(description)]
    return next((c for c in candidates if len(c) <= limit), None)


def cut_short_own(stored: str | None, text: str) -> bool:
    """Whether ``stored`` is a description whose author text is ``text`` followed by the
    beginning of an ownership marker the platform cut off at its limit (compared
    ``loosely``, through the forms it may store text in): what a write of this tool leaves
    on a platform that keeps descriptions short, until the write is fitted (``fitted``)."""
    kept = unescaped(stored or "").rstrip("\\").rstrip()
    if parse_marker(kept) is not None:
        return False
    kept, author = loosely(kept), loosely(text)
    if not kept.startswith(author):
        return False
    tail = kept[len(author):].strip()
    return bool(tail) and (_MARKER_START.startswith(tail) or tail.startswith(_MARKER_START))


def cut_from(sent: str, stored: str | None) -> int | None:
    """The characters the platform kept of ``sent`` (a description ending in its marker)
    where ``stored`` is its beginning, the marker cut off at a limit; None where ``stored``
    is anything else (another writer's text, or the whole of it).

    Compared ``loosely``: a platform that cuts may also store text in forms of its own (its
    escapes, a Unicode normal form, whitespace), from the very first character on. The end
    of what was kept is not compared: a cut may split an escape or a character the
    platform's form makes of two."""
    kept = unescaped(stored or "").rstrip("\\")
    if not kept or parse_marker(kept) is not None or parse_marker(sent) is None:
        return None
    beginning, whole = loosely(kept), loosely(sent)
    if len(beginning) > len(whole) or not whole.startswith(beginning[:_COMPARED]):
        return None
    return len(kept)


# How much of a cut description's beginning is compared with what was sent: enough to tell
# one author's text from another's, short of where a cut may leave a torn escape.
_COMPARED = 40


def loosely(text: str) -> str:
    """``text`` as two stored forms of it compare: its escapes undone (``unescaped``),
    Unicode in its compatibility-composed form, and each run of whitespace one space. Only
    for telling whether one text is the beginning of another; never written."""
    return " ".join(unicodedata.normalize("NFKC", unescaped(text)).split())


_MARKER_START = "[operator-iac "


def room_needed(description: str, keeping: str | None = None) -> int:
    """The characters ``description`` takes with its smallest marker (``fitted``), or with
    the smallest that still holds the field ``keeping``."""
    marker = parse_marker(description)
    if marker is None:
        return len(description)
    kept = [m for m in (marker, *smaller_markers(marker))
            if keeping is None or getattr(m, keeping) is not None]
    return len(with_marker(strip_marker(description), kept[-1] if kept else marker))
