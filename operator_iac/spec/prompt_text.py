"""A prompt's effective text and where each part of it was written.

A prompt is assembled from several places: its own file or the agent file's inline text,
the fragments it includes, and values a template instance substitutes. ``PromptText`` keeps
the assembled text with a list of ``Segment`` values, each saying where a stretch of the text
came from, so that a check of ``$variable`` or ``@tool`` references in the effective text
still points at the file, line and column the user wrote. ``splice`` builds a new text from
an old one and replacements for parts of it, carrying every position along.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from operator_iac.errors import Diagnostic, Severity


@dataclass(frozen=True)
class Segment:
    """Where the text from ``start`` (an offset in the effective text) up to the next segment
    was written. ``exact``: its lines map one to one onto the file's lines, continuation lines
    starting at column ``indent``; otherwise every offset in it maps to ``line:column``."""

    start: int
    display: str
    line: int
    column: int
    exact: bool
    indent: int = 1


@dataclass(frozen=True)
class PromptText:
    """A prompt's text and where it was written, to point at references inside it."""

    text: str
    display: str  # the file the text starts in (prompt file or agent file)
    line: int
    column: int
    # True when the text's lines map one to one onto file lines (a prompt file, or a literal
    # block scalar); otherwise every position inside collapses onto the text's start.
    exact: bool
    file: Path | None = None  # the prompt file, when the text was read from one
    # Where each part came from, when the text was assembled (empty: all from the fields above).
    segments: tuple[Segment, ...] = ()
    # Display paths of every file the text was read from: the prompt file and its fragments.
    files: tuple[str, ...] = ()

    def all_segments(self) -> tuple[Segment, ...]:
        if self.segments:
            return self.segments
        indent = self.column if self.exact else 1
        return (Segment(0, self.display, self.line, self.column, self.exact, indent),)

    def locate(self, offset: int) -> tuple[str, int, int]:
        """File, line and column of ``offset`` in the effective text."""
        segments = self.all_segments()
        index = bisect.bisect_right([s.start for s in segments], offset) - 1
        segment = segments[max(index, 0)]
        if not segment.exact:
            return segment.display, segment.line, segment.column
        before = self.text[segment.start:offset]
        breaks = before.count("\n")
        if breaks == 0:
            return segment.display, segment.line, segment.column + len(before)
        return segment.display, segment.line + breaks, \
            segment.indent + len(before) - before.rfind("\n") - 1

    def position(self, offset: int) -> tuple[int, int]:
        _, line, column = self.locate(offset)
        return line, column

    def diagnostic(self, offset: int, message: str, severity: Severity = "error") -> Diagnostic:
        display, line, column = self.locate(offset)
        return Diagnostic(display, line, column, message, severity)


Replacement = tuple[int, int, PromptText]  # text[start:end] becomes the piece's text


def splice(prompt: PromptText, replacements: Sequence[Replacement]) -> PromptText:
    """``prompt`` with each ``(start, end, piece)`` (sorted, not overlapping) replaced by the
    piece's text; every part keeps the position it was written at."""
    if not replacements:
        return prompt
    parts: list[str] = []
    segments: list[Segment] = []
    files = list(prompt.files)

    def keep(start: int, end: int) -> None:
        out = sum(map(len, parts))
        segments.extend(_carried(prompt, start, end, out))
        parts.append(prompt.text[start:end])

    done = 0
    for start, end, piece in replacements:
        keep(done, start)
        out = sum(map(len, parts))
        segments.extend(replace(s, start=out + s.start) for s in piece.all_segments())
        parts.append(piece.text)
        files.extend(piece.files)
        done = end
    keep(done, len(prompt.text))
    return replace(prompt, text="".join(parts), segments=tuple(segments),
                   files=tuple(dict.fromkeys(files)))


def _carried(prompt: PromptText, start: int, end: int, out: int) -> list[Segment]:
    """The segments of ``prompt.text[start:end]``, moved to offset ``out``."""
    if start >= end:
        return []
    found = []
    own = prompt.all_segments()
    for index, segment in enumerate(own):
        stop = own[index + 1].start if index + 1 < len(own) else len(prompt.text)
        if stop <= start or segment.start >= end:
            continue
        first = max(start, segment.start)
        _, line, column = prompt.locate(first)
        found.append(replace(segment, start=out + first - start, line=line, column=column))
    return found
