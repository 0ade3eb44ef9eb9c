"""The one YAML loader: bytes on disk to plain data plus the position of every node.

Every agent and project file goes through ``load_yaml``. It reads safely (no object tags),
bounds the work a file can cause (a size cap and a node budget, so a 10 MB file or an alias
bomb fails fast), rejects what YAML would silently accept (duplicate keys, empty files), and
records where each value and each key sits so later checks can point at ``file:line:column``.

Scalars follow the YAML 1.2 core schema, not PyYAML's 1.1 default: ``on``, ``yes`` and ``no``
stay strings, dates stay strings, and mapping keys are always the text written in the file.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from operator_iac.errors import DeclarationError, Diagnostic, Severity
from operator_iac.spec.indentation import explain_indentation

# Agent files are a few kilobytes; anything above this is a mistake, refused before parsing.
MAX_FILE_BYTES = 1024 * 1024
# Upper bound on nodes visited per file (aliases are expanded, so this also stops alias bombs).
MAX_NODES = 200_000
MAX_DEPTH = 64

DataPath = tuple[str | int, ...]

_BaseLoader: type = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

_TAG = "tag:yaml.org,2002:"
_MERGE_TAG = _TAG + "merge"


class _CoreSchemaLoader(_BaseLoader):
    """Composes nodes, resolving plain scalars by the YAML 1.2 core schema."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}


_IMPLICIT = [
    ("null", r"^(?:~|null|Null|NULL|)$", [*"~nN", ""]),
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    ("float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
              r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", list("-+.0123456789")),
    ("merge", r"^<<$", ["<"]),
]
for _name, _pattern, _first in _IMPLICIT:
    _CoreSchemaLoader.add_implicit_resolver(_TAG + _name, re.compile(_pattern), _first)


@dataclass(frozen=True)
class Pos:
    """A 1-based position; ``block`` is the indicator of a block scalar, ``|`` (literal) or
    ``>`` (folded), whose content starts a line below. ``file`` names the file the position
    is in when it is not the document's own (a value a composed declaration inherited from a
    base file)."""

    line: int
    column: int
    block: str = ""  # "" for any other node
    file: str = ""


START = Pos(1, 1)


def display_path(path: Path) -> str:
    """The path as users should see it: relative to the working directory when inside it."""
    # os.path string operations, not Path.resolve(): this runs for every file and diagnostic.
    absolute = os.path.abspath(path)
    cwd = os.getcwd()
    if absolute.startswith(cwd.rstrip(os.sep) + os.sep):
        return absolute[len(cwd.rstrip(os.sep)) + 1:]
    return str(path)


def real_path(path: Path) -> Path:
    """``path`` with links and ``..`` followed, never failing (a loop or a broken link is
    left for the read to report)."""
    return Path(os.path.realpath(path))


@dataclass
class YamlDocument:
    """A loaded file: its data and where every value (and every mapping key) was written."""

    path: Path
    data: Any
    values: dict[DataPath, Pos] = field(default_factory=dict)
    keys: dict[DataPath, Pos] = field(default_factory=dict)
    display: str = ""
    source: str = ""  # the text the positions refer to
    # A composed declaration (``operator_iac.spec.compose``): the files it was merged from, by
    # display path; positions whose ``file`` is set refer to one of them.
    layers: dict[str, YamlDocument] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.display:
            self.display = display_path(self.path)

    def origin(self, path: DataPath) -> YamlDocument:
        """The file that wrote the value at ``path`` (this document unless it was composed)."""
        return self.layers.get(self.locate(path).file, self)

    def locate(self, path: DataPath, *, at_key: bool = False) -> Pos:
        """Position of ``path``, or of the nearest enclosing node that exists in the file."""
        if at_key and path in self.keys:
            return self.keys[path]
        if path in self.values:
            return self.values[path]
        for end in range(len(path) - 1, -1, -1):
            parent = path[:end]
            found = self.keys.get(parent) or self.values.get(parent)
            if found is not None:
                return found
        return START

    def diagnostic(self, path: DataPath, message: str, *, severity: Severity = "error",
                   at_key: bool = False) -> Diagnostic:
        pos = self.locate(path, at_key=at_key)
        return Diagnostic(pos.file or self.display, pos.line, pos.column, message, severity)


class UnreadableFile(Exception):
    """A file that cannot be read as asked: missing, not a regular file, too big, refused."""


def read_bounded(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes.

    Checked before anything is read, so that a device (``/dev/zero``), a FIFO or a directory
    fails at once instead of hanging or filling memory: the path must name a regular file
    (symbolic links are followed; a broken one or a loop is named as such), it is opened
    without blocking, checked again on the open descriptor, and read up to ``limit + 1``.
    """
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        raise UnreadableFile(_missing(path, what)) from exc
    except OSError as exc:
        raise UnreadableFile(_os_problem(exc, what)) from exc
    _require_regular(info, what)
    if info.st_size > limit:
        raise UnreadableFile(_too_big(what, limit))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UnreadableFile(_os_problem(exc, what)) from exc
    with os.fdopen(fd, "rb") as handle:
        _require_regular(os.fstat(fd), what)  # replaced between the checks
        try:
            raw = handle.read(limit + 1)
        except OSError as exc:
            raise UnreadableFile(_os_problem(exc, what)) from exc
    if len(raw) > limit:
        raise UnreadableFile(_too_big(what, limit))
    return raw


def _require_regular(info: os.stat_result, what: str) -> None:
    if stat.S_ISREG(info.st_mode):
        return
    kind = ("a directory" if stat.S_ISDIR(info.st_mode) else
            "a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else
            "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
            "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
    raise UnreadableFile(f"{what} is {kind}, not a regular file")


def _missing(path: Path, what: str) -> str:
    if os.path.islink(path):
        return f"{what} is a broken symbolic link (it points to {os.readlink(path)!r})"
    return f"{what} not found"


def _os_problem(exc: OSError, what: str) -> str:
    if exc.errno == errno.ELOOP:
        return f"{what} is a symbolic link loop"
    return f"cannot read {what}: {exc.strerror or exc}"


def _too_big(what: str, limit: int) -> str:
    shown = f"{limit // (1024 * 1024)} MiB" if limit % (1024 * 1024) == 0 else \
        f"{limit // 1024} KiB"
    return f"{what} is larger than {shown}; refusing to read it"


# Texts read in place of files (``pending_texts``), by real path: empty outside such a block.
_PENDING: ContextVar[Mapping[str, str] | None] = ContextVar("pending_texts", default=None)


@contextmanager
def pending_texts(texts: Mapping[Path, str]) -> Iterator[None]:
    """Inside the block, the files at these paths read as the given texts: edits a command is
    about to write are checked as the files will read, before any of them is written."""
    token = _PENDING.set({os.path.realpath(path): text for path, text in texts.items()})
    try:
        yield
    finally:
        _PENDING.reset(token)


def read_text(path: Path, what: str = "file") -> str:
    """Read a UTF-8 text file within the size cap; every failure is a one-diagnostic error."""
    pending = _PENDING.get()
    text = pending.get(os.path.realpath(path)) if pending else None
    if text is not None:
        return text
    display = display_path(path)
    try:
        raw = read_bounded(path, MAX_FILE_BYTES, what)
    except UnreadableFile as exc:
        raise _fail(display, START, str(exc)) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        pos = _byte_position(raw, exc.start)
        raise _fail(display, pos, f"{what} is not valid UTF-8 "
                                  f"(byte 0x{raw[exc.start]:02x}); save it as UTF-8") from exc


# Documents parsed ahead of the loading that uses them (``parsed_ahead``), by the path as
# given and the text: None outside such a block.
_AHEAD: ContextVar[dict[tuple[str, str], YamlDocument] | None] = ContextVar("parsed_ahead",
                                                                            default=None)


@contextmanager
def parsed_ahead() -> Iterator[None]:
    """Inside the block, a document parsed with ``keep=True`` is handed to the next parse of
    the very same text from the same path instead of that text being parsed again (once).

    A command that reads the platform ahead of its declarations first looks through them
    (``spec.prescan``, the project file's destination), then loads them; parsing is most of
    loading a declaration, and each file would be parsed twice. What is handed over is what
    the second parse would have returned (same text, same path, same rules), and nothing
    before it changes a document: the look ahead only reads."""
    token = _AHEAD.set({})
    try:
        yield
    finally:
        _AHEAD.reset(token)


def load_yaml(path: Path, what: str = "file", *, keep: bool = False) -> YamlDocument:
    """Load one YAML file; raises ``DeclarationError`` with every problem found in it.
    ``keep``: see ``parse_yaml``."""
    text = read_text(path, what)
    return parse_yaml(text, path, keep=keep)


def parse_yaml(text: str, path: Path, *, keep: bool = False) -> YamlDocument:
    """Parse YAML text that came from ``path`` (used for positions and messages only).
    ``keep``: inside ``parsed_ahead``, keep the document for the next parse of this text from
    this path, which then takes it instead of parsing (another look ahead shares it)."""
    ahead, key = _AHEAD.get(), (str(path), text)
    if ahead is not None and key in ahead:
        return ahead[key] if keep else ahead.pop(key)
    document = _parse(text, path)
    if ahead is not None and keep:
        ahead[key] = document
    return document


def _parse(text: str, path: Path) -> YamlDocument:
    display = display_path(path)
    node = _compose(text, display)
    if node is None:
        raise _fail(display, START, "file is empty; expected a YAML mapping")
    builder = _Builder(display)
    try:
        data = builder.build(node, ())
    except _TooBig as exc:
        raise _fail(display, exc.pos, exc.message) from None
    if builder.diagnostics:
        # An anchored mapping merged twice would report its own problems twice.
        raise DeclarationError(list(dict.fromkeys(builder.diagnostics)))
    return YamlDocument(path, data, builder.values, builder.keys, display, text)


def _compose(text: str, display: str) -> Node | None:
    loader = _CoreSchemaLoader(text)
    try:
        node: Node | None = loader.get_single_node()
        return node
    except yaml.MarkedYAMLError as exc:
        raise _fail(display, *_describe_syntax_error(exc, text)) from None
    except yaml.YAMLError as exc:
        raise _fail(display, START, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise _fail(display, START, f"nesting deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()


def _describe_syntax_error(exc: yaml.MarkedYAMLError, text: str) -> tuple[Pos, str]:
    mark = exc.problem_mark or exc.context_mark
    pos = Pos(mark.line + 1, mark.column + 1) if mark else START
    if _char_at(text, pos) == "\t" or "tab" in (exc.problem or ""):
        return pos, "tab character in indentation; YAML indents with spaces only"
    indentation = explain_indentation(text, exc.problem or "", pos.line, _parses)
    if indentation is not None:
        line, column, message = indentation
        return Pos(line, column), message
    problem = exc.problem or "syntax error"
    context = exc.context or ""
    # libyaml reports a missing ':' where it gave up (the next line); the key starts earlier.
    if context.startswith("while scanning a simple key") and exc.context_mark is not None:
        start = exc.context_mark
        return Pos(start.line + 1, start.column + 1), f"invalid YAML: {problem} after this key"
    if context and exc.context_mark is not None and exc.context_mark is not mark:
        where = f"line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
        return pos, f"invalid YAML: {problem} ({context} at {where})"
    return pos, f"invalid YAML: {problem}"


def _parses(text: str) -> bool:
    loader = _CoreSchemaLoader(text)
    try:
        loader.get_single_node()
        return True
    except yaml.YAMLError:
        return False
    finally:
        loader.dispose()


def _char_at(text: str, pos: Pos) -> str:
    lines = text.split("\n")
    if pos.line - 1 >= len(lines):
        return ""
    line = lines[pos.line - 1]
    return line[pos.column - 1] if 0 < pos.column <= len(line) else ""


def _byte_position(raw: bytes, offset: int) -> Pos:
    line_start = raw.rfind(b"\n", 0, offset) + 1
    column = len(raw[line_start:offset].decode("utf-8", errors="replace")) + 1
    return Pos(raw.count(b"\n", 0, offset) + 1, column)


def _fail(display: str, pos: Pos, message: str) -> DeclarationError:
    return DeclarationError([Diagnostic(display, pos.line, pos.column, message)])


class _TooBig(Exception):
    def __init__(self, pos: Pos, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


def _pos(node: Node) -> Pos:
    mark = node.start_mark
    block = node.style if isinstance(node, ScalarNode) and node.style in ("|", ">") else ""
    return Pos(mark.line + 1, mark.column + 1, block)


def _int(text: str) -> int:
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)


def _float(text: str) -> float:
    lowered = text.lower()
    if lowered.endswith(".nan"):
        return float("nan")
    if lowered.endswith(".inf"):
        return float("-inf") if lowered.startswith("-") else float("inf")
    return float(text)


def _bool(text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise ValueError(text)
    return text.lower() == "true"


def _null(text: str) -> None:
    if text not in ("", "~", "null", "Null", "NULL"):
        raise ValueError(text)


_COLLECTION_TAGS = (_TAG + "map", _TAG + "seq", "!")
_SCALARS: dict[str, Callable[[str], Any]] = {
    _TAG + "str": str,
    _TAG + "int": _int,
    _TAG + "float": _float,
    _TAG + "bool": _bool,
    _TAG + "null": _null,
}


class _Builder:
    """Turns composed nodes into dicts, lists and scalars, recording positions as it goes."""

    def __init__(self, display: str) -> None:
        self.display = display
        self.values: dict[DataPath, Pos] = {}
        self.keys: dict[DataPath, Pos] = {}
        self.diagnostics: list[Diagnostic] = []
        self._visited = 0
        self._merging = 0

    def build(self, node: Node, path: DataPath) -> Any:
        self._visited += 1
        if self._visited > MAX_NODES:
            raise _TooBig(_pos(node), f"more than {MAX_NODES} YAML nodes (aliases expanded); "
                                      "refusing to load this file")
        if len(path) > MAX_DEPTH:
            raise _TooBig(_pos(node), f"nesting deeper than {MAX_DEPTH} levels")
        self._record(self.values, path, _pos(node))
        if isinstance(node, MappingNode | SequenceNode) and node.tag not in _COLLECTION_TAGS:
            self._report(node, f"unsupported YAML tag {node.tag!r}; write plain values")
            return None
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: Node) -> Any:
        convert = _SCALARS.get(node.tag, str if node.tag == "!" else None)
        if convert is None:
            self._report(node, f"unsupported YAML tag {node.tag!r}; write plain values")
            return None
        try:
            return convert(node.value)
        except ValueError:
            self._report(node, f"{node.value!r} is not a valid {node.tag.rsplit(':', 1)[-1]}")
            return None

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merges: list[Node] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merges.append(value_node)
                continue
            key = self._key(key_node)
            if key is None:
                continue
            if key in result:
                first = self.keys[(*path, key)]
                self._report(key_node, f"duplicate key {key!r} (first defined at line "
                                       f"{first.line}, column {first.column})")
                continue
            self._record(self.keys, (*path, key), _pos(key_node))
            result[key] = self.build(value_node, (*path, key))
        # Merged keys (`<<: *defaults`) fill in only what the mapping does not set itself;
        # their positions are those of the anchored mapping, recorded only where still unset.
        self._merging += 1
        try:
            for source in merges:
                for key, value in self._merge_source(source, path).items():
                    result.setdefault(key, value)
        finally:
            self._merging -= 1
        return result

    def _merge_source(self, node: Node, path: DataPath) -> dict[str, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, MappingNode):
                self._report(source, "'<<' merges only mappings")
                continue
            for key, value in self._mapping(source, path).items():
                merged.setdefault(key, value)
        return merged

    def _record(self, table: dict[DataPath, Pos], path: DataPath, pos: Pos) -> None:
        if self._merging:
            table.setdefault(path, pos)
        else:
            table[path] = pos

    def _key(self, node: Node) -> str | None:
        if not isinstance(node, ScalarNode):
            self._report(node, "mapping keys must be plain strings, not mappings or lists")
            return None
        # Keys are names: keep the text as written, so `on:` or `1:` are not bools or ints.
        return str(node.value)

    def _report(self, node: Node, message: str, severity: Severity = "error") -> None:
        pos = _pos(node)
        self.diagnostics.append(Diagnostic(self.display, pos.line, pos.column, message, severity))
