"""Taking a revision from the platform into an existing agent file (``operator-iac pull``):
pure, texts in and texts out.

The declaration is made to say what the revision holds, for the fields it declares (the ones
a plan compares), so that the next ``plan`` shows no field change:

- the agent file is edited as a round trip (ruamel.yaml): comments, key order, quoting and
  flow styles stay, and only the values that differ are touched;
- a prompt in its own file is rewritten there; inline text stays a literal block;
- ``${var:...}`` and ``${env:...}`` stay wherever their value still matches
  (``pull_text.retemplate``, line by line for long text); where a ``${var:...}`` no longer
  matches, the platform's value is written instead (with a note);
- a secret is never written: a field that holds ``${env:...}`` keeps its reference and is
  refused when the platform's value differs, and so is any value that holds the value of a
  secret of this run;
- a list whose items have a natural key (tools by name ...) keeps the file's items that the
  platform still has, with their comments, in the platform's order;
- what the file does not say cannot be written there and is listed instead: values from an
  environment's ``overrides``, from a base file (``extends``), fields the dashboard owns, and
  ``postprocess_agents`` that name agents no file declares (a platform id is never written
  where a key belongs);
- comment lines that introduce the next key stay right before it when the value above them
  is replaced, loses its last item or gains new ones (``yaml_comments``), and every line the
  edit does not touch stays byte for byte (``yaml_round_trip.keep_unchanged_lines``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import LiteralScalarString

from operator_iac.errors import UsageError
from operator_iac.importing.pull_text import Refused, retemplate
from operator_iac.importing.yaml_comments import (
    attach_trailing,
    detach_trailing,
    last_key,
)
from operator_iac.importing.yaml_round_trip import (
    dump,
    is_flow,
    keep_unchanged_lines,
    literal,
    round_trip,
    style_of,
    styled,
)
from operator_iac.plan import normalise, refs
from operator_iac.plan.compare import recorded_forms
from operator_iac.plan.hashing import canonical_json
from operator_iac.plan.marker import strip_marker
from operator_iac.plan.stored import equate
from operator_iac.spec.agent_file import AgentFile
from operator_iac.spec.desired import DesiredAgent
from operator_iac.spec.merge import origin_in
from operator_iac.state.snapshot import RemoteRevision

Path_ = tuple[str, ...]
_PROMPT: Path_ = ("config", "runtime", "prompt")


@dataclass(frozen=True)
class FileEdit:
    """One file's text before and after."""

    path: Path
    before: str
    after: str


@dataclass(frozen=True)
class PullInput:
    """Everything ``pull_agent`` reads: the declaration as loaded and as resolved, the texts
    of its files, the revision to take, and what the run knows about ids and secrets."""

    agent: AgentFile
    desired: DesiredAgent
    revision: RemoteRevision
    agent_text: str
    prompt_text: str | None = None  # the prompt file's text, when the prompt is a file
    key_by_id: Mapping[str, str] = field(default_factory=dict)
    override: Mapping[str, Any] | None = None  # the environment's override for this key
    env_name: str | None = None
    secrets: frozenset[str] = frozenset()  # every ${env:...} value resolved in this run


@dataclass(frozen=True)
class PulledAgent:
    """What pulling one agent changes: the file edits, the plan paths written, and the
    fields left as they are, each with why."""

    key: str
    version_id: str
    edits: tuple[FileEdit, ...] = ()
    written: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PullReport:
    """Per agent what was (or would be) written, and whether the files were written."""

    agents: tuple[PulledAgent, ...]
    written: bool
    # Per key, the declared fields that still differ from the revision after writing.
    remaining: Mapping[str, tuple[str, ...]]

    @property
    def edits(self) -> tuple[FileEdit, ...]:
        return tuple(edit for agent in self.agents for edit in agent.edits)


def pull_agent(source: PullInput) -> PulledAgent:
    agent = source.agent
    if agent.instance is not None:
        raise UsageError(f"agent {agent.key!r} is an instance of the template {agent.path}: "
                         "pull writes one agent's file, not one instance of many")
    walk = _Walk(source, round_trip(source.agent_text))
    document = walk.yaml.load(source.agent_text)
    walk.run(document)
    edits = []
    after = _faithful(walk.yaml, source.agent_text, dump(walk.yaml, document))
    if after != source.agent_text:
        edits.append(FileEdit(agent.path, source.agent_text, after))
    if walk.prompt_after is not None and agent.prompt is not None and \
            agent.prompt.file is not None and walk.prompt_after != source.prompt_text:
        edits.append(FileEdit(agent.prompt.file, source.prompt_text or "", walk.prompt_after))
    return PulledAgent(agent.key, source.revision.version_id, tuple(edits),
                       tuple(walk.written), tuple(walk.notes))


def _faithful(yaml: YAML, original: str, edited: str) -> str:
    """The edited text with every line the edit did not touch as the file wrote it; the
    dumper's text whenever that would not read as the same content (never expected)."""
    baseline = dump(yaml, yaml.load(original))
    if edited == baseline:
        return original
    kept = keep_unchanged_lines(original, baseline, edited)
    plain = YAML(typ="safe", pure=True)
    try:
        return kept if plain.load(kept) == plain.load(edited) else edited
    except YAMLError:
        return edited


# ---- the walk -----------------------------------------------------------------------------


class _Walk:
    def __init__(self, source: PullInput, yaml: YAML) -> None:
        self.source, self.yaml = source, yaml
        self.written: list[str] = []
        self.notes: list[str] = []
        self.prompt_after: str | None = None
        self.owned = tuple(p.split("[", 1)[0] for p in source.desired.dashboard_owned)

    def run(self, document: CommentedMap) -> None:
        desired, revision = self.source.desired, self.source.revision
        config, postprocess = refs.to_keys(normalise.prepare(revision.config),
                                           revision.postprocess_agents, self.source.key_by_id)
        target = {"name": revision.name, "description": strip_marker(revision.description),
                  "config": normalise.project(config, desired.config)}
        resolved: dict[str, Any] = {"name": desired.name, "description": desired.description,
                                    "config": desired.config}
        if desired.kind == "conversational_agent":
            target["postprocess_agents"] = self.declared_references(postprocess)
            resolved["postprocess_agents"] = list(desired.postprocess_agents)
        # A value the platform holds in its own form of the declared one (a dated model, a
        # sorted list, trimmed text: recorded in the marker, ``plan.stored``) is the declared
        # value: the plan compares through that record, so pull does too. Written into the
        # file, the platform's form would change the declaration's hash and the next plan
        # would write the agent again for nothing.
        target, _ = equate(resolved, target, recorded_forms(revision))
        for key, value in resolved.items():
            self.value(document, key, value, target.get(key), (key,))

    def declared_references(self, postprocess: tuple[str, ...]) -> list[str]:
        """The revision's postprocess agents that a file declares, as keys; each other one
        (still a platform id: its file was removed, or it was never declared) is listed."""
        declared = set(self.source.key_by_id.values())
        for agent_id in (a for a in postprocess if a not in declared):
            self.note("postprocess_agents", f"not pulled: {agent_id} runs after this agent's "
                      "conversations on the platform, but no agent file declares it (a key is "
                      "written here, never an id); declare it, or apply to stop running it")
        return [key for key in postprocess if key in declared]

    # ---- one value ------------------------------------------------------------------------

    def value(self, node: Any, key: str, resolved: Any, target: Any, path: Path_) -> None:
        if _same(resolved, target, path):
            return
        dotted = ".".join(path)
        if any(dotted == o or dotted.startswith(o + ".") for o in self.owned):
            self.note(dotted, "owned by the dashboard (dashboard_owned): not pulled")
            return
        if self._overridden(path, resolved, target):
            self.note(dotted, f"set by environments.{self.source.env_name}.overrides."
                              f"{self.source.desired.key} in the project file: not changed")
            return
        if path == (*_PROMPT, "text"):
            self.prompt(node, resolved, target)
            return
        holder = _holder(node, key, path)
        if holder is None:
            self.note(dotted, "not written in this file (it comes from a base file): "
                              "not changed")
            return
        self.place(holder, key, resolved, target, path)

    def place(self, holder: Any, key: str, resolved: Any, target: Any, path: Path_) -> None:
        dotted = ".".join(path)
        current = holder[key]
        if target is None:
            _delete(holder, key)
            self.written.append(dotted)
            return
        if isinstance(resolved, dict) and isinstance(target, dict) and \
                isinstance(current, dict):
            for child, value in resolved.items():
                self.value(current, child, value, target.get(child), (*path, child))
            return
        rule = normalise.list_rule(path[1:]) if path[0] == "config" else None
        if isinstance(current, list) and isinstance(target, list) and rule and rule.key:
            self.keyed_list(current, resolved, target, path, rule.key)
            return
        self.scalar(holder, key, current, resolved, target, path)

    def scalar(self, holder: Any, key: str, current: Any, resolved: Any, target: Any,
               path: Path_) -> None:
        dotted = ".".join(path)
        if isinstance(current, str) and isinstance(resolved, str) and isinstance(target, str):
            written = retemplate(current, resolved, target)
            if isinstance(written, Refused):
                self.note(dotted, f"not pulled: {written.reason}")
                return
            if "${var:" in current and "${var:" not in written:
                self.note(dotted, f"was {current!r}: the platform's value is written instead")
        elif _holds_reference(current):
            self.note(dotted, "not pulled: it holds an ${...} reference and the platform "
                              "holds another kind of value")
            return
        else:
            written = literal(target, flow=style_of(current))
        if self._leaks(written):
            self.note(dotted, "not pulled: the platform's value holds the value of a secret")
            return
        _replace(holder, key, styled(written, current))
        self.written.append(dotted)

    def keyed_list(self, items: list[Any], resolved: list[Any], target: list[Any],
                   path: Path_, key: str) -> None:
        """The platform's items in its order; the file's item of the same key kept (with its
        comments) and updated field by field, new items written as the platform has them."""
        if len(items) != len(resolved):
            self.note(".".join(path), "not pulled: some of its items come from a base file")
            return
        by_key = {r.get(key): (item, r) for item, r in zip(items, resolved, strict=True)
                  if isinstance(r, dict)}
        flow = any(is_flow(item) for item in items)
        rebuilt: list[Any] = []
        for wanted in target:
            found = by_key.get(wanted.get(key)) if isinstance(wanted, dict) else None
            if found is None:
                item = literal(wanted, flow=flow)
                if self._leaks(item):
                    self.note(".".join(path), "not pulled: an item holds the value of a secret")
                    return
                rebuilt.append(item)
                continue
            item, declared = found
            for child, value in declared.items():
                self.value(item, child, value, wanted.get(child), (*path, child))
            rebuilt.append(item)
        kept = {id(item) for item in rebuilt}
        for item in items:
            if id(item) not in kept and "${" in canonical_json(item):
                self.note(".".join(path), f"the item {canonical_json(item)} and its "
                                          "reference are gone: the platform no longer has it")
        _rebuild(items, rebuilt)
        self.written.append(".".join(path))

    def prompt(self, node: Any, resolved: str, target: str) -> None:
        """The prompt text: in its own file, or inline; never one built from fragments."""
        dotted = ".".join((*_PROMPT, "text"))
        prompt = self.source.agent.prompt
        declared = node  # the file's ``prompt`` mapping: ``text``, or ``file``
        if prompt is None or not isinstance(declared, dict) or \
                not ({"text", "file"} & set(declared)):
            self.note(dotted, "not written in this file: not changed")
            return
        if len(prompt.files) > 1 or prompt.segments:
            self.note(dotted, "not pulled: the prompt is assembled from fragments "
                              f"({', '.join(prompt.files)}); edit them by hand")
            return
        template = self.source.prompt_text if "file" in declared else declared.get("text")
        written = retemplate(template or "", resolved, target)
        if isinstance(written, Refused):
            self.note(dotted, f"not pulled: {written.reason}")
            return
        if self._leaks(written):
            self.note(dotted, "not pulled: the platform's text holds the value of a secret")
            return
        if "file" in declared:
            self.prompt_after = written
        else:
            declared["text"] = LiteralScalarString(written) if "\n" in written else written
        self.written.append(dotted)

    # ---- helpers --------------------------------------------------------------------------

    def _overridden(self, path: Path_, resolved: Any, target: Any) -> bool:
        """Whether the environment's override wrote this value (a mapping both sides hold
        is looked into instead: the override may set only some of its fields)."""
        override = self.source.override
        if not override or not origin_in(override, path):
            return False
        node: Any = override
        for part in path:
            if not isinstance(node, dict):
                return True  # a list of the override replaced the file's wholesale
            node = node[part]
        return not (isinstance(node, dict) and isinstance(resolved, dict) and
                    isinstance(target, dict))

    def note(self, path: str, text: str) -> None:
        self.notes.append(f"{path}: {text}")

    def _leaks(self, value: Any) -> bool:
        text = canonical_json(value) if not isinstance(value, str) else value
        return any(secret and secret in text for secret in self.source.secrets)


def _delete(holder: CommentedMap, key: str) -> None:
    """Delete ``holder[key]``, keeping the comment lines after it (they introduce what
    follows) after the value before it."""
    keys = list(holder)
    trailing = detach_trailing(holder, key)
    del holder[key]
    previous = keys.index(key) - 1
    if previous >= 0:
        attach_trailing(holder, keys[previous], trailing)


def _replace(holder: CommentedMap, key: str, value: Any) -> None:
    """``holder[key] = value``, keeping the comment lines after the old value."""
    trailing = detach_trailing(holder, key)
    holder[key] = value
    attach_trailing(holder, key, trailing)


def _rebuild(items: list[Any], rebuilt: list[Any]) -> None:
    """Replace a block list's items: each kept item keeps its own comments, and the comment
    lines after the old last item come after the new last one."""
    if not isinstance(items, CommentedSeq):  # a list the file does not hold as written
        items[:] = rebuilt
        return
    trailing = detach_trailing(items, last_key(items)) if items else ""
    own = {id(item): items.ca.items.get(index) for index, item in enumerate(items)}
    del items[:]
    items.extend(rebuilt)
    items.ca.items.clear()
    for index, item in enumerate(items):
        if own.get(id(item)) is not None:
            items.ca.items[index] = own[id(item)]
    if items:
        attach_trailing(items, last_key(items), trailing)


def _holder(node: Any, key: str, path: Path_) -> Any:
    """The mapping of the file that holds ``key`` (``config.extra`` for passed-through
    fields), or None when this file does not write it."""
    if not isinstance(node, dict):
        return None
    if key in node and key != "extra":
        return node
    extra = node.get("extra") if path[:1] == ("config",) and len(path) == 2 else None
    return extra if isinstance(extra, dict) and key in extra else None


def _same(resolved: Any, target: Any, path: Path_) -> bool:
    if isinstance(resolved, str) and isinstance(target, str):
        return normalise.stored_as(resolved, target)
    config_path = path[1:] if path[:1] == ("config",) else ()
    return canonical_json(normalise.canonical(resolved, config_path)) == \
        canonical_json(normalise.canonical(target, config_path))


def _holds_reference(value: Any) -> bool:
    return isinstance(value, str) and "${" in value
