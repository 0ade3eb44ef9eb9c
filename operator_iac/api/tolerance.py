"""The tolerant reader's generic rules, and its notebook of the variations it met.

Everything a platform sends is read into one canonical shape inside ``operator_iac.api``;
the rules that apply to any field live here, so that no model repeats them per field:

- a ``null`` where the field's type has no room for it reads as the field being absent (its
  default applies): null, absent and empty are alike where the contract does not tell them
  apart (an agent whose ``description`` is ``null`` has an empty description);
- a JSON-encoded object (a string) where an object is expected is decoded;
- a relative URL is resolved against the URL of the response it came in;
- an object that says it is deleted (``marked_deleted``) is gone, as a 404 would say: some
  platforms keep what they delete readable, with a mark;
- a documented boolean the platform leaves out reads as false (``said_true``): some
  platforms leave every zero value out of what they show, false included;
- a point in time (a field typed ``Timestamp``) is read in whatever form the platform chose
  (RFC 3339 with any offset, Unix seconds or milliseconds as a number or as digits) into one
  form, RFC 3339 text in UTC to the precision it came with; times are compared as times
  (``state.times``), never as text, since precisions differ between platforms and fields.

Every rule that had to act notes it (``note``) under the key of the variation it met (the
registry of variations, ``docs/platform-behaviours.md``): ``doctor`` reports what a
platform made the reader adapt to, without looking at raw bodies again. Notes are collected
per client (``Notices``); a read made outside ``noting`` notes nothing.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import types
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Union, get_args, get_origin
from urllib.parse import urljoin, urlsplit, urlunsplit

from pydantic import BaseModel, BeforeValidator


class Notices:
    """The variations a client's reads met: key -> what was seen first (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, str] = {}

    def add(self, key: str, seen: str) -> None:
        with self._lock:
            self._seen.setdefault(key, seen)

    def seen(self) -> dict[str, str]:
        with self._lock:
            return dict(self._seen)


_ABSENT = object()


def said_true(flag: bool | None) -> bool:
    """Whether a documented boolean says true: a flag left out is false, never unknown
    (platforms that leave zero values out of what they show leave false out)."""
    return flag is True
_CURRENT: ContextVar[Notices | None] = ContextVar("operator_iac_notices", default=None)


def note(key: str, seen: str) -> None:
    """Record that a read met variation ``key`` (what it saw, in a few words)."""
    notices = _CURRENT.get()
    if notices is not None:
        notices.add(key, seen)


@contextmanager
def noting(notices: Notices | None) -> Iterator[None]:
    """Notes made inside go to ``notices``."""
    token = _CURRENT.set(notices)
    try:
        yield
    finally:
        _CURRENT.reset(token)


class Encoded:
    """Marks a field that may arrive JSON-encoded in a string (``Annotated[Any,
    Encoded("key")]``): the string is decoded when it holds an object or a list, and noted
    under ``key``."""

    def __init__(self, key: str) -> None:
        self.key = key


@dataclass(frozen=True)
class FieldRule:
    """How the generic rules treat one declared field that they can change: decided once per
    model (``field_rules``), not once per object read."""

    key: str
    """The field's name in a response (its alias, if it has one)."""
    nullable: bool
    """Its type has room for ``null`` (kept as it is)."""
    empty_default: bool
    """Its default is ``""``: a ``null`` read for it is noted as an empty string."""
    objective: bool
    """It expects an object: a string holding JSON is decoded."""
    encoded: str | None
    """The variation a decoding is noted under (``Encoded``), if any."""


@functools.cache
def field_rules(model: type[BaseModel]) -> tuple[FieldRule, ...]:
    """The rules for the fields of ``model`` that null-as-absent or decoding can change."""
    rules = []
    for name, info in model.model_fields.items():
        marker = next((m for m in info.metadata if isinstance(m, Encoded)), None)
        rule = FieldRule(info.alias or name, _admits_none(info.annotation), info.default == "",
                         marker is not None or _expects_object(info.annotation),
                         marker.key if marker is not None else None)
        if not rule.nullable or rule.objective:
            rules.append(rule)
    return tuple(rules)


def canonical_fields(model: type[BaseModel], data: dict[str, Any],
                     where: str) -> dict[str, Any]:
    """``data`` (a response object) with the generic rules applied to ``model``'s fields."""
    result = data
    for rule in field_rules(model):
        value = result.get(rule.key, _ABSENT)
        if value is None and not rule.nullable:
            result = {k: v for k, v in result.items() if k != rule.key}
            if rule.empty_default:  # the default stands for absent, null and empty alike
                note("empty_strings", f"{where}.{rule.key} is null")
        elif isinstance(value, str) and rule.objective:
            decoded = _decoded(value)
            if decoded is not value:
                result = {**result, rule.key: decoded}
                if rule.encoded is not None:
                    note(rule.encoded, f"{where}.{rule.key} is a JSON-encoded string")
    return result


# ---- points in time ---------------------------------------------------------------------------

_EPOCH_DIGITS = re.compile(r"-?\d+(\.\d+)?")
# RFC 3339 in UTC, the documented form, kept as the platform wrote it.
_UTC_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z")
_FRACTION = re.compile(r"\d\d:\d\d:\d\d\.(\d+)")
# Unix time counted in seconds, milliseconds, microseconds or nanoseconds: today's instants
# are about 1.7e9 s, so each unit is told by its magnitude (seconds up to the year 5138).
_EPOCH_UNITS = ((1e11, 1.0), (1e14, 1e3), (1e17, 1e6))


def moment_of(value: object) -> datetime | None:
    """``value`` as an aware UTC time, or None when it is absent or reads as no time: RFC
    3339 / ISO 8601 text (``Z`` in either case, any offset, any precision; a time without a
    zone is taken as UTC, like the documented form), or Unix time as a number or as digits,
    in seconds, milliseconds, microseconds or nanoseconds."""
    if isinstance(value, bool) or value is None or value == "":
        return None
    if isinstance(value, str) and _EPOCH_DIGITS.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, int | float):
        seconds = float(value)
        divisor = next((unit for limit, unit in _EPOCH_UNITS if abs(seconds) < limit), 1e9)
        try:
            return datetime.fromtimestamp(seconds / divisor, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00")
                                        .replace("z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def canonical_moment(value: Any) -> Any:
    """A platform's time as RFC 3339 text in UTC (``Timestamp``), to the precision it came
    with; text already in that form is kept as it is. What reads as no time is kept as it
    came (text), or as absent (anything else), never refused: a time the reader cannot place
    must not stop a plan."""
    if isinstance(value, str) and _UTC_TEXT.fullmatch(value):
        return value
    moment = moment_of(value)
    if moment is None:
        return value if isinstance(value, str) or value is None else None
    if isinstance(value, str) and not _EPOCH_DIGITS.fullmatch(value.strip()):
        fraction = _FRACTION.search(value)
        digits = min(len(fraction.group(1)), 6) if fraction else 0
    else:  # Unix time, as a number or as digits
        note("time_form", f"a time as the number {value!r}")
        digits = 0 if not moment.microsecond else 3 if moment.microsecond % 1000 == 0 else 6
    return utc_text(moment, digits)


def utc_text(moment: datetime, digits: int = 0) -> str:
    """``2023-11-07T05:31:56Z``, with ``digits`` of the fraction of a second (at most 6)."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}"[:min(digits, 6)]
    return text + "Z"


Timestamp = Annotated[str | None, BeforeValidator(canonical_moment)]
"""A point in time a platform sends (``created_at``, ``updated_at`` ...), read into RFC 3339
text in UTC by ``canonical_moment``; compare with ``state.times``, never as text."""


def resolved_url(url: str | None, base: str, *, websocket: bool = False) -> str | None:
    """``url`` made absolute against ``base`` (the URL of the response it came in); with
    ``websocket``, an http(s) result becomes ws(s), as a session URL must be."""
    if not url:
        return url
    absolute = urljoin(base, url)
    parts = urlsplit(absolute)
    if websocket and parts.scheme in ("http", "https"):
        absolute = urlunsplit(parts._replace(scheme="ws" if parts.scheme == "http" else "wss"))
    return absolute


def is_relative(url: str | None) -> bool:
    return bool(url) and not urlsplit(url or "").scheme


def _decoded(value: str) -> Any:
    """The object or list a string holds as JSON, else the string itself."""
    try:
        decoded = json.loads(value)
    except ValueError:
        return value
    return decoded if isinstance(decoded, dict | list) else value


def _admits_none(annotation: Any) -> bool:
    if annotation is None or annotation is Any or annotation is type(None):
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _admits_none(get_args(annotation)[0])
    if origin is Union or isinstance(annotation, types.UnionType):
        return any(_admits_none(arg) for arg in get_args(annotation))
    return False


def _expects_object(annotation: Any) -> bool:
    kinds = get_args(annotation) if isinstance(annotation, types.UnionType) or \
        get_origin(annotation) is Union else (annotation,)
    return any(kind is dict or get_origin(kind) is dict for kind in kinds)


def marked_deleted(data: Any) -> bool:
    """Whether an object a platform returned says it is deleted: ``deleted: true`` (a stub
    of it, or the object kept with the mark), ``is_deleted: true``, a ``deleted_at`` time, or
    ``status: "deleted"``. Where a delete is soft (the object stays readable), this is how a
    platform tells it; none of these fields, nor that status, is in any object the contract
    documents, so nothing is read as deleted on a platform that answers a read of it 404.
    A list page (``data``, ``page``) is never one: its items are judged each."""
    if not isinstance(data, dict) or "data" in data or "page" in data:
        return False
    return data.get("deleted") in (True, "true") or data.get("is_deleted") in (True, "true") \
        or data.get("deleted_at") not in (None, "", 0) or data.get("status") == "deleted"
