"""What operator-iac wrote into a revision: the record that makes drift mean "changed after
operator-iac wrote it" instead of "differs from what is declared today".

The ownership marker's ``hash`` is the hash of the declared content, for deciding whether a
revision already holds what the declarations ask for. It is not enough to tell whether a
revision was edited later: that needs the shape that was declared when it was written (the
field paths operator-iac set), since starting or stopping to declare a field changes the
declarations without anyone touching the platform. So the marker also carries a
``WrittenRecord``:

- the **paths** written: every field path of the content as declared at the time
  (``name``, ``description``, ``config.runtime.model``, ``config.tool.tools.name`` ...; list
  items share the path of their list), minus the fields the dashboard owns;
- a **hash** of the values at those paths, in key space (agent references as keys) and with
  secrets taken as they are (only their hash is kept, as for every other value), so that
  introducing, rotating or removing a ``${env:...}`` value through operator-iac is never drift.
  Text enters it in the form a platform's normalisation comes back to (line endings and
  trailing whitespace aside), so a platform that trims stored text is not taken for an edit.

A revision *holds what was written* when its own values at the recorded paths hash to the
recorded hash. Fields outside the paths (server defaults, fields added by the platform later,
fields nobody declared) are not looked at.

In the marker the record reads ``written=<mask>[:<hash>][/<path>,...]``: a bit mask over
``KNOWN_PATHS`` (which only ever grows at its end, so that old markers keep their meaning),
the hash when it is not the marker's own ``hash``, and any other path by name
(``config.extra`` fields). A path whose name cannot be written into the marker leaves the
record out; drift is then judged as before, on the declared shape.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from operator_iac.plan import normalise, refs
from operator_iac.plan.hashing import content_hash, hash_matches
from operator_iac.state.snapshot import RemoteRevision

# Append only: a path's position is its bit in every marker ever written.
KNOWN_PATHS: tuple[str, ...] = (
    "name", "description", "postprocess_agents", "config",
    "config.personas", "config.personas.name", "config.personas.voice",
    "config.personas.voice.provider", "config.personas.voice.id",
    "config.voice", "config.voice.ambient_sound", "config.voice.busy_sound",
    "config.voice.boosted_keywords",
    "config.runtime", "config.runtime.model", "config.runtime.prompt",
    "config.runtime.prompt.type", "config.runtime.prompt.text", "config.runtime.variables",
    "config.runtime.variables.name", "config.runtime.variables.description",
    "config.runtime.variables.default_value", "config.runtime.reasoning_effort",
    "config.tool", "config.tool.tools", "config.tool.tools.ns", "config.tool.tools.name",
    "config.tool.transfers", "config.tool.transfers.entity_id",
    "config.language", "config.language.default_language",
    "config.language.supported_languages",
    "config.channel", "config.channel.is_voicemail_enabled", "config.channel.is_sms_enabled",
    "config.filter_statuses", "config.filter_condition",
    "config.output", "config.output.output_schema", "config.output.slack_channel",
    "config.output.post_url",
)
_BITS = {path: index for index, path in enumerate(KNOWN_PATHS)}
# Free-form values compared whole: a JSON Schema is one document.
_OPAQUE = frozenset({"config.output.output_schema"})
_TOP_LEVEL = ("name", "description", "postprocess_agents")
_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$")
_RECORD_RE = re.compile(r"^(?P<mask>[0-9a-f]+)(?::(?P<hash>[0-9a-f]{12,64}))?"
                        r"(?:/(?P<other>[^\s/]+))?$")


@dataclass(frozen=True)
class WrittenRecord:
    """The field paths operator-iac wrote and the hash of the values it wrote there."""

    content_hash: str
    paths: frozenset[str]

    def encode(self, marker_hash: str) -> str | None:
        """The marker's ``written`` value (the hash left out when it is ``marker_hash``), or
        None when a path cannot be named there."""
        mask = sum(1 << _BITS[p] for p in self.paths if p in _BITS)
        others = sorted(p for p in self.paths if p not in _BITS)
        if any(not _NAME_RE.match(p) for p in others):
            return None
        text = f"{mask:x}" if self.content_hash == marker_hash else \
            f"{mask:x}:{self.content_hash}"
        return f"{text}/{','.join(others)}" if others else text

    @classmethod
    def decode(cls, text: str | None, marker_hash: str) -> WrittenRecord | None:
        """The record in a marker's ``written`` value; None when there is none."""
        match = _RECORD_RE.match(text or "")
        if match is None:
            return None
        mask = int(match["mask"], 16)
        paths = {p for i, p in enumerate(KNOWN_PATHS) if mask >> i & 1}
        paths.update(p for p in (match["other"] or "").split(",") if p)
        return cls(match["hash"] or marker_hash, frozenset(paths))


# ---- the record of a declaration, and the check of a revision against it -----------------


def written_record(kind: str, name: str, description: str, config: Mapping[str, Any],
                   postprocess: Iterable[str], *,
                   owned: Collection[str] = ()) -> WrittenRecord:
    """The record of writing this content (key space, secrets in clear), leaving out the
    paths in ``owned`` (fields the dashboard owns) and everything below them."""
    prepared = normalise.prepare(config)
    # An owned list item (``config.tool.tools[name=book]``) takes its whole list out of the
    # record: list items share their list's paths.
    roots = {path.split("[", 1)[0] for path in owned}
    paths = {p for p in (*_TOP_LEVEL, "config", *declared_paths(prepared, ("config",)))
             if not _under_any(p, roots)}
    if kind != "conversational_agent":
        paths.discard("postprocess_agents")
    return WrittenRecord(_hash(kind, name, description, prepared, tuple(postprocess), paths),
                         frozenset(paths))


def holds_written(revision: RemoteRevision, kind: str, record: WrittenRecord,
                  key_by_id: Mapping[str, str]) -> bool:
    """Whether ``revision`` still holds, at the recorded paths, what was written there."""
    found = stored_record(revision, kind, record.paths, key_by_id)
    return hash_matches(record.content_hash, found.content_hash)


def stored_record(revision: RemoteRevision, kind: str, paths: Collection[str],
                  key_by_id: Mapping[str, str]) -> WrittenRecord:
    """The record of what ``revision`` holds at ``paths``: after a write the platform stored
    in its own form (``plan.stored``), this is what the marker records as written."""
    config, postprocess = refs.to_keys(normalise.prepare(revision.config),
                                       revision.postprocess_agents, key_by_id)
    return WrittenRecord(_hash(kind, revision.name, revision.description, config, postprocess,
                               paths), frozenset(paths))


def declared_paths(value: Any, prefix: tuple[str, ...]) -> set[str]:
    """Every field path in ``value`` (list items share their list's path); a field this
    module does not know, or a free-form one, is a path of its own and not descended into."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = (*prefix, str(key))
            dotted = ".".join(path)
            found.add(dotted)
            if dotted in _BITS and dotted not in _OPAQUE:
                found |= declared_paths(child, path)
    elif isinstance(value, list):
        for item in value:
            found |= declared_paths(item, prefix)
    return found


# ---- internals ----------------------------------------------------------------------------


def _hash(kind: str, name: str, description: str, config: Mapping[str, Any],
          postprocess: tuple[str, ...], paths: Collection[str]) -> str:
    projected = _project(dict(config), frozenset(paths), ("config",))
    body = normalise.content(kind, name, description, projected, postprocess)
    return content_hash(_text_forms({k: v for k, v in body.items()
                                     if k == "config" or k in paths}))


def _text_forms(value: Any) -> Any:
    """Every string in the one form any platform's normalisation of it comes back to (line
    endings, trailing whitespace: ``normalise.text_forms``), so that a platform that trims
    stored text does not make what was written look edited."""
    if isinstance(value, str):
        lines = value.replace("\r\n", "\n").split("\n")
        return "\n".join(line.rstrip() for line in lines).strip()
    if isinstance(value, dict):
        return {k: _text_forms(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_text_forms(v) for v in value]
    return value


def _project(value: Any, paths: frozenset[str], prefix: tuple[str, ...]) -> Any:
    """The part of ``value`` at ``paths``: a path with nothing recorded below it is kept
    whole; list items are projected one by one."""
    if isinstance(value, list):
        return [_project(item, paths, prefix) for item in value]
    if not isinstance(value, dict):
        return value
    projected: dict[str, Any] = {}
    for key, child in value.items():
        dotted = ".".join((*prefix, str(key)))
        if dotted not in paths:
            continue
        below = any(p.startswith(dotted + ".") for p in paths)
        projected[key] = _project(child, paths, (*prefix, str(key))) if below else child
    return projected


def _under_any(path: str, roots: Collection[str]) -> bool:
    return any(path == root or path.startswith(root + ".") for root in roots)
